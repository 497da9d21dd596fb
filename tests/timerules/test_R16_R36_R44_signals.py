"""Signals computed over related records, weekly or daily:

* R16 (004 §6.1) hoarding 客户信息霸占 — every Monday, customers entered over 30 days ago with
  no communication in the last 30 days are flagged to the supervisor (``customer.hoarding``);
* R36 (000) churn risk — daily, a won customer with two late renewals (or two unanswered
  suggestions) gets ``at_risk`` set by the system, and the flag is cleared when that stops
  being true (``churn_risk`` / ``churn_risk_cleared``: ``set`` actions with history);
* R44 (001) five follow-ups a week — every Friday 17:00, each salesperson who logged fewer
  than 5 follow-ups in 7 days is told, with their supervisor (``weekly_follow_ups``: a
  ``threshold``, counted per owner with ``GROUP BY``).
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.app

HOARDING = "customer.hoarding"
CHURN = "customer.churn_risk"
CLEARED = "customer.churn_risk_cleared"
FOLLOW_UPS = "customer.weekly_follow_ups"


def _log(rules, customer: int, when: str, follow_up: bool = True, who: str = "sales1") -> int:
    return rules.create(who, "communication", {
        "customer": customer, "channel": "phone", "happened_at": f"{when.replace(' ', 'T')}:00+08:00",
        "subject": "电话回访", "summary": "沟通采购计划", "is_follow_up": follow_up}, when)  # fmt: skip


def test_R16_hoarded_customers_are_flagged_to_the_supervisor_each_monday(rules):
    idle = rules.customer("2026-01-05 10:00")
    active = rules.customer("2026-01-05 10:00")
    fresh = rules.customer("2026-02-20 10:00")
    for record in (idle, active, fresh):
        rules.set_status("customer", record, "prospect", "2026-01-06 10:00")
    _log(rules, active, "2026-02-25 15:00")
    rules.tick("2026-03-01 10:00", only=[HOARDING])  # Sunday: not the schedule
    rules.tick("2026-03-02 09:00", only=[HOARDING])  # Monday 09:00
    assert rules.sent_to("hoarding") == [("email", "manager"), ("inbox", "manager")]
    assert {m["record_id"] for m in rules.outbox("hoarding")} == {idle}
    rules.tick("2026-03-02 15:00", only=[HOARDING])
    rules.tick("2026-03-09 09:00", only=[HOARDING])  # the next Monday: flagged again
    assert rules.occurrences(HOARDING, idle) == [
        "schedule:2026-03-02T01:00:00Z",
        "schedule:2026-03-09T01:00:00Z",
    ]


def test_R36_churn_risk_flag_is_set_and_cleared_by_the_system_with_history(rules):
    customer = rules.customer("2026-01-05 10:00")
    rules.set_status("customer", customer, "won", "2026-01-05 10:00")
    contracts = [rules.create("sales1", "contract", {
        "contract_no": f"HT-{i}", "customer": customer, "amount": "10000",
        "end_on": "2026-02-01", "renewed_on": "2026-02-20"}, "2026-01-05 10:00")
        for i in range(2)]  # fmt: skip
    assert all(rules.record("contract", c)["renewed_late"] for c in contracts)
    rules.tick("2026-03-03 07:00", only=[CHURN, CLEARED])
    record = rules.record("customer", customer)
    assert record["at_risk"] is True and str(record["risk_since"]) == "2026-03-03"
    assert rules.sent_to("churn_risk", customer) == [
        ("email", "manager"),
        ("email", "sales1"),
        ("inbox", "manager"),
        ("inbox", "sales1"),
    ]
    entry = rules.history("customer", customer)[-1]
    assert entry["user_id"] is None and entry["changes"]["at_risk"] == [False, True]
    assert entry["changes"]["_workflow"]["rule"] == CHURN
    rules.tick("2026-03-04 07:00", only=[CHURN, CLEARED])  # flagged already: nothing new
    assert len(rules.occurrences(CHURN, customer)) == 1

    rules.update(
        "sales1", "contract", contracts[0], {"renewed_on": "2026-01-20"}, "2026-03-04 10:00"
    )
    rules.tick("2026-03-05 07:00", only=[CHURN, CLEARED])
    record = rules.record("customer", customer)
    assert record["at_risk"] is False and record["risk_since"] is None
    assert rules.history("customer", customer)[-1]["changes"]["_workflow"]["rule"] == CLEARED


def test_R44_fewer_than_five_follow_ups_a_week_is_flagged_per_salesperson(rules):
    mine = rules.customer("2026-02-20 10:00", "sales1")
    theirs = rules.customer("2026-02-20 10:00", "sales2")
    for day in range(23, 28):  # sales1: one follow-up a day, Monday to Friday
        _log(rules, mine, f"2026-02-{day} 11:00")
    _log(rules, theirs, "2026-02-24 11:00", who="sales2")
    _log(rules, theirs, "2026-02-25 11:00", follow_up=False, who="sales2")  # not a follow-up
    report = rules.tick("2026-02-27 17:00", only=[FOLLOW_UPS])
    assert report.of(FOLLOW_UPS).matched == 1
    assert rules.sent_to("weekly_follow_ups") == [("inbox", "manager"), ("inbox", "sales2")]
    (marker,) = [r for r in rules.ledger(FOLLOW_UPS) if r["channel"] == "*"]
    assert (marker["entity"], marker["record_id"]) == ("users", rules.uid("sales2"))
    assert marker["occurrence"] == "threshold:2026-02-27T09:00:00Z"
    rules.tick("2026-02-27 18:00", only=[FOLLOW_UPS])
    assert len(rules.outbox("weekly_follow_ups")) == 2
