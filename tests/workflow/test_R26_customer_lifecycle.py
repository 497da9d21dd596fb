"""R26 (002 §3): 潜在客户 → 意向客户 → 成交客户 → 流失客户, only through declared transitions."""

from __future__ import annotations

import pytest

from tests.workflow.wf_helpers import CUSTOMER, wf  # noqa: F401

pytestmark = pytest.mark.app


def reviewed_customer(wf):  # noqa: F811
    customer = wf.api_create("sales1", "customer", CUSTOMER)
    request_id = wf.api_take("sales1", "customer", customer["id"], "submit_review").get_json()[
        "request_id"
    ]
    wf.api_act("service", request_id, "approve")
    return customer["id"]


def test_R26_customer_lifecycle_prospect_interested_won_lost(wf):  # noqa: F811
    cid = reviewed_customer(wf)
    needs = wf.api_take("sales1", "customer", cid, "qualify")
    assert needs.status_code == 422 and "next_contact_on" in needs.get_json()["errors"]
    assert (
        wf.api_take(
            "sales1", "customer", cid, "qualify", {"fields": {"next_contact_on": "2026-12-01"}}
        ).status_code
        == 200
    )

    listed = wf.get("sales1", f"/api/v1/customer/{cid}/transitions").get_json()["transitions"]
    win = {t["name"]: t for t in listed}["win"]
    assert not win["allowed"] and win["reasons"][0]["code"] == "guard_failed"
    assert wf.api_take("sales1", "customer", cid, "win").status_code == 409

    contract = wf.api_create(
        "sales1", "contract", {"contract_no": "HT-001", "customer": cid, "amount": "120000"}
    )
    signed = wf.api_take(
        "sales1",
        "contract",
        contract["id"],
        "sign",
        {"fields": {"signed_on": "2026-03-01", "start_on": "2026-03-01", "end_on": "2027-02-28"}},
    )
    assert signed.status_code == 200
    won = wf.api_take("sales1", "customer", cid, "win")
    assert won.status_code == 200 and won.get_json()["status"] == "won"
    assert wf.record("customer", cid)["won_on"] is not None

    lose = {
        t["name"]: t
        for t in wf.get("sales1", f"/api/v1/customer/{cid}/transitions").get_json()["transitions"]
    }["lose"]
    assert lose["requires"] == ["lost_reason"] and lose["confirm"]
    lost = wf.api_take(
        "sales1",
        "customer",
        cid,
        "lose",
        {"fields": {"lost_reason": "转向竞争对手"}, "comment": "价格因素"},
    )
    assert lost.get_json()["status"] == "lost"
    log = wf.transitions_log("customer", cid)
    assert [(r["from_status"], r["to_status"]) for r in log] == [
        ("pending_review", "prospect"),
        ("prospect", "interested"),
        ("interested", "won"),
        ("won", "lost"),
    ]
    periods = wf.rows(
        "select status from status_periods where entity = 'customer' and record_id = :r "
        "order by id",
        r=cid,
    )
    assert [p["status"] for p in periods] == [
        "pending_review",
        "prospect",
        "interested",
        "won",
        "lost",
    ]
    statuses = [
        h["changes"]["status"] for h in wf.history("customer", cid) if h["action"] == "transition"
    ]
    assert statuses[-1] == ["won", "lost"]
    assert wf.events("customer", cid)[-2:] == ["transition:lose", "entered:lost"]
    # a final status: only the exception (R48) leads out
    after = wf.get("sales1", f"/api/v1/customer/{cid}/transitions").get_json()["transitions"]
    assert [t["name"] for t in after] == ["reopen"] and after[0]["exception"]


def test_R26_no_jump_to_a_status_through_the_generic_update(wf):  # noqa: F811
    cid = reviewed_customer(wf)
    response = wf.client.patch(
        f"/api/v1/customer/{cid}", json={"status": "won"}, headers=wf.headers("sales1", 3)
    )
    assert response.status_code == 422 and "status" in response.get_json()["errors"]
    assert wf.record("customer", cid)["status"] == "prospect"
