"""R06 (004 §4.4.4): marketing managers triage customer issues and track the feedback to
closure — the ticket moves only through declared transitions, each in the timeline."""

from __future__ import annotations

import pytest

from tests.workflow.wf_helpers import CUSTOMER, wf  # noqa: F401

pytestmark = pytest.mark.app


def test_R06_marketing_triages_and_closes_the_feedback(wf):  # noqa: F811
    customer = wf.api_create("sales1", "customer", CUSTOMER)
    ticket = wf.api_create(
        "service",
        "ticket",
        {
            "kind": "complaint",
            "subject": "设备异响",
            "customer": customer["id"],
            "priority": "high",
            "description": "客户反馈主轴异响",
        },
    )
    triaged = wf.client.patch(
        f"/api/v1/ticket/{ticket['id']}",
        json={
            "triage_category": "product_quality",
            "key_issue": True,
            "triage_notes": "同批次需排查",
        },
        headers=wf.headers("marketing", 1),
    )
    assert triaged.status_code == 200, triaged.get_json()

    options = wf.get("marketing", f"/api/v1/ticket/{ticket['id']}/transitions").get_json()[
        "transitions"
    ]
    assert {t["name"]: t["allowed"] for t in options} == {"accept": False}
    assert options[0]["reasons"][0]["code"] == "not_permitted"
    assert wf.api_take("marketing", "ticket", ticket["id"], "accept").status_code == 403

    assert wf.api_take("service", "ticket", ticket["id"], "accept").status_code == 200
    resolved = wf.api_take(
        "service",
        "ticket",
        ticket["id"],
        "resolve",
        {"fields": {"resolution": "更换主轴轴承，回访确认"}},
    )
    assert resolved.get_json()["status"] == "resolved"

    no_feedback = wf.api_take("marketing", "ticket", ticket["id"], "close_ticket")
    assert (
        no_feedback.status_code == 422 and "customer_satisfied" in no_feedback.get_json()["errors"]
    )
    closed = wf.api_take(
        "marketing",
        "ticket",
        ticket["id"],
        "close_ticket",
        {"fields": {"customer_satisfied": "satisfied"}, "comment": "反馈闭环"},
    )
    assert closed.get_json()["status"] == "closed"

    log = wf.transitions_log("ticket", ticket["id"])
    assert [(r["transition"], r["user_id"]) for r in log] == [
        ("accept", wf.uid("service")),
        ("resolve", wf.uid("service")),
        ("close_ticket", wf.uid("marketing")),
    ]
    assert log[-1]["comment"] == "反馈闭环"
    stored = wf.record("ticket", ticket["id"])
    assert stored["customer_satisfied"] == "satisfied" and stored["resolved_at"] is not None
    assert wf.events("ticket", ticket["id"])[-2:] == ["transition:close_ticket", "entered:closed"]
    timeline = wf.get("marketing", f"/api/v1/ticket/{ticket['id']}/history")
    assert timeline.status_code == 200
    assert "transition" in timeline.get_data(as_text=True)
