"""``yearly``: a date field's anniversary (birthdays), 29 February on 28 February in common years."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..occurrences import Due, moment_of
from ..sweep import Sweep, field_kind

__all__ = ["YearlySweep"]

KIND = "yearly"
_MAX_WINDOW_DAYS = 366


class YearlySweep(Sweep):
    """``yearly: {field, before}``: the anniversary, ``before`` ahead, once a year.

    The window of anniversaries is computed on the Python side: from the day after the
    last run's reach (catch-up after downtime, at most a year) or today, to
    ``now + before``. The query matches month-day numbers (``month * 100 + day``, via
    ``extract``, which SQLAlchemy renders for each dialect); Feb 29 is celebrated on Feb 28
    in other years. A datetime field is matched a day wider and checked in local time.
    """

    def window_days(self) -> list[date]:
        timing, now = self.rule.timing, self.w.now
        cal = self.w.calendars.default
        end = self.w.local_date(cal.add(now, timing.before) if timing.before else now)
        start = self.w.local_date(now)
        if self.w.since is not None:
            reach = cal.add(self.w.since, timing.before) if timing.before else self.w.since
            start = min(start, self.w.local_date(reach) + timedelta(days=1))
        start = max(start, end - timedelta(days=_MAX_WINDOW_DAYS))
        return [start + timedelta(days=i) for i in range((end - start).days + 1)]

    def statement(self, ids: Sequence[int] | None = None) -> sa.Select:
        timing, t = self.rule.timing, self.table
        column = t.c[timing.field or ""]
        days = self.window_days()
        if field_kind(self.w.entity, timing.field or "") == "datetime":
            days = [days[0] - timedelta(days=1), *days, days[-1] + timedelta(days=1)]
        codes = sorted(
            {d.month * 100 + d.day for d in days}
            | {229 for d in days if (d.month, d.day) == (2, 28) and not _leap(d.year)}
        )
        month_day = sa.extract("month", column) * 100 + sa.extract("day", column)
        query = sa.select(*self.record_columns(), column.label("rf_anchor")).where(
            *self.base_where(), column.isnot(None), month_day.in_(codes))  # fmt: skip
        return self.restrict(query, ids)

    def finish(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> list[Due]:
        timing, rule = self.rule.timing, self.rule
        days = set(self.window_days())
        dues = []
        for row in rows:
            value = row["rf_anchor"]
            born = value.astimezone(self.w.calendars.default.zone).date() \
                if isinstance(value, datetime) else value  # fmt: skip
            cal = self.w.calendars.for_record(rule, row)
            for year in sorted({d.year for d in days}):
                day = _anniversary(born, year)
                if day not in days:
                    continue
                start = moment_of(day, self.w.timezone)
                assert start is not None
                due_at = cal.subtract(start, timing.before) if timing.before else start
                if due_at > self.w.now:
                    continue
                dues.append(Due(record=row, record_id=row["id"], entity=rule.entity,
                                occurrence=f"birthday:{year}", due_at=due_at,
                                actions=rule.actions, anchor_num=year))  # fmt: skip
        return dues


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _anniversary(born: date, year: int) -> date:
    if (born.month, born.day) == (2, 29) and not _leap(year):
        return date(year, 2, 28)
    return date(year, born.month, born.day)


#: The sweep of this timing kind (the registry, ``timings/__init__.py``, reads it).
SWEEP = YearlySweep
