"""Tasks: work a time rule gives someone ("contact the handed-over customer within 2 working
days", "review your top 50 customers"), shown on "my tasks" and ``/api/v1/tasks``.

A task is created in the same transaction as the ledger row of the firing that caused it
(``timerules/actions.py``), so a task exists exactly once per (rule, record, occurrence,
assignee). Its title is rendered once, in the assignee's language, from the fields the
assignee may read. ``due_at`` comes from the rule's calendar (``2 working days`` skips
weekends, holidays and counts 调休 days).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..metadata.sqltypes import UTCDateTime
from ..platform.storage.system_tables import (
    add_index,
    id_column,
    link_column,
    primary_key,
    system_table,
)

__all__ = ["OPEN", "DONE", "NewTask", "create_task", "list_tasks", "complete_task", "tasks_table"]

OPEN, DONE = "open", "done"


@system_table("tasks")
def tasks_table(metadata: sa.MetaData) -> sa.Table:
    t = sa.Table(
        "tasks",
        metadata,
        id_column(),
        link_column("tasks", "user_id", "users", ondelete="CASCADE", nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("entity", sa.String(64)),
        sa.Column("record_id", sa.BigInteger),
        sa.Column("rule", sa.String(120)),
        sa.Column("occurrence", sa.String(200)),
        sa.Column("due_at", UTCDateTime),
        sa.Column("status", sa.String(16), nullable=False, server_default=OPEN),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("done_at", UTCDateTime),
        primary_key("tasks", "id"),
    )
    add_index(t, "user_id", "status", "due_at")
    add_index(t, "entity", "record_id")
    return t


@dataclass(frozen=True)
class NewTask:
    user_id: int
    title: str
    entity: str | None = None
    record_id: int | None = None
    rule: str | None = None
    occurrence: str | None = None
    due_at: datetime | None = None


def create_task(conn: Connection, table: sa.Table, task: NewTask, now: datetime) -> int:
    """Insert an open task; its id."""
    values = {
        "user_id": task.user_id, "title": task.title[:500], "entity": task.entity,
        "record_id": task.record_id, "rule": task.rule, "occurrence": task.occurrence,
        "due_at": task.due_at, "status": OPEN, "created_at": now,
    }  # fmt: skip
    return int(conn.execute(table.insert().values(**values).returning(table.c.id)).scalar_one())


def list_tasks(conn: Connection, table: sa.Table, user_id: int, status: str | None = OPEN,
               limit: int = 200) -> list[dict[str, Any]]:  # fmt: skip
    """The user's tasks, soonest due first (``status=None``: all)."""
    query = sa.select(table).where(table.c.user_id == user_id)
    if status is not None:
        query = query.where(table.c.status == status)
    query = query.order_by(table.c.due_at.is_(None), table.c.due_at, table.c.id).limit(limit)
    return [dict(row) for row in conn.execute(query).mappings()]


def complete_task(conn: Connection, table: sa.Table, task_id: int, user_id: int,
                  now: datetime, done: bool = True) -> Mapping[str, Any] | None:  # fmt: skip
    """Mark the user's own task done (or open again); the task, or None if not theirs."""
    where = (table.c.id == task_id, table.c.user_id == user_id)
    row = conn.execute(sa.select(table).where(*where)).mappings().first()
    if row is None:
        return None
    values = {"status": DONE, "done_at": now} if done else {"status": OPEN, "done_at": None}
    conn.execute(table.update().where(*where).values(**values))
    return {**row, **values}
