"""R19 (004 §3.3): customer service reviews new customers before they count."""

from __future__ import annotations

import pytest

from tests.workflow.wf_helpers import CUSTOMER, wf  # noqa: F401

pytestmark = pytest.mark.app


def test_R19_new_customer_waits_for_customer_service_review(wf):  # noqa: F811
    customer = wf.api_create("sales1", "customer", CUSTOMER)
    assert customer["status"] == "pending_review"
    listed = wf.get("sales1", f"/api/v1/customer/{customer['id']}/transitions").get_json()
    assert [t["name"] for t in listed["transitions"]] == ["submit_review"]

    submitted = wf.api_take("sales1", "customer", customer["id"], "submit_review")
    assert submitted.status_code == 202
    request_id = submitted.get_json()["request_id"]
    frozen = wf.get("sales1", f"/api/v1/customer/{customer['id']}/transitions").get_json()
    assert frozen["pending_request"] == request_id
    assert frozen["transitions"][0]["reasons"][0]["code"] == "approval_pending"

    (task,) = wf.get("service", "/api/v1/approvals").get_json()["items"]
    assert task["request_id"] == request_id and task["step"] == "service_review"
    assert wf.api_act("sales1", request_id, "approve").status_code == 403  # not their own

    approved = wf.api_act("service", request_id, "approve", {"comment": "信息核实无误"})
    assert approved.get_json()["record_status"] == "prospect"
    assert wf.record("customer", customer["id"])["status"] == "prospect"
    history = wf.history("customer", customer["id"])
    decision = [h for h in history if h["action"] == "approval_decision"][0]
    assert decision["user_id"] == wf.uid("service")
    assert decision["changes"]["_workflow"]["comment"] == "信息核实无误"
    change = [h for h in history if h["action"] == "transition"][0]
    assert change["changes"]["status"] == ["pending_review", "prospect"]
    assert wf.events("customer", customer["id"])[-3:] == [
        "transition:submit_review",
        "entered:prospect",
        "approved:submit_review",
    ]


def test_R19_a_rejected_review_keeps_the_customer_pending_and_says_why(wf):  # noqa: F811
    customer = wf.api_create("sales1", "customer", CUSTOMER)
    request_id = wf.api_take("sales1", "customer", customer["id"], "submit_review").get_json()[
        "request_id"
    ]
    wf.api_act("service", request_id, "reject", {"comment": "手机号与公司不符"})
    assert wf.record("customer", customer["id"])["status"] == "pending_review"
    detail = wf.get("sales1", f"/api/v1/customer/{customer['id']}/approvals").get_json()["items"][0]
    assert detail["status"] == "rejected"
    assert detail["steps"][0]["tasks"][0]["comment"] == "手机号与公司不符"


def test_R19_changing_reviewed_fields_during_review_voids_it(wf):  # noqa: F811
    customer = wf.api_create("sales1", "customer", CUSTOMER)
    submitted = wf.api_take("sales1", "customer", customer["id"], "submit_review").get_json()
    patched = wf.client.patch(
        f"/api/v1/customer/{customer['id']}",
        json={"mobile": "13900139000"},
        headers=wf.headers("sales1", submitted["row_version"]),
    )
    assert patched.status_code == 200
    assert wf.request(submitted["request_id"])["status"] == "void"
    assert wf.api_act("service", submitted["request_id"], "approve").status_code == 409
    assert wf.get("service", "/api/v1/approvals").get_json()["items"] == []
