"""Approval requests through the services on the CRM rulebook: submission, decisions,
rejection, withdrawal, locked fields, delegation, 退回 / 加签 / 转交, escalation,
segregation of duties against the real organisation, and definitions pinned to a version."""

from __future__ import annotations

import copy
import json
from datetime import timedelta

import pytest

from ruleform.errors import PermissionDenied, TransitionNotAllowed, VersionConflict
from ruleform.metadata.compiler import compile_tree
from ruleform.metadata.overlays import load_rulebook_source
from ruleform.metadata.source import load_text
from ruleform.metadata.validation import jsonable
from ruleform.platform.actors import load_actor
from ruleform.platform.runtime import build_runtime, utcnow
from ruleform.workflow_engine.approval_queries import ApprovalQueries
from ruleform.workflow_engine.approval_service import ApprovalService
from ruleform.workflow_engine.escalations import escalate_due
from ruleform.workflow_engine.service import WorkflowService
from tests.conftest import CRM
from tests.workflow.wf_helpers import wf  # noqa: F401

pytestmark = pytest.mark.app


def submit(wf, quote, user="sales1", **kw):  # noqa: F811
    result = wf.take(user, "quote", quote.id, "submit", **kw)
    assert result.outcome == "pending"
    return result.request_id


def test_submitting_opens_a_request_and_keeps_the_status(wf):  # noqa: F811
    quote = wf.quote()
    result = wf.take("sales1", "quote", quote.id, "submit", comment="年度客户")
    assert (result.outcome, result.status, result.row_version) == ("pending", "draft", 2)
    request = wf.request(result.request_id)
    assert (request["status"], request["from_status"], request["to_status"]) == (
        "pending",
        "draft",
        "approved",
    )
    assert request["rulebook_version"] == 1 and request["requested_by"] == wf.uid("sales1")
    definition = (
        json.loads(request["definition"])
        if isinstance(request["definition"], str)
        else request["definition"]
    )
    assert [s["name"] for s in definition["steps"]] == ["manager", "finance_check"]
    steps = wf.rows(
        "select step_index, status, escalate_at from approval_steps where request_id = :r "
        "order by step_index",
        r=result.request_id,
    )
    assert [s["status"] for s in steps] == ["active", "skipped"]  # 45000 < 100000: no finance
    assert steps[0]["escalate_at"] is not None  # 8 working hours
    assert [t["approver_id"] for t in wf.tasks(result.request_id)] == [wf.uid("manager")]
    assert wf.events("quote", quote.id) == ["entered:draft", "requested:submit", "task:submit"]
    assert wf.history("quote", quote.id)[-1]["action"] == "approval_requested"


def test_the_last_approval_changes_the_status(wf):  # noqa: F811
    quote = wf.quote()
    request_id = submit(wf, quote)
    outcome = wf.decide("manager", request_id, "approved", "同意")
    assert outcome == {
        "request_id": request_id,
        "status": "approved",
        "record_status": "approved",
        "row_version": 3,
    }
    (log,) = wf.transitions_log("quote", quote.id)
    assert (log["transition"], log["request_id"], log["user_id"]) == (
        "submit",
        request_id,
        wf.uid("manager"),
    )
    assert [h["action"] for h in wf.history("quote", quote.id)][-2:] == [
        "approval_decision",
        "transition",
    ]
    assert wf.events("quote", quote.id)[-3:] == [
        "transition:submit",
        "entered:approved",
        "approved:submit",
    ]
    (task,) = wf.tasks(request_id)
    assert (task["decision"], task["comment"], task["decided_by"]) == (
        "approved",
        "同意",
        wf.uid("manager"),
    )


def test_a_rejection_returns_the_record_to_on_reject_with_the_comment(wf):  # noqa: F811
    quote = wf.quote()
    request_id = submit(wf, quote)
    wf.decide("manager", request_id, "rejected", "折扣过大")
    assert wf.record("quote", quote.id)["status"] == "draft"
    assert wf.request(request_id)["status"] == "rejected"
    entry = [h for h in wf.history("quote", quote.id) if h["action"] == "approval_rejected"][0]
    assert entry["changes"]["_workflow"]["comment"] == "折扣过大"
    assert "rejected:submit" in wf.events("quote", quote.id)
    assert wf.take("sales1", "quote", quote.id, "submit").outcome == "pending"  # may resubmit


def test_large_quotes_need_finance_too_and_the_same_person_cannot_do_both(wf):  # noqa: F811
    quote = wf.quote(list_amount="200000", discount="0")
    request_id = submit(wf, quote)
    wf.decide("manager", request_id)
    assert wf.record("quote", quote.id)["status"] == "draft"
    assert [t["approver_id"] for t in wf.tasks(request_id)] == [
        wf.uid("manager"),
        wf.uid("finance"),
    ]
    with pytest.raises(PermissionDenied):
        wf.decide("sales2", request_id)
    wf.decide("finance", request_id)
    assert wf.record("quote", quote.id)["status"] == "approved"


