"""The working calendar: working days, hours, Chinese public holidays, 调休 and DST.

The rulebook calendar used by most tests is the one of the shipped CRM rulebook:
Monday to Friday, 09:00-12:00 and 13:30-18:00 (7.5 working hours a day), Chinese public
holidays, in Asia/Shanghai. 2026 facts used below (from the ``holidays`` package):

* Spring Festival: 2026-02-15 (Sun) … 02-23 (Mon) off; Saturdays 02-14 and 02-28 worked.
* National Day: 2026-10-01 … 10-07 off; Sunday 09-20 and Saturday 10-10 worked.
* Mid-Autumn Festival: Friday 2026-09-25 off.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ruleform.metadata.model import Duration, Text, WorkingCalendar, frozen_map
from ruleform.platform.calendar import BusinessCalendar, CalendarError, calendar_for
from ruleform.platform.holidays_source import holiday_source

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
LUNCH_BREAK = ((time(9), time(12)), (time(13, 30), time(18)))
ALL_WEEK = frozenset(range(7))
ROUND_THE_CLOCK = ((time(0), time(0)),)


def cn_model(**changes: object) -> WorkingCalendar:
    """The CRM rulebook's calendar, with ``changes``."""
    values: dict[str, object] = {"working_hours": LUNCH_BREAK, "holiday_country": "CN"}
    values.update(changes)
    return WorkingCalendar(**values)  # type: ignore[arg-type]


def text(zh: str, en: str) -> Text:
    return Text(frozen_map({"zh-CN": zh, "en": en}))


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0, zone: ZoneInfo = SHANGHAI) -> datetime:
    """An aware local time (Shanghai unless told)."""
    return datetime(y, m, d, hh, mm, tzinfo=zone)


CN = calendar_for(cn_model(), "Asia/Shanghai")
PLAIN = calendar_for(WorkingCalendar(working_hours=LUNCH_BREAK), "Asia/Shanghai")


# --- working days ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 3, 6), True),  # an ordinary Friday
        (date(2026, 3, 7), False),  # Saturday
        (date(2026, 3, 8), False),  # Sunday
        (date(2026, 1, 1), False),  # New Year's Day
        (date(2026, 1, 2), False),  # bridge Friday, paid back on Sunday 01-04
        (date(2026, 1, 4), True),  # Sunday worked (调休)
        (date(2026, 2, 13), True),  # Friday before the Spring Festival
        (date(2026, 2, 14), True),  # Saturday worked (调休)
        *((date(2026, 2, d), False) for d in range(15, 24)),  # Spring Festival 02-15 … 02-23
        (date(2026, 2, 24), True),
        (date(2026, 2, 28), True),  # Saturday worked (调休)
        (date(2026, 3, 1), False),  # the Sunday after it is not
        (date(2026, 5, 9), True),  # Saturday worked (调休)
        (date(2026, 9, 20), True),  # Sunday worked (调休)
        (date(2026, 9, 25), False),  # Mid-Autumn Festival, a Friday
        *((date(2026, 10, d), False) for d in range(1, 8)),  # National Day week
        (date(2026, 10, 8), True),
        (date(2026, 10, 9), True),
        (date(2026, 10, 10), True),  # Saturday worked (调休)
        (date(2026, 10, 11), False),
    ],
)
def test_working_days_follow_chinese_public_holidays_and_adjusted_days(day, working):
    assert CN.is_working_day(day) is working


def test_2026_has_248_working_days_in_china():
    assert CN.working_days_between(date(2025, 12, 31), date(2026, 12, 31)) == 248


def test_working_days_agree_with_the_holidays_package_2020_to_2027():
    package = holidays.country_holidays("CN", years=range(2019, 2029))
    days = (date(2020, 1, 1) + timedelta(days=k) for k in range(8 * 365))
    assert [d for d in days if CN.is_working_day(d) != package.is_working_day(d)] == []


def test_without_a_country_only_weekdays_count():
    assert PLAIN.is_working_day(date(2026, 10, 1))  # a Thursday
    assert not PLAIN.is_working_day(date(2026, 10, 10))  # a Saturday


def test_extra_holiday_closes_an_ordinary_day_an_adjusted_day_and_beats_extra_working():
    day_off, adjusted = date(2026, 12, 31), date(2026, 10, 10)
    cal = BusinessCalendar(
        cn_model(
            extra_holidays=frozen_map(
                {day_off: text("盘点", "Stocktake"), adjusted: text("x", "y")}
            ),
            extra_working_days=frozenset({adjusted}),
        ),
        "Asia/Shanghai",
    )
    assert not cal.is_working_day(day_off)
    assert not cal.is_working_day(adjusted)


