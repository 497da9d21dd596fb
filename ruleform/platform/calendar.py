"""The working calendar: working days, working hours, public holidays and 调休.

One :class:`BusinessCalendar` answers every "when" question of a rulebook: the condition
language (``today() - 2 working days``), SLA clocks and time rules. Times are stored in
UTC and reasoned in the rulebook's time zone. The module is pure: no Flask, database or
clock; "now" is always passed in.

Decisions (the tests in ``tests/workflow/test_calendar.py`` pin each one down):

* **Working day.** A day is worked when its weekday is a working day and it is not a
  public holiday, *or* it is an adjusted working day (调休: ``extra_working_days`` and the
  ``holidays`` package's ``weekend_workdays``). ``extra_holidays`` win over everything.
* **Working time** is the union of the half-open local ranges ``[open, close)`` of the
  working hours on working days. A range closing at ``00:00`` or ``23:59:59.999999``
  (how the compiler writes ``24:00``) closes at midnight; ranges may not cross midnight.
  Durations are measured in real elapsed time, so a DST change inside working hours
  shortens or lengthens that day.
* **Adding working days.** ``add_working_days(day, n)`` counts ``n`` working days after
  (``n < 0``: before) ``day``; ``day`` itself need not be worked, so "2 working days after
  Friday" is Tuesday and "1 working day after Saturday" is Monday. ``n == 0`` means "the
  first working day from ``day`` on": ``day`` itself when worked, else the next one.
* **Counting working days.** ``working_days_between(a, b)`` counts the working days
  walked onto going from ``a`` to ``b``: ``(a, b]`` forwards, ``[b, a)`` backwards (then
  negative). It is the inverse of ``add_working_days``.
* **Adding working time.** Counting starts at the next opening when ``start`` is outside
  working time. A positive amount ends at the *earliest* moment it is used up, so a
  deadline can fall exactly at closing time (Monday 09:00 + 9 working hours with 09-18
  hours is Monday 18:00, not Tuesday 09:00). A negative amount walks back and ends at the
  *latest* such moment (possibly an opening time). A zero amount gives
  :meth:`~BusinessCalendar.next_opening` (the moment itself when it is working time).
* **Calendar units** (``Duration``): ``minutes`` and ``hours`` are elapsed time;
  ``days`` and ``weeks`` keep the local wall-clock time across DST changes;
  ``working_days`` keep the local time of day and must be whole; ``working_hours`` walk
  the working time. Local times that do not exist (the hour skipped in spring) are read
  as PEP 495 does with ``fold=0``: shifted forward by the gap.
* Every datetime given must be aware; every datetime returned is in UTC.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import RuleformError
from ..metadata.model import Duration, WorkingCalendar
from .holidays_source import HolidaySource, holiday_source

__all__ = ["BusinessCalendar", "CalendarError", "calendar_for"]

_ZERO = timedelta(0)
_DAY = timedelta(days=1)
_MAX_IDLE_DAYS = 1000  # a longer run without a working day means the calendar has none
_MIDNIGHT_ENDS = (time(0), time.max)  # closing times read as 24:00 (the compiler uses time.max)

Span = tuple[datetime, datetime]  # a stretch of working time, UTC, half-open
Hours = tuple[tuple[timedelta, timedelta], ...]  # working hours as offsets from midnight


class CalendarError(RuleformError, ValueError):
    """A working calendar was asked something it cannot answer (bad zone, naive time …)."""


class BusinessCalendar:
    """Working days and hours of one rulebook (or department) in one time zone."""

    def __init__(self, model: WorkingCalendar, timezone: str) -> None:
        self.model = model
        self.timezone = timezone
        self.zone: tzinfo = _zone(timezone)
        self._hours: Hours = _normalise_hours(model.working_hours)
        self._holidays: HolidaySource | None = _holiday_source(model)

    def __repr__(self) -> str:
        return f"<BusinessCalendar {self.timezone} {self.model.holiday_country or '-'}>"

    # --- days ----------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` (a local date) is worked, 调休 and company days included."""
        _check_date(day)
        model, source = self.model, self._holidays
        if day in model.extra_holidays:
            return False
        if day in model.extra_working_days:
            return True
        if source is not None and source.is_weekend_workday(day):
            return True
        if day.weekday() not in model.working_days:
            return False
        return source is None or not source.is_holiday(day)

    def holiday_name(self, day: date, locale: str = "zh-CN") -> str | None:
        """The name of the company or public holiday on ``day`` in ``locale``, or ``None``.

        The name is given even when the company works that day (``extra_working_days``).
        """
        _check_date(day)
        text = self.model.extra_holidays.get(day)
        if text is not None:
            return text.get(locale) or None
        return None if self._holidays is None else self._holidays.name(day, locale)

    def add_working_days(self, day: date, n: int) -> date:
        """The ``n``-th working day after ``day`` (before it when ``n < 0``).

        ``n == 0`` gives ``day`` when it is worked, else the next working day.
        """
        _check_date(day)
        if n == 0:
            return day if self.is_working_day(day) else self.add_working_days(day, 1)
        step = 1 if n > 0 else -1
        remaining = abs(n)
        for candidate in self._days(day + step * _DAY, step):
            remaining -= self.is_working_day(candidate)
            if not remaining:
                return candidate
        raise AssertionError("unreachable: _days raises when it runs out")

    def working_days_between(self, a: date, b: date) -> int:
        """Working days walked onto from ``a`` to ``b``: ``(a, b]``, or ``-[b, a)``."""
        _check_date(a)
        _check_date(b)
        if b < a:
            return -sum(self.is_working_day(b + k * _DAY) for k in range((a - b).days))
        return sum(self.is_working_day(a + k * _DAY) for k in range(1, (b - a).days + 1))

    # --- working time --------------------------------------------------------------

    def is_working_time(self, moment: datetime) -> bool:
        """Whether ``moment`` lies inside working hours (opening included, closing not)."""
        moment = _utc(moment)
        spans = self._day_spans(self._local_date(moment))
        return any(begin <= moment < end for begin, end in spans)

    def next_opening(self, moment: datetime) -> datetime:
        """The first moment of working time at or after ``moment`` (UTC)."""
        moment = _utc(moment)
        begin, _ = next(self._spans_forward(moment))
        return max(begin, moment)

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        """The moment ``amount`` of working time after ``start`` (before it if negative)."""
        start = _utc(start)
        if amount < _ZERO:
            return self._walk_back(start, -amount)
        return self._walk_forward(start, amount)

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from ``start`` to ``end``; negative when ``end`` is earlier."""
        start, end = _utc(start), _utc(end)
        if end < start:
            return -self.working_time_between(end, start)
        total, day, last = _ZERO, self._local_date(start), self._local_date(end)
        while day <= last:
            for begin, close in self._day_spans(day):
                total += max(_ZERO, min(close, end) - max(begin, start))
            day += _DAY
        return total

    # --- durations -----------------------------------------------------------------

    def add(self, moment: datetime, duration: Duration) -> datetime:
        """``moment`` plus a rulebook duration (calendar or working units), in UTC."""
        moment = _utc(moment)
        unit, amount = duration.unit, duration.amount
        if unit in ("minutes", "hours"):
            return moment + timedelta(**{unit: amount})
        if unit in ("days", "weeks"):
            return self._add_wall_clock(moment, timedelta(**{unit: amount}))
        if unit == "working_days":
            return self._add_working_days_at(moment, _whole(duration))
        if unit == "working_hours":
            return self.add_working_time(moment, timedelta(hours=amount))
        raise CalendarError(f"unknown duration unit {unit!r} in {duration}")

    def subtract(self, moment: datetime, duration: Duration) -> datetime:
        """``moment`` minus a rulebook duration, in UTC."""
        return self.add(moment, dataclasses.replace(duration, amount=-duration.amount))

    # --- internals -----------------------------------------------------------------

    def _local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def _to_utc(self, local: datetime) -> datetime:
        """A naive local wall-clock time as a UTC moment (gaps shifted forward)."""
        return local.replace(tzinfo=self.zone).astimezone(UTC)

    def _day_spans(self, day: date) -> list[Span]:
        """The working time of local ``day`` as ordered, disjoint UTC spans."""
        if not self.is_working_day(day):
            return []
        midnight = datetime.combine(day, time())
        spans: list[Span] = []
        for opens, closes in self._hours:
            begin, end = self._to_utc(midnight + opens), self._to_utc(midnight + closes)
            if spans:  # a DST gap can make local ranges overlap in UTC
                begin = max(begin, spans[-1][1])
            if end > begin:
                spans.append((begin, end))
        return spans

    def _days(self, first: date, step: int) -> Iterator[date]:
        """Days from ``first`` on (``step`` ±1); gives up after a long run without work."""
        day, idle = first, 0
        while idle <= _MAX_IDLE_DAYS:
            yield day
            idle = 0 if self.is_working_day(day) else idle + 1
            day += step * _DAY
        raise CalendarError(
            f"no working day within {_MAX_IDLE_DAYS} days of {first}; "
            "check the calendar's working_days and extra_holidays"
        )

    def _spans_forward(self, moment: datetime) -> Iterator[Span]:
        """Working spans ending after ``moment``, earliest first."""
        for day in self._days(self._local_date(moment), 1):
            for begin, end in self._day_spans(day):
                if end > moment:
                    yield begin, end

    def _spans_backward(self, moment: datetime) -> Iterator[Span]:
        """Working spans starting before ``moment``, latest first."""
        for day in self._days(self._local_date(moment), -1):
            for begin, end in reversed(self._day_spans(day)):
                if begin < moment:
                    yield begin, end

    def _walk_forward(self, start: datetime, amount: timedelta) -> datetime:
        remaining = amount
        for begin, end in self._spans_forward(start):
            begin = max(begin, start)
            if remaining <= end - begin:
                return begin + remaining
            remaining -= end - begin
        raise AssertionError("unreachable: _days raises when it runs out")

    def _walk_back(self, start: datetime, amount: timedelta) -> datetime:
        remaining = amount
        for begin, end in self._spans_backward(start):
            end = min(end, start)
            if remaining <= end - begin:
                return end - remaining
            remaining -= end - begin
        raise AssertionError("unreachable: _days raises when it runs out")

    def _add_wall_clock(self, moment: datetime, delta: timedelta) -> datetime:
        if not delta:
            return moment
        local = moment.astimezone(self.zone).replace(tzinfo=None)
        return self._to_utc(local + delta)

    def _add_working_days_at(self, moment: datetime, n: int) -> datetime:
        local = moment.astimezone(self.zone)
        day = self.add_working_days(local.date(), n)
        return self._to_utc(datetime.combine(day, local.time()))


# --- building and caching ----------------------------------------------------------

_CACHE: dict[tuple[object, ...], BusinessCalendar] = {}
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 128


def calendar_for(rulebook_calendar: WorkingCalendar, timezone: str) -> BusinessCalendar:
    """The shared :class:`BusinessCalendar` for a calendar model and a time zone."""
    key = (_model_key(rulebook_calendar), timezone)
    found = _CACHE.get(key)
    if found is None:
        built = BusinessCalendar(rulebook_calendar, timezone)
        with _CACHE_LOCK:
            if len(_CACHE) >= _CACHE_SIZE:
                _CACHE.clear()
            found = _CACHE.setdefault(key, built)
    return found


def _model_key(model: WorkingCalendar) -> tuple[object, ...]:
    """A hashable stand-in for ``model`` (whose read-only mappings cannot be hashed)."""
    extra = tuple(
        (day, tuple(sorted(text.translations.items())))
        for day, text in sorted(model.extra_holidays.items(), key=lambda item: item[0])
    )
    return (
        model.working_days,
        model.working_hours,
        model.holiday_country,
        model.holiday_subdivision,
        extra,
        model.extra_working_days,
    )


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CalendarError(f"unknown time zone {name!r}; use an IANA name") from exc


def _holiday_source(model: WorkingCalendar) -> HolidaySource | None:
    if not model.holiday_country:
        return None
    try:
        return holiday_source(model.holiday_country, model.holiday_subdivision)
    except NotImplementedError as exc:
        raise CalendarError(f"no public holidays known: {exc}") from exc


def _normalise_hours(ranges: tuple[tuple[time, time], ...]) -> Hours:
    """Working hours as sorted, merged offsets from midnight (closing 24:00 = one day)."""
    if not ranges:
        raise CalendarError("a working calendar needs at least one range of working hours")
    merged: list[tuple[timedelta, timedelta]] = []
    for opens, closes in sorted(_offsets(begin, end) for begin, end in ranges):
        if merged and opens <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(closes, merged[-1][1]))
        else:
            merged.append((opens, closes))
    return tuple(merged)


def _offsets(begin: time, end: time) -> tuple[timedelta, timedelta]:
    opens = _since_midnight(begin)
    closes = _DAY if end in _MIDNIGHT_ENDS else _since_midnight(end)
    if closes <= opens:
        raise CalendarError(
            f"working hours {begin:%H:%M}-{end:%H:%M} end before they start; "
            f"ranges cannot cross midnight (split into {begin:%H:%M}-24:00 and 00:00-{end:%H:%M})"
        )
    return opens, closes


def _since_midnight(moment: time) -> timedelta:
    return timedelta(
        hours=moment.hour,
        minutes=moment.minute,
        seconds=moment.second,
        microseconds=moment.microsecond,
    )


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise CalendarError(f"naive datetime {moment.isoformat()}; pass an aware datetime")
    return moment.astimezone(UTC)


def _check_date(day: date) -> None:
    if isinstance(day, datetime):
        raise CalendarError(
            f"expected a date, got the datetime {day.isoformat()}; "
            "take the local date first (moment.astimezone(zone).date())"
        )


def _whole(duration: Duration) -> int:
    if duration.amount != int(duration.amount):
        raise CalendarError(f"working days must be whole, not {duration}")
    return int(duration.amount)
