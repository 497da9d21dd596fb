"""403 means no side effect: every denied write leaves the row, the history, the read audit,
the outbox, approvals, tasks, supplements and duplicate keys exactly as they were (EspoCRM
CVE-2026-41160: the record was saved first and the request refused after).

Each refused request below carries a payload that would succeed for a user with the right,
so it is the permission check — not validation — that stops it, and it must stop it
before anything is written."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from ruleform.app import state
from tests.api.conftest import CUSTOMER
from tests.permissions.conftest import form_data

pytestmark = pytest.mark.app


def _if_match(record: dict[str, Any]) -> dict[str, str]:
    return {"If-Match": f'W/"{record["row_version"]}"'}


def _unchanged(snapshot: Any, before: dict[str, Any], entity: str, record_id: int | None) -> None:
    after = snapshot.take(entity, record_id)
    changed = {k: (before.get(k), after.get(k)) for k in before.keys() | after.keys()
               if before.get(k) != after.get(k)}  # fmt: skip
    assert not changed, f"a refused write changed {changed}"


def _status(app: Any, entity: str, record_id: int) -> str:
    st = state(app)
    table = st.runtime.table(st.runtime.entity(entity))
    with st.engine.connect() as conn:
        return conn.execute(sa.select(table.c.status).where(table.c.id == record_id)).scalar_one()


def test_a_denied_api_create_writes_nothing(api, make_customer, snapshot):
    existing = make_customer("sales1", contact_department="采购部")
    # the same company and department again would open a conflict case (R17) if saved
    body = {**CUSTOMER, "company_name": existing["company_name"], "contact_department": "采购部"}
    before = snapshot.take("customer")
    for user in ("service", "finance", "tech"):
        refused = api.post("/customer", user=user, json=body)
        assert refused.status_code == 403, (user, refused.status_code)
        _unchanged(snapshot, before, "customer", None)
    assert snapshot.take("conflict_case")["e_conflict_case"] == 0


def test_a_denied_api_update_writes_nothing(api, make_customer, snapshot):
    customer = make_customer("sales1")
    before = snapshot.take("customer", customer["id"])
    valid = {"wechat": "new_wechat", "remarks": "补充信息", "next_contact_on": "2030-01-01"}
    refused = api.patch(f"/customer/{customer['id']}", user="service", json=valid,
                        headers=_if_match(customer))  # fmt: skip
    assert refused.status_code == 403
    _unchanged(snapshot, before, "customer", customer["id"])
    hidden = api.patch(f"/customer/{customer['id']}", user="sales2", json=valid,
                       headers=_if_match(customer))  # fmt: skip
    assert hidden.status_code == 404
    _unchanged(snapshot, before, "customer", customer["id"])
    # finance may update, but only the credit limit: one forbidden field refuses it all
    mixed = api.patch(f"/customer/{customer['id']}", user="finance", headers=_if_match(customer),
                      json={"credit_limit": "90000", "wechat": "x"})  # fmt: skip
    assert mixed.status_code == 422 and "wechat" in mixed.get_json()["errors"]
    _unchanged(snapshot, before, "customer", customer["id"])


def test_a_denied_api_archive_writes_nothing(api, make_customer, snapshot):
    customer = make_customer("sales1")
    before = snapshot.take("customer", customer["id"])
    for user, expected in (("sales1", 403), ("manager", 403), ("service", 403), ("sales2", 404)):
        refused = api.delete(f"/customer/{customer['id']}", user=user, headers=_if_match(customer))
        assert refused.status_code == expected, (user, refused.status_code)
        _unchanged(snapshot, before, "customer", customer["id"])


def test_a_denied_transition_opens_no_approval_and_writes_nothing(app, api, make_customer,
                                                                  snapshot):  # fmt: skip
    customer = make_customer("sales1")
    before = snapshot.take("customer", customer["id"])
    url = f"/customer/{customer['id']}/transitions/submit_review"
    for user, expected in (("service", 403), ("finance", 403), ("sales2", 404)):
        refused = api.post(url, user=user, json={"comment": "请审核"}, headers=_if_match(customer))
        assert refused.status_code == expected, (user, refused.status_code)
        _unchanged(snapshot, before, "customer", customer["id"])
    # the owner's identical request opens the approval: the refusals above were real
    taken = api.post(url, user="sales1", json={"comment": "请审核"}, headers=_if_match(customer))
    assert taken.status_code == 202, taken.get_json()
    assert snapshot.take("customer", customer["id"])["approval_requests"] == \
        before["approval_requests"] + 1  # fmt: skip


def test_a_denied_exception_transition_writes_nothing(app, api, row, snapshot):
    lost = row("customer", "sales1", company_name="已流失客户有限公司", status="lost",
               lost_reason="价格")  # fmt: skip
    before = snapshot.take("customer", lost)
    refused = api.post(f"/customer/{lost}/transitions/reopen", user="service",
                       json={"reason": "客户重新联系"}, headers={"If-Match": 'W/"1"'})  # fmt: skip
    assert refused.status_code == 403
    _unchanged(snapshot, before, "customer", lost)
    assert _status(app, "customer", lost) == "lost"


def test_denied_page_forms_write_nothing(app, pages, make_customer, snapshot):
    customer = make_customer("sales1")
    before = snapshot.take("customer", customer["id"])
    values = {"wechat": "page_wechat", "row_version": str(customer["row_version"])}
    service = pages.client("service")
    edit = service.post(f"/customer/{customer['id']}/edit", data=form_data(values))
    assert edit.status_code == 403
    _unchanged(snapshot, before, "customer", customer["id"])
    new = {k: str(v) for k, v in CUSTOMER.items()}
    assert service.post("/customer/new", data=form_data(new)).status_code == 403
    _unchanged(snapshot, before, "customer", customer["id"])
    sales1 = pages.client("sales1")
    archive = sales1.post(f"/customer/{customer['id']}/archive",
                          data={"row_version": str(customer["row_version"])})  # fmt: skip
    assert archive.status_code == 403
    _unchanged(snapshot, before, "customer", customer["id"])
    version = str(customer["row_version"])
    taken = service.post(f"/customer/{customer['id']}/transitions/submit_review",
                         data={"row_version": version, "comment": "x"})  # fmt: skip
    assert taken.status_code in (302, 303, 403)  # refused: back to the record with a message
    _unchanged(snapshot, before, "customer", customer["id"])
    assert _status(app, "customer", customer["id"]) == "pending_review"


def test_a_denied_bulk_transfer_writes_nothing(api, pages, org, make_customer, row, snapshot):
    mine = [make_customer("sales1")["id"] for _ in range(2)]
    before = {i: snapshot.take("customer", i) for i in mine}
    payload = {"from": org.user("sales1"), "to": org.user("sales2"), "reason": "employee_left"}
    assert api.post("/customer/transfer", user="sales1", json=payload).status_code == 403
    assert api.post("/customer/transfer", user="finance", json=payload).status_code == 403
    assert pages.client("service").post("/customer/transfer", data=payload).status_code == 403
    for i in mine:
        _unchanged(snapshot, before[i], "customer", i)


def test_a_bulk_transfer_failing_half_way_writes_nothing(api, app, org, make_customer, row,
                                                         snapshot):  # fmt: skip
    """The manager may transfer, but one of the records cannot be saved (it lacks required
    fields): every record stays, none moves — the transfer is one transaction."""
    good = make_customer("sales1")["id"]
    broken = row("customer", "sales1", company_name="缺少必填项的客户有限公司")
    before = {i: snapshot.take("customer", i) for i in (good, broken)}
    moved = api.post("/customer/transfer", user="manager",
                     json={"from": org.user("sales1"), "to": org.user("sales2"),
                           "reason": "employee_left"})  # fmt: skip
    assert moved.status_code == 422, moved.get_json()
    for i in (good, broken):
        _unchanged(snapshot, before[i], "customer", i)