def test_extra_working_day_opens_a_weekend_day_and_a_public_holiday():
    cal = BusinessCalendar(
        cn_model(extra_working_days=frozenset({date(2026, 3, 7), date(2026, 10, 2)})),
        "Asia/Shanghai",
    )
    assert cal.is_working_day(date(2026, 3, 7))
    assert cal.is_working_day(date(2026, 10, 2))
    assert not cal.is_working_day(date(2026, 10, 1))


def test_six_day_week_still_closes_on_public_holidays():
    cal = BusinessCalendar(cn_model(working_days=frozenset(range(6))), "Asia/Shanghai")
    assert cal.is_working_day(date(2026, 3, 7))  # Saturday
    assert not cal.is_working_day(date(2026, 3, 8))  # Sunday
    assert not cal.is_working_day(date(2026, 10, 3))  # National Day on a Saturday


def test_a_datetime_is_not_a_day():
    with pytest.raises(CalendarError, match="expected a date"):
        CN.is_working_day(datetime(2026, 3, 6, tzinfo=UTC))


# --- holiday names --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "locale", "name"),
    [
        (date(2026, 10, 1), "zh-CN", "国庆节"),
        (date(2026, 10, 1), "en", "National Day"),
        (date(2026, 10, 1), "en-US", "National Day"),
        (date(2026, 10, 1), "fr", "国庆节"),  # unknown locale: the country's language
        (date(2026, 2, 16), "zh-CN", "农历除夕"),
        (date(2026, 10, 10), "zh-CN", None),  # a worked Saturday is no holiday
        (date(2026, 3, 9), "en", None),
    ],
)
def test_holiday_names_in_the_reader_s_locale(day, locale, name):
    assert CN.holiday_name(day, locale) == name


def test_bridge_days_are_named_after_the_day_they_are_paid_back_on():
    assert "2026-09-20" in (CN.holiday_name(date(2026, 10, 6)) or "")
    assert CN.holiday_name(date(2026, 10, 6), "en") == "Day off (substituted from 09/20/2026)"


def test_company_holiday_names_come_from_the_rulebook():
    day = date(2026, 12, 31)
    cal = BusinessCalendar(
        cn_model(extra_holidays=frozen_map({day: text("年终盘点", "Year-end stocktake")})),
        "Asia/Shanghai",
    )
    assert cal.holiday_name(day) == "年终盘点"
    assert cal.holiday_name(day, "en") == "Year-end stocktake"


def test_a_public_holiday_worked_by_the_company_keeps_its_name():
    cal = BusinessCalendar(cn_model(extra_working_days=frozenset({date(2026, 10, 2)})), "UTC")
    assert cal.holiday_name(date(2026, 10, 2)) == "国庆节"


def test_no_holiday_names_without_a_country():
    assert PLAIN.holiday_name(date(2026, 10, 1)) is None


# --- adding and counting working days ---------------------------------------------------


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        (date(2026, 3, 6), 2, date(2026, 3, 10)),  # 2 working days after Friday: Tuesday
        (date(2026, 3, 7), 1, date(2026, 3, 9)),  # after Saturday: Monday
        (date(2026, 3, 10), -2, date(2026, 3, 6)),  # today() - 2 working days on a Tuesday
        (date(2026, 3, 8), -1, date(2026, 3, 6)),  # before Sunday: Friday
        (date(2026, 3, 9), 0, date(2026, 3, 9)),  # 0 on a working day: the day itself
        (date(2026, 3, 7), 0, date(2026, 3, 9)),  # 0 on a day off: the next working day
        (date(2026, 10, 1), 0, date(2026, 10, 8)),
        (date(2026, 9, 18), 1, date(2026, 9, 20)),  # to the worked Sunday
        (date(2026, 9, 30), 1, date(2026, 10, 8)),  # over National Day
        (date(2026, 10, 9), 1, date(2026, 10, 10)),  # to the worked Saturday
        (date(2026, 10, 10), 1, date(2026, 10, 12)),
        (date(2026, 10, 8), -1, date(2026, 9, 30)),
        (date(2026, 10, 12), -2, date(2026, 10, 9)),
        (date(2026, 2, 13), 1, date(2026, 2, 14)),  # Spring Festival
        (date(2026, 2, 14), 1, date(2026, 2, 24)),
        (date(2026, 2, 24), -1, date(2026, 2, 14)),
        (date(2026, 2, 27), 1, date(2026, 2, 28)),
        (date(2025, 12, 31), 248, date(2026, 12, 31)),
    ],
)
def test_add_working_days(day, n, expected):
    assert CN.add_working_days(day, n) == expected


