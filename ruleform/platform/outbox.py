"""The transactional outbox: every side effect is first a row, written in the same
transaction as its cause, under a unique idempotency key.

If the cause rolls back, so does the message; if it commits, the message is there even
when Redis is down. Delivery (RQ jobs, retries, marking delivered) reads these rows later
— see the ``delivery`` package. Writing the same key twice is a no-op, which is what makes
"nothing sent twice" hold across retries, double clicks and catch-up ticks.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from ..metadata.sqltypes import UTCDateTime
from .storage.system_tables import JSON_DOCUMENT, add_index, id_column, primary_key, system_table

__all__ = [
    "OutboxMessage",
    "enqueue",
    "outbox_table",
    "PENDING",
    "DELIVERED",
    "FAILED",
    "SANDBOXED",
]

PENDING, DELIVERED, FAILED, SANDBOXED, SKIPPED = (
    "pending",
    "delivered",
    "failed",
    "sandboxed",
    "skipped",
)


@system_table("outbox")
def outbox_table(metadata: sa.MetaData) -> sa.Table:
    t = sa.Table(
        "outbox",
        metadata,
        id_column(),
        sa.Column("idempotency_key", sa.String(400), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),  # event | notify | task | webhook …
        sa.Column(
            "channel", sa.String(32), nullable=False
        ),  # inbox | email | sms | webhook | event
        sa.Column("recipient", sa.String(320)),  # user id, email address, phone, target name
        sa.Column("entity", sa.String(64)),
        sa.Column("record_id", sa.BigInteger),
        sa.Column("rule", sa.String(120)),
        sa.Column("payload", JSON_DOCUMENT, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default=PENDING),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("not_before", UTCDateTime),  # quiet hours defer, never drop
        sa.Column("next_attempt_at", UTCDateTime),
        sa.Column("delivered_at", UTCDateTime),
        sa.Column("last_error", sa.Text),
        # the delivery lease (delivery/drain.py): who holds the row and until when; a row whose
        # lease has run out (a worker killed mid-delivery) is claimed again
        sa.Column("claimed_by", sa.String(120)),
        sa.Column("claimed_until", UTCDateTime),
        primary_key("outbox", "id"),
    )
    add_index(t, "idempotency_key", unique=True)
    add_index(t, "status", "next_attempt_at")
    add_index(t, "entity", "record_id")
    return t


@dataclass(frozen=True)
class OutboxMessage:
    """One side effect to deliver."""

    key: str
    kind: str
    channel: str
    payload: dict[str, Any]
    recipient: str | None = None
    entity: str | None = None
    record_id: int | None = None
    rule: str | None = None
    not_before: datetime | None = None


def enqueue(conn: Connection, table: sa.Table, message: OutboxMessage, now: datetime) -> bool:
    """Write ``message`` unless its key exists; True if it was new. Same transaction as the cause."""
    values = {
        "idempotency_key": message.key[:400], "kind": message.kind, "channel": message.channel,
        "recipient": message.recipient, "entity": message.entity, "record_id": message.record_id,
        "rule": message.rule, "payload": message.payload, "status": PENDING, "attempts": 0,
        "created_at": now, "not_before": message.not_before,
        "next_attempt_at": message.not_before or now,
    }  # fmt: skip
    return conn.execute(_insert_once(table, conn.dialect.name), values).rowcount == 1


@functools.lru_cache(maxsize=32)
def _insert_once(table: sa.Table, dialect: str) -> Any:
    """``INSERT … ON CONFLICT (idempotency_key) DO NOTHING`` for ``table`` (built once)."""
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=["idempotency_key"])
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=["idempotency_key"])
    raise NotImplementedError(dialect)  # pragma: no cover - other databases are not supported
