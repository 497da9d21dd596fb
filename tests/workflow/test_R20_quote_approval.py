"""R20 (004 §3.4 报价申请与核定): salespeople request quotes; a quote is approved before it
goes out — the sales manager of the owner's department, then finance for large amounts."""

from __future__ import annotations

import pytest

from tests.workflow.wf_helpers import QUOTE, wf  # noqa: F401

pytestmark = pytest.mark.app


def new_quote(wf, **extra):  # noqa: F811
    customer = wf.api_create(
        "sales1",
        "customer",
        {
            "company_name": f"报价客户{extra.pop('tag', '')}",
            "contact_name": "李四",
            "mobile": extra.pop("mobile", "13700137000"),
            "source": "referral",
        },
    )
    return wf.api_create("sales1", "quote", {**QUOTE, "customer": customer["id"], **extra})


def test_R20_quote_is_approved_by_the_sales_manager_before_it_goes_out(wf):  # noqa: F811
    quote = new_quote(wf)
    early = wf.api_take("sales1", "quote", quote["id"], "send")
    assert early.status_code == 409 and early.get_json()["code"] == "transition_not_allowed"

    listed = wf.get("sales1", f"/api/v1/quote/{quote['id']}/transitions").get_json()
    submit = {t["name"]: t for t in listed["transitions"]}["submit"]
    assert submit["allowed"] and [s["name"] for s in submit["approval"]] == [
        "manager",
        "finance_check",
    ]

    response = wf.api_take("sales1", "quote", quote["id"], "submit", {"comment": "年度框架客户"})
    assert response.status_code == 202
    body = response.get_json()
    assert body["outcome"] == "pending" and body["status"] == "draft"
    assert response.headers["ETag"] == f'W/"{body["row_version"]}"'

    inbox = wf.get("manager", "/api/v1/approvals").get_json()["items"]
    (task,) = [t for t in inbox if t["request_id"] == body["request_id"]]
    assert (task["entity"], task["record_id"], task["step"]) == ("quote", quote["id"], "manager")
    assert task["requested_by"] == wf.uid("sales1") and task["comment"] == "年度框架客户"
    assert wf.get("sales2", "/api/v1/approvals").get_json()["items"] == []

    decided = wf.api_act("manager", body["request_id"], "approve", {"comment": "同意报价"})
    assert decided.status_code == 200
    assert decided.get_json()["record_status"] == "approved"

    sent = wf.api_take("sales1", "quote", quote["id"], "send")
    assert sent.status_code == 200 and sent.get_json()["status"] == "sent"

    log = wf.transitions_log("quote", quote["id"])
    assert [(r["transition"], r["to_status"]) for r in log] == [
        ("submit", "approved"),
        ("send", "sent"),
    ]
    actions = [h["action"] for h in wf.history("quote", quote["id"])]
    assert actions == [
        "create",
        "approval_requested",
        "approval_decision",
        "transition",
        "transition",
    ]
    events = wf.events("quote", quote["id"])
    assert events == [
        "entered:draft",
        "requested:submit",
        "task:submit",
        "transition:submit",
        "entered:approved",
        "approved:submit",
        "transition:send",
        "entered:sent",
    ]
    detail = wf.get("sales1", f"/api/v1/approvals/{body['request_id']}").get_json()
    assert detail["status"] == "approved"
    assert detail["steps"][0]["tasks"][0]["comment"] == "同意报价"
    assert [s["status"] for s in detail["steps"]] == ["approved", "skipped"]


def test_R20_large_quote_needs_finance_after_the_manager(wf):  # noqa: F811
    quote = new_quote(wf, list_amount="250000", discount="0")
    request_id = wf.api_take("sales1", "quote", quote["id"], "submit").get_json()["request_id"]
    assert wf.api_act("finance", request_id, "approve").status_code == 403
    assert wf.api_act("manager", request_id, "approve").get_json()["record_status"] == "draft"
    (task,) = wf.get("finance", "/api/v1/approvals").get_json()["items"]
    assert task["step"] == "finance_check"
    assert wf.api_act("finance", request_id, "approve").get_json()["record_status"] == "approved"
    assert wf.record("quote", quote["id"])["status"] == "approved"


def test_R20_rejected_quote_goes_back_to_draft_with_the_reason(wf):  # noqa: F811
    quote = new_quote(wf)
    request_id = wf.api_take("sales1", "quote", quote["id"], "submit").get_json()["request_id"]
    rejected = wf.api_act("manager", request_id, "reject", {"comment": "折扣超出权限"})
    assert rejected.get_json()["status"] == "rejected"
    assert wf.record("quote", quote["id"])["status"] == "draft"
    mine = wf.get("sales1", "/api/v1/approvals?view=mine").get_json()["items"]
    assert mine[0]["status"] == "rejected"
    assert mine[0]["steps"][0]["tasks"][0]["comment"] == "折扣超出权限"
    assert "rejected:submit" in wf.events("quote", quote["id"])


def test_R20_stale_if_match_and_missing_if_match(wf):  # noqa: F811
    quote = new_quote(wf)
    path = f"/api/v1/quote/{quote['id']}/transitions/submit"
    assert wf.post("sales1", path).status_code == 428
    stale = wf.post("sales1", path, version=99)
    assert stale.status_code == 409 and stale.get_json()["current_version"] == 1
    assert stale.headers["ETag"] == 'W/"1"'
    assert wf.post("sales1", path, {"bogus": 1}, version=1).status_code == 422
    assert wf.post("sales1", path, version=1).status_code == 202
    again = wf.post("sales1", path, version=1)
    assert again.status_code == 409
    assert len(wf.rows("select id from approval_requests")) == 1
