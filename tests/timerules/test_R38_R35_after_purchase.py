"""R38 (001): after a purchase — satisfaction survey by SMS on day 3, usage tutorial by email on
day 7, maintenance reminder by SMS on day 30 (``sales_order`` rules, for customers who
consented to service messages).

R35 (000): a badly tested survey automation once sent hundreds of wrong SMS. Rules that reach
customers ship in ``dry_run`` (the audience and every rendered message, nothing sent), go
through a ``canary`` (an allow-list, then a human OK) before ``active``, and a run that
would cross its cap pauses the rule and alerts the administrators instead of sending.
"""

from __future__ import annotations

import pytest

from tests.timerules.conftest import local

pytestmark = pytest.mark.app

SURVEY = "sales_order.satisfaction_survey"
TUTORIAL = "sales_order.usage_tutorial"
MAINTENANCE = "sales_order.maintenance_reminder"
ONLY = [SURVEY, TUTORIAL, MAINTENANCE]
CONSENT = {"consent_given": True, "consent_on": "2026-01-02", "consent_purposes": ["service"],
           "retention_until": "2029-01-01"}  # fmt: skip


def _orders(rules, count: int, when: str = "2026-03-02 10:00", consent: bool = True) -> list[int]:
    customer = rules.customer("2026-01-05 10:00", **(CONSENT if consent else {}))
    return [rules.create("admin", "sales_order", {
        "order_no": f"SO-{customer}-{i:03d}", "source_system": "manual", "customer": customer,
        "buyer_name": f"买家{i}", "buyer_mobile": f"1390000{i:04d}",
        "buyer_email": f"buyer{i}@example.com",
        "ordered_at": f"{when.replace(' ', 'T')}:00+08:00", "amount": "1999"}, when)
        for i in range(count)]  # fmt: skip


def test_R38_day_3_survey_day_7_tutorial_day_30_maintenance(rules):
    for rule in ONLY:
        rules.set_rollout(rule, "active")
    (order,) = _orders(rules, 1)
    _orders(rules, 1, consent=False)  # no consent to service messages: never contacted
    rules.tick("2026-03-05 09:59", only=ONLY)
    assert rules.outbox() == []
    rules.tick("2026-03-05 10:00", only=ONLY)
    phone = rules.record("sales_order", order)["buyer_mobile"]
    assert rules.sent_to("satisfaction_survey") == [("sms", phone)]
    (sms,) = rules.outbox("satisfaction_survey")
    assert sms["payload"]["recipient"] == {"address": phone, "field": "buyer_mobile"}
    assert sms["payload"]["audience"] == "customers"
    rules.tick("2026-03-09 10:00", only=ONLY)
    assert rules.sent_to("usage_tutorial") == [("email", "buyer0@example.com")]
    rules.tick("2026-04-01 10:00", only=ONLY)
    assert rules.sent_to("maintenance_reminder") == [("sms", phone)]
    assert len(rules.outbox()) == 3  # each touch once, however often the clock ticks


def test_R38_late_survey_is_skipped_not_sent_days_after(rules):
    rules.set_rollout(SURVEY, "active")
    (order,) = _orders(rules, 1)
    (older,) = _orders(rules, 1, when="2026-02-20 10:00")
    # the scheduler was down from day 2 until 26 hours after the survey was due: too late
    report = rules.tick("2026-03-06 12:00", only=[SURVEY])
    assert rules.outbox("satisfaction_survey") == []
    assert report.of(SURVEY).skipped_late == 1
    (marker,) = rules.ledger(SURVEY)
    assert (marker["record_id"], marker["channel"], marker["status"]) == (order, "*", "skipped")
    # far older orders are not even selected: the query binds the policy's lower bound
    assert rules.ledger(SURVEY, older) == [] and report.of(SURVEY).scanned == 1