@pytest.mark.parametrize(
    ("a", "b", "count"),
    [
        (date(2026, 3, 6), date(2026, 3, 10), 2),  # Friday → Tuesday
        (date(2026, 3, 10), date(2026, 3, 6), -2),
        (date(2026, 3, 9), date(2026, 3, 9), 0),
        (date(2026, 3, 7), date(2026, 3, 9), 1),  # Saturday → Monday
        (date(2026, 3, 9), date(2026, 3, 7), 0),  # back over a weekend only
        (date(2026, 9, 30), date(2026, 10, 8), 1),
        (date(2026, 2, 13), date(2026, 2, 27), 5),  # 02-14 and 02-24 … 02-27
    ],
)
def test_working_days_between(a, b, count):
    assert CN.working_days_between(a, b) == count


# --- working time ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (at(2026, 3, 9, 10), 1, at(2026, 3, 9, 11)),  # inside the morning
        (at(2026, 3, 9, 11), 2, at(2026, 3, 9, 14, 30)),  # over the lunch break
        (at(2026, 3, 9, 12, 30), 0.5, at(2026, 3, 9, 14)),  # starting in the lunch break
        (at(2026, 3, 9, 7), 1, at(2026, 3, 9, 10)),  # before opening
        (at(2026, 3, 9, 19), 1, at(2026, 3, 10, 10)),  # after closing, over midnight
        (at(2026, 3, 9, 9), 7.5, at(2026, 3, 9, 18)),  # a full day ends at closing time
        (at(2026, 3, 9, 17), 2, at(2026, 3, 10, 10)),
        (at(2026, 3, 9, 9), 22.5, at(2026, 3, 11, 18)),  # three full days
        (at(2026, 3, 6, 17), 2, at(2026, 3, 9, 10)),  # Friday → Monday
        (at(2026, 3, 7, 10), 1, at(2026, 3, 9, 10)),  # from a Saturday
        (at(2026, 9, 30, 17), 2, at(2026, 10, 8, 10)),  # over National Day
        (at(2026, 10, 9, 17), 2, at(2026, 10, 10, 10)),  # into the worked Saturday
        (at(2026, 9, 18, 17), 2, at(2026, 9, 20, 10)),  # into the worked Sunday
        (at(2026, 2, 13, 17), 2, at(2026, 2, 14, 10)),
        (at(2026, 2, 14, 17), 2, at(2026, 2, 24, 10)),  # over the Spring Festival
        (at(2026, 3, 9, 10), -2, at(2026, 3, 6, 17)),  # negative: back to Friday
        (at(2026, 3, 9, 14), -1, at(2026, 3, 9, 11, 30)),  # back over lunch
        (at(2026, 3, 9, 12, 45), -1, at(2026, 3, 9, 11)),  # from inside the break
        (at(2026, 3, 9, 18), -7.5, at(2026, 3, 9, 9)),  # ends at opening time
        (at(2026, 3, 9, 9), -1, at(2026, 3, 6, 17)),
        (at(2026, 10, 8, 10), -2, at(2026, 9, 30, 17)),
    ],
)
def test_add_working_time(start, hours, expected):
    result = CN.add_working_time(start, timedelta(hours=hours))
    assert result == expected
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (at(2026, 3, 9, 10, 15), at(2026, 3, 9, 10, 15)),  # in working time: unchanged
        (at(2026, 3, 9, 12), at(2026, 3, 9, 13, 30)),  # the break
        (at(2026, 3, 9, 18), at(2026, 3, 10, 9)),  # closing time is not working time
        (at(2026, 9, 30, 20), at(2026, 10, 8, 9)),
    ],
)
def test_zero_working_time_moves_to_the_next_opening(start, expected):
    assert CN.add_working_time(start, timedelta(0)) == expected
    assert CN.next_opening(start) == expected


