"""Races between processes, through the HTTP API, on the backend of RULEFORM_TEST_BACKEND
(one SQLite file shared by every process, or one PostgreSQL database): exactly one effect —
one transition row, one history entry, one event — and every loser gets a 409.

Each race forks N processes from the test (the compiled app is inherited; every child opens
its own database connections), lines them up on a barrier and lets them send at once.
"""

from __future__ import annotations

import multiprocessing
import traceback
from typing import Any

import pytest

from ruleform.app import state
from tests.workflow.wf_helpers import wf  # noqa: F401

pytestmark = [pytest.mark.app, pytest.mark.slow]

CTX = multiprocessing.get_context("fork")
N = 20


def _call(app: Any, index: int, call: tuple, barrier: Any, queue: Any) -> None:
    try:
        state(app).engine.dispose(close=False)  # never use the parent's connections
        client = app.test_client()
        barrier.wait(timeout=120)
        method, path, body, headers = call
        response = client.open(path, method=method, json=body, headers=headers)
        queue.put((index, response.status_code))
    except BaseException:  # noqa: BLE001 - report anything to the parent
        queue.put((index, traceback.format_exc()))


def race(wf, calls: list[tuple]) -> list[int]:  # noqa: F811
    """Send ``calls`` (method, path, json, headers) at once from separate processes."""
    state(wf.app).engine.dispose()
    barrier, queue = CTX.Barrier(len(calls)), CTX.Queue()
    processes = [
        CTX.Process(target=_call, args=(wf.app, i, call, barrier, queue))
        for i, call in enumerate(calls)
    ]
    for p in processes:
        p.start()
    results = dict(queue.get(timeout=300) for _ in calls)
    for p in processes:
        p.join(timeout=60)
    statuses = [results[i] for i in range(len(calls))]
    assert all(isinstance(s, int) for s in statuses), statuses
    return statuses


def submitted_quote(wf, **extra):  # noqa: F811
    quote = wf.quote(**extra)
    result = wf.take("sales1", "quote", quote.id, "submit")
    return quote.id, result.request_id, result.row_version


def approve(wf, user, request_id, comment=None):  # noqa: F811
    return (
        "POST",
        f"/api/v1/approvals/{request_id}/approve",
        {"comment": comment},
        wf.headers(user),
    )


def one_effect(wf, quote_id, request_id, outcome="approved"):  # noqa: F811
    """Exactly one transition row, one transition history entry, one decision event."""
    log = wf.transitions_log("quote", quote_id)
    history = [h for h in wf.history("quote", quote_id) if h["action"] == "transition"]
    events = wf.events("quote", quote_id)
    if outcome == "approved":
        assert len(log) == 1 and log[0]["request_id"] == request_id
        assert len(history) == 1
        assert events.count("approved:submit") == 1 and events.count("transition:submit") == 1
        assert wf.record("quote", quote_id)["status"] == "approved"
    else:
        assert log == [] and history == []
        event = {"rejected": "rejected", "void": "voided"}[outcome]
        assert events.count(f"{event}:submit") == 1 and "approved:submit" not in events
        assert wf.record("quote", quote_id)["status"] == "draft"
    assert wf.request(request_id)["status"] == outcome


def test_twenty_approvals_by_the_same_approver_take_effect_once(wf):  # noqa: F811
    quote_id, request_id, _ = submitted_quote(wf)
    statuses = race(wf, [approve(wf, "manager", request_id, f"#{i}") for i in range(N)])
    assert sorted(statuses) == [200] + [409] * (N - 1)
    one_effect(wf, quote_id, request_id)
    decided = [t for t in wf.tasks(request_id) if t["decision"] == "approved"]
    assert len(decided) == 1
    assert (
        len([h for h in wf.history("quote", quote_id) if h["action"] == "approval_decision"]) == 1
    )


def test_twenty_different_approvers_at_once_decide_once(wf):  # noqa: F811
    managers = [f"mgr{i}" for i in range(N - 1)]
    for name in managers:
        wf.add_user(name, ["sales_manager"], department="sales")
    quote_id, request_id, _ = submitted_quote(wf)
    assert len(wf.tasks(request_id)) == N  # manager + 19 more sales managers of the department
    statuses = race(wf, [approve(wf, user, request_id) for user in ["manager", *managers]])
    assert sorted(statuses) == [200] + [409] * (N - 1)
    one_effect(wf, quote_id, request_id)
    tasks = wf.tasks(request_id)
    assert sorted(t["decision"] for t in tasks) == ["approved"] + ["superseded"] * (N - 1)


def test_approve_against_reject(wf):  # noqa: F811
    wf.add_user("mgr_b", ["sales_manager"], department="sales")
    quote_id, request_id, _ = submitted_quote(wf)
    reject = (
        "POST",
        f"/api/v1/approvals/{request_id}/reject",
        {"comment": "不同意"},
        wf.headers("mgr_b"),
    )
    statuses = race(wf, [approve(wf, "manager", request_id), reject])
    assert sorted(statuses) == [200, 409]
    one_effect(wf, quote_id, request_id, "approved" if statuses[0] == 200 else "rejected")


def test_approve_against_an_edit_of_a_locked_field(wf):  # noqa: F811
    for round_ in range(3):
        quote_id, request_id, version = submitted_quote(
            wf, quote_no=f"BJ-R{round_}", tag=str(round_), mobile=f"1370013700{round_}"
        )
        edit = (
            "PATCH",
            f"/api/v1/quote/{quote_id}",
            {"discount": "25", "approval_note": "客户要求"},
            wf.headers("sales1", version),
        )
        statuses = race(wf, [approve(wf, "manager", request_id), edit])
        assert sorted(statuses) == [200, 409], statuses
        if statuses[0] == 200:  # the approval won; the edit came too late
            one_effect(wf, quote_id, request_id)
            assert str(wf.record("quote", quote_id)["discount"]).startswith("10")
        else:  # the edit won and voided the request
            one_effect(wf, quote_id, request_id, "void")
            assert str(wf.record("quote", quote_id)["discount"]).startswith("25")


def test_a_double_clicked_submit_opens_one_request(wf):  # noqa: F811
    quote = wf.quote()
    call = (
        "POST",
        f"/api/v1/quote/{quote.id}/transitions/submit",
        {"comment": "提交"},
        wf.headers("sales1", 1),
    )
    statuses = race(wf, [call] * N)
    assert sorted(statuses) == [202] + [409] * (N - 1)
    assert len(wf.rows("select id from approval_requests")) == 1
    assert wf.events("quote", quote.id).count("requested:submit") == 1


def test_twenty_transitions_at_once_change_the_status_once(wf):  # noqa: F811
    customer = wf.customer()
    ticket = wf.create(
        "service",
        "ticket",
        {"kind": "inquiry", "subject": "交期", "description": "询问", "customer": customer.id},
    )
    call = ("POST", f"/api/v1/ticket/{ticket.id}/transitions/accept", {}, wf.headers("service", 1))
    statuses = race(wf, [call] * N)
    assert sorted(statuses) == [200] + [409] * (N - 1)
    assert len(wf.transitions_log("ticket", ticket.id)) == 1
    assert wf.events("ticket", ticket.id).count("transition:accept") == 1
