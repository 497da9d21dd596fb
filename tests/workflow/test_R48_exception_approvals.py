"""R48 (003 例外审批): a non-standard move needs a reason and a manager's recorded approval,
and is reported separately."""

from __future__ import annotations

import pytest

from tests.workflow.wf_helpers import CUSTOMER, wf  # noqa: F401

pytestmark = pytest.mark.app


def opportunity(wf):  # noqa: F811
    customer = wf.api_create("sales1", "customer", CUSTOMER)
    return wf.api_create(
        "sales1",
        "opportunity",
        {
            "opportunity_name": "紧急采购",
            "customer": customer["id"],
            "amount": "80000",
            "expected_close_date": "2026-12-31",
        },
    )


def test_R48_skipping_a_step_needs_a_reason_and_the_managers_approval(wf):  # noqa: F811
    opp = opportunity(wf)
    no_reason = wf.api_take("sales1", "opportunity", opp["id"], "skip_to_negotiation")
    assert no_reason.status_code == 422 and "reason" in no_reason.get_json()["errors"]

    asked = wf.api_take(
        "sales1",
        "opportunity",
        opp["id"],
        "skip_to_negotiation",
        {"reason": "客户已确认方案，要求直接商务谈判"},
    )
    assert asked.status_code == 202
    request_id = asked.get_json()["request_id"]
    assert wf.record("opportunity", opp["id"])["status"] == "initial_contact"

    (task,) = wf.get("manager", "/api/v1/approvals").get_json()["items"]
    assert task["exception"] and task["reason"] == "客户已确认方案，要求直接商务谈判"
    approved = wf.api_act("manager", request_id, "approve", {"comment": "同意例外"})
    assert approved.get_json()["record_status"] == "negotiation"

    (log,) = wf.transitions_log("opportunity", opp["id"])
    assert log["exception"] and log["reason"] == "客户已确认方案，要求直接商务谈判"
    assert log["request_id"] == request_id
    change = [h for h in wf.history("opportunity", opp["id"]) if h["action"] == "transition"][0]
    assert change["changes"]["_workflow"]["exception"] is True

    report = wf.get("manager", "/api/v1/approvals/exceptions").get_json()["items"]
    assert [(r["id"], r["status"], r["reason"]) for r in report] == [
        (request_id, "approved", "客户已确认方案，要求直接商务谈判")
    ]
    assert wf.get("sales2", "/api/v1/approvals/exceptions").get_json()["items"] == []
    assert wf.get("manager", "/api/v1/approvals/exceptions?entity=quote").get_json()["items"] == []


def test_R48_a_rejected_exception_changes_nothing_and_is_still_reported(wf):  # noqa: F811
    opp = opportunity(wf)
    request_id = wf.api_take(
        "sales1", "opportunity", opp["id"], "skip_to_negotiation", {"reason": "赶时间"}
    ).get_json()["request_id"]
    wf.api_act("manager", request_id, "reject", {"comment": "须先提交方案"})
    assert wf.record("opportunity", opp["id"])["status"] == "initial_contact"
    assert wf.transitions_log("opportunity", opp["id"]) == []
    (item,) = wf.get("manager", "/api/v1/approvals/exceptions").get_json()["items"]
    assert (
        item["status"] == "rejected" and item["steps"][0]["tasks"][0]["comment"] == "须先提交方案"
    )


def test_R48_the_exception_report_page_lists_them(wf, client):  # noqa: F811
    opp = opportunity(wf)
    wf.api_take("sales1", "opportunity", opp["id"], "skip_to_negotiation", {"reason": "客户催促"})
    client.post("/login", data={"username": "manager", "password": "demo"})
    page = client.get("/approvals/exceptions")
    assert page.status_code == 200
    assert "客户催促" in page.get_data(as_text=True)
