"""``after``: a date or datetime field plus an offset (or ``before`` it): one occurrence per value."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..calendars import loose_bound, lower_bound
from ..occurrences import Due, iso, moment_of, short_duration
from ..sweep import Sweep, field_kind

__all__ = ["AfterSweep"]

KIND = "after"


class AfterSweep(Sweep):
    """``after: {field, offset}``: due when ``calendar.add(field, offset) <= now``."""

    def statement(self, ids: Sequence[int] | None = None) -> sa.Select:
        timing, t = self.rule.timing, self.table
        assert timing.field is not None and timing.offset is not None
        kind, column = field_kind(self.w.entity, timing.field), t.c[timing.field]
        clauses = [*self.base_where(), column.isnot(None),
                   self.compare(column, kind, "<=", loose_bound(self.calendars(), self.w.now,
                                                                 timing.offset))]  # fmt: skip
        limit = self.skip_limit()
        if limit is not None:
            low = lower_bound(self.calendars(), limit, timing.offset)
            clauses.append(self.compare(column, kind, ">=", low))
        anchor = self.ledger.c.anchor_date if kind == "date" else self.ledger.c.anchor_at
        clauses.append(self.not_fired(anchor == column))
        query = sa.select(*self.record_columns(), column.label("rf_anchor")).where(*clauses)
        return self.restrict(query, ids)

    def finish(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> list[Due]:
        timing, rule = self.rule.timing, self.rule
        assert timing.offset is not None
        kind = field_kind(self.w.entity, timing.field or "")
        dues = []
        for row in rows:
            value = row["rf_anchor"]
            start = moment_of(value, self.w.timezone)
            assert start is not None
            due_at = self.w.calendars.for_record(rule, row).add(start, timing.offset)
            if due_at > self.w.now:
                continue  # the bound was a superset; not due yet
            dues.append(Due(
                record=row, record_id=row["id"], entity=rule.entity,
                occurrence=f"{rule.name}:{iso(value)}+{short_duration(timing.offset)}",
                due_at=due_at, actions=rule.actions,
                anchor_at=value if kind != "date" else None,
                anchor_date=value if kind == "date" else None,
            ))  # fmt: skip
        return dues


#: The sweep of this timing kind (the registry, ``timings/__init__.py``, reads it).
SWEEP = AfterSweep
