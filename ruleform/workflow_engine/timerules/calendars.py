"""Whose calendar applies to a firing, and the bounds the sweep queries bind.

A rule says ``calendar: organisation`` (default), ``department`` (the record's department)
or ``owner`` (the owner's department). A department uses the calendar the rulebook declares
for it by name (``calendar.departments.<name>``), else the nearest one declared above it,
else the organisation's.

**Bounds.** "``field`` + ``offset`` is due at ``now``" is ``calendar.add(field, offset) <=
now``. The sweep query cannot call the calendar per row, so it binds one bound computed
for ``now`` on the Python side: ``field <= loose_bound(now, offset)``, a *superset* of the
due records, then the candidates are checked exactly in Python with ``calendar.add``.

* minutes, hours, working hours: ``calendar.subtract(now, offset)`` is exact —
  working time between ``x`` and ``now`` only shrinks as ``x`` grows, and the walk back
  returns the latest ``x`` with exactly ``offset`` of working time before ``now``;
* days, weeks: the same — exact while the zone's UTC offset is the same within 3 hours
  of both ends (always in zones without DST, such as Asia/Shanghai); near a DST change,
  plus 3 hours;
* working days: ``subtract`` is monotone but not the inverse of ``add`` for values on
  non-working days ("1 working day after Saturday 10:00" is Monday 10:00, while "1 working
  day before Monday 10:00" is Friday 10:00), so the bound is extended to the start of the
  next working day after ``subtract(now, offset)``; the few extra candidates are dropped
  by the exact check.

With several calendars in play (department calendars) the loosest bound is used.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any

from ...metadata.model import Duration, TimeRule
from ...platform.calendar import BusinessCalendar, calendar_for
from .recipients import Directory

__all__ = ["CalendarMap", "loose_bound", "lower_bound"]

_DST_SLACK = timedelta(hours=3)
_WORKING_SLACK = timedelta(days=31)


class CalendarMap:
    """The organisation's calendar and the departments' own, for one tick."""

    def __init__(self, runtime: Any, directory: Directory):
        self.default: BusinessCalendar = runtime.calendar
        self.directory = directory
        rulebook = runtime.rulebook
        self.declared: dict[int, BusinessCalendar] = {}
        for name, model in rulebook.department_calendars.items():
            dept = directory.department_ids.get(name)
            if dept is not None:
                self.declared[dept] = calendar_for(model, rulebook.timezone)

    def for_department(self, department: int | None) -> BusinessCalendar:
        for dept in self.directory.department_chain(department):
            if dept in self.declared:
                return self.declared[dept]
        return self.default

    def for_record(self, rule: TimeRule, record: Mapping[str, Any]) -> BusinessCalendar:
        if rule.calendar == "department":
            return self.for_department(record.get("department"))
        if rule.calendar == "owner":
            return self.for_department(self.directory.department_of(record.get("owner")))
        return self.default

    def in_play(self, rule: TimeRule) -> list[BusinessCalendar]:
        if rule.calendar == "organisation" or not self.declared:
            return [self.default]
        return [self.default, *dict.fromkeys(self.declared.values())]


def loose_bound(calendars: Iterable[BusinessCalendar], now: datetime,
                duration: Duration) -> datetime:  # fmt: skip
    """A moment such that every ``x`` with ``add(x, duration) <= now`` has ``x <= it``."""
    return max(_loose(cal, now, duration) for cal in calendars)


def lower_bound(calendars: Iterable[BusinessCalendar], moment: datetime,
                duration: Duration) -> datetime:  # fmt: skip
    """A moment such that every ``x`` with ``add(x, duration) >= moment`` has ``x >= it``."""
    lowest = min(cal.subtract(moment, duration) for cal in calendars)
    return lowest - (_WORKING_SLACK if duration.working else _DST_SLACK)


def _offset_moves(cal: BusinessCalendar, *moments: datetime) -> bool:
    """Does the zone's UTC offset change within 3 hours of any of ``moments``?

    If not, "``x`` + N days (local wall clock) ≤ now" is exactly ``x ≤ now - N days`` for
    every ``x`` near the bound: both ends are read with the same offset.
    """
    offsets = {(m + d).astimezone(cal.zone).utcoffset() for m in moments
               for d in (-_DST_SLACK, timedelta(0), _DST_SLACK)}  # fmt: skip
    return len(offsets) > 1


def _loose(cal: BusinessCalendar, now: datetime, duration: Duration) -> datetime:
    bound = cal.subtract(now, duration)
    if duration.unit in ("days", "weeks"):
        return bound + _DST_SLACK if _offset_moves(cal, bound, now) else bound
    if duration.unit != "working_days":
        return bound
    day = bound.astimezone(cal.zone).date() + timedelta(days=1)
    for _ in range(1000):
        if cal.is_working_day(day):
            break
        day += timedelta(days=1)
    return datetime.combine(day, time(), tzinfo=cal.zone).astimezone(UTC)
