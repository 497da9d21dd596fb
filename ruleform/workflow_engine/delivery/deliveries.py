"""What was (about to be) sent: one ``deliveries`` row per outbox idempotency key.

The two-phase marker that keeps external channels from sending twice by accident:

1. before talking to the SMTP server or the webhook, the job writes the row with status
   ``sending`` (and the Message-ID / Idempotency-Key it will use) and commits;
2. after the server accepted, it writes ``sent``; when the server refused, ``failed``.

A worker killed between 1 and 2 leaves ``sending``: the message is *in doubt*. The retry
finds it and resolves it (docs/delivery.md, "Guarantees") instead of sending blindly — and
if it does send again it sends the stored message, with the same Message-ID.

The rendered subject and body are kept here (the sandbox page shows them), and the
frequency cap counts these rows per recipient.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ...metadata.sqltypes import UTCDateTime
from ...platform.storage.system_tables import add_index, id_column, primary_key, system_table

__all__ = ["deliveries_table", "DELIVERIES", "find", "record", "finish", "count_recent",
           "oldest_recent", "SENDING", "SENT", "FAILED", "SANDBOXED"]  # fmt: skip

SENDING, SENT, FAILED, SANDBOXED = "sending", "sent", "failed", "sandboxed"


@system_table("deliveries")
def deliveries_table(metadata: sa.MetaData) -> sa.Table:
    t = sa.Table(
        "deliveries",
        metadata,
        id_column(),
        sa.Column("idempotency_key", sa.String(400), nullable=False),
        sa.Column("outbox_id", sa.BigInteger, nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("recipient_key", sa.String(330), nullable=False),  # user:7, email:a@b …
        sa.Column("address", sa.String(320)),  # where it went: address, phone, target
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message_id", sa.String(255)),  # email Message-ID / webhook Idempotency-Key
        sa.Column("subject", sa.String(500)),
        sa.Column("body", sa.Text),
        sa.Column("link", sa.String(1000)),
        sa.Column("locale", sa.String(16)),
        sa.Column("claim", sa.String(130)),  # the job attempt that wrote ``sending``
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("response", sa.Text),  # the server's answer, or why it failed
        primary_key("deliveries", "id"),
    )
    add_index(t, "idempotency_key", unique=True)
    add_index(t, "recipient_key", "started_at")
    add_index(t, "status", "started_at")
    return t


#: The table, for functions that receive only a connection.
DELIVERIES = deliveries_table(sa.MetaData())


def find(conn: Connection, key: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(DELIVERIES).where(DELIVERIES.c.idempotency_key == key))
    found = row.mappings().first()
    return dict(found) if found else None


def record(conn: Connection, values: dict[str, Any]) -> None:
    """Write (or overwrite) the delivery of ``values['idempotency_key']``."""
    t = DELIVERIES
    key = values["idempotency_key"]
    changed = conn.execute(t.update().where(t.c.idempotency_key == key).values(**values))
    if changed.rowcount == 0:
        conn.execute(t.insert().values(**values))


def finish(conn: Connection, key: str, status: str, now: datetime,
           response: str | None = None) -> None:  # fmt: skip
    """Phase two: ``sent`` or ``failed``, with the server's answer."""
    t = DELIVERIES
    values = {"status": status, "finished_at": now, "response": (response or "")[:2000]}
    conn.execute(t.update().where(t.c.idempotency_key == key).values(**values))


def _recent(recipient_key: str, channels: list[str], since: datetime) -> Any:
    t = DELIVERIES
    return sa.and_(t.c.recipient_key == recipient_key, t.c.started_at > since,
                   t.c.status.in_((SENDING, SENT)), t.c.channel.in_(channels))  # fmt: skip


def count_recent(conn: Connection, recipient_key: str, channels: list[str], now: datetime,
                 seconds: int) -> int:  # fmt: skip
    """Messages sent (or being sent) to ``recipient_key`` in the last ``seconds``."""
    since = now - timedelta(seconds=seconds)
    query = sa.select(sa.func.count()).where(_recent(recipient_key, channels, since))
    return int(conn.execute(query).scalar_one())


def oldest_recent(conn: Connection, recipient_key: str, channels: list[str], now: datetime,
                  seconds: int) -> datetime | None:  # fmt: skip
    """The start of the oldest message in the window (a slot frees ``seconds`` after it)."""
    since = now - timedelta(seconds=seconds)
    query = sa.select(sa.func.min(DELIVERIES.c.started_at)).where(
        _recent(recipient_key, channels, since))  # fmt: skip
    value = conn.execute(query).scalar_one()
    return UTCDateTime().process_result_value(value, conn.dialect) if value else None
