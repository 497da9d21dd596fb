"""The one row writer: every change of an entity row goes through here.

Pages, the API, transitions, approvals, time rules (``set``, ``reassign``), transfers — and
later imports and bulk edits — decide *what* to change; ``RowWriter`` makes the change the
same way for all of them, in the caller's transaction:

1. checks ``row_version`` (``UPDATE … WHERE id = :id AND row_version = :read``; a stale read
   is a ``VersionConflict``) and bumps it, stamping ``updated_at`` / ``updated_by`` and the
   rulebook version;
2. writes supplements (append-only fields keep their first value; a new text is added);
3. writes one history entry with the old and new values, and the note of whoever made the
   change (``changes._workflow``: the transition and its comment, the time rule …);
4. runs the ``after_*`` record hooks (``hooks.record_hooks``): duplicate keys, status
   periods, approval locks — the events of a change.

What may be changed (permissions, validation, locks) is decided before, by the caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from ...errors import VersionConflict
from ...metadata.model import Entity
from ..actors import Actor
from ..messages import message
from ..runtime import Runtime
from .hooks import Write, record_hooks
from .supplements import add_supplement
from .values import to_json

__all__ = ["RowWriter", "SystemWrite", "history_entry", "BOOKKEEPING", "WRITERS_ACTOR"]

#: Columns the writer maintains; they are not listed as changes in the history.
BOOKKEEPING = frozenset({"id", "created_at", "created_by", "updated_at", "updated_by",
                         "row_version", "rulebook_version", "archived_at"})  # fmt: skip


class _WritersActor:
    """``by``'s default: the user of the writer's actor."""


WRITERS_ACTOR = _WritersActor()


@dataclass
class SystemWrite:
    """A write made by code rather than through ``RecordService`` (a ``Write``)."""

    rt: Runtime
    conn: Connection
    actor: Actor
    hook_state: dict[str, Any] = field(default_factory=dict)


def history_entry(rt: Runtime, conn: Connection, entity: str, record_id: int, action: str,
                  changes: Mapping[str, Any], by: int | None, now: datetime,
                  note: Mapping[str, Any] | None = None) -> None:  # fmt: skip
    """One entry of a record's timeline: ``changes`` maps a name to ``[old, new]`` (JSON
    values); ``note`` (the transition, its comment, the rule …) goes under ``_workflow``."""
    body = dict(changes)
    details = {k: to_json(v) for k, v in (note or {}).items() if v not in (None, "", [], {})}
    if details:
        body["_workflow"] = details
    conn.execute(rt.system_table("record_history").insert(), {
        "entity": entity, "record_id": record_id, "action": action, "changes": body,
        "user_id": by, "at": now, "rulebook_version": rt.version})  # fmt: skip


class RowWriter:
    """Writes entity rows for one ``Write`` (who writes, in which transaction)."""

    def __init__(self, write: Write):
        self.write = write
        self.rt = write.rt
        self.conn = write.conn

    def insert(self, entity: Entity, row: Mapping[str, Any], now: datetime,
               supplements: Mapping[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
        """Insert a new record (version 1) with its history entry; the stored row."""
        by = self.write.actor.user_id
        values = {**row, "created_at": now, "updated_at": now, "created_by": by,
                  "updated_by": by, "row_version": 1, "rulebook_version": self.rt.version}  # fmt: skip
        table = self.rt.table(entity)
        inserting = self.rt.cached(("insert", entity.name),
                                   lambda: table.insert().returning(table.c.id))  # fmt: skip
        record_id = self.conn.execute(inserting, values).scalar_one()
        self._supplements(entity, record_id, supplements, by, now)
        changes = {k: [None, to_json(v)] for k, v in values.items()
                   if v not in (None, "", []) and k in entity.fields}  # fmt: skip
        history_entry(self.rt, self.conn, entity.name, record_id, "create", changes, by, now)
        stored = {**values, "id": record_id, "archived": False, "archived_at": None}
        for hooks in record_hooks():
            hooks.after_create(self.write, entity, stored, now)
        return stored

    def update(self, entity: Entity, stored: Mapping[str, Any], values: Mapping[str, Any],
               now: datetime, *, action: str = "update", by: int | None | _WritersActor = WRITERS_ACTOR,
               note: Mapping[str, Any] | None = None,
               supplements: Mapping[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
        """Change the record read as ``stored`` (its ``row_version`` must still hold) and bump
        its version, even when ``values`` is empty (a decision that changes no field).

        ``action`` names the history entry (``update``, ``transition``, ``archive``,
        ``approval_requested`` …), written when a field changed or a ``note`` is given;
        ``by`` is the user recorded (default: the writer's actor; ``None``: the system)."""
        user = self.write.actor.user_id if isinstance(by, _WritersActor) else by
        supplements = supplements or {}
        new = self._versioned_update(entity, stored, values, user, now)
        self._supplements(entity, stored["id"], supplements, user, now)
        changes = {k: [to_json(stored.get(k)), to_json(v)] for k, v in values.items()
                   if k not in BOOKKEEPING}  # fmt: skip
        changes.update({f"{k}+": [None, v] for k, v in supplements.items()})
        if changes or note:
            history_entry(self.rt, self.conn, entity.name, stored["id"], action, changes, user,
                          now, note)  # fmt: skip
        touched = {k for k in values if k not in BOOKKEEPING} | set(supplements)
        if not touched:
            return new
        for hooks in record_hooks():
            if action == "archive":
                hooks.after_archive(self.write, entity, new, now)
            else:
                hooks.after_update(self.write, entity, new, touched, now, action)
        return new

    def _versioned_update(self, entity: Entity, stored: Mapping[str, Any],
                          values: Mapping[str, Any], user: int | None,
                          now: datetime) -> dict[str, Any]:  # fmt: skip
        table = self.rt.table(entity)
        written = {**values, "updated_at": now, "updated_by": user,
                   "row_version": stored["row_version"] + 1, "rulebook_version": self.rt.version}  # fmt: skip
        result = self.conn.execute(
            table.update()
            .where(table.c.id == stored["id"], table.c.row_version == stored["row_version"])
            .values(**written)
        )  # fmt: skip
        if result.rowcount != 1:
            raise VersionConflict(message("version_conflict", self.write.actor.locale))
        return {**stored, **written}

    def _supplements(self, entity: Entity, record_id: int, supplements: Mapping[str, str] | None,
                     user: int | None, now: datetime) -> None:  # fmt: skip
        table = self.rt.system_table("supplements")
        for name, text in (supplements or {}).items():
            add_supplement(self.conn, table, entity.name, record_id, name, text, user, now)
