"""Every write path refuses a role without the right — the form, the API, the bulk transfer
and the transitions (API and page) — and nothing a request says can make it act as
someone else: ``?user=``, ``owner=``, ``as_user=`` or ``X-User`` headers change nothing
(Frappe #40339). The CRM has no import or inline-edit endpoint; the bulk transfer is its
bulk update.

A user holding several roles gets each role's rights on that role's rows: a transition or a
field one role may write does not extend to the rows only another role reaches."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from ruleform.app import state
from ruleform.platform.auth.users import create_user
from tests.api.conftest import CUSTOMER
from tests.permissions.conftest import form_data

pytestmark = pytest.mark.app

IMPERSONATION_PARAMS = ("user={id}", "user_id={id}", "as_user={name}", "as_user={id}",
                        "owner={id}", "act_as={name}", "sudo={name}",
                        "impersonate={name}")  # fmt: skip
IMPERSONATION_HEADERS = ("X-User", "X-User-Id", "X-Remote-User", "X-Forwarded-User",
                         "X-Impersonate", "X-Act-As", "X-Test-User", "Remote-User")  # fmt: skip


def _stored(app: Any, entity: str, record_id: int) -> dict[str, Any]:
    st = state(app)
    table = st.runtime.table(st.runtime.entity(entity))
    with st.engine.connect() as conn:
        return dict(conn.execute(sa.select(table).where(table.c.id == record_id)).mappings().one())


def _if_match(record: dict[str, Any]) -> dict[str, str]:
    return {"If-Match": f'W/"{record["row_version"]}"'}


# --- every path refuses a role without the right ------------------------------------------------


def test_the_api_refuses_every_write_without_the_right(app, api, make_customer):
    customer = make_customer("sales1")
    stored = _stored(app, "customer", customer["id"])
    url = f"/customer/{customer['id']}"
    assert api.post("/customer", user="service", json=CUSTOMER).status_code == 403
    assert api.patch(url, user="service", json={"wechat": "x"},
                     headers=_if_match(customer)).status_code == 403  # fmt: skip
    assert api.delete(url, user="sales1", headers=_if_match(customer)).status_code == 403
    assert api.post(f"{url}/transitions/submit_review", user="service", json={},
                    headers=_if_match(customer)).status_code == 403  # fmt: skip
    contract = {"contract_no": "HT-1", "customer": customer["id"], "amount": "100"}
    assert api.post("/contract", user="service", json=contract).status_code in (403, 404)
    assert _stored(app, "customer", customer["id"]) == stored


def test_the_pages_refuse_every_write_without_the_right(app, pages, make_customer):
    customer = make_customer("sales1")
    stored = _stored(app, "customer", customer["id"])
    url = f"/customer/{customer['id']}"
    service = pages.client("service")
    assert service.get("/customer/new").status_code == 403
    new = {k: str(v) for k, v in CUSTOMER.items()}
    assert service.post("/customer/new", data=form_data(new)).status_code == 403
    assert service.get(f"{url}/edit").status_code == 403
    edit = {"wechat": "x", "row_version": str(customer["row_version"])}
    assert service.post(f"{url}/edit", data=form_data(edit)).status_code == 403
    assert pages.client("sales1").post(f"{url}/archive", data={
        "row_version": str(customer["row_version"])}).status_code == 403  # fmt: skip
    taken = service.post(f"{url}/transitions/submit_review", data={"row_version": "1"})
    assert taken.status_code in (302, 303, 403)  # refused, back to the record with a message
    assert _stored(app, "customer", customer["id"]) == stored
    # the page offers none of it either
    html = service.get(url).get_data(as_text=True)
    assert f'href="{url}/edit"' not in html and f'action="{url}/archive"' not in html


def test_the_bulk_transfer_refuses_a_role_without_the_right(app, api, pages, org, make_customer):
    record = make_customer("sales1")["id"]
    stored = _stored(app, "customer", record)
    body = {"from": org.user("sales1"), "to": org.user("sales2")}
    for user in ("sales1", "sales2", "finance", "service"):
        assert api.post("/customer/transfer", user=user, json=body).status_code == 403, user
        client = pages.client(user)
        assert client.get("/customer/transfer").status_code == 403, user
        assert client.post("/customer/transfer", data=body).status_code == 403, user
    assert _stored(app, "customer", record) == stored


def test_finance_writes_only_its_fields_on_every_path(app, api, pages, make_customer):
    customer = make_customer("sales1")
    url = f"/customer/{customer['id']}"
    refused = api.patch(url, user="finance", json={"company_name": "改名", "owner": 1},
                        headers=_if_match(customer))  # fmt: skip
    assert refused.status_code == 422
    assert {"company_name", "owner"} <= set(refused.get_json()["errors"])
    page = pages.client("finance")
    form = page.get(f"{url}/edit").get_data(as_text=True)
    assert 'name="credit_limit"' in form and 'name="contact_name"' not in form
    posted = page.post(f"{url}/edit", data=form_data({
        "credit_limit": "30000", "contact_name": "篡改", "company_name": "篡改公司",
        "row_version": str(customer["row_version"])}))  # fmt: skip
    assert posted.status_code in (302, 303)
    stored = _stored(app, "customer", customer["id"])
    assert str(stored["credit_limit"]).startswith("30000")
    assert stored["contact_name"] == customer["contact_name"]
    assert stored["company_name"] == customer["company_name"]


# --- several roles: each right on its own role's rows -----------------------------------------


def _user_with_roles(app: Any, org: Any, tokens: Any, name: str, roles: list[str]) -> str:
    with state(app).engine.begin() as conn:
        user_id = create_user(conn, name, "demo", display_name=name,
                              department_id=org.departments["sales"], roles=roles,
                              manager_id=org.user("manager"), locale="zh-CN",
                              email=f"{name}@example.com")  # fmt: skip
    tokens.users[name] = user_id
    return name


def test_a_transition_right_does_not_reach_rows_only_another_role_reads(app, api, org, tokens,
                                                                        make_customer):  # fmt: skip
    """Customer service reads every customer but takes no customer transition; sales takes
    them on its own customers. Holding both does not allow them on someone else's."""
    both = _user_with_roles(app, org, tokens, "cs_and_sales", ["customer_service", "sales"])
    theirs = make_customer("sales2")
    mine = make_customer(both)
    assert api.get(f"/customer/{theirs['id']}", user=both).status_code == 200  # readable
    refused = api.post(f"/customer/{theirs['id']}/transitions/submit_review", user=both,
                       json={}, headers=_if_match(theirs))  # fmt: skip
    assert refused.status_code == 403
    assert _stored(app, "customer", theirs["id"])["status"] == "pending_review"
    offered = api.get(f"/customer/{theirs['id']}/transitions", user=both).get_json()
    allowed = {o["name"] for o in offered["transitions"] if o["allowed"]}
    assert "submit_review" not in allowed
    taken = api.post(f"/customer/{mine['id']}/transitions/submit_review", user=both, json={},
                     headers=_if_match(mine))  # fmt: skip
    assert taken.status_code == 202, taken.get_json()


