"""Supplements to append-only fields (R12): the first value stays; later input is added,
dated and attributed, and shown below the original — nothing is ever overwritten.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

__all__ = ["add_supplement", "supplements_of"]


def add_supplement(conn: Connection, table: sa.Table, entity: str, record_id: int, field: str,
                   text: str, user_id: int | None, at: datetime) -> None:  # fmt: skip
    """Record ``text`` as a supplement to ``field`` of the record."""
    conn.execute(table.insert().values(entity=entity, record_id=record_id, field=field,
                                       text=text, user_id=user_id, at=at))  # fmt: skip


def supplements_of(conn: Connection, table: sa.Table, entity: str, record_id: int,
                   fields: frozenset[str]) -> dict[str, list[dict[str, Any]]]:  # fmt: skip
    """Supplements of the record's readable ``fields``, oldest first, grouped by field."""
    rows = conn.execute(
        sa.select(table.c.field, table.c.text, table.c.user_id, table.c.at)
        .where(table.c.entity == entity, table.c.record_id == record_id)
        .order_by(table.c.at, table.c.id)
    ).mappings()
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if row["field"] in fields:
            grouped.setdefault(row["field"], []).append(dict(row))
    return grouped
