"""Inbox rows, delivered inline by the drain: one transaction per batch, nothing half-done.

1. select a batch of due inbox rows ``FOR UPDATE SKIP LOCKED`` (PostgreSQL: concurrent
   drains take disjoint rows; SQLite: ``BEGIN IMMEDIATE`` makes drains take turns);
2. decide each row (recipient, rendering, policies) — reads only; a row that raises is
   set aside for a retry with backoff, so one bad row never blocks the others;
3. write the decisions in bulk: the ``inbox_messages`` rows (unique outbox key: a replay
   is a no-op), their ``deliveries`` records and the outbox rows' new status; if a bulk
   write fails, each row is written alone in a savepoint to find the culprit;
4. commit — or, on any crash, roll everything back: the rows are simply due again.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from ...platform.outbox import DELIVERED, PENDING
from . import deliveries, outcomes
from .context import DeliveryContext
from .flags import kill_switch_on
from .inbox import inbox_table
from .prepare import Decision, Preparer, apply_decision, delivery_values

__all__ = ["deliver_inbox_batch", "select_due", "due_rows"]

log = logging.getLogger("ruleform.delivery")
_INBOX = inbox_table(sa.MetaData())


def due_rows(outbox: sa.Table, now: datetime, channels: tuple[str, ...]) -> sa.ColumnElement:
    """Pending rows on ``channels`` whose time has come and that no live lease holds."""
    c = outbox.c
    return sa.and_(
        c.status == PENDING, c.channel.in_(channels),
        sa.or_(c.next_attempt_at.is_(None), c.next_attempt_at <= now),
        sa.or_(c.not_before.is_(None), c.not_before <= now),
        sa.or_(c.claimed_until.is_(None), c.claimed_until < now),
    )  # fmt: skip


def select_due(outbox: sa.Table, now: datetime, channels: tuple[str, ...], limit: int) -> Any:
    return (sa.select(outbox).where(due_rows(outbox, now, channels))
            .order_by(outbox.c.next_attempt_at, outbox.c.id).limit(limit)
            .with_for_update(skip_locked=True))  # fmt: skip


def deliver_inbox_batch(ctx: DeliveryContext, now: datetime) -> int:
    """Deliver one batch of due inbox rows in one transaction; how many were decided."""
    outbox = ctx.outbox
    with ctx.engine.begin() as conn:
        if kill_switch_on(conn):
            return 0
        query = select_due(outbox, now, ("inbox",), int(ctx.settings["DELIVERY_BATCH"]))
        rows = [dict(r) for r in conn.execute(query).mappings()]
        preparer = Preparer(ctx.runtime, conn, ctx.settings)
        sends: list[tuple[dict, Decision]] = []
        for row in rows:
            try:
                decision = preparer.decide(row, now)
            except Exception as exc:  # one bad row must not block the others
                log.exception("inbox delivery of outbox row %s failed", row["id"])
                outcomes.retry(conn, outbox, row["id"], row["attempts"] + 1,
                               f"{type(exc).__name__}: {exc}", ctx.settings, now)  # fmt: skip
                continue
            if decision.action == "send":
                sends.append((row, decision))
            else:
                apply_decision(conn, outbox, row, decision, now)
        _write_sends(conn, outbox, sends, ctx, now)
    return len(rows)


def _write_sends(conn: Connection, outbox: sa.Table, sends: list[tuple[dict, Decision]],
                 ctx: DeliveryContext, now: datetime) -> None:  # fmt: skip
    if not sends:
        return
    try:
        with conn.begin_nested():
            _bulk(conn, outbox, sends, now)
        return
    except sa.exc.DBAPIError:
        log.warning("bulk inbox write failed; writing the %d rows one by one", len(sends))
    for row, decision in sends:
        try:
            with conn.begin_nested():
                _bulk(conn, outbox, [(row, decision)], now)
        except sa.exc.DBAPIError as exc:
            error = f"{type(exc).__name__}: {exc.orig or exc}"
            outcomes.retry(conn, outbox, row["id"], row["attempts"] + 1, error, ctx.settings, now)


def _insert(conn: Connection, table: sa.Table) -> Any:
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def _bulk(conn: Connection, outbox: sa.Table, sends: list[tuple[dict, Decision]],
          now: datetime) -> None:  # fmt: skip
    messages, records, marks = [], [], []
    for row, decision in sends:
        out, who = decision.outgoing, decision.recipient
        assert out is not None and who is not None and who.user_id is not None
        messages.append({"user_id": who.user_id, "subject": out.subject or out.body[:120],
                         "body": out.body, "link": out.link or None, "entity": row.get("entity"),
                         "record_id": row.get("record_id"), "rule": row.get("rule"),
                         "outbox_key": out.key, "created_at": now})  # fmt: skip
        records.append(delivery_values(row, decision, deliveries.SENT, now))
        marks.append({"rid": row["id"], "tries": row["attempts"] + 1})
    conn.execute(_insert(conn, _INBOX).on_conflict_do_nothing(index_elements=["outbox_key"]),
                 messages)  # fmt: skip
    upsert = _insert(conn, deliveries.DELIVERIES)
    changing = ("status", "subject", "body", "link", "message_id", "started_at", "finished_at",
                "outbox_id", "recipient_key", "address", "claim", "response")  # fmt: skip
    conn.execute(upsert.on_conflict_do_update(
        index_elements=["idempotency_key"],
        set_={name: upsert.excluded[name] for name in changing}), records)  # fmt: skip
    conn.execute(outbox.update().where(outbox.c.id == sa.bindparam("rid"))
                 .values(status=DELIVERED, delivered_at=now, attempts=sa.bindparam("tries"),
                         last_error=None, claimed_by=None, claimed_until=None), marks)  # fmt: skip
