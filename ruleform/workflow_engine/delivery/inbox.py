"""The in-app inbox (``inbox_messages``): what reminders and notifications say to users.

A message is written by the drain in the same transaction that marks its outbox row
delivered, under the outbox row's idempotency key (unique), so it exists exactly once
whatever crashes or retries happen. Users read their own messages on ``/inbox`` and
through ``/api/v1/inbox``; marking read touches only their own rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from ...metadata.sqltypes import UTCDateTime
from ...platform.storage.system_tables import (
    add_index,
    id_column,
    link_column,
    primary_key,
    system_table,
)

__all__ = ["inbox_table", "write_message", "list_messages", "unread_count", "mark_read"]


@system_table("inbox_messages")
def inbox_table(metadata: sa.MetaData) -> sa.Table:
    t = sa.Table(
        "inbox_messages",
        metadata,
        id_column(),
        link_column("inbox_messages", "user_id", "users", ondelete="CASCADE", nullable=False),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("link", sa.String(1000)),
        sa.Column("entity", sa.String(64)),
        sa.Column("record_id", sa.BigInteger),
        sa.Column("rule", sa.String(120)),
        sa.Column("outbox_key", sa.String(400), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("read_at", UTCDateTime),
        primary_key("inbox_messages", "id"),
    )
    add_index(t, "outbox_key", unique=True)
    add_index(t, "user_id", "read_at")
    return t


#: The same table, for queries that receive only a connection (foreign keys unresolved).
_INBOX = inbox_table(sa.MetaData())


def write_message(conn: Connection, values: dict[str, Any]) -> bool:
    """Insert one message unless its ``outbox_key`` exists; True if it was new."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(_INBOX).values(**values).on_conflict_do_nothing(index_elements=["outbox_key"])
    return conn.execute(stmt).rowcount == 1


def list_messages(conn: Connection, user_id: int, *, unread_only: bool = False,
                  before: int | None = None, limit: int = 50) -> list[dict[str, Any]]:  # fmt: skip
    """The user's messages, newest first (``before``: an id, for the next page)."""
    t = _INBOX
    columns = (
        t.c.id,
        t.c.subject,
        t.c.body,
        t.c.link,
        t.c.entity,
        t.c.record_id,
        t.c.rule,
        t.c.created_at,
        t.c.read_at,
    )
    query = sa.select(*columns).where(t.c.user_id == user_id)
    if unread_only:
        query = query.where(t.c.read_at.is_(None))
    if before is not None:
        query = query.where(t.c.id < before)
    query = query.order_by(t.c.id.desc()).limit(limit)
    return [dict(row) for row in conn.execute(query).mappings()]


def unread_count(conn: Connection, user_id: int) -> int:
    t = _INBOX
    query = sa.select(sa.func.count()).where(t.c.user_id == user_id, t.c.read_at.is_(None))
    return int(conn.execute(query).scalar_one())


def mark_read(conn: Connection, user_id: int, ids: list[int] | None, now: datetime) -> int:
    """Mark the user's messages ``ids`` (all when None) read; the number changed."""
    t = _INBOX
    stmt = t.update().where(t.c.user_id == user_id, t.c.read_at.is_(None))
    if ids is not None:
        stmt = stmt.where(t.c.id.in_(ids))
    return conn.execute(stmt.values(read_at=now)).rowcount