def test_a_second_decision_by_the_same_approver_is_a_conflict(wf):  # noqa: F811
    quote = wf.quote()
    request_id = submit(wf, quote)
    wf.decide("manager", request_id)
    with pytest.raises(VersionConflict):
        wf.decide("manager", request_id)


def test_the_requester_cannot_approve_and_the_owners_manager_approves_an_exception(wf):  # noqa: F811
    customer = wf.customer()
    request_id = wf.take("sales1", "customer", customer.id, "submit_review").request_id
    with pytest.raises(PermissionDenied):
        wf.decide("sales1", request_id)
    wf.decide("service", request_id)
    wf.take("sales1", "customer", customer.id, "lose", {"lost_reason": "预算取消"})
    exception = wf.take("sales1", "customer", customer.id, "reopen", reason="客户重新采购")
    assert [t["approver_id"] for t in wf.tasks(exception.request_id)] == [wf.uid("manager")]


def test_segregation_of_duties_walks_up_when_the_manager_is_the_requester(wf):  # noqa: F811
    customer = wf.customer()
    request_id = wf.take("sales1", "customer", customer.id, "submit_review").request_id
    wf.decide("service", request_id)
    wf.take("sales1", "customer", customer.id, "lose", {"lost_reason": "预算取消"})
    exception = wf.take("manager", "customer", customer.id, "reopen", reason="主管判断可挽回")
    assert [t["approver_id"] for t in wf.tasks(exception.request_id)] == [wf.uid("gm")]


def test_whoever_edited_the_locked_fields_before_submitting_may_not_approve(wf):  # noqa: F811
    quote = wf.quote()
    wf.run("manager", lambda r, w, a: r.update("quote", quote.id, {"discount": "12"}, 1))
    request_id = submit(wf, quote)
    # the manager edited the discount: the step walks past them to the next manager up
    assert [t["approver_id"] for t in wf.tasks(request_id)] == [wf.uid("gm")]


def test_archiving_the_record_voids_its_pending_request(wf):  # noqa: F811
    quote = wf.quote()
    request_id = submit(wf, quote)
    wf.run("admin", lambda r, w, a: r.archive("quote", quote.id, None))
    assert wf.request(request_id)["status"] == "void"
    assert wf.tasks(request_id)[0]["decision"] == "closed"
    with pytest.raises(VersionConflict):
        wf.decide("manager", request_id)


def test_editing_a_locked_field_voids_the_request_and_other_fields_do_not(wf):  # noqa: F811
    quote = wf.quote()
    request_id = submit(wf, quote)
    wf.run("sales1", lambda r, w, a: r.update("quote", quote.id, {"approval_note": "补充说明"}, 2))
    assert wf.request(request_id)["status"] == "pending"
    wf.run("sales1", lambda r, w, a: r.update("quote", quote.id, {"discount": "15"}, 3))
    assert wf.request(request_id)["status"] == "void"
    assert wf.tasks(request_id)[0]["decision"] == "closed"
    assert "voided:submit" in wf.events("quote", quote.id)
    with pytest.raises(VersionConflict):
        wf.decide("manager", request_id)


@pytest.mark.parametrize("entity, policy_allows_after_decision", [("quote", False)])
def test_withdraw_before_the_first_decision(wf, entity, policy_allows_after_decision):  # noqa: F811
    quote = wf.quote()
    request_id = submit(wf, quote)
    with pytest.raises(PermissionDenied):
        wf.run("manager", lambda r, w, a: a.withdraw(request_id))
    outcome = wf.run("sales1", lambda r, w, a: a.withdraw(request_id, "先不报了"))
    assert outcome["status"] == "withdrawn" and outcome["record_status"] == "draft"
    assert "withdrawn:submit" in wf.events("quote", quote.id)
    big = wf.quote(quote_no="BJ-2", tag="2", mobile="13600136000", list_amount="300000")
    request_id = submit(wf, big)
    wf.decide("manager", request_id)
    with pytest.raises(TransitionNotAllowed):
        wf.run("sales1", lambda r, w, a: a.withdraw(request_id))


def test_withdraw_any_time_for_access_requests(wf):  # noqa: F811
    customer = wf.customer("sales1", company_name="投标客户")
    req = wf.create(
        "sales1",
        "access_request",
        {
            "subject": "投标需要",
            "customer": customer.id,
            "purpose": "联合投标",
            "valid_until": "2026-12-31",
        },
    )
    result = wf.take("sales1", "access_request", req.id, "submit")
    assert wf.run("sales1", lambda r, w, a: a.withdraw(result.request_id))["status"] == "withdrawn"


