"""Bookkeeping of the workflow, in the caller's transaction: record history, the transition
log, status periods and outbox events.

History rows use the platform's ``record_history`` (the record's timeline): ``action`` is
``transition`` or ``approval_<what>`` and ``changes`` holds ``{field: [old, new]}`` plus one
``"_workflow"`` entry with the details (transition, comment, reason, request, step …).

Events go to the outbox as ``kind='event'``, ``channel='event'``, ``rule='<event>:<name>'``
(``transition:submit_proposal``, ``entered:proposal``, ``requested:submit``,
``approved:submit``, ``rejected:submit``, ``withdrawn:submit``, ``voided:submit``,
``escalated:submit``, ``task:submit`` — one per approver, recipient = user id), with an
idempotency key made of database ids, so each effect is written once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..platform.outbox import OutboxMessage, enqueue
from ..platform.records.row_writer import history_entry
from ..platform.records.values import to_json
from ..platform.runtime import Runtime

__all__ = ["Books", "current_period"]


class Books:
    """Writes history, log rows, periods and events for one runtime and connection."""

    def __init__(self, runtime: Runtime, conn: Connection):
        self.rt = runtime
        self.conn = conn

    def _t(self, name: str) -> sa.Table:
        return self.rt.system_table(name)

    def history(
        self,
        entity: str,
        record_id: int,
        action: str,
        changes: dict[str, Any],
        user_id: int | None,
        now: datetime,
        **workflow: Any,
    ) -> None:
        """One timeline entry that changes no row (an approval decision …); ``workflow``
        details go under ``changes['_workflow']``. Row changes write theirs through the row
        writer."""
        body = {k: [to_json(v[0]), to_json(v[1])] for k, v in changes.items()}
        history_entry(self.rt, self.conn, entity, record_id, action, body, user_id, now, workflow)

    def log_transition(
        self,
        entity: str,
        record_id: int,
        transition: str,
        source: str | None,
        target: str,
        user_id: int | None,
        now: datetime,
        comment: str | None,
        reason: str | None,
        exception: bool,
        request_id: int | None,
    ) -> int:
        t = self._t("transition_log")
        return self.conn.execute(
            t.insert()
            .values(
                entity=entity,
                record_id=record_id,
                transition=transition,
                from_status=source,
                to_status=target,
                user_id=user_id,
                at=now,
                comment=comment,
                reason=reason,
                exception=exception,
                request_id=request_id,
                rulebook_version=self.rt.version,
            )
            .returning(t.c.id)
        ).scalar_one()

    def enter_status(
        self,
        entity: str,
        record_id: int,
        status: str,
        now: datetime,
        user_id: int | None,
        transition: str | None,
        first: bool = False,
    ) -> int:
        """Close the current status period (none when ``first``) and open one for ``status``."""
        t = self._t("status_periods")
        if not first:
            self.conn.execute(
                t.update()
                .where(t.c.entity == entity, t.c.record_id == record_id, t.c.left_at.is_(None))
                .values(left_at=now)
            )
        return self.conn.execute(
            t.insert()
            .values(
                entity=entity,
                record_id=record_id,
                status=status,
                entered_at=now,
                left_at=None,
                entered_by=user_id,
                transition=transition,
            )
            .returning(t.c.id)
        ).scalar_one()

    def event(
        self,
        event: str,
        name: str,
        entity: str,
        record_id: int,
        key: Any,
        payload: dict[str, Any],
        now: datetime,
        recipient: Any = None,
    ) -> bool:
        """An outbox event ``<event>:<name>``; ``key`` makes its idempotency key unique."""
        body = {
            "event": event,
            "name": name,
            "entity": entity,
            "record_id": record_id,
            "at": to_json(now),
            "rulebook_version": self.rt.version,
            **{k: to_json(v) for k, v in payload.items()},
        }
        message = OutboxMessage(
            key=f"wf:{event}:{entity}:{record_id}:{key}",
            kind="event",
            channel="event",
            payload=body,
            recipient=None if recipient is None else str(recipient),
            entity=entity,
            record_id=record_id,
            rule=f"{event}:{name}"[:120],
        )
        return enqueue(self.conn, self._t("outbox"), message, now)


def current_period(conn: Connection, table: sa.Table, entity: str, record_id: int) -> dict | None:
    """The record's current status period (``status``, ``entered_at`` …), or None.

    SLA clocks (time rules) read ``entered_at`` here; records created before the workflow
    engine kept periods have none — fall back to the record's ``created_at``.
    """
    row = (
        conn.execute(
            sa.select(table)
            .where(
                table.c.entity == entity, table.c.record_id == record_id, table.c.left_at.is_(None)
            )
            .order_by(table.c.id.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None
