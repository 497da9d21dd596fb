"""R14: the supervisor transfers a leaver's customers to active staff — all at once,
with the handover recorded on every record and access following immediately."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ruleform.app import state

pytestmark = pytest.mark.app


def test_R14_bulk_transfer_moves_records_and_access_at_once(app, api, org, make_customer):
    mine = [make_customer("sales1")["id"] for _ in range(3)]
    kept = make_customer("sales2")["id"]
    moved = api.post("/customer/transfer", user="manager",
                     json={"from": org.user("sales1"), "to": org.user("sales3"),
                           "reason": "employee_left"})  # fmt: skip
    assert moved.status_code == 200, moved.get_json()
    assert sorted(moved.get_json()["data"]["ids"]) == sorted(mine)
    for record_id in mine:
        assert api.get(f"/customer/{record_id}", user="sales1").status_code == 404
        data = api.get(f"/customer/{record_id}", user="sales3").get_json()["data"]
        assert data["owner"] == org.user("sales3")
        assert data["previous_owner"] == org.user("sales1") and data["handover_at"]
    assert api.get(f"/customer/{kept}", user="sales2").status_code == 200
    with state(app).engine.connect() as conn:
        changes = conn.execute(sa.text(
            "SELECT count(*) FROM record_history WHERE entity = 'customer' AND action = 'update' "
            "AND user_id = :m"), {"m": org.user("manager")}).scalar()  # fmt: skip
    assert changes == len(mine)  # one history entry per record


def test_R14_transfer_page(pages, org, make_customer):
    record = make_customer("sales1")["id"]
    manager = pages.client("manager")
    form = manager.get("/customer/transfer")
    assert form.status_code == 200
    done = manager.post("/customer/transfer", data={"from": org.user("sales1"),
                                                    "to": org.user("sales2"),
                                                    "reason": "employee_left"})  # fmt: skip
    assert done.status_code == 303
    assert pages.client("sales2").get(f"/customer/{record}").status_code == 200
    assert pages.client("sales1").get(f"/customer/{record}").status_code == 404


def test_R14_a_salesperson_cannot_transfer_and_nothing_changes(api, pages, org, make_customer,
                                                                snapshot):  # fmt: skip
    record = make_customer("sales1")["id"]
    before = snapshot.take("customer", record)
    refused = api.post("/customer/transfer", user="sales1",
                       json={"from": org.user("sales1"), "to": org.user("sales2")})  # fmt: skip
    assert refused.status_code == 403
    assert pages.client("sales1").get("/customer/transfer").status_code == 403
    assert pages.client("sales1").post("/customer/transfer", data={
        "from": org.user("sales1"), "to": org.user("sales2")}).status_code == 403  # fmt: skip
    assert snapshot.take("customer", record) == before


def test_R14_a_manager_cannot_hand_records_outside_the_department(api, org, make_customer,
                                                                   snapshot):  # fmt: skip
    record = make_customer("sales1")["id"]
    before = snapshot.take("customer", record)
    refused = api.post("/customer/transfer", user="manager",
                       json={"from": org.user("sales1"), "to": org.user("service"),
                             "reason": "employee_left"})  # fmt: skip
    assert refused.status_code == 422 and "owner" in refused.get_json()["errors"]
    assert snapshot.take("customer", record) == before