def test_working_time_input_may_be_in_any_zone():
    in_utc = at(2026, 3, 9, 10).astimezone(UTC)
    assert CN.add_working_time(in_utc, timedelta(hours=1)) == at(2026, 3, 9, 11)


def test_round_the_clock_calendar_crosses_midnight_without_stopping():
    cal = BusinessCalendar(WorkingCalendar(working_hours=ROUND_THE_CLOCK), "Asia/Shanghai")
    assert cal.add_working_time(at(2026, 3, 9, 23), timedelta(hours=2)) == at(2026, 3, 10, 1)
    assert cal.add_working_time(at(2026, 3, 6, 23), timedelta(hours=2)) == at(2026, 3, 9, 1)
    assert cal.working_time_between(at(2026, 3, 6), at(2026, 3, 9)) == timedelta(hours=24)


@pytest.mark.parametrize("midnight", [time(0), time.max])  # the compiler writes 24:00 as time.max
def test_hours_ending_at_midnight(midnight):
    cal = BusinessCalendar(WorkingCalendar(working_hours=((time(8), midnight),)), "Asia/Shanghai")
    assert cal.add_working_time(at(2026, 3, 9, 23, 30), timedelta(hours=1)) == at(
        2026, 3, 10, 8, 30
    )
    assert cal.working_time_between(at(2026, 3, 9), at(2026, 3, 10)) == timedelta(hours=16)


def test_overlapping_and_unsorted_hours_are_merged():
    hours = ((time(13), time(15)), (time(9), time(12)), (time(11), time(13)))
    cal = BusinessCalendar(WorkingCalendar(working_hours=hours), "Asia/Shanghai")
    assert cal.working_time_between(at(2026, 3, 9), at(2026, 3, 10)) == timedelta(hours=6)


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        (at(2026, 3, 9, 9), at(2026, 3, 9, 18), 7.5),
        (at(2026, 3, 9, 11), at(2026, 3, 9, 14), 1.5),
        (at(2026, 3, 6, 17), at(2026, 3, 9, 10), 2),
        (at(2026, 3, 9, 10), at(2026, 3, 6, 17), -2),
        (at(2026, 3, 7, 8), at(2026, 3, 8, 20), 0),  # a weekend
        (at(2026, 9, 30, 9), at(2026, 10, 8, 18), 15),  # National Day in between
        (at(2026, 3, 9, 10), at(2026, 3, 9, 10), 0),
    ],
)
def test_working_time_between(start, end, hours):
    assert CN.working_time_between(start, end) == timedelta(hours=hours)


@pytest.mark.parametrize(
    ("moment", "working"),
    [
        (at(2026, 3, 9, 9), True),  # opening is working time
        (at(2026, 3, 9, 12), False),  # closing of a range is not
        (at(2026, 3, 9, 13, 30), True),
        (at(2026, 3, 9, 18), False),
        (at(2026, 3, 7, 10), False),
        (at(2026, 10, 10, 10), True),
    ],
)
def test_is_working_time(moment, working):
    assert CN.is_working_time(moment) is working


# --- durations, time zones, DST ------------------------------------------------------

BERLIN_CAL = BusinessCalendar(WorkingCalendar(), "Europe/Berlin")


def de(m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    """An aware Berlin time in 2026 (DST from 03-29 02:00 to 10-25 03:00)."""
    return at(2026, m, d, hh, mm, zone=BERLIN)


@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        # a calendar day keeps the wall-clock time: 23 h in spring, 25 h in autumn
        (de(3, 28, 10), Duration(1, "days"), de(3, 29, 10)),
        (de(10, 24, 10), Duration(1, "days"), de(10, 25, 10)),
        (de(3, 25, 10), Duration(1, "weeks"), de(4, 1, 10)),
        (de(3, 29, 10), Duration(-1, "days"), de(3, 28, 10)),
        # hours and minutes are elapsed time
        (de(3, 28, 10), Duration(24, "hours"), de(3, 29, 11)),
        (de(3, 28, 10), Duration(90, "minutes"), de(3, 28, 11, 30)),
        # a skipped local time is shifted forward by the gap
        (de(3, 28, 2, 30), Duration(1, "days"), de(3, 29, 3, 30)),
        # working days keep the local time of day, even across DST
        (de(3, 27, 10), Duration(1, "working_days"), de(3, 30, 10)),
    ],
)
def test_add_duration_in_berlin(start, duration, expected):
    assert BERLIN_CAL.add(start, duration) == expected


