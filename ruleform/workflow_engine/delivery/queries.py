"""Reading the outbox and the sandbox for administrators (pages and API share these)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ...platform.outbox import outbox_table
from ...platform.records.values import to_json
from .channels import channel_names
from .deliveries import DELIVERIES, SANDBOXED

__all__ = ["list_outbox", "outbox_row", "status_counts", "list_sandbox", "STATUSES",
           "row_json", "OUTBOX"]  # fmt: skip

STATUSES = ("pending", "delivered", "failed", "sandboxed", "skipped")
OUTBOX = outbox_table(sa.MetaData())
_COLUMNS = ("id", "kind", "channel", "recipient", "entity", "record_id", "rule", "status",
            "attempts", "created_at", "not_before", "next_attempt_at", "delivered_at",
            "last_error", "claimed_until")  # fmt: skip


def row_json(row: dict[str, Any]) -> dict[str, Any]:
    return {k: to_json(v) for k, v in row.items()}


def list_outbox(conn: Connection, *, status: str | None = None, channel: str | None = None,
                before: int | None = None, limit: int = 50) -> list[dict[str, Any]]:  # fmt: skip
    """Delivery rows (the channels this package delivers), newest first."""
    t = OUTBOX
    query = sa.select(*(t.c[c] for c in _COLUMNS)).where(t.c.channel.in_(channel_names()))
    if status:
        query = query.where(t.c.status == status)
    if channel:
        query = query.where(t.c.channel == channel)
    if before is not None:
        query = query.where(t.c.id < before)
    query = query.order_by(t.c.id.desc()).limit(limit)
    return [dict(r) for r in conn.execute(query).mappings()]


def outbox_row(conn: Connection, row_id: int) -> dict[str, Any] | None:
    t = OUTBOX
    query = sa.select(*(t.c[c] for c in _COLUMNS), t.c.payload, t.c.idempotency_key).where(
        t.c.id == row_id, t.c.channel.in_(channel_names()))  # fmt: skip
    row = conn.execute(query).mappings().first()
    if row is None:
        return None
    found = dict(row)
    delivery = conn.execute(sa.select(DELIVERIES).where(
        DELIVERIES.c.idempotency_key == found["idempotency_key"])).mappings().first()  # fmt: skip
    found["delivery"] = dict(delivery) if delivery else None
    return found


def status_counts(conn: Connection) -> dict[str, int]:
    t = OUTBOX
    query = (sa.select(t.c.status, sa.func.count()).where(t.c.channel.in_(channel_names()))
             .group_by(t.c.status))  # fmt: skip
    counts = dict.fromkeys(STATUSES, 0)
    counts.update({status: int(n) for status, n in conn.execute(query)})
    return counts


def list_sandbox(conn: Connection, *, before: int | None = None,
                 limit: int = 50) -> list[dict[str, Any]]:  # fmt: skip
    """Messages held in the sandbox, rendered, newest first."""
    d, o = DELIVERIES, OUTBOX
    query = (sa.select(d.c.id, d.c.outbox_id, d.c.channel, d.c.address, d.c.recipient_key,
                       d.c.subject, d.c.body, d.c.link, d.c.started_at, o.c.rule, o.c.entity,
                       o.c.record_id)
             .join(o, o.c.id == d.c.outbox_id).where(d.c.status == SANDBOXED))  # fmt: skip
    if before is not None:
        query = query.where(d.c.id < before)
    query = query.order_by(d.c.id.desc()).limit(limit)
    return [dict(r) for r in conn.execute(query).mappings()]
