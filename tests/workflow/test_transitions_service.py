"""Transitions through the service: one transaction writes the status, the log, the status
periods, the history and the outbox events — or nothing at all."""

from __future__ import annotations

import pytest

from ruleform.errors import (
    FieldErrors,
    NotFound,
    PermissionDenied,
    TransitionNotAllowed,
    VersionConflict,
)
from tests.workflow.wf_helpers import wf  # noqa: F401

pytestmark = pytest.mark.app


def ticket(wf, **extra):  # noqa: F811
    customer = wf.customer()
    values = {
        "kind": "inquiry",
        "subject": "咨询交期",
        "customer": customer.id,
        "description": "客户询问交货周期",
        **extra,
    }
    return wf.create("service", "ticket", values)


def test_a_transition_writes_status_log_period_history_and_events_together(wf):  # noqa: F811
    t = ticket(wf)
    result = wf.take("service", "ticket", t.id, "accept", {"comment": "受理"})
    assert (result.outcome, result.status, result.row_version) == ("done", "in_progress", 2)
    stored = wf.record("ticket", t.id)
    assert stored["status"] == "in_progress" and stored["first_response_at"] is not None
    (log,) = wf.transitions_log("ticket", t.id)
    assert (log["transition"], log["from_status"], log["to_status"], log["comment"]) == (
        "accept",
        "received",
        "in_progress",
        "受理",
    )
    assert log["user_id"] == wf.uid("service")
    periods = wf.rows(
        "select status, left_at from status_periods where entity = 'ticket' "
        "and record_id = :r order by id",
        r=t.id,
    )
    assert [p["status"] for p in periods] == ["received", "in_progress"]
    assert periods[0]["left_at"] is not None and periods[1]["left_at"] is None
    entry = wf.history("ticket", t.id)[-1]
    assert entry["action"] == "transition"
    assert entry["changes"]["status"] == ["received", "in_progress"]
    assert entry["changes"]["_workflow"]["transition"] == "accept"
    assert "first_response_at" in entry["changes"]
    assert wf.events("ticket", t.id) == [
        "entered:received",
        "transition:accept",
        "entered:in_progress",
    ]


def test_a_stale_version_is_a_conflict_and_changes_nothing(wf):  # noqa: F811
    t = ticket(wf)
    wf.take("service", "ticket", t.id, "accept")
    with pytest.raises(VersionConflict):
        wf.take("service", "ticket", t.id, "wait_for_customer", version=1)
    assert wf.record("ticket", t.id)["status"] == "in_progress"
    assert len(wf.transitions_log("ticket", t.id)) == 1


def test_a_double_submitted_transition_takes_effect_once(wf):  # noqa: F811
    t = ticket(wf)
    wf.take("service", "ticket", t.id, "accept", version=1)
    with pytest.raises((VersionConflict, TransitionNotAllowed)):
        wf.take("service", "ticket", t.id, "accept", version=1)
    assert len(wf.transitions_log("ticket", t.id)) == 1


def test_the_version_is_required(wf):  # noqa: F811
    t = ticket(wf)
    with pytest.raises(FieldErrors) as err:
        wf.run("service", lambda r, w, a: w.apply("ticket", t.id, "accept", {}, None))
    assert "row_version" in err.value.errors


def test_required_fields_are_asked_for_and_parsed_like_any_write(wf):  # noqa: F811
    t = ticket(wf)
    wf.take("service", "ticket", t.id, "accept")
    with pytest.raises(FieldErrors) as err:
        wf.take("service", "ticket", t.id, "escalate_to_technical")
    assert list(err.value.errors) == ["technical_assignee"]
    with pytest.raises(FieldErrors) as err:
        wf.take("service", "ticket", t.id, "escalate_to_technical", {"technical_assignee": "x"})
    assert "technical_assignee" in err.value.errors
    with pytest.raises(FieldErrors) as err:
        wf.take(
            "service",
            "ticket",
            t.id,
            "escalate_to_technical",
            {"technical_assignee": wf.uid("tech"), "priority": "high"},
        )
    assert "priority" in err.value.errors  # only the transition's fields may be given
    wf.take(
        "service", "ticket", t.id, "escalate_to_technical", {"technical_assignee": wf.uid("tech")}
    )
    assert wf.record("ticket", t.id)["technical_assignee"] == wf.uid("tech")


def test_a_guard_refuses_with_its_message(wf):  # noqa: F811
    customer = wf.customer()
    wf.take("sales1", "customer", customer.id, "submit_review")
    (req,) = wf.rows("select id from approval_requests")
    wf.decide("service", req["id"])
    with pytest.raises(TransitionNotAllowed) as err:
        wf.take("sales1", "customer", customer.id, "win")
    assert "signed contract" in str(err.value) or "合同" in str(err.value)


def test_who_may_not_is_refused_and_who_cannot_see_gets_not_found(wf):  # noqa: F811
    t = ticket(wf)
    with pytest.raises(PermissionDenied):
        wf.take("marketing", "ticket", t.id, "accept")
    customer = wf.customer()
    with pytest.raises(NotFound):
        wf.take("sales2", "customer", customer.id, "submit_review")
    with pytest.raises(NotFound):
        wf.take("service", "ticket", t.id, "no_such_transition")


def test_set_expressions_fill_read_only_fields_and_the_target_is_validated(wf):  # noqa: F811
    customer = wf.customer()
    opp = wf.create(
        "sales1",
        "opportunity",
        {
            "opportunity_name": "二期",
            "customer": customer.id,
            "amount": "100000",
            "expected_close_date": "2026-12-31",
        },
    )
    wf.take("sales1", "opportunity", opp.id, "submit_proposal", {"proposal_summary": "方案A"})
    wf.take("sales1", "opportunity", opp.id, "negotiate")
    with pytest.raises(FieldErrors) as err:
        wf.take("sales1", "opportunity", opp.id, "win")
    assert "actual_amount" in err.value.errors
    wf.take("sales1", "opportunity", opp.id, "win", {"actual_amount": "98000"})
    stored = wf.record("opportunity", opp.id)
    assert stored["status"] == "won" and stored["probability"] == 100
    assert stored["closed_on"] is not None


def test_the_record_service_never_writes_a_status(wf):  # noqa: F811
    t = ticket(wf)
    with pytest.raises(FieldErrors) as err:
        wf.run("service", lambda r, w, a: r.update("ticket", t.id, {"status": "closed"}, 1))
    assert "status" in err.value.errors


def test_a_new_record_starts_its_first_status_period(wf):  # noqa: F811
    t = ticket(wf)
    (period,) = wf.rows(
        "select * from status_periods where entity = 'ticket' and record_id = :r", r=t.id
    )
    assert period["status"] == "received" and period["left_at"] is None
    assert period["entered_by"] == wf.uid("service")
