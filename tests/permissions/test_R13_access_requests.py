"""R13: a user who needs data outside their permission asks their superior; access is
granted by approval, for a limited time, and ends by itself — all of it audited."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from ruleform.app import state
from tests.permissions.conftest import form_data

pytestmark = pytest.mark.app


def _ask(api, customer_id: int, until: date, user: str = "sales2") -> dict:
    body = {"subject": "联合投标需要", "customer": customer_id, "purpose": "投标资料核对",
            "valid_until": until.isoformat()}  # fmt: skip
    response = api.post("/access_request", user=user, json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["data"]


def _grant(api, request_row: dict, user: str = "sales2", approver: str = "manager") -> None:
    url = f"/access_request/{request_row['id']}/transitions/submit"
    taken = api.post(
        url, user=user, json={}, headers={"If-Match": f'W/"{request_row["row_version"]}"'}
    )
    assert taken.status_code in (200, 202), taken.get_json()
    request_id = taken.get_json()["request_id"]
    decided = api.post(f"/approvals/{request_id}/approve", user=approver, json={})
    assert decided.status_code == 200, decided.get_json()


def test_R13_grant_opens_one_customer_until_it_expires_through_the_api(api, make_customer):
    customer = make_customer("sales1")
    other = make_customer("sales1")
    url = f"/customer/{customer['id']}"
    assert api.get(url, user="sales2").status_code == 404  # outside sales2's scope
    today = date.today()
    asked = _ask(api, customer["id"], today + timedelta(days=10))
    # the request names a customer sales2 cannot read (reference_scope: any) …
    assert asked["customer"] == customer["id"]
    assert api.get(url, user="sales2").status_code == 404  # … asking grants nothing
    _grant(api, asked)
    assert api.get(url, user="sales2").status_code == 200
    listed = {r["id"] for r in api.get("/customer", user="sales2").get_json()["data"]}
    assert customer["id"] in listed and other["id"] not in listed  # that one customer only
    with time_machine.travel(today + timedelta(days=11), tick=False):
        assert api.get(url, user="sales2").status_code == 404  # expired by itself
        assert customer["id"] not in {r["id"] for r in api.get("/customer", user="sales2")
                                      .get_json()["data"]}  # fmt: skip


def test_R13_a_request_for_a_record_that_does_not_exist_is_refused(api):
    body = {"subject": "x", "customer": 987654, "purpose": "y",
            "valid_until": (date.today() + timedelta(days=3)).isoformat()}  # fmt: skip
    response = api.post("/access_request", user="sales2", json=body)
    assert response.status_code == 422 and "customer" in response.get_json()["errors"]


def test_R13_the_request_does_not_reveal_the_customer_title(api, pages, make_customer):
    customer = make_customer("sales1", company_name="保密精密机械有限公司")
    asked = _ask(api, customer["id"], date.today() + timedelta(days=5))
    page = pages.client("sales2").get(f"/access_request/{asked['id']}").get_data(as_text=True)
    assert f"#{customer['id']}" in page
    assert "保密精密机械" not in page  # the title stays hidden until granted
    form = pages.client("sales2").get(f"/access_request/new?customer={customer['id']}")
    assert form.status_code == 200 and "保密精密机械" not in form.get_data(as_text=True)


def test_R13_through_the_pages_and_the_whole_story_is_audited(app, api, pages, make_customer):
    customer = make_customer("sales1")
    sales2 = pages.client("sales2")
    assert sales2.get(f"/customer/{customer['id']}").status_code == 404
    until = date.today() + timedelta(days=7)
    values = {"subject": "年度回访", "customer": str(customer["id"]), "purpose": "回访记录核对",
              "valid_until": until.isoformat()}  # fmt: skip
    created = sales2.post("/access_request/new", data=form_data(values))
    assert created.status_code == 303, created.get_data(as_text=True)[:1500]
    request_id = int(created.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    row = api.get(f"/access_request/{request_id}", user="sales2").get_json()["data"]
    _grant(api, row)
    assert sales2.get(f"/customer/{customer['id']}").status_code == 200
    with time_machine.travel(until + timedelta(days=1), tick=False):
        assert sales2.get(f"/customer/{customer['id']}").status_code == 404
    with state(app).engine.connect() as conn:
        actions = [r.action for r in conn.execute(sa.text(
            "SELECT action FROM record_history WHERE entity = 'access_request' AND record_id = :i "
            "ORDER BY id"), {"i": request_id})]  # fmt: skip
        approvals = conn.execute(sa.text(
            "SELECT count(*) FROM approval_requests WHERE entity = 'access_request' "
            "AND record_id = :i"), {"i": request_id}).scalar()  # fmt: skip
        seen = conn.execute(sa.text(
            "SELECT count(*) FROM read_audit WHERE entity = 'customer' AND record_id = :i "
            "AND user_id = (SELECT id FROM users WHERE username = 'sales2')"),
            {"i": customer["id"]}).scalar()  # fmt: skip
    assert actions[0] == "create" and len(actions) >= 2  # asked, then granted by the approval
    assert approvals == 1
    assert seen >= 1  # R40: the granted view is in the read audit


def test_R13_a_revoked_grant_closes_access_at_once(api, make_customer):
    customer = make_customer("sales1")
    asked = _ask(api, customer["id"], date.today() + timedelta(days=10))
    _grant(api, asked)
    url = f"/customer/{customer['id']}"
    assert api.get(url, user="sales2").status_code == 200
    row = api.get(f"/access_request/{asked['id']}", user="manager").get_json()["data"]
    revoked = api.post(f"/access_request/{asked['id']}/transitions/revoke", user="manager",
                       json={"fields": {"revoke_reason": "项目结束"}},
                       headers={"If-Match": f'W/"{row["row_version"]}"'})  # fmt: skip
    assert revoked.status_code == 200, revoked.get_json()
    assert api.get(url, user="sales2").status_code == 404
