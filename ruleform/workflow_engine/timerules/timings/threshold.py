"""``threshold``: a count of related records per owner or department in a window, against
a bound, checked on a schedule (default every day at 09:00)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ....metadata.conditions import SqlContext
from ..occurrences import Due, iso
from ..sweep import Sweep, relation_field
from .schedule import due_ticks, working_ticks

__all__ = ["ThresholdSweep"]

KIND = "threshold"


DEFAULT_THRESHOLD_CRON = "0 9 * * *"


class ThresholdSweep(Sweep):
    def tick(self) -> datetime | None:
        timing = self.rule.timing
        calendar = self.w.calendars.default
        ticks = working_ticks(due_ticks(timing.cron or DEFAULT_THRESHOLD_CRON, self.w.since,
                                        self.w.now, calendar.zone), timing, calendar)  # fmt: skip
        return ticks[-1] if ticks else None

    def statement(self, ids: Sequence[int] | None = None) -> sa.Select | None:
        tick = self.tick()
        if tick is None:
            return None
        timing, t = self.rule.timing, self.table
        assert timing.count_entity is not None and timing.window is not None
        r = self.w.runtime.table(timing.count_entity)
        fk = relation_field(self.w.entity, timing.count_entity)
        group = t.c.department if timing.per == "department" else t.c.owner
        start = self.w.calendars.default.subtract(tick, timing.window)
        keys = (sa.select(group.label("rf_key")).where(*self.base_where(), group.isnot(None))
                .group_by(group).subquery())  # fmt: skip
        counted = [r.c.created_at > start, r.c.created_at <= tick, *self.base_where()]
        if "archived" in r.c:
            counted.append(sa.not_(sa.func.coalesce(r.c.archived, sa.false())))
        if timing.count_where is not None:
            ctx = SqlContext(self.w.runtime.tables, timing.count_entity, tick, self.w.timezone,
                             self.w.calendars.default)  # fmt: skip
            counted.append(timing.count_where.to_sql(ctx))
        counts = (sa.select(group.label("rf_key"), sa.func.count(r.c.id).label("rf_count"))
                  .select_from(r.join(t, r.c[fk] == t.c.id)).where(*counted)
                  .group_by(group).subquery())  # fmt: skip
        n = sa.func.coalesce(counts.c.rf_count, 0)
        bound = n < timing.below if timing.below is not None else n > (timing.above or 0)
        return (sa.select(keys.c.rf_key, n.label("rf_count"))
                .select_from(keys.outerjoin(counts, counts.c.rf_key == keys.c.rf_key))
                .where(bound).order_by(keys.c.rf_key))  # fmt: skip

    def finish(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> list[Due]:
        tick, timing, rule = self.tick(), self.rule.timing, self.rule
        if tick is None or timing.window is None:
            return []
        start = self.w.calendars.default.subtract(tick, timing.window)
        directory, dues = self.w.directory, []
        for row in rows:
            key = int(row["rf_key"])
            if timing.per == "department":
                dept = directory.departments.get(key) or {}
                record = {"id": key, "department": key, "owner": dept.get("manager_id")}
                entity = "departments"
            else:
                record = {"id": key, "owner": key, "department": directory.department_of(key)}
                entity = "users"
            dues.append(Due(record=record, record_id=key, entity=entity,
                            occurrence=f"threshold:{iso(tick)}", due_at=tick,
                            actions=rule.actions, anchor_at=tick,
                            detail={"count": int(row["rf_count"]), "window_start": iso(start),
                                    "window_end": iso(tick)}))  # fmt: skip
        return dues

    def rechecks(self) -> bool:
        return False


#: The sweep of this timing kind (the registry, ``timings/__init__.py``, reads it).
SWEEP = ThresholdSweep