def test_R35_dry_run_records_the_audience_and_every_rendered_message(rules):
    orders = _orders(rules, 3)
    report = rules.tick("2026-03-05 10:00", only=ONLY)
    assert rules.outbox() == [] and rules.ledger(SURVEY) == []  # nothing reaches anyone
    assert report.of(SURVEY).mode == "dry_run" and report.of(SURVEY).dry_run == 3
    rows = rules.rows("select * from rule_dry_runs where rule = :r order by record_id", r=SURVEY)
    assert [r["record_id"] for r in rows] == orders
    assert {r["channel"] for r in rows} == {"a0:sms"} and rows[0]["mode"] == "dry_run"
    assert (
        rules.record("sales_order", orders[0])["order_no"] in rows[0]["body"]
        and "{{" not in rows[0]["body"]
    )
    rules.tick("2026-03-05 10:05", only=ONLY)  # the same audience is not recorded twice
    assert len(rules.rows("select id from rule_dry_runs where rule = :r", r=SURVEY)) == 3


def test_R35_canary_reaches_only_the_allow_list_then_a_human_ok_makes_it_active(rules):
    orders = _orders(rules, 3)
    pilot = rules.record("sales_order", orders[0])["buyer_mobile"]
    rules.set_rollout(SURVEY, "canary", canary=[pilot])
    rules.tick("2026-03-05 10:00", only=[SURVEY])
    assert rules.sent_to("satisfaction_survey") == [("sms", pilot)]
    held = rules.rows("select record_id, mode from rule_dry_runs where rule = :r", r=SURVEY)
    assert sorted(r["record_id"] for r in held) == orders[1:]
    assert {r["mode"] for r in held} == {"held_back"}

    from ruleform.workflow_engine.timerules.catalog import find_rule
    from ruleform.workflow_engine.timerules.rollout import approve

    with rules.engine.begin() as conn:  # the administrator's OK
        approve(
            conn,
            rules.rt.system_table("rule_states"),
            find_rule(rules.rt.rulebook, SURVEY),
            local("2026-03-05 10:20"),
            rules.uid("admin"),
        )
    rules.tick("2026-03-05 10:30", only=[SURVEY])
    assert len(rules.outbox("satisfaction_survey")) == 3  # the others now, the pilot not again


def test_R35_crossing_a_cap_pauses_the_rule_and_alerts_instead_of_truncating(rules):
    _orders(rules, 3)
    rules.set_rollout(SURVEY, "active", cap_per_run=2)
    report = rules.tick("2026-03-05 10:00", only=[SURVEY])
    run = report.of(SURVEY)
    assert (run.status, run.sent, run.skipped_by_cap) == ("paused", 0, 3)
    assert rules.outbox("satisfaction_survey") == []  # not 2 of 3: nothing
    alerts = rules.rows("select channel, recipient, payload from outbox where kind = 'alert'")
    assert {(a["channel"], a["recipient"]) for a in alerts} == {
        ("inbox", str(rules.uid("admin"))),
        ("email", str(rules.uid("admin"))),
    }
    (state,) = rules.rows("select * from rule_states where rule = :r", r=SURVEY)
    assert state["rollout"] == "paused" and "cap per run is 2" in state["paused_reason"]
    rules.tick("2026-03-05 10:05", only=[SURVEY])  # paused: nothing, not even evaluated
    assert rules.outbox("satisfaction_survey") == []

    from ruleform.workflow_engine.timerules.catalog import find_rule
    from ruleform.workflow_engine.timerules.rollout import load_states, resume

    rule = find_rule(rules.rt.rulebook, SURVEY)
    with rules.engine.begin() as conn:  # the administrator raises the cap and resumes
        table = rules.rt.system_table("rule_states")
        conn.execute(table.update().where(table.c.rule == SURVEY).values(cap_per_run=10))
        assert resume(conn, table, rule, load_states(conn, table, [rule])[SURVEY],
                      local("2026-03-05 10:06")) == "active"  # fmt: skip
    rules.tick("2026-03-05 10:10", only=[SURVEY])
    assert len(rules.outbox("satisfaction_survey")) == 3
