"""Date and time arithmetic shared by the Python evaluator and the SQL compiler.

- ``date ± n days|weeks`` and ``datetime ± minutes|hours|days|weeks`` are exact (a day
  added to a datetime is 24 hours).
- ``± n working days`` moves the *local* date by working days (a datetime keeps its local
  time of day); ``± n working hours`` moves through working time. Both use the calendar
  (``add_working_days(date, n)``, ``add_working_time(aware_datetime, timedelta)``), or
  :class:`DefaultCalendar` (Monday–Friday, 09:00–18:00) when none is given.
- A date compared with a datetime stands for the start of that day in the rulebook time
  zone (:func:`start_of_day`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

__all__ = [
    "UNIT_DAYS",
    "MAX_DURATION_DAYS",
    "DefaultCalendar",
    "zone",
    "start_of_day",
    "floor_date",
    "add_duration",
    "as_utc",
]

UNIT_DAYS = {
    "minutes": Decimal(1) / 1440,
    "hours": Decimal(1) / 24,
    "days": Decimal(1),
    "weeks": Decimal(7),
    "working_days": Decimal("1.4"),
    "working_hours": Decimal("1.4") / 9,
}
"""Roughly how many calendar days one unit spans (used to cap durations)."""

MAX_DURATION_DAYS = 36525
"""The longest duration a condition may write (about 100 years)."""

_SECONDS = {"minutes": 60, "hours": 3600, "days": 86400, "weeks": 604800, "working_hours": 3600}


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name`` (cached)."""
    return ZoneInfo(name)


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime (a naive one is taken to be UTC already)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def start_of_day(day: date, tz: ZoneInfo) -> datetime:
    """The instant (UTC) at which ``day`` starts in ``tz``."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def floor_date(instant: datetime, tz: ZoneInfo) -> date:
    """The latest date whose start (in ``tz``) is at or before ``instant``."""
    day = instant.astimezone(tz).date()
    while start_of_day(day, tz) > instant:
        day -= timedelta(days=1)
    while start_of_day(day + timedelta(days=1), tz) <= instant:
        day += timedelta(days=1)
    return day


def _delta(amount: Decimal, unit: str) -> timedelta:
    micro = (amount * _SECONDS[unit] * 1_000_000).to_integral_value()
    return timedelta(microseconds=int(micro))


def add_duration(value: date | datetime, amount: Decimal, unit: str, tz: ZoneInfo, calendar: Any):
    """``value + amount unit`` (``amount`` may be negative); raises OverflowError past year 9999."""
    if isinstance(value, datetime):
        return _add_to_datetime(as_utc(value), amount, unit, tz, calendar)
    if unit == "working_days":
        return calendar.add_working_days(value, int(amount))
    days = int(amount) * (7 if unit == "weeks" else 1)
    return value + timedelta(days=days)


def _add_to_datetime(value: datetime, amount: Decimal, unit: str, tz: ZoneInfo, calendar: Any):
    if unit == "working_days":
        local = value.astimezone(tz)
        day = calendar.add_working_days(local.date(), int(amount))
        return datetime.combine(day, local.time(), tzinfo=tz).astimezone(UTC)
    if unit == "working_hours":
        return as_utc(calendar.add_working_time(value, _delta(amount, unit)))
    return value + _delta(amount, unit)


class DefaultCalendar:
    """Working time when the rulebook gives no calendar: Monday–Friday, 09:00–18:00 local."""

    start = time(9)
    end = time(18)

    def __init__(self, timezone: str = "UTC"):
        self.tz = zone(timezone)

    @staticmethod
    def is_working_day(day: date) -> bool:
        return day.weekday() < 5

    def add_working_days(self, day: date, n: int) -> date:
        """Move ``n`` working days (negative: back); ``n == 0`` keeps the date."""
        step = 1 if n >= 0 else -1
        remaining = abs(n)
        while remaining:
            day += timedelta(days=step)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def add_working_time(self, instant: datetime, delta: timedelta) -> datetime:
        """Move ``delta`` of working time from ``instant`` (negative: back)."""
        if not delta:
            return as_utc(instant)
        local = as_utc(instant).astimezone(self.tz).replace(tzinfo=None)
        if delta > timedelta(0):
            result = self._forward(local, delta)
        else:
            result = self._backward(local, -delta)
        return result.replace(tzinfo=self.tz).astimezone(UTC)

    def _forward(self, cur: datetime, remaining: timedelta) -> datetime:
        while True:
            day_start = datetime.combine(cur.date(), self.start)
            day_end = datetime.combine(cur.date(), self.end)
            if not self.is_working_day(cur.date()) or cur >= day_end:
                cur = datetime.combine(cur.date() + timedelta(days=1), time(0))
                continue
            cur = max(cur, day_start)
            if remaining <= day_end - cur:
                return cur + remaining
            remaining -= day_end - cur
            cur = datetime.combine(cur.date() + timedelta(days=1), time(0))

    def _backward(self, cur: datetime, remaining: timedelta) -> datetime:
        while True:
            day_start = datetime.combine(cur.date(), self.start)
            day_end = datetime.combine(cur.date(), self.end)
            if not self.is_working_day(cur.date()) or cur <= day_start:
                cur = datetime.combine(cur.date() - timedelta(days=1), time.max)
                continue
            cur = min(cur, day_end)
            if remaining <= cur - day_start:
                return cur - remaining
            remaining -= cur - day_start
            cur = datetime.combine(cur.date() - timedelta(days=1), time.max)
