"""R27 (002 §3): 初步沟通 → 方案提交 tells the sales supervisor — the transition writes the
event the time rule ``proposal_submitted`` (on: {transition: submit_proposal}) listens to,
in the same transaction."""

from __future__ import annotations

import json

import pytest

from tests.workflow.wf_helpers import CUSTOMER, wf  # noqa: F401

pytestmark = pytest.mark.app


def test_R27_submitting_a_proposal_writes_the_event_for_the_supervisor(wf):  # noqa: F811
    customer = wf.api_create("sales1", "customer", CUSTOMER)
    opp = wf.api_create(
        "sales1",
        "opportunity",
        {
            "opportunity_name": "二期产线改造",
            "customer": customer["id"],
            "amount": "300000",
            "expected_close_date": "2026-12-31",
        },
    )
    missing = wf.api_take("sales1", "opportunity", opp["id"], "submit_proposal")
    assert missing.status_code == 422 and "proposal_summary" in missing.get_json()["errors"]
    assert wf.events("opportunity", opp["id"]) == ["entered:initial_contact"]

    done = wf.api_take(
        "sales1",
        "opportunity",
        opp["id"],
        "submit_proposal",
        {"fields": {"proposal_summary": "两条产线，分期实施"}},
    )
    assert done.status_code == 200 and done.get_json()["status"] == "proposal"
    assert wf.record("opportunity", opp["id"])["probability"] == 30

    rows = wf.rows(
        "select rule, payload, idempotency_key, status from outbox "
        "where entity = 'opportunity' and record_id = :r and rule = 'transition:submit_proposal'",
        r=opp["id"],
    )
    (event,) = rows
    payload = (
        json.loads(event["payload"]) if isinstance(event["payload"], str) else event["payload"]
    )
    assert payload["from"] == "initial_contact" and payload["to"] == "proposal"
    assert payload["owner"] == wf.uid("sales1") and payload["by"] == wf.uid("sales1")
    assert event["status"] == "pending"
    rule = wf.rt.entity("opportunity").time_rules["proposal_submitted"]
    assert (rule.timing.event, rule.timing.event_name) == ("transition", "submit_proposal")
    assert event["rule"] == f"{rule.timing.event}:{rule.timing.event_name}"
    assert [h["action"] for h in wf.history("opportunity", opp["id"])] == ["create", "transition"]
