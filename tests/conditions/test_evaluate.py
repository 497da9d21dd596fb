"""Evaluating in Python: expressions, changed(), contexts, calendars."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from ruleform.errors import ConditionError
from ruleform.metadata.conditions import (
    EvalContext,
    UserContext,
    compile_condition,
    compile_expression,
)
from ruleform.metadata.model import Duration

from .schema import NOW, SCOPE, TZ


def ctx(**kw) -> EvalContext:
    return EvalContext(now=kw.pop("now", NOW), timezone=kw.pop("tz", TZ), **kw)


def value(text: str, record: dict | None = None, **kw):
    return compile_expression(text, SCOPE).evaluate(record or {}, ctx(**kw))


def holds(text: str, record: dict | None = None, **kw) -> bool:
    return compile_condition(text, SCOPE).evaluate(record or {}, ctx(**kw))


def test_numbers():
    assert value("1 + 2") == 3 and isinstance(value("1 + 2"), int)
    assert value("7 / 2") == Decimal("3.5")
    assert value(
        "amount * 0.3 + employees", {"amount": Decimal("10.00"), "employees": 2}
    ) == Decimal("5.000")
    assert value("amount * 2", {"amount": 1.5}) == Decimal("3.0")  # floats are read as decimals
    assert value("employees / 0", {"employees": 3}) is None
    assert value("amount + 1", {}) is None
    assert value("-employees", {"employees": 4}) == -4
    big = Decimal("9999999999999999.99")
    exact = Decimal("99999999999999999800000000000000.0001")  # 36 digits: no 28-digit rounding
    assert value("amount * amount", {"amount": big}) == exact


def test_time_values():
    assert value("today()") == date(2026, 3, 4)
    assert value("today()", now=datetime(2026, 3, 4, 16, 0, tzinfo=UTC)) == date(2026, 3, 5)
    assert value("now()") == NOW
    assert value("now()", now=NOW.astimezone(ctx().now.tzinfo)) == NOW
    assert value("today() - 3 days") == date(2026, 3, 1)
    assert value("today() + 2 weeks") == date(2026, 3, 18)
    assert value("now() - 90 minutes") == NOW - timedelta(minutes=90)
    assert value("now() + 1.5 hours") == NOW + timedelta(hours=1.5)
    assert value("signed_on + 30 days", {"signed_on": date(2026, 1, 31)}) == date(2026, 3, 2)
    assert value("signed_on + 30 days", {}) is None
    assert value("datetime('2026-01-01T09:00:00')") == datetime(2026, 1, 1, 1, 0, tzinfo=UTC)
    assert value("datetime('2026-01-01T09:00:00Z')") == datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    assert value("3 days") == Duration(3.0, "days", "3 days")
    assert value("2 working hours").working


def test_working_time_with_the_default_calendar():
    # NOW is Wednesday 10:30 in Shanghai
    assert value("today() - 3 working days") == date(2026, 2, 27)  # Friday
    assert value("today() + 3 working days") == date(2026, 3, 9)  # Monday
    assert value("now() - 2 working hours") == datetime(2026, 3, 3, 9, 30, tzinfo=UTC)  # Tue 17:30
    assert value("now() + 8 working hours") == datetime(2026, 3, 5, 1, 30, tzinfo=UTC)  # Thu 09:30
    assert value("now() - 1 working days") == datetime(2026, 3, 3, 2, 30, tzinfo=UTC)


class HolidayCalendar:
    """Every day is a working day except 2026-03-03; working time is 24 hours a day."""

    def add_working_days(self, day: date, n: int) -> date:
        step = 1 if n >= 0 else -1
        while n:
            day += timedelta(days=step)
            if day != date(2026, 3, 3):
                n -= step
        return day

    def add_working_time(self, instant: datetime, delta: timedelta) -> datetime:
        return instant + delta * 2


def test_working_time_uses_the_calendar_given():
    cal = HolidayCalendar()
    assert value("today() - 2 working days", calendar=cal) == date(2026, 3, 1)
    assert value("now() - 3 working hours", calendar=cal) == NOW - timedelta(hours=6)


def test_texts_and_lists():
    assert holds("name contains 'b'", {"name": "abc"})
    assert not holds("name contains 'B'", {"name": "abc"})
    assert holds("tags contains 'x'", {"tags": ("x", "y")})
    assert holds("tags is empty", {"tags": []}) and holds("tags is empty", {})
    assert holds("email is empty", {"email": ""})
    assert not holds("employees is empty", {"employees": 0})
    assert value("name starts with 'a'", {"name": "abc"}) is True
    assert value("name starts with 'a'", {}) is False


def test_null_comparisons_are_false_and_not_makes_them_true():
    assert not holds("amount > 1", {})
    assert not holds("amount <= 1", {})
    assert holds("not (amount > 1)", {})
    assert not holds("status != 'won'", {})
    assert not holds("status not in ['won']", {})
    assert holds("not (status in ['won'])", {})


def test_dates_meet_datetimes_at_the_start_of_the_day():
    start = datetime(2026, 3, 3, 16, 0, tzinfo=UTC)  # 2026-03-04 00:00 in Shanghai
    assert holds("created_at = today()", {"created_at": start})
    assert holds("created_at >= today()", {"created_at": start})
    assert not holds("created_at > today()", {"created_at": start})
    naive_utc = datetime(2026, 3, 3, 16, 0)  # naive record values are taken as UTC
    assert holds("created_at >= today()", {"created_at": naive_utc})


def test_changed():
    cond = compile_condition("changed(amount)", SCOPE)
    stored = {"amount": Decimal("10.00")}
    assert cond.evaluate({"amount": Decimal("12")}, ctx(previous=stored))
    assert not cond.evaluate({"amount": Decimal("10")}, ctx(previous=stored))
    assert cond.evaluate({}, ctx(previous=stored))
    assert cond.evaluate({"amount": 1}, ctx())  # on create: changed when given
    assert not cond.evaluate({"amount": None}, ctx())
    assert compile_condition("not changed(status)", SCOPE).evaluate(
        {"status": "won"}, ctx(previous={"status": "won"})
    )


def test_the_current_user():
    user = UserContext(
        id=7, roles=frozenset({"sales"}), department=3, departments=frozenset({3, 4})
    )
    assert value("current_user", user=user) == 7
    assert value("current_user.department", user=user) == 3
    assert value("current_user.departments", user=user) == frozenset({3, 4})
    assert value("current_user") is None
    assert value("current_user.departments") == frozenset()
    assert holds("current_user has role 'sales'", user=user)
    assert not holds("current_user has role 'finance'", user=user)


def test_counts_and_references_need_their_callbacks():
    with pytest.raises(ConditionError, match="needs EvalContext.related"):
        holds("count(activity) > 0", {"id": 1})
    assert not holds("count(activity) > 0", {})  # a new record has no related records
    with pytest.raises(ConditionError, match="needs EvalContext.lookup"):
        holds("partner.level = 'a'", {"partner": 1})
    assert not holds("partner.level = 'a'", {})
    assert holds("partner.level = 'a'", {"partner": 1}, lookup=lambda e, i: {"level": "a"})
    assert not holds("partner.level = 'a'", {"partner": 1}, lookup=lambda e, i: None)
    calls = []

    def related(entity, fk, record_id):
        calls.append((entity, fk, record_id))
        return [{"kind": "call"}, {"kind": "visit"}]

    assert value("count(activity where kind = 'call')", {"id": 5}, related=related) == 1
    assert calls == [("activity", "customer", 5)]


def test_now_must_be_aware():
    with pytest.raises(ConditionError, match="timezone-aware"):
        holds("true", now=datetime(2026, 1, 1))
