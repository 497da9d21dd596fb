"""Record changes made by rules — ``set`` and ``reassign`` — as the system, with history.

Both go through ``RecordService`` as ``SYSTEM`` (validation, hooks, history in the same
transaction; ``may_assign_owner`` is true for the system). Fields the rulebook marks
``read_only`` ("raised by the system", e.g. ``at_risk``, ``dispatched_at``) are refused by
the record service for everyone, so those go straight to the row writer, as a transition's
fields do. Either way the rule's note reaches the row writer with the change, and the
history entry carries ``changes._workflow = {"rule": "<entity>.<rule>", "occurrence": …}``,
so the timeline says *system (rule X)*.

``reassign`` picks among the candidates (``to``) the one with the fewest open records of
the entity (status neither final nor won/lost/closed; ties: lowest user id). Loads are
counted once per run in one ``GROUP BY`` and kept up to date as records are assigned.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ...metadata.conditions import EvalContext
from ...metadata.model import Action, Entity
from ...platform.actors import SYSTEM
from ...platform.records import RecordService
from ...platform.records.row_writer import RowWriter, SystemWrite
from ...platform.runtime import Runtime

__all__ = ["apply_set", "apply_reassign", "Loads", "read_record"]


def read_record(runtime: Runtime, conn: Connection, entity: str, record_id: int,
                lock: bool = False) -> dict[str, Any] | None:  # fmt: skip
    table = runtime.table(entity)
    query = sa.select(table).where(table.c.id == record_id)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def apply_set(runtime: Runtime, conn: Connection, entity_name: str, record_id: int, action: Action,
              note: Mapping[str, Any], now: datetime) -> dict[str, Any]:  # fmt: skip
    """Evaluate ``action.set`` on the record and write what changes; the changes."""
    entity = runtime.entity(entity_name)
    stored = read_record(runtime, conn, entity_name, record_id, lock=True)
    if stored is None:
        return {}
    ctx = EvalContext(now=now, timezone=runtime.rulebook.timezone, calendar=runtime.calendar)
    values = {name: expr.evaluate(stored, ctx) for name, expr in action.set.items()}
    changed = {k: v for k, v in values.items() if stored.get(k) != v}
    if not changed:
        return {}
    normal = {k: v for k, v in changed.items() if not entity.fields[k].read_only}
    system = {k: v for k, v in changed.items() if entity.fields[k].read_only}
    if normal:
        _through_service(runtime, conn, entity, stored, normal, note)
        stored = read_record(runtime, conn, entity_name, record_id) or stored
    if system:
        _system_write(runtime, conn, entity, stored, system, note, now)
    return changed


def apply_reassign(runtime: Runtime, conn: Connection, entity_name: str, record_id: int,
                   candidates: list[int], loads: Loads, note: Mapping[str, Any]) -> int | None:  # fmt: skip
    """Give the record to the least loaded candidate; the new owner (None: no change)."""
    entity = runtime.entity(entity_name)
    stored = read_record(runtime, conn, entity_name, record_id, lock=True)
    if stored is None or not candidates or not entity.owner:
        return None
    chosen = loads.least_loaded(conn, entity, candidates)
    if chosen == stored.get("owner"):
        return None
    _through_service(runtime, conn, entity, stored, {"owner": chosen}, note)
    loads.moved(entity.name, stored.get("owner"), chosen)
    return chosen


def _through_service(runtime: Runtime, conn: Connection, entity: Entity,
                     stored: Mapping[str, Any], values: Mapping[str, Any],
                     note: Mapping[str, Any]) -> None:  # fmt: skip
    RecordService(runtime, conn, SYSTEM).update(entity.name, stored["id"], dict(values),
                                                stored["row_version"], note=note)  # fmt: skip


def _system_write(runtime: Runtime, conn: Connection, entity: Entity, stored: Mapping[str, Any],
                  values: Mapping[str, Any], note: Mapping[str, Any], now: datetime) -> None:  # fmt: skip
    RowWriter(SystemWrite(runtime, conn, SYSTEM)).update(entity, stored, values, now, note=note)


class Loads:
    """Open records per owner, per entity, for one run (``least_loaded``)."""

    def __init__(self, runtime: Runtime):
        self.rt = runtime
        self.counts: dict[str, dict[int, int]] = {}

    def least_loaded(self, conn: Connection, entity: Entity, candidates: Iterable[int]) -> int:
        wanted = sorted(set(candidates))
        known = self.counts.setdefault(entity.name, {})
        missing = [c for c in wanted if c not in known]
        if missing:
            known.update(self._count(conn, entity, missing))
        return min(wanted, key=lambda c: (known.get(c, 0), c))

    def moved(self, entity: str, old: int | None, new: int) -> None:
        known = self.counts.setdefault(entity, {})
        known[new] = known.get(new, 0) + 1
        if old is not None and old in known:
            known[old] = max(0, known[old] - 1)

    def _count(self, conn: Connection, entity: Entity, owners: list[int]) -> dict[int, int]:
        t = self.rt.table(entity)
        clauses = [t.c.owner.in_(owners)]
        if "archived" in t.c:
            clauses.append(sa.not_(sa.func.coalesce(t.c.archived, sa.false())))
        if entity.statuses is not None:
            closed = [n for n, s in entity.statuses.states.items()
                      if s.final or s.category in ("won", "lost", "closed")]  # fmt: skip
            if closed:
                clauses.append(sa.func.coalesce(t.c.status, "").notin_(closed))
        query = sa.select(t.c.owner, sa.func.count()).where(*clauses).group_by(t.c.owner)
        found = {owner: 0 for owner in owners}
        found.update({r[0]: int(r[1]) for r in conn.execute(query)})
        return found
