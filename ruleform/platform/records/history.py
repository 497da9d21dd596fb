"""A record's history as one actor may see it: who changed what, when, from what to what.

The record must be readable by the actor (NotFound otherwise, as for ``get``). Values of
fields the actor may not read are removed from every entry; sensitive values are masked —
history never shows more than the record itself does. Newest first, cut by entry id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from .values import mask, to_json

__all__ = ["HistoryPage", "read_history"]


@dataclass
class HistoryPage:
    entries: list[dict[str, Any]]
    next_cursor: int | None = None


def read_history(service: Any, entity_name: str, record_id: Any, page_size: int = 50,
                 before: int | None = None) -> HistoryPage:  # fmt: skip
    """Entries of the record's history (newest first) for ``service.actor``."""
    entity = service.entity(entity_name)
    stored = service._stored(entity, record_id)  # NotFound when not readable
    readable = service.readable(entity, stored["id"])  # the roles reaching this record
    history = service.rt.system_table("record_history")
    users = service.rt.system_table("users")
    query = (
        sa.select(history.c.id, history.c.action, history.c.changes, history.c.user_id,
                  history.c.at, history.c.rulebook_version, users.c.display_name)
        .select_from(history.outerjoin(users, users.c.id == history.c.user_id))
        .where(history.c.entity == entity.name, history.c.record_id == stored["id"])
        .order_by(history.c.id.desc())
        .limit(page_size + 1)
    )  # fmt: skip
    if before is not None:
        query = query.where(history.c.id < before)
    rows = service.conn.execute(query).mappings().all()
    entries = [_entry(entity, row, readable) for row in rows[:page_size]]
    next_cursor = rows[page_size - 1]["id"] if len(rows) > page_size else None
    return HistoryPage(entries, next_cursor)


def _entry(entity: Any, row: Any, readable: frozenset[str]) -> dict[str, Any]:
    changes = row["changes"]
    if isinstance(changes, str):  # JSON text on some drivers
        changes = json.loads(changes)
    shown = {}
    for key, pair in (changes or {}).items():
        name = key[:-1] if key.endswith("+") else key  # "field+": a supplement
        if name not in readable:
            continue
        f = entity.fields.get(name)
        if f is not None and f.sensitive and isinstance(pair, list):
            pair = [mask(v) for v in pair]
        shown[key] = pair
    return {"id": row["id"], "action": row["action"], "at": to_json(row["at"]),
            "user_id": row["user_id"], "user_name": row["display_name"],
            "rulebook_version": row["rulebook_version"], "changes": shown}  # fmt: skip
