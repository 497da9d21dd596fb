"""After downtime each rule catches up from its watermark once, by its declared late policy:
``fire`` (every missed occurrence), ``skip_older_than`` (not what is too late), ``coalesce``
(one firing for the missed span); a second tick after the catch-up does nothing. Two
schedulers ticking at once tick once; the kill switch stops ticks."""

from __future__ import annotations

import dataclasses
import threading

import pytest

from tests.timerules.conftest import local

pytestmark = pytest.mark.app

HOARDING = "customer.hoarding"
LEADS = "lead.lead_follow_up"
PROPOSAL = "opportunity.proposal_submitted"


def test_fire_policy_fires_every_missed_tick_once(rules):
    customer = rules.customer("2026-01-05 10:00")
    rules.set_status("customer", customer, "prospect", "2026-01-05 10:00")
    rules.tick("2026-02-28 12:00", only=[HOARDING])  # the last tick before three weeks down
    report = rules.tick("2026-03-19 12:00", only=[HOARDING])
    assert rules.occurrences(HOARDING, customer) == [
        "schedule:2026-03-02T01:00:00Z",
        "schedule:2026-03-09T01:00:00Z",
        "schedule:2026-03-16T01:00:00Z",
    ]
    (run,) = rules.rows("select * from rule_runs where rule = :r", r=HOARDING)
    assert str(run["since"]).startswith("2026-02-28 04:00") and run["matched"] == 3
    rules.tick("2026-03-19 12:01", only=[HOARDING])
    assert len(rules.occurrences(HOARDING, customer)) == 3
    assert report.of(HOARDING).sent == 6


def test_skip_older_than_policy_drops_what_is_too_late(rules):
    customer = rules.customer("2026-01-05 10:00")
    opportunities = []
    for when in ("2026-03-02 10:00", "2026-03-05 10:00"):
        opp = rules.create("sales1", "opportunity", {
            "opportunity_name": f"二期 {when}", "customer": customer, "amount": "300000",
            "expected_close_date": "2026-12-31"}, when)  # fmt: skip
        rules.take(
            "sales1", "opportunity", opp, "submit_proposal", when, {"proposal_summary": "两条产线"}
        )
        opportunities.append(opp)
    rules.tick("2026-03-02 09:00", only=[PROPOSAL])  # last tick before the outage
    report = rules.tick("2026-03-05 12:00", only=[PROPOSAL])  # 3 days down; age limit 2 days
    assert report.of(PROPOSAL).skipped_late == 1
    assert {m["record_id"] for m in rules.outbox("proposal_submitted")} == {opportunities[1]}
    (skipped,) = [r for r in rules.ledger(PROPOSAL, opportunities[0]) if r["channel"] == "*"]
    assert skipped["status"] == "skipped"
    rules.tick("2026-03-05 12:01", only=[PROPOSAL])
    assert len(rules.outbox("proposal_submitted")) == 2  # inbox and email, once


def _lead(rules, when: str) -> int:
    return rules.create("sales1", "lead", {"company_name": "杭州某某科技", "source": "trade_show",
                                           "mobile": "13700137000"}, when)  # fmt: skip


def _run(rules, rule, when: str):
    from ruleform.workflow_engine.timerules.calendars import CalendarMap
    from ruleform.workflow_engine.timerules.catalog import rule_key
    from ruleform.workflow_engine.timerules.recipients import Directory
    from ruleform.workflow_engine.timerules.rollout import load_states
    from ruleform.workflow_engine.timerules.ticks import run_rule

    with rules.at(when) as now, rules.engine.connect() as conn:
        directory = Directory.load(conn, rules.rt)
        state = load_states(conn, rules.rt.system_table("rule_states"), [rule])[rule_key(rule)]
        conn.rollback()
        return run_rule(rules.rt, rules.engine, rule, state, now, directory,
                        CalendarMap(rules.rt, directory), "http://ruleform.test")  # fmt: skip


def test_coalesce_policy_fires_once_for_the_missed_span(rules):
    """lead_follow_up: level 1 after 2 working days, level 2 (escalation) after 5."""
    coalescing = dataclasses.replace(
        rules.rt.entity("lead").time_rules["lead_follow_up"], late_policy="coalesce"
    )
    lead = _lead(rules, "2026-03-02 10:00")  # Monday
    _run(rules, coalescing, "2026-03-02 11:00")
    _run(rules, coalescing, "2026-03-11 10:00")  # down 9 days: both levels missed
    fired = {r["occurrence"]: r["status"] for r in rules.ledger(LEADS, lead) if r["channel"] == "*"}
    assert fired == {
        f"sla:{_clock(rules, lead)}:level:1": "coalesced",
        f"sla:{_clock(rules, lead)}:level:2": "sent",
    }
    assert {m["kind"] for m in rules.outbox("lead_follow_up", lead)} == {"escalate"}
    _run(rules, coalescing, "2026-03-12 10:00")
    assert len(rules.outbox("lead_follow_up", lead)) == 1

    other = _lead(rules, "2026-03-02 10:00")  # the declared policy (fire): both levels
    rules.tick("2026-03-11 10:00", only=[LEADS])
    assert sorted(m["kind"] for m in rules.outbox("lead_follow_up", other)) == [
        "escalate",
        "notify",
    ]


def _clock(rules, lead: int) -> int:
    (row,) = rules.rows("select id from status_periods where entity = 'lead' and record_id = :r",
                        r=lead)  # fmt: skip
    return row["id"]


def test_two_schedulers_at_once_tick_once_and_the_kill_switch_stops_ticks(rules):
    from ruleform.workflow_engine.delivery.flags import set_kill_switch

    customer = rules.customer("2026-01-05 10:00", last_contact_at="2026-01-05T10:00:00+08:00")
    rules.set_status("customer", customer, "prospect", "2026-01-05 10:00")
    barrier, reports = threading.Barrier(2), []

    def scheduler() -> None:
        barrier.wait()
        reports.append(rules.tick(local("2026-03-02 10:00:05"), lock=True))

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(bool(r.skipped) for r in reports) == [False, True]
    assert len(rules.tasks("customer.stale_customer")) == 1
    with rules.engine.begin() as conn:
        set_kill_switch(conn, True, local("2026-03-02 10:01"))
    blocked = rules.tick("2026-03-09 09:00", lock=True)
    assert blocked.skipped == "kill switch on" and blocked.rules == []
