"""``ruleform rules why | preview | runs | health | tick | pause | resume | approve``: why a rule
did or didn't fire for a record, the dry-run audience now, the runs and the rules whose
last success is overdue."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from ruleform.cli import _register_extensions, cli

pytestmark = pytest.mark.app


@pytest.fixture
def run(database_url, rules):
    _register_extensions()
    runner = CliRunner()

    def invoke(*args: str, at: str | None = None, code: int = 0) -> str:
        extra = ["--at", f"{at.replace(' ', 'T')}:00+08:00"] if at else []
        result = runner.invoke(cli, ["rules", *args, "--database", database_url, *extra])
        assert result.exit_code == code, result.output
        return result.output

    return invoke


def test_why_explains_not_due_yet_fired_and_rearmed(rules, run):
    customer = rules.customer("2026-03-02 10:00", last_contact_at="2026-03-02T10:00:00+08:00")
    rules.set_status("customer", customer, "prospect", "2026-03-02 10:00")
    early = json.loads(run("why", "stale_customer", str(customer), "--json", at="2026-04-01 10:00"))
    assert early["verdict"].startswith("not due yet: due at 2026-04-16T02:00:00Z")
    assert early["where"]["matches"] and early["ledger"] == []
    due = run("why", "customer.stale_customer", str(customer), at="2026-04-16 10:00")
    assert "due now (stale-since:2026-03-02T02:00:00Z): will fire at the next tick" in due
    rules.tick("2026-04-16 10:00")
    fired = json.loads(run("why", "stale_customer", str(customer), "--json", at="2026-04-17 10:00"))
    assert fired["verdict"].startswith("already fired (stale-since:2026-03-02T02:00:00Z)")
    assert {r["channel"] for r in fired["ledger"]} == {"*", "a0:inbox", "a0:email", "a1:task"}
    rules.set_status("customer", customer, "lost", "2026-04-18 10:00")
    lost = json.loads(run("why", "stale_customer", str(customer), "--json", at="2026-04-18 11:00"))
    assert lost["verdict"] == "the rule's condition does not hold for this record, so it is not due"
    assert "declared on several entities" in run("why", "birthday_reminder", "1", code=2)


def test_why_replays_an_sla_clock(rules, run):
    ticket = rules.create("service", "ticket", {
        "kind": "complaint", "subject": "设备异响", "customer": rules.customer("2025-09-01 10:00"),
        "description": "异响"}, "2025-09-26 17:00")  # fmt: skip
    data = json.loads(run("why", "complaint_resolution_sla", str(ticket), "--json",
                          at="2025-09-29 10:00"))  # fmt: skip
    detail = data["timing_detail"]
    assert detail["started_at"] == "2025-09-26T09:00:00Z" and detail["stopped_at"] is None
    assert [lvl["due_at"] for lvl in detail["levels"]] == [
        "2025-09-30T09:00:00Z",
        "2025-10-11T09:00:00Z",
    ]


def test_preview_runs_and_health(rules, run):
    customer = rules.customer("2026-01-05 10:00", consent_given=True, consent_on="2026-01-02",
                              consent_purposes=["service"], retention_until="2029-01-01")  # fmt: skip
    for i in range(3):
        rules.create("admin", "sales_order", {
            "order_no": f"SO-{i}", "source_system": "manual", "customer": customer,
            "buyer_mobile": f"1390000000{i}", "ordered_at": "2026-03-02T10:00:00+08:00",
            "amount": "10"}, "2026-03-02 10:00")  # fmt: skip
    text = run("preview", "satisfaction_survey", at="2026-03-05 10:00")
    assert "(dry_run) would send 3 sms to 3 recipient(s) for 3 record(s) now" in text
    assert "SO-0" in text and rules.rows("select id from rule_dry_runs") == []  # wrote nothing

    unhealthy = json.loads(run("health", "--json", at="2026-03-05 10:00", code=1))
    assert "customer.stale_customer" in unhealthy["overdue"]  # never ran
    run("tick", at="2026-03-05 10:00")
    healthy = run("health", at="2026-03-05 10:02")
    assert "OVERDUE" not in healthy and "last tick: 2026-03-05T02:00:00Z" in healthy
    assert "sales_order.satisfaction_survey" in run("runs")  # its dry run did something
    assert "no runs recorded" not in run("runs", "--rule", "satisfaction_survey")
    assert "→ paused" in run("pause", "stale_customer")
    overdue = json.loads(run("health", "--json", at="2026-03-05 12:00", code=1))
    assert "customer.stale_customer" not in overdue["overdue"]  # paused rules are not overdue
    assert "paused → active" in run("resume", "stale_customer")
    assert "dry_run → active" in run("approve", "satisfaction_survey")