def test_calendar_days_across_dst_are_not_24_hours():
    spring = BERLIN_CAL.add(de(3, 28, 10), Duration(1, "days"))
    autumn = BERLIN_CAL.add(de(10, 24, 10), Duration(1, "days"))
    assert spring - de(3, 28, 10) == timedelta(hours=23)
    assert autumn - de(10, 24, 10) == timedelta(hours=25)


def test_zero_days_keep_the_second_of_two_repeated_hours():
    second_two_thirty = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET, fold=1
    assert BERLIN_CAL.add(second_two_thirty, Duration(0, "days")) == second_two_thirty


def test_round_the_clock_working_time_follows_dst():
    cal = BusinessCalendar(WorkingCalendar(ALL_WEEK, ROUND_THE_CLOCK), "Europe/Berlin")
    spring = cal.working_time_between(de(3, 29), de(3, 30))
    autumn = cal.working_time_between(de(10, 25), de(10, 26))
    assert (spring, autumn) == (timedelta(hours=23), timedelta(hours=25))


def test_working_hours_over_the_spring_gap_are_shorter():
    cal = BusinessCalendar(WorkingCalendar(ALL_WEEK, ((time(1), time(4)),)), "Europe/Berlin")
    day = (de(3, 29), de(3, 30))
    assert cal.working_time_between(*day) == timedelta(hours=2)


@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        (at(2026, 3, 6, 15), Duration(2, "working_days"), at(2026, 3, 10, 15)),
        (at(2026, 3, 6, 20), Duration(1, "working_days"), at(2026, 3, 9, 20)),  # evening kept
        (at(2026, 9, 30, 15), Duration(1, "working_days"), at(2026, 10, 8, 15)),
        (at(2026, 3, 9, 9), Duration(24, "working_hours"), at(2026, 3, 12, 10, 30)),
        (at(2026, 3, 9, 9), Duration(3, "days"), at(2026, 3, 12, 9)),
    ],
)
def test_add_and_subtract_rulebook_durations(start, duration, expected):
    assert CN.add(start, duration) == expected
    assert CN.subtract(expected, duration) == start


def test_subtract_working_days_from_a_tuesday():
    assert CN.subtract(at(2026, 3, 10, 9), Duration(2, "working_days")) == at(2026, 3, 6, 9)


@pytest.mark.parametrize(
    ("duration", "message"),
    [
        (Duration(1.5, "working_days"), "must be whole"),
        (Duration(1, "fortnights"), "unknown duration unit"),
    ],
)
def test_durations_the_calendar_refuses(duration, message):
    with pytest.raises(CalendarError, match=message):
        CN.add(at(2026, 3, 9, 9), duration)


# --- construction, errors, caching -----------------------------------------------------


def test_naive_datetimes_are_refused():
    with pytest.raises(CalendarError, match="naive datetime"):
        CN.add_working_time(datetime(2026, 3, 9, 9), timedelta(hours=1))


@pytest.mark.parametrize(
    ("model", "zone", "message"),
    [
        (WorkingCalendar(), "Mars/Olympus", "unknown time zone"),
        (WorkingCalendar(holiday_country="XX"), "UTC", "no public holidays known"),
        (WorkingCalendar(holiday_country="CN", holiday_subdivision="ZZ"), "UTC", "ZZ"),
        (WorkingCalendar(working_hours=()), "UTC", "at least one range"),
        (WorkingCalendar(working_hours=((time(22), time(6)),)), "UTC", "cannot cross midnight"),
    ],
)
def test_calendars_that_cannot_be_built(model, zone, message):
    with pytest.raises(CalendarError, match=message):
        BusinessCalendar(model, zone)


def test_a_calendar_without_working_days_says_so_instead_of_looping():
    cal = BusinessCalendar(WorkingCalendar(working_days=frozenset()), "UTC")
    with pytest.raises(CalendarError, match="no working day within"):
        cal.add_working_days(date(2026, 3, 9), 1)
    with pytest.raises(CalendarError, match="no working day within"):
        cal.next_opening(datetime(2026, 3, 9, tzinfo=UTC))


def test_calendar_for_shares_one_calendar_per_model_and_zone():
    day = date(2026, 12, 31)
    first = calendar_for(cn_model(extra_holidays=frozen_map({day: text("a", "b")})), "UTC")
    again = calendar_for(cn_model(extra_holidays=frozen_map({day: text("a", "b")})), "UTC")
    assert first is again
    assert calendar_for(cn_model(), "UTC") is not first
    assert calendar_for(cn_model(), "Asia/Shanghai") is CN


