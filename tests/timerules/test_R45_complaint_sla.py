"""R45 (003): complaints — customer service responds within 24 working hours, the technical
department resolves within 48 (``ticket.first_response_sla``, ``complaint_resolution_sla``),
counted in working time: weekends, public holidays and China's adjusted working days (调休)
included, paused while waiting for the customer.

The complaint arrives on Friday 26 September 2025 at 17:00, before National Day: Saturday
is off, Sunday 28 September is an adjusted working day, 1–8 October are off, Saturday
11 October is worked again. 24 working hours later is Tuesday 30 September 17:00; 48 are
Saturday 11 October 17:00 — plus any time spent waiting for the customer.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.app

RESOLUTION = "ticket.complaint_resolution_sla"
RESPONSE = "ticket.first_response_sla"
ONLY = [RESOLUTION, RESPONSE, "ticket.auto_dispatch"]


def _complaint(rules, when: str) -> int:
    customer = rules.customer("2025-09-01 10:00")
    return rules.create("service", "ticket", {
        "kind": "complaint", "subject": "设备异响", "customer": customer,
        "description": "新机器运行时有异响"}, when)  # fmt: skip


def test_R45_complaint_escalates_in_working_time_across_the_weekend_and_national_day(rules):
    ticket = _complaint(rules, "2025-09-26 17:00")
    rules.tick("2025-09-26 17:01", only=ONLY)  # dispatched to the service agent at once
    assert rules.record("ticket", ticket)["owner"] == rules.uid("service")

    rules.tick("2025-09-30 11:59", only=ONLY)  # 19 working hours: nothing yet
    assert rules.occurrences(RESPONSE, ticket) == []
    rules.tick("2025-09-30 12:00", only=ONLY)  # 20 working hours: the response warning
    (warning,) = rules.occurrences(RESPONSE, ticket)
    assert warning.endswith(":level:1")

    rules.tick("2025-09-30 16:59", only=ONLY)
    assert rules.occurrences(RESOLUTION, ticket) == []
    rules.tick("2025-09-30 17:00", only=ONLY)  # 24 working hours: both clocks' 24 h levels
    assert [o.rsplit(":", 1)[-1] for o in rules.occurrences(RESOLUTION, ticket)] == ["1"]
    assert [o.rsplit(":", 1)[-1] for o in rules.occurrences(RESPONSE, ticket)] == ["1", "2"]
    # response level 2 escalates along its chain [service_manager]
    escalation = [m for m in rules.outbox("first_response_sla", ticket) if m["kind"] == "escalate"]
    assert [m["recipient"] for m in escalation] == [str(rules.uid("service_manager"))]
    assert escalation[0]["payload"]["level"] == 2

    rules.tick("2025-10-08 18:00", only=ONLY)  # National Day: no working time passes
    assert len(rules.occurrences(RESOLUTION, ticket)) == 1
    rules.tick("2025-10-11 16:59", only=ONLY)
    assert len(rules.occurrences(RESOLUTION, ticket)) == 1
    rules.tick("2025-10-11 17:00", only=ONLY)  # the adjusted working Saturday: 48 hours
    assert len(rules.occurrences(RESOLUTION, ticket)) == 2


def test_R45_waiting_for_the_customer_pauses_the_clock(rules):
    ticket = _complaint(rules, "2025-09-26 17:00")
    rules.take("service", "ticket", ticket, "accept", "2025-09-29 10:00")  # responded in time
    rules.tick("2025-09-30 17:00", only=ONLY)
    assert rules.occurrences(RESPONSE, ticket) == []  # stopped by in_progress
    assert len(rules.occurrences(RESOLUTION, ticket)) == 1  # the resolution clock runs on

    rules.take(
        "service",
        "ticket",
        ticket,
        "escalate_to_technical",
        "2025-10-09 09:00",
        {"technical_assignee": rules.uid("tech")},
    )
    rules.take("service", "ticket", ticket, "wait_for_customer", "2025-10-09 10:00")
    rules.tick("2025-10-09 17:00", only=ONLY)  # paused: nothing happens while waiting
    rules.take("service", "ticket", ticket, "customer_replied", "2025-10-10 10:00")
    # 8 working hours were spent waiting: level 2 moves from Sat 11 Oct 17:00 to Mon 13 Oct 17:00
    rules.tick("2025-10-11 17:00", only=ONLY)
    rules.tick("2025-10-13 16:59", only=ONLY)
    assert len(rules.occurrences(RESOLUTION, ticket)) == 1
    rules.tick("2025-10-13 17:00", only=ONLY)
    assert len(rules.occurrences(RESOLUTION, ticket)) == 2
    # level 2 escalates along [service_manager, technical_assignee]: the 2nd party
    escalation = [m for m in rules.outbox("complaint_resolution_sla", ticket)
                  if m["kind"] == "escalate"]  # fmt: skip
    assert {m["recipient"] for m in escalation} == {str(rules.uid("tech"))}
    # level 1 went to the owner and the technical assignee named then (none yet)
    level1 = [m for m in rules.outbox("complaint_resolution_sla", ticket) if m["kind"] == "notify"]
    assert {m["recipient"] for m in level1} == {str(rules.uid("service"))}


def test_R45_a_resolved_complaint_stops_the_clock_and_reopening_does_not_restart_it(rules):
    ticket = _complaint(rules, "2025-09-26 17:00")
    rules.take("service", "ticket", ticket, "accept", "2025-09-29 10:00")
    rules.take(
        "service", "ticket", ticket, "resolve", "2025-09-29 11:00", {"resolution": "更换轴承"}
    )
    rules.tick("2025-10-20 10:00", only=ONLY)
    assert rules.occurrences(RESOLUTION, ticket) == []
    rules.take("service", "ticket", ticket, "reopen", "2025-10-20 11:00")
    rules.tick("2025-10-31 10:00", only=ONLY)  # the clock started at 'received' stopped for good
    assert rules.occurrences(RESOLUTION, ticket) == []
