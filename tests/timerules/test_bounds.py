"""The bound a sweep query binds for "field + N days ≤ now": a superset of the due records,
and exact (no slack, so no extra candidates to check in Python) where the zone's UTC
offset does not move near either end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ruleform.metadata.model import Duration, WorkingCalendar
from ruleform.platform.calendar import calendar_for
from ruleform.workflow_engine.timerules.calendars import loose_bound

DAYS_45 = Duration(45, "days")


def _due(cal, x: datetime, now: datetime) -> bool:
    return cal.add(x, DAYS_45) <= now


def test_without_dst_the_bound_is_exact():
    cal = calendar_for(WorkingCalendar(), "Asia/Shanghai")
    now = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
    assert loose_bound([cal], now, DAYS_45) == now - timedelta(days=45)


@pytest.mark.parametrize(("now", "slack"), [
    (datetime(2026, 6, 1, 2, 0, tzinfo=UTC), False),  # summer time at both ends
    (datetime(2026, 5, 1, 2, 0, tzinfo=UTC), True),  # 45 days back is winter time
    (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), True),  # minutes after the change
])  # fmt: skip
def test_with_dst_every_due_record_is_within_the_bound(now, slack):
    cal = calendar_for(WorkingCalendar(), "Europe/Berlin")
    bound = loose_bound([cal], now, DAYS_45)
    start = now - timedelta(days=46)
    for minutes in range(0, 2 * 24 * 60, 10):
        x = start + timedelta(minutes=minutes)
        if _due(cal, x, now):
            assert x <= bound, (x, bound)
    assert (bound > cal.subtract(now, DAYS_45)) == slack