def test_a_field_right_does_not_reach_rows_only_another_role_updates(app, api, org, tokens,
                                                                     make_customer):  # fmt: skip
    """Finance updates every customer's credit limit; sales updates its own customers'
    contact data. Holding both does not allow changing another owner's contact data."""
    both = _user_with_roles(app, org, tokens, "finance_and_sales", ["finance", "sales"])
    theirs = make_customer("sales2")
    refused = api.patch(f"/customer/{theirs['id']}", user=both, json={"wechat": "hijacked"},
                        headers=_if_match(theirs))  # fmt: skip
    assert refused.status_code in (403, 422)
    assert _stored(app, "customer", theirs["id"])["wechat"] != "hijacked"
    allowed = api.patch(f"/customer/{theirs['id']}", user=both, json={"credit_limit": "1000"},
                        headers=_if_match(theirs))  # fmt: skip
    assert allowed.status_code == 200, allowed.get_json()
    mine = make_customer(both)
    own = api.patch(f"/customer/{mine['id']}", user=both, json={"wechat": "mine_wx"},
                    headers=_if_match(mine))  # fmt: skip
    assert own.status_code == 200, own.get_json()


# --- nobody acts as someone else -----------------------------------------------------------------


def _variants(org: Any, target: str) -> list[tuple[str, dict[str, str]]]:
    """(query string, headers) pairs that try to act as ``target``."""
    ids = {"id": org.user(target), "name": target}
    params = [(p.format(**ids), {}) for p in IMPERSONATION_PARAMS]
    headers = [("", {h: target}) for h in IMPERSONATION_HEADERS]
    headers += [("", {h: str(org.user(target))}) for h in ("X-User-Id", "X-User")]
    return params + headers


