"""A record's history as a timeline: who, when, and what changed from what to what.

History is written by the record service (``record_history``) with every field's old and
new value. The timeline shows a change only when the actor may read that field *now*
(``Policy.readable_fields``); sensitive values stay masked; fields the rulebook no longer
has are left out, since nobody can say who may read them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ...metadata.model import Entity
from ...platform.i18n import current_locale, t
from ...platform.records import RecordService
from ...platform.records.values import mask
from .formatting import Shown, column_label, present_column
from .lookups import Lookups

__all__ = ["Change", "Entry", "timeline"]

LIMIT = 100
_SYSTEM_CHANGES = frozenset({"status", "owner", "department", "archived"})


@dataclass
class Change:
    label: str
    before: Shown
    after: Shown
    supplement: bool = False


@dataclass
class Entry:
    action: str
    action_label: str
    at: Any
    user: str
    changes: list[Change] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (label, text): comment, reason


def timeline(service: RecordService, entity: Entity, record_id: int,
             lookups: Lookups) -> list[Entry]:  # fmt: skip
    """The newest ``LIMIT`` history entries of the record, as the actor may see them."""
    table = service.rt.system_table("record_history")
    query = (sa.select(table.c.action, table.c.changes, table.c.user_id, table.c.at)
             .where(table.c.entity == entity.name, table.c.record_id == record_id)
             .order_by(table.c.at.desc(), table.c.id.desc()).limit(LIMIT))  # fmt: skip
    rows = list(service.conn.execute(query).mappings())
    lookups.load_users({r["user_id"] for r in rows if r["user_id"] is not None})
    readable = service.readable(entity, record_id)  # the roles reaching this record
    return [_entry(entity, row, readable, lookups) for row in rows]


def _entry(entity: Entity, row: Any, readable: frozenset[str], lookups: Lookups) -> Entry:
    changes = row["changes"]
    if isinstance(changes, str):
        changes = json.loads(changes)
    action = row["action"]
    user = lookups.user(row["user_id"]) if row["user_id"] is not None else t("page.system_actor")
    known = action in _ACTIONS or action.startswith("approval_")
    label = t(f"page.history.{action}") if known else action
    workflow = (changes or {}).get("_workflow") or {}
    transition = entity.transitions.get(str(workflow.get("transition")))
    if transition is not None:
        label = f"{label} · {transition.label.get(current_locale(), transition.name)}"
    entry = Entry(action, label, row["at"], user)
    entry.notes = [(t(f"page.history.{key}"), str(workflow[key]))
                   for key in ("comment", "reason") if workflow.get(key)]  # fmt: skip
    for key, pair in (changes or {}).items():
        change = _change(entity, key, pair, readable, lookups)
        if change is not None:
            entry.changes.append(change)
    return entry


_ACTIONS = frozenset({"create", "update", "archive", "transition", "restore"})


def _change(entity: Entity, key: str, pair: Any, readable: frozenset[str],
            lookups: Lookups) -> Change | None:  # fmt: skip
    name = key[:-1] if key.endswith("+") else key
    if name not in readable or (name not in entity.fields and name not in _SYSTEM_CHANGES):
        return None
    if not isinstance(pair, list | tuple) or len(pair) != 2:
        return None
    before, after = pair
    f = entity.fields.get(name)
    if f is not None and f.sensitive:
        before, after = mask(before), mask(after)
    if name == "archived":
        label = t("page.col.archived")
        return Change(label, _flag(before), _flag(after))
    label = column_label(entity, name)
    masked = bool(f is not None and f.sensitive)
    shown_before = present_column(entity, name, before, lookups, masked)
    shown_after = present_column(entity, name, after, lookups, masked)
    return Change(label, shown_before, shown_after, supplement=key.endswith("+"))


def _flag(value: Any) -> Shown:
    return Shown("text", t("page.yes") if value else t("page.no"))