def test_holiday_years_are_computed_once():
    source = holiday_source("CN")
    assert source.year(2026) is source.year(2026)
    assert date(2026, 10, 10) in source.year(2026).weekend_workdays


# --- properties -----------------------------------------------------------------------

moments = st.datetimes(datetime(2025, 6, 1), datetime(2027, 6, 1), timezones=st.just(UTC))
berlin_moments = st.datetimes(datetime(2026, 3, 20), datetime(2026, 11, 1), timezones=st.just(UTC))
amounts = st.timedeltas(timedelta(hours=-120), timedelta(hours=120))
positive_amounts = st.timedeltas(timedelta(microseconds=1), timedelta(hours=120))
days = st.dates(date(2025, 6, 1), date(2027, 6, 1))
counts = st.integers(1, 60)
calendars = st.sampled_from(
    [
        CN,
        PLAIN,
        BusinessCalendar(cn_model(working_days=frozenset(range(6))), "Asia/Shanghai"),
        BusinessCalendar(WorkingCalendar(ALL_WEEK, ((time(8), time(0)),)), "Europe/Berlin"),
        BusinessCalendar(WorkingCalendar(ALL_WEEK, ROUND_THE_CLOCK), "Europe/Berlin"),
    ]
)
fast = settings(max_examples=60, deadline=None)


@fast
@given(calendars, moments, amounts)
def test_property_working_time_between_undoes_add_working_time(cal, start, amount):
    assert cal.working_time_between(start, cal.add_working_time(start, amount)) == amount


@fast
@given(calendars, berlin_moments, amounts)
def test_property_round_trip_across_berlin_dst(cal, start, amount):
    assert cal.working_time_between(start, cal.add_working_time(start, amount)) == amount


@fast
@given(calendars, moments, amounts)
def test_property_results_land_in_working_time(cal, start, amount):
    result = cal.add_working_time(start, amount)
    if amount > timedelta(0):  # the last instant used: possibly a closing time
        assert cal.is_working_time(result - timedelta(microseconds=1))
    else:
        assert cal.is_working_time(result)


@fast
@given(calendars, moments, positive_amounts, positive_amounts)
def test_property_working_time_adds_up(cal, start, a, b):
    assert cal.add_working_time(cal.add_working_time(start, a), b) == cal.add_working_time(
        start, a + b
    )


@fast
@given(calendars, moments, moments, moments)
def test_property_working_time_between_is_additive(cal, a, b, c):
    between = cal.working_time_between
    assert between(a, b) + between(b, c) == between(a, c)


@fast
@given(calendars, moments, moments, amounts, amounts)
def test_property_add_working_time_is_monotonic(cal, s1, s2, x, y):
    s1, s2 = sorted((s1, s2))
    x, y = sorted((x, y))
    assert cal.add_working_time(s1, x) <= cal.add_working_time(s1, y)
    assert cal.add_working_time(s1, x) <= cal.add_working_time(s2, x)


@fast
@given(calendars, days, counts, counts)
def test_property_working_days_add_up_from_a_working_day(cal, day, a, b):
    day = cal.add_working_days(day, 0)
    add = cal.add_working_days
    assert add(day, a + b) == add(add(day, a), b)
    assert add(day, -a - b) == add(add(day, -a), -b)


@fast
@given(calendars, days, st.integers(-60, 60))
def test_property_add_working_days_lands_on_a_working_day_and_counts_back(cal, day, n):
    result = cal.add_working_days(day, n)
    assert cal.is_working_day(result)
    if n:
        assert cal.working_days_between(day, result) == n


@fast
@given(calendars, days, days, st.integers(-60, 60))
def test_property_add_working_days_is_monotonic(cal, d1, d2, n):
    d1, d2 = sorted((d1, d2))
    assert cal.add_working_days(d1, n) <= cal.add_working_days(d2, n)
    assert cal.add_working_days(d1, n) <= cal.add_working_days(d1, n + 1)


@fast
@given(calendars, moments)
def test_property_next_opening_is_working_time_with_none_skipped(cal, moment):
    opening = cal.next_opening(moment)
    assert cal.is_working_time(opening)
    assert cal.working_time_between(moment, opening) == timedelta(0)
