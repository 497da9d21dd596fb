"""Working time without a calendar, and dates meeting instants across time zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from ruleform.metadata.conditions import DefaultCalendar
from ruleform.metadata.conditions.timemath import floor_date, start_of_day, zone


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        (date(2026, 3, 4), 0, date(2026, 3, 4)),  # Wednesday
        (date(2026, 3, 4), 2, date(2026, 3, 6)),
        (date(2026, 3, 4), 3, date(2026, 3, 9)),
        (date(2026, 3, 6), 1, date(2026, 3, 9)),  # Friday -> Monday
        (date(2026, 3, 7), 1, date(2026, 3, 9)),  # Saturday -> Monday
        (date(2026, 3, 9), -1, date(2026, 3, 6)),
        (date(2026, 3, 8), -1, date(2026, 3, 6)),  # Sunday -> Friday
        (date(2026, 3, 4), -5, date(2026, 2, 25)),
        (date(2026, 3, 4), 10, date(2026, 3, 18)),
    ],
)
def test_working_days(day, n, expected):
    assert DefaultCalendar().add_working_days(day, n) == expected


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=zone("Asia/Shanghai"))  # type: ignore[misc]


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (local(2026, 3, 4, 10, 30), 2, local(2026, 3, 4, 12, 30)),
        (local(2026, 3, 4, 10, 30), 7.5, local(2026, 3, 4, 18, 0)),
        (local(2026, 3, 4, 10, 30), 8, local(2026, 3, 5, 9, 30)),
        (local(2026, 3, 6, 17, 0), 2, local(2026, 3, 9, 10, 0)),  # over the weekend
        (local(2026, 3, 7, 12, 0), 1, local(2026, 3, 9, 10, 0)),  # from a Saturday
        (local(2026, 3, 4, 7, 0), 1, local(2026, 3, 4, 10, 0)),  # before opening
        (local(2026, 3, 4, 20, 0), 1, local(2026, 3, 5, 10, 0)),  # after closing
        (local(2026, 3, 4, 10, 30), 24, local(2026, 3, 6, 16, 30)),
        (local(2026, 3, 4, 10, 30), -2, local(2026, 3, 3, 17, 30)),
        (local(2026, 3, 9, 10, 0), -2, local(2026, 3, 6, 17, 0)),
        (local(2026, 3, 8, 12, 0), -1, local(2026, 3, 6, 17, 0)),  # from a Sunday
        (local(2026, 3, 4, 7, 0), -1, local(2026, 3, 3, 17, 0)),
        (local(2026, 3, 4, 20, 0), -1, local(2026, 3, 4, 17, 0)),
        (local(2026, 3, 4, 20, 0), 0, local(2026, 3, 4, 20, 0)),
    ],
)
def test_working_hours(start, hours, expected):
    result = DefaultCalendar("Asia/Shanghai").add_working_time(start, timedelta(hours=hours))
    assert result == expected and result.tzinfo == UTC


def test_working_hours_forward_and_back_agree():
    cal = DefaultCalendar("Asia/Shanghai")
    start = local(2026, 3, 4, 11, 15)
    for hours in (1, 9, 13.5, 45, 100):
        there = cal.add_working_time(start, timedelta(hours=hours))
        assert cal.add_working_time(there, -timedelta(hours=hours)) == start


def test_start_of_day_and_floor_date_across_a_dst_change():
    ny = zone("America/New_York")  # clocks move from 02:00 to 03:00 on 2026-03-08
    assert start_of_day(date(2026, 3, 8), ny) == datetime(2026, 3, 8, 5, 0, tzinfo=UTC)
    assert start_of_day(date(2026, 3, 9), ny) == datetime(2026, 3, 9, 4, 0, tzinfo=UTC)
    assert floor_date(datetime(2026, 3, 9, 3, 59, tzinfo=UTC), ny) == date(2026, 3, 8)
    assert floor_date(datetime(2026, 3, 9, 4, 0, tzinfo=UTC), ny) == date(2026, 3, 9)
    sh = zone("Asia/Shanghai")
    assert floor_date(datetime(2026, 3, 3, 16, 0, tzinfo=UTC), sh) == date(2026, 3, 4)
    assert floor_date(datetime(2026, 3, 3, 15, 59, tzinfo=UTC), sh) == date(2026, 3, 3)