def test_a_delegate_approves_for_the_approver_and_both_are_kept(wf):  # noqa: F811
    now = utcnow()
    wf.run(
        "manager",
        lambda r, w, a: ApprovalQueries(w.rt, w.conn, w.actor).delegate(
            wf.uid("gm"), now - timedelta(hours=1), now + timedelta(days=3), "出差", now
        ),
    )
    quote = wf.quote()
    request_id = submit(wf, quote)
    (task,) = wf.tasks(request_id)
    assert (task["approver_id"], task["acting_approver_id"]) == (wf.uid("manager"), wf.uid("gm"))
    wf.decide("gm", request_id, "approved", "代批")
    (task,) = wf.tasks(request_id)
    assert task["decided_by"] == wf.uid("gm") and task["approver_id"] == wf.uid("manager")
    entry = [h for h in wf.history("quote", quote.id) if h["action"] == "approval_decision"][0]
    assert entry["changes"]["_workflow"]["on_behalf_of"] == wf.uid("manager")


def test_return_add_and_transfer(wf):  # noqa: F811
    quote = wf.quote(list_amount="200000", discount="0")
    request_id = submit(wf, quote)
    wf.decide("manager", request_id)
    wf.run("finance", lambda r, w, a: a.return_to(request_id, "manager", "请主管复核折扣"))
    tasks = wf.tasks(request_id)
    assert [(t["approver_id"], t["decision"], t["round"]) for t in tasks][-2:] == [
        (wf.uid("finance"), "returned", 0),
        (wf.uid("manager"), None, 1),
    ]
    wf.run("manager", lambda r, w, a: a.add_approver(request_id, wf.uid("gm"), "请王总一并审批"))
    wf.run("manager", lambda r, w, a: a.transfer(request_id, wf.uid("sales3"), "交陈静"))
    wf.decide("sales3", request_id)  # mode any: sales3's approval decides the step
    tasks = wf.tasks(request_id)
    assert {t["source"] for t in tasks} >= {"added", "transferred"}
    finance = [t for t in tasks if t["approver_id"] == wf.uid("finance")]
    assert finance[-1]["decision"] is None and finance[-1]["round"] == 1
    wf.decide("finance", request_id)
    assert wf.record("quote", quote.id)["status"] == "approved"
    actions = [h["action"] for h in wf.history("quote", quote.id)]
    assert {"approval_returned", "approval_added", "approval_transferred"} <= set(actions)


def test_an_overdue_step_escalates_once(wf):  # noqa: F811
    customer = wf.customer()
    request_id = wf.take("sales1", "customer", customer.id, "submit_review").request_id
    with wf.st.engine.begin() as conn:
        assert escalate_due(wf.rt, conn, utcnow()) == []
        assert escalate_due(wf.rt, conn, utcnow() + timedelta(days=10)) == [request_id]
        assert escalate_due(wf.rt, conn, utcnow() + timedelta(days=20)) == []
    tasks = wf.tasks(request_id)
    assert [(t["approver_id"], t["source"]) for t in tasks] == [
        (wf.uid("service"), "resolved"),
        (wf.uid("service_manager"), "escalated"),
    ]
    assert wf.events("customer", customer.id).count("escalated:submit_review") == 1
    wf.decide("service_manager", request_id)
    assert wf.record("customer", customer.id)["status"] == "prospect"


def _changed_crm(version: int):
    """The CRM rulebook with the quote approval changed: finance always, then the GM."""
    source = jsonable(load_rulebook_source(CRM).data)
    data = copy.deepcopy(source)
    steps = data["entities"]["quote"]["transitions"]["submit"]["approval"]["steps"]
    steps["finance_check"].pop("when")
    steps["gm"] = {
        "label": {"zh-CN": "总经理审批", "en": "GM"},
        "approvers": {"role": "general_manager"},
    }
    result = compile_tree(load_text(json.dumps(data, ensure_ascii=False), "v2.json"))
    assert result.ok, [p.format() for p in result.errors]
    return build_runtime(result.rulebook, version)


def test_a_pending_request_keeps_the_steps_it_started_with(wf):  # noqa: F811
    quote = wf.quote()
    request_id = submit(wf, quote)
    v2 = _changed_crm(2)
    with wf.st.engine.begin() as conn:
        manager = load_actor(conn, wf.uid("manager"))
        ApprovalService(WorkflowService(v2, conn, manager)).decide(request_id, "approved")
    assert wf.record("quote", quote.id)["status"] == "approved"  # v1: one step (finance skipped)
    other = wf.quote(quote_no="BJ-9", tag="9", mobile="13500135000")
    version = wf.record("quote", other.id)["row_version"]
    with wf.st.engine.begin() as conn:
        sales1 = load_actor(conn, wf.uid("sales1"))
        new = WorkflowService(v2, conn, sales1).apply("quote", other.id, "submit", {}, version)
    steps = wf.rows(
        "select name, status from approval_steps where request_id = :r order by step_index",
        r=new.request_id,
    )
    assert [s["name"] for s in steps] == ["manager", "finance_check", "gm"]
    assert wf.request(new.request_id)["rulebook_version"] == 2