def test_parameters_and_headers_cannot_widen_a_list(api, org, make_customer):
    mine = make_customer("sales1")["id"]
    make_customer("sales2")
    make_customer("sales3")
    plain = api.get("/customer", user="sales1").get_json()
    assert {r["id"] for r in plain["data"]} == {mine}
    for query, headers in _variants(org, "manager"):
        seen = api.get(f"/customer?{query}", user="sales1", headers=headers)
        assert seen.status_code == 200, (query, headers)
        assert {r["id"] for r in seen.get_json()["data"]} == {mine}, (query, headers)
        assert seen.get_json()["meta"]["count"] == 1
        counted = api.get(f"/customer/aggregate?{query}", user="sales1", headers=headers)
        assert sum(g["count"] for g in counted.get_json()["data"]) == 1, (query, headers)


def test_parameters_and_headers_cannot_open_another_users_record(api, pages, org, make_customer):
    theirs = make_customer("sales2")
    page = pages.client("sales1")
    for query, headers in _variants(org, "sales2") + _variants(org, "manager")[:4]:
        url = f"/customer/{theirs['id']}?{query}"
        assert api.get(url, user="sales1", headers=headers).status_code == 404, (query, headers)
        changed = api.patch(url, user="sales1", json={"wechat": "x"},
                            headers={**headers, **_if_match(theirs)})  # fmt: skip
        assert changed.status_code == 404, (query, headers)
        taken = api.post(f"/customer/{theirs['id']}/transitions/submit_review?{query}",
                         user="sales1", json={},
                         headers={**headers, **_if_match(theirs)})  # fmt: skip
        assert taken.status_code == 404, (query, headers)
        assert api.get(f"/customer/export?{query}", user="sales1",
                       headers=headers).status_code == 403  # fmt: skip
        assert page.get(url, headers=headers).status_code == 404, (query, headers)


def test_parameters_and_headers_cannot_write_as_someone_else(app, api, pages, org):
    sales1 = org.user("sales1")
    for n, (query, headers) in enumerate(
        _variants(org, "manager")[:6] + _variants(org, "sales2")[-4:]
    ):
        body = {**CUSTOMER, "company_name": f"冒充测试{n}号有限公司"}
        made = api.post(f"/customer?{query}", user="sales1", json=body, headers=headers)
        assert made.status_code == 201, (query, headers, made.get_json())
        stored = _stored(app, "customer", made.get_json()["data"]["id"])
        assert stored["owner"] == stored["created_by"] == sales1, (query, headers)
    # a page form: hidden inputs naming an owner, a status or a creator are not inputs
    client = pages.client("sales1", **{"X-User": "manager"})
    values = {k: str(v) for k, v in CUSTOMER.items()}
    values.update({"company_name": "表单冒充测试有限公司", "owner": str(org.user("manager")),
                   "department": str(org.departments["service"]), "status": "won",
                   "created_by": str(org.user("manager")), "id": "4242"})  # fmt: skip
    done = client.post("/customer/new?as_user=manager", data=form_data(values))
    assert done.status_code in (302, 303), done.status_code
    record = int(done.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    stored = _stored(app, "customer", record)
    assert stored["owner"] == stored["created_by"] == sales1
    assert stored["status"] == "pending_review" and stored["department"] == org.departments["sales"]


def test_headers_without_a_login_identify_nobody(api, pages, org):
    for header in IMPERSONATION_HEADERS:
        for value in ("admin", str(org.user("admin"))):
            assert api.get("/customer", user=None, headers={header: value}).status_code == 401
            response = pages.client(None, **{header: value}).get("/customer")
            assert response.status_code in (302, 303, 401), (header, response.status_code)
