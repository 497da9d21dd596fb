"""SLA clocks (``deadline``): levels of working time after a record entered a status.

**The clock.** It starts when the record enters ``entered`` (a row of the workflow engine's
``status_periods``; the period's id names the clock, so re-entering starts a new clock),
runs while the record is in any status not listed in ``stop_in``, is paused during each
later stay in a ``pause_in`` status, and stops for good at the first later ``stop_in``
status. Level *n* is due when the clock has run ``levels[n].after``.

**SQL, then Python on candidates only.** The query selects the clocks that are running
(the latest period in ``entered``, with no later period in a stop status) and whose
*wall-clock* start is old enough for the first level not fired yet to be possible:
``entered_at <= loose_bound(now, level.after)`` — elapsed working time never exceeds
elapsed time, so this is a superset. Only for those candidates does Python do the
calendar arithmetic the database cannot: the due moment of each level is
``calendar.add(entered_at, after)``, pushed later by the working time (or, for calendar
units, the elapsed time) of every pause that began before it; a pause still open before
the due moment means "not due". Pause periods of all candidates come in one query."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ....platform.calendar import BusinessCalendar
from ..calendars import loose_bound
from ..occurrences import Due
from ..sweep import Sweep
from ..tables import MARKER

__all__ = ["DeadlineSweep", "level_due_at", "pause_statuses"]

KIND = "deadline"


_CHUNK = 500


def pause_statuses(entity: Any, declared: Sequence[str]) -> list[str]:
    """The rule's ``pause_in`` and the statuses the entity marks ``pauses_sla``."""
    marked = [n for n, s in entity.statuses.states.items() if s.pauses_sla] \
        if entity.statuses is not None else []  # fmt: skip
    return list(dict.fromkeys([*declared, *marked]))


def level_due_at(cal: BusinessCalendar, start: datetime, level: Any,
                 pauses: Sequence[tuple[datetime, datetime | None]]) -> datetime | None:  # fmt: skip
    """When the level is due, or None while a pause that began before it is still open."""
    due = cal.add(start, level.after)
    working = level.after.working
    for begin, end in sorted(pauses, key=lambda p: p[0]):
        if begin >= due:
            break
        if end is None:
            return None
        if working:
            due = cal.add_working_time(due, cal.working_time_between(max(begin, start), end))
        else:
            due = due + (end - max(begin, start))
    return due


class DeadlineSweep(Sweep):
    def periods(self) -> sa.Table:
        return self.w.runtime.system_table("status_periods")

    def statement(self, ids: Sequence[int] | None = None) -> sa.Select | None:
        timing, t, f = self.rule.timing, self.table, self.ledger
        if not timing.levels or timing.entered is None:
            return None
        p = self.periods().alias("clock")
        later = self.periods().alias("later")
        first = max(loose_bound(self.calendars(), self.w.now, lvl.after) for lvl in timing.levels)
        same_record = (later.c.entity == p.c.entity, later.c.record_id == p.c.record_id,
                       later.c.id > p.c.id)  # fmt: skip
        clauses = [
            *self.base_where(),
            p.c.entity == self.rule.entity, p.c.status == timing.entered,
            p.c.entered_at <= first,
            ~sa.exists().where(*same_record, later.c.status == timing.entered),
            ~sa.exists().where(*same_record, later.c.status.in_(timing.stop_in or ["\x00"])),
            # every level of this clock fired already: nothing left to do
            ~sa.exists().where(f.c.rule == self.w.key, f.c.record_id == t.c.id,
                               f.c.channel == MARKER, f.c.anchor_num == p.c.id,
                               f.c.step == len(timing.levels)),
        ]  # fmt: skip
        if timing.stop_in and "status" in t.c:
            clauses.append(sa.func.coalesce(t.c.status, "").notin_(timing.stop_in))
        query = (sa.select(*self.record_columns(), p.c.id.label("rf_clock"),
                           p.c.entered_at.label("rf_started"))
                 .select_from(t.join(p, p.c.record_id == t.c.id)).where(*clauses))  # fmt: skip
        return self.restrict(query, ids)

    def finish(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> list[Due]:
        timing, rule = self.rule.timing, self.rule
        pauses = self._pauses(conn, rows)
        dues = []
        for row in rows:
            clock, start = int(row["rf_clock"]), row["rf_started"]
            cal = self.w.calendars.for_record(rule, row)
            own = [(b, e) for pid, b, e in pauses.get(row["id"], []) if pid > clock]
            for n, level in enumerate(timing.levels, start=1):
                due_at = level_due_at(cal, start, level, own)
                if due_at is None or due_at > self.w.now:
                    break
                dues.append(Due(record=row, record_id=row["id"], entity=rule.entity,
                                occurrence=f"sla:{clock}:level:{n}", due_at=due_at,
                                actions=level.actions, anchor_num=clock, step=n,
                                group=(row["id"], clock),
                                detail={"level": n, "after": str(level.after),
                                        "started_at": start.isoformat()}))  # fmt: skip
        return dues

    def _pauses(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> dict[int, list]:
        pause_in = pause_statuses(self.w.entity, self.rule.timing.pause_in)
        if not pause_in or not rows:
            return {}
        p = self.periods()
        found: dict[int, list] = {}
        ids = sorted({int(r["id"]) for r in rows})
        for i in range(0, len(ids), _CHUNK):
            query = sa.select(p.c.record_id, p.c.id, p.c.entered_at, p.c.left_at).where(
                p.c.entity == self.rule.entity, p.c.record_id.in_(ids[i:i + _CHUNK]),
                p.c.status.in_(pause_in)).order_by(p.c.id)  # fmt: skip
            for r in conn.execute(query):
                found.setdefault(r.record_id, []).append((r.id, r.entered_at, r.left_at))
        return found


#: The sweep of this timing kind (the registry, ``timings/__init__.py``, reads it).
SWEEP = DeadlineSweep
