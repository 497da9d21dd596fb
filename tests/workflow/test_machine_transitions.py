"""The pure status machine on the CRM rulebook: which transitions leave a status, which
this actor may take now, and why the others are unavailable — no database."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ruleform.metadata.compiler import compile_rulebook
from ruleform.metadata.conditions import EvalContext
from ruleform.workflow_engine.machine import Situation, missing_required, option, options, outgoing

CRM = Path(__file__).resolve().parents[2] / "metadata" / "crm"


@pytest.fixture(scope="module")
def crm():
    return compile_rulebook(CRM)


def ctx(contracts=()):
    return EvalContext(
        now=datetime(2026, 3, 2, 2, 0, tzinfo=UTC),
        timezone="Asia/Shanghai",
        related=lambda entity, fk, record_id: list(contracts),
    )


def situation(crm, entity, record, roles=("sales",), locale="en", pending=False, contracts=()):
    e = crm.entities[entity]
    permitted = frozenset(
        n
        for n, t in e.transitions.items()
        if any(
            n in e.permissions[r].transitions and (not t.roles or r in t.roles)
            for r in roles
            if r in e.permissions
        )
    )
    return Situation(record, permitted, ctx(contracts), locale, pending, crm.roles)


def test_R26_transitions_leaving_a_status_are_the_declared_ones(crm):
    customer = crm.entities["customer"]
    assert [t.name for t in outgoing(customer, "prospect")] == ["qualify", "win", "lose"]
    assert [t.name for t in outgoing(customer, "lost")] == ["reopen"]
    assert outgoing(customer, "no_such_status") == []


def test_a_guard_that_fails_says_why_in_the_actors_language(crm):
    record = {"id": 1, "status": "prospect"}
    win = {
        o.name: o for o in options(crm.entities["customer"], situation(crm, "customer", record))
    }["win"]
    assert not win.allowed
    assert [r.code for r in win.reasons] == ["guard_failed"]
    assert "signed contract" in win.reasons[0].text
    zh = option(
        crm.entities["customer"],
        crm.entities["customer"].transitions["win"],
        situation(crm, "customer", record, locale="zh-CN"),
    )
    assert "合同" in zh.reasons[0].text


def test_the_guard_counts_related_records(crm):
    record = {"id": 1, "status": "prospect"}
    signed = [{"status": "signed", "customer": 1}]
    win = option(
        crm.entities["customer"],
        crm.entities["customer"].transitions["win"],
        situation(crm, "customer", record, contracts=signed),
    )
    assert win.allowed


def test_a_role_without_the_transition_is_told_who_may(crm):
    ticket = crm.entities["ticket"]
    record = {"id": 1, "status": "received"}
    accept = option(
        ticket, ticket.transitions["accept"], situation(crm, "ticket", record, ("sales",))
    )
    assert [r.code for r in accept.reasons] == ["not_permitted"]
    assert "Customer service agent" in accept.reasons[0].text
    assert option(
        ticket,
        ticket.transitions["accept"],
        situation(crm, "ticket", record, ("customer_service",)),
    ).allowed


def test_required_fields_are_asked_for_not_blocking(crm):
    customer = crm.entities["customer"]
    lose = option(
        customer,
        customer.transitions["lose"],
        situation(crm, "customer", {"id": 1, "status": "interested"}),
    )
    assert lose.allowed and lose.missing == ("lost_reason",)
    body = lose.to_json(customer, "en")
    assert body["hints"] == ["Needs Reason for loss."]
    assert missing_required(customer.transitions["lose"], {"lost_reason": "price"}) == []


def test_a_pending_approval_freezes_the_status(crm):
    quote = crm.entities["quote"]
    found = options(quote, situation(crm, "quote", {"id": 1, "status": "draft"}, pending=True))
    assert {o.name for o in found} == {"submit", "send_unapproved"}
    assert all([r.code for r in o.reasons] == ["approval_pending"] for o in found)


def test_an_archived_record_takes_no_transition(crm):
    customer = crm.entities["customer"]
    found = options(
        customer, situation(crm, "customer", {"id": 1, "status": "interested", "archived": True})
    )
    assert all("archived" in [r.code for r in o.reasons] for o in found)


def test_wrong_status_is_a_reason(crm):
    customer = crm.entities["customer"]
    o = option(
        customer, customer.transitions["qualify"], situation(crm, "customer", {"status": "won"})
    )
    assert [r.code for r in o.reasons] == ["wrong_status"]
    assert "Won" in o.reasons[0].text


def test_R48_exceptions_and_approvals_are_described(crm):
    customer = crm.entities["customer"]
    reopen = option(
        customer,
        customer.transitions["reopen"],
        situation(crm, "customer", {"id": 1, "status": "lost"}),
    )
    body = reopen.to_json(customer, "zh-CN")
    assert body["exception"] and body["needs_reason"]
    assert body["approval"][0]["label"] == "例外审批"
    assert reopen.needs_approval
