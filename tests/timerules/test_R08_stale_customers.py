"""R08 (004 §4.6): the owner updates each customer at least every 45 days; after that the
supervisor may transfer it. ``stale_customer_warning`` (day 38, owner) and
``stale_customer`` (day 45: owner and supervisor, a task for the supervisor), and the trap
they must not fall into: a "no update for 45 days" rule that fires on every tick while
the customer stays stale (SuiteCRM #3806)."""

from __future__ import annotations

import pytest

from tests.timerules.conftest import local

pytestmark = pytest.mark.app

STALE = "customer.stale_customer"
WARNING = "customer.stale_customer_warning"


def _stale_customer(rules, contacted: str) -> int:
    customer = rules.customer(contacted, last_contact_at=f"{contacted.replace(' ', 'T')}:00+08:00")
    rules.set_status("customer", customer, "prospect", contacted)
    return customer


def test_R08_stale_customer_reminds_owner_then_supervisor(rules):
    customer = _stale_customer(rules, "2026-03-02 10:00")
    rules.tick("2026-04-08 10:00")  # day 37: nothing yet
    assert rules.outbox(record_id=customer) == []

    rules.tick("2026-04-09 10:05")  # day 38: the warning to the owner, in the inbox
    assert rules.sent_to("stale_customer_warning", customer) == [("inbox", "sales1")]
    assert rules.sent_to("stale_customer", customer) == []

    report = rules.tick("2026-04-16 10:05")  # day 45: owner and supervisor, inbox and email
    assert rules.sent_to("stale_customer", customer) == [
        ("email", "manager"),
        ("email", "sales1"),
        ("inbox", "manager"),
        ("inbox", "manager"),
        ("inbox", "sales1"),
    ]  # the last inbox row is the supervisor's task notification
    (task,) = rules.tasks(STALE)
    assert task["user_id"] == rules.uid("manager") and task["record_id"] == customer
    assert "客户" in task["title"] and task["status"] == "open"
    # due 3 working days after the rule was due: Thursday 10:00 → Tuesday 10:00 (weekend)
    assert str(task["due_at"]).startswith("2026-04-21 02:00")
    run = report.of(STALE)
    assert (run.matched, run.sent, run.errors) == (1, 5, 0)
    (message,) = [
        m
        for m in rules.outbox("stale_customer", customer)
        if m["channel"] == "email" and m["recipient"] == str(rules.uid("manager"))
    ]
    payload = message["payload"]
    assert payload["recipient"] == {"user_id": rules.uid("manager")}
    assert payload["occurrence"] == "stale-since:2026-03-02T02:00:00Z"
    assert "{{ record.company_name }}" in payload["message"]["subject"]["en"]  # rendered later
    assert message["idempotency_key"] == (
        f"tr:{STALE}:{customer}:stale-since:2026-03-02T02:00:00Z:a0:email:"
        f"user:{rules.uid('manager')}"
    )


def test_R08_trap_the_45_day_rule_does_not_refire_every_tick_and_rearms_after_an_update(rules):
    customer = _stale_customer(rules, "2026-03-02 10:00")
    for day in ("2026-04-16 10:05", "2026-04-16 10:06", "2026-04-17 09:00", "2026-05-20 09:00"):
        rules.tick(day)
    assert rules.occurrences(STALE, customer) == ["stale-since:2026-03-02T02:00:00Z"]
    assert len(rules.outbox("stale_customer", customer)) == 5
    assert len(rules.tasks(STALE)) == 1

    # the owner logs a contact: the rule re-arms, but only 45 days after the new update
    rules.update(
        "sales1",
        "customer",
        customer,
        {"last_contact_at": "2026-05-21T15:00:00+08:00"},
        "2026-05-21 15:00",
    )
    rules.tick("2026-06-20 09:00")
    assert rules.occurrences(STALE, customer) == ["stale-since:2026-03-02T02:00:00Z"]
    rules.tick("2026-07-05 15:01")
    assert rules.occurrences(STALE, customer) == [
        "stale-since:2026-03-02T02:00:00Z",
        "stale-since:2026-05-21T07:00:00Z",
    ]
    assert len(rules.tasks(STALE)) == 2
    # re-running the same tick writes nothing new (the ledger is the source of truth)
    before = len(rules.rows("select id from outbox"))
    rules.tick("2026-07-05 15:01")
    assert len(rules.rows("select id from outbox")) == before


def test_R08_a_customer_updated_between_sweep_and_write_is_not_reminded(rules):
    """The batch is re-checked inside the writing transaction: a stale reminder is a no-op."""
    from ruleform.workflow_engine.timerules import ticks

    customer = _stale_customer(rules, "2026-03-02 10:00")
    original, contacted = ticks._recheck, local("2026-04-15 09:00")

    def update_first(sweep, conn, batch):  # someone saves the customer meanwhile
        table = rules.rt.table("customer")
        conn.execute(table.update().where(table.c.id == customer).values(last_contact_at=contacted))
        return original(sweep, conn, batch)

    ticks._recheck = update_first
    try:
        report = rules.tick("2026-04-16 10:05", only=[STALE])
    finally:
        ticks._recheck = original
    assert (report.of(STALE).matched, report.of(STALE).sent, report.of(STALE).errors) == (1, 0, 0)
    assert rules.outbox("stale_customer", customer) == [] and rules.ledger(STALE) == []
