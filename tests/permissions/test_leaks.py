"""Leak tests, one case each: every way a CRM has been seen to leak what a role may not
read — filters and sorts as oracles, search on hidden fields, counts and aggregates over
out-of-scope rows, guessed record ids, exports, related lists, relational filters,
history, the OpenAPI document, notification bodies and mass assignment — through the API
and, where they have the feature, the pages."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
import sqlalchemy as sa

from ruleform.app import state

pytestmark = pytest.mark.app

HIDDEN_FROM_FINANCE = ("contact_name", "mobile", "email", "wechat", "last_contact_at")


def _errors(response: Any) -> dict[str, list[str]]:
    body = response.get_json()
    assert body is not None, response.status_code
    return body.get("errors") or {}


def _refused(response: Any, name: str) -> str:
    """The refusal (400/422) names ``name``; its text, for comparing refusals."""
    assert response.status_code in (400, 422), (response.status_code, response.get_json())
    errors = _errors(response)
    text = " ".join(m for messages in errors.values() for m in messages)
    assert name in errors or name in text, errors
    return text


def _ids(response: Any) -> set[int]:
    assert response.status_code == 200, response.get_json()
    return {r["id"] for r in response.get_json()["data"]}


def _links(html: str, entity: str, ids: Any) -> set[int]:
    return {i for i in ids if f'href="/{entity}/{i}"' in html}


def _page(client: Any, url: str) -> tuple[int, str]:
    response = client.get(url)
    return response.status_code, response.get_data(as_text=True)


# --- filters and sorts --------------------------------------------------------------------


def test_filtering_by_a_field_the_role_cannot_read_is_refused_not_an_oracle(api, make_customer):
    make_customer("sales1", contact_name="欧阳明")
    # the owner may filter by it: the refusal below is about finance, not the field
    assert len(_ids(api.get("/customer?filter[contact_name]=欧阳明", user="sales1"))) == 1
    matching = api.get("/customer?filter[contact_name]=欧阳明", user="finance")
    missing = api.get("/customer?filter[contact_name]=没有这个人", user="finance")
    unknown = api.get("/customer?filter[no_such_field]=欧阳明", user="finance")
    text = _refused(matching, "contact_name")
    assert _refused(missing, "contact_name") == text  # the same answer whatever the value
    assert matching.get_json() == missing.get_json()
    assert _refused(unknown, "no_such_field") == text.replace("contact_name", "no_such_field")
    for query in (
        "filter[contact_name][starts]=欧",
        "filter[contact_name][empty]=true",
        "filter[last_contact_at][lt]=2999-01-01",
        "filter[mobile][not_empty]=true",
    ):
        name = query.split("[")[1].split("]")[0]
        _refused(api.get(f"/customer?{query}", user="finance"), name)
        _refused(api.get(f"/customer/aggregate?{query}", user="finance"), name)
    # a readable but sensitive field only answers "empty or not" (the value stays masked)
    _refused(api.get("/customer?filter[mobile][starts]=139", user="sales1"), "mobile")


def test_filtering_by_a_hidden_field_through_a_list_view_is_refused(api, pages, make_customer,
                                                                    app):  # fmt: skip
    """A view's condition is a filter too: finance may not read ``at_risk``, so the
    "at risk" view must not tell finance which customers are at risk."""
    risky = make_customer("sales1")["id"]
    make_customer("sales1")
    table = state(app).runtime.table(state(app).runtime.entity("customer"))
    with state(app).engine.begin() as conn:
        conn.execute(table.update().where(table.c.id == risky).values(at_risk=True))
    assert _ids(api.get("/customer?view=at_risk&sort=company_name", user="manager")) == {risky}
    refused = api.get("/customer?view=at_risk&sort=company_name", user="finance")
    _refused(refused, "view")
    doc = api.get("/openapi.json", user="finance").get_json()
    assert "at_risk" not in doc["components"]["parameters"]["customer.view"]["schema"]["enum"]
    # the page falls back to the default view, as for an unknown one, and offers no tab
    status, html = _page(pages.client("finance"), "/customer?view=at_risk&sort=company_name")
    assert status == 200 and f'href="/customer/{risky}"' not in html
    tab = 'href="/customer?view=at_risk"'
    assert tab not in html and tab in _page(pages.client("manager"), "/customer")[1]


def test_sorting_by_a_field_the_role_cannot_read_is_refused(api, pages, make_customer):
    make_customer("sales1", contact_name="甲")
    assert api.get("/customer?sort=contact_name", user="sales1").status_code == 200
    _refused(api.get("/customer?sort=contact_name", user="finance"), "contact_name")
    _refused(api.get("/customer?sort=-last_contact_at,company_name", user="finance"),
             "last_contact_at")  # fmt: skip
    _refused(api.get("/customer?sort=mobile", user="sales1"), "mobile")  # sensitive: no order
    status, html = _page(pages.client("finance"), "/customer?view=all_customers&sort=contact_name")
    assert status == 422 and "contact_name" in html


def test_search_does_not_match_a_hidden_field(api, pages, make_customer):
    customer = make_customer("sales1", contact_name="欧阳明", direct_phone="021-55556666")
    found = {customer["id"]}
    # the view searches contact_name: the owner finds the customer by it …
    assert _ids(api.get("/customer?view=all_customers&q=欧阳明", user="sales1")) == found
    # … finance, who may not read it, finds nothing by it, but finds it by its name
    assert _ids(api.get("/customer?view=all_customers&q=欧阳明", user="finance")) == set()
    name = customer["company_name"]
    assert _ids(api.get(f"/customer?view=all_customers&q={name}", user="finance")) == found
    for phone in (customer["mobile"], "55556666", "021-55556666"):
        for user in ("finance", "sales1"):
            assert _ids(api.get(f"/customer?view=all_customers&q={phone}", user=user)) == set()
    finance = pages.client("finance")
    by_contact = _page(finance, "/customer?view=all_customers&q=欧阳明")[1]
    by_name = _page(finance, f"/customer?view=all_customers&q={name}")[1]
    assert _links(by_contact, "customer", found) == set()
    assert _links(by_name, "customer", found) == found


# --- counts, aggregates -------------------------------------------------------------------


def test_counts_and_aggregates_exclude_out_of_scope_rows(api, make_customer):
    mine = make_customer("sales1", size_score=5)
    make_customer("sales2", size_score=1)
    make_customer("sales2", size_score=1)
    listed = api.get("/customer?page_size=1", user="sales1").get_json()
    assert listed["meta"]["count"] == 1 and [r["id"] for r in listed["data"]] == [mine["id"]]
    total = api.get("/customer/aggregate?sum=importance_score&max=size_score", user="sales1")
    assert total.status_code == 200, total.get_json()
    (group,) = total.get_json()["data"]
    assert group["count"] == 1
    assert float(group["sum"]["importance_score"]) == float(mine["importance_score"])
    assert group["max"]["size_score"] == 5
    # asking for the other owner's rows by filter gives nothing, not their count
    sales2 = api.get(f"/customer?filter[owner]={mine['owner']}", user="sales2").get_json()
    assert sales2["meta"]["count"] == 0 and sales2["data"] == []
    other = api.get(f"/customer/aggregate?filter[owner]={mine['owner']}", user="sales2")
    assert sum(g["count"] for g in other.get_json()["data"]) == 0
    grouped = api.get("/customer/aggregate?group_by=owner", user="manager").get_json()["data"]
    assert sum(g["count"] for g in grouped) == 3
    # finance may not read the scores: neither sum nor group by them
    _refused(api.get("/customer/aggregate?sum=importance_score", user="finance"),
             "importance_score")  # fmt: skip
    _refused(api.get("/customer/aggregate?group_by=source", user="finance"), "source")


# --- guessed ids -----------------------------------------------------------------------------


def test_guessing_another_owners_record_id_gives_404_everywhere(api, pages, make_customer):
    theirs = make_customer("sales2")["id"]
    nobody = theirs + 10_000
    headers = {"If-Match": 'W/"1"'}
    calls = {
        "get": lambda i: api.get(f"/customer/{i}", user="sales1"),
        "update": lambda i: api.patch(f"/customer/{i}", user="sales1",
                                      json={"wechat": "x"}, headers=headers),
        "archive": lambda i: api.delete(f"/customer/{i}", user="sales1", headers=headers),
        "transition": lambda i: api.post(f"/customer/{i}/transitions/submit_review",
                                         user="sales1", json={}, headers=headers),
        "transitions": lambda i: api.get(f"/customer/{i}/transitions", user="sales1"),
        "history": lambda i: api.get(f"/customer/{i}/history", user="sales1"),
        "related": lambda i: api.get(f"/customer/{i}/related/contact", user="sales1"),
        "approvals": lambda i: api.get(f"/customer/{i}/approvals", user="sales1"),
        "form-state": lambda i: api.post(f"/customer/{i}/form-state", user="sales1", json={}),
        "reveal": lambda i: api.get(f"/customer/{i}?reveal=mobile", user="sales1"),
    }  # fmt: skip
    for what, call in calls.items():
        guessed, missing = call(theirs), call(nobody)
        assert guessed.status_code == 404, (what, guessed.status_code)
        assert guessed.get_json() == missing.get_json(), what  # existence does not leak
    client = pages.client("sales1")
    for url in (
        f"/customer/{theirs}",
        f"/customer/{theirs}/edit",
        f"/customer/{theirs}/transitions/submit_review",
    ):
        assert client.get(url).status_code == 404, url
    for url, data in (
        (f"/customer/{theirs}/edit", {"row_version": "1", "wechat": "x"}),
        (f"/customer/{theirs}/archive", {"row_version": "1"}),
        (f"/customer/{theirs}/transitions/submit_review", {"row_version": "1"}),
    ):
        assert client.post(url, data=data).status_code == 404, url


# --- exports ------------------------------------------------------------------------------------


def _csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    text = response.get_data(as_text=True).lstrip("\ufeff")
    return list(csv.reader(io.StringIO(text)))


def test_export_holds_only_in_scope_rows(api, make_customer, row):
    inside = [make_customer("sales1")["company_name"], make_customer("sales3")["company_name"]]
    outside = "客服部自己的客户有限公司"
    row("customer", "service", company_name=outside)
    for fmt in ("csv", "xlsx"):
        exported = api.get(f"/customer/export?format={fmt}", user="manager")
        assert exported.status_code == 200
        text = _text_of(exported, fmt)
        assert all(name in text for name in inside) and outside not in text
    assert api.get("/customer/export?format=csv", user="sales1").status_code == 403


def _text_of(response: Any, fmt: str) -> str:
    if fmt == "csv":
        return "\n".join(",".join(r) for r in _csv(response))
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(response.get_data()), read_only=True)
    return "\n".join(",".join("" if v is None else str(v) for v in r)
                     for r in book.active.iter_rows(values_only=True))  # fmt: skip


def test_export_holds_only_readable_fields(app, api, org, row):
    customer = row("customer", "sales1", company_name="导出测试客户有限公司")
    contract = row("contract", "sales1", contract_no="HT-2026-001", customer=customer,
                   amount=120000, termination_reason="内部机密的终止原因")  # fmt: skip
    rt = state(app).runtime
    readable = rt.policy.readable_fields(_actor(app, org, "finance"), rt.entity("contract"))
    for fmt in ("csv", "xlsx"):
        full = _text_of(api.get(f"/contract/export?format={fmt}", user="gm"), fmt)
        assert "内部机密的终止原因" in full  # exported for those who may read it
        finance = api.get(f"/contract/export?format={fmt}", user="finance")
        text = _text_of(finance, fmt)
        assert "HT-2026-001" in text and "内部机密的终止原因" not in text
    header = _csv(api.get("/contract/export?format=csv", user="finance"))[0]
    labels = {f.label.get("zh-CN", n): n for n, f in rt.entity("contract").fields.items()}
    assert {labels.get(h, h) for h in header} - {"id"} <= readable
    asked = api.get("/contract/export?format=csv&fields=contract_no,termination_reason",
                    user="finance")  # fmt: skip
    _refused(asked, "termination_reason")
    assert contract


def _actor(app: Any, org: Any, username: str) -> Any:
    from ruleform.platform.actors import load_actor

    with state(app).engine.connect() as conn:
        return load_actor(conn, org.user(username))


# --- related lists and relational filters --------------------------------------------------------


def test_related_lists_apply_the_related_entitys_row_rules(api, pages, row):
    customer = row("customer", "sales1", company_name="共同客户有限公司")
    own = row("contract", "sales1", contract_no="HT-OWN", customer=customer, amount=1)
    theirs = row("contract", "sales2", contract_no="HT-THEIRS", customer=customer, amount=2)
    listed = api.get(f"/customer/{customer}/related/contract", user="sales1")
    assert _ids(listed) == {own}
    assert listed.get_json()["meta"]["count"] == 1
    assert _ids(api.get(f"/customer/{customer}/related/contract", user="manager")) == {own, theirs}
    status, html = _page(pages.client("sales1"), f"/customer/{customer}")
    assert status == 200 and "HT-OWN" in html and "HT-THEIRS" not in html


def test_related_lists_apply_the_related_entitys_field_rules(api, pages, row):
    customer = row("customer", "sales1", company_name="字段规则客户有限公司")
    row("contract", "sales1", contract_no="HT-FIELDS", customer=customer, amount=3,
        termination_reason="不给财务看的原因")  # fmt: skip
    listed = api.get(f"/customer/{customer}/related/contract?fields=contract_no,amount",
                     user="finance")  # fmt: skip
    assert listed.status_code == 200, listed.get_json()
    assert "termination_reason" not in str(listed.get_json())
    everything = api.get(f"/customer/{customer}/related/contract", user="finance").get_json()
    assert "不给财务看的原因" not in str(everything)
    assert "termination_reason" not in everything["meta"]["columns"]
    _refused(api.get(f"/customer/{customer}/related/contract?fields=termination_reason",
                     user="finance"), "termination_reason")  # fmt: skip
    html = _page(pages.client("finance"), f"/customer/{customer}")[1]
    assert "HT-FIELDS" in html and "不给财务看的原因" not in html


def test_a_related_list_by_a_link_field_the_role_cannot_read_does_not_exist(api, pages, row):
    """Finance reads quotes and contracts, but not which quote a contract came from: the
    quote's "contracts" list would tell exactly that."""
    customer = row("customer", "sales1")
    quote = row("quote", "sales1", customer=customer)
    row("contract", "sales1", contract_no="HT-FROM-QUOTE", customer=customer, quote=quote,
        amount=5)  # fmt: skip
    assert api.get(f"/quote/{quote}/related/contract", user="gm").status_code == 200
    refused = api.get(f"/quote/{quote}/related/contract", user="finance")
    assert refused.status_code == 404 and "HT-FROM-QUOTE" not in refused.get_data(as_text=True)
    doc = api.get("/openapi.json", user="finance").get_json()
    assert not any(p.startswith("/quote/{id}/related/contract") for p in doc["paths"])
    html = _page(pages.client("finance"), f"/quote/{quote}")[1]
    assert "HT-FROM-QUOTE" not in html


def test_relational_filters_apply_the_related_entitys_row_rules(api, pages, row):
    """Lists filter on their own columns only; a path into a related record is refused, and
    a reference shows the related record's title only to those who may read that record."""
    theirs = row("customer", "sales2", company_name="别人的客户有限公司")
    ticket = row("ticket", "sales1", subject="我的工单", customer=theirs)
    _refused(api.get(f"/ticket?filter[customer.owner]={1}", user="sales1"), "customer.owner")
    _refused(api.get("/ticket?filter[customer.company_name]=别人", user="sales1"),
             "customer.company_name")  # fmt: skip
    # the ticket is sales1's own; the customer it names is not: its id, never its name
    listed = api.get(f"/ticket?filter[customer]={theirs}", user="sales1")
    assert _ids(listed) == {ticket} and "别人的客户" not in listed.get_data(as_text=True)
    assert _ids(api.get(f"/customer?filter[id]={theirs}", user="sales1")) == set()
    status, html = _page(pages.client("sales1"), f"/ticket/{ticket}")
    assert status == 200 and "别人的客户有限公司" not in html
    assert f'href="/customer/{theirs}"' not in html
    manager_html = _page(pages.client("manager"), f"/ticket/{ticket}")[1]
    assert "别人的客户有限公司" in manager_html


# --- history, OpenAPI -------------------------------------------------------------------------


def test_history_shows_no_values_of_unreadable_fields(api, pages, make_customer):
    customer = make_customer("sales1", email="old@example.com")
    changed = api.patch(f"/customer/{customer['id']}", user="sales1",
                        json={"email": "new@example.com", "qq": "123456789",
                              "remarks": "补充的秘密信息"},
                        headers={"If-Match": f'W/"{customer["row_version"]}"'})  # fmt: skip
    assert changed.status_code == 200, changed.get_json()
    own = api.get(f"/customer/{customer['id']}/history", user="sales1").get_json()["data"]
    assert "new@example.com" in str(own) and "old@example.com" in str(own)
    entries = api.get(f"/customer/{customer['id']}/history", user="finance").get_json()["data"]
    assert len(entries) == len(own)  # finance sees that it changed …
    text = str(entries)
    for secret in (
        "old@example.com",
        "new@example.com",
        "123456789",
        "补充的秘密信息",
        customer["contact_name"],
        customer["mobile"][-4:],
    ):
        assert secret not in text  # … but none of the values it may not read
    for entry in entries:
        assert not {k.rstrip("+") for k in entry["changes"]} & set(HIDDEN_FROM_FINANCE + ("qq",))
    html = _page(pages.client("finance"), f"/customer/{customer['id']}")[1]
    for secret in ("old@example.com", "new@example.com", "123456789", "补充的秘密信息"):
        assert secret not in html


def test_openapi_lists_only_the_roles_readable_fields(api, app, org):
    rt = state(app).runtime
    for user in ("finance", "sales1", "service"):
        doc = api.get("/openapi.json", user=user).get_json()
        readable = rt.policy.readable_fields(_actor(app, org, user), rt.entity("customer"))
        schemas = doc["components"]["schemas"]
        assert set(schemas["customer"]["properties"]) <= readable
        for name in ("customer.create", "customer.update"):
            written = set(schemas.get(name, {}).get("properties", {}))
            assert written - {"row_version", "supplements"} <= readable
        params = doc["components"]["parameters"]
        assert set(params["customer.filter"]["schema"]["properties"]) <= readable
        sortable = params["customer.sort"]["description"].split("Sortable: ")[1].split(", ")
        assert set(sortable) <= readable
    finance = api.get("/openapi.json", user="finance").get_json()
    assert "contact_name" not in str(finance["components"]["schemas"]["customer"])
    service = api.get("/openapi.json", user="service").get_json()
    assert "bank_account" not in service["components"]["schemas"]["customer"]["properties"]
    assert "contact_name" in service["components"]["schemas"]["customer"]["properties"]


# --- notifications --------------------------------------------------------------------------------


def test_a_notification_never_carries_a_field_the_recipient_cannot_read(app, org):
    """R08's reminder goes to the owner's supervisor. Here the supervisor is a team lead
    with the plain sales role, who may not read the customer: the inbox message and the
    task they get name no field of it; the owner's message does."""
    from tests.delivery.conftest import Delivery
    from tests.timerules.conftest import Rules

    rules = Rules(app, org)
    users = state(app).runtime.system_table("users")
    with state(app).engine.begin() as conn:
        conn.execute(users.update().where(users.c.id == org.user("sales1"))
                     .values(manager_id=org.user("sales2")))  # fmt: skip
    customer = rules.customer("2026-03-02 10:00", company_name="保密的客户名称有限公司",
                              last_contact_at="2026-03-02T10:00:00+08:00")  # fmt: skip
    rules.set_status("customer", customer, "prospect", "2026-03-02 10:00")
    rules.tick("2026-04-16 10:05")
    assert ("inbox", "sales2") in rules.sent_to("stale_customer", customer)
    tasks = [t for t in rules.tasks("customer.stale_customer")
             if t["user_id"] == org.user("sales2")]  # fmt: skip
    assert tasks and all("保密的客户名称" not in t["title"] for t in tasks)
    Delivery(app, org).drain()
    with state(app).engine.connect() as conn:
        inbox = conn.execute(sa.text("SELECT user_id, subject, body FROM inbox_messages")).all()
    to_lead = [m for m in inbox if m.user_id == org.user("sales2")]
    to_owner = [m for m in inbox if m.user_id == org.user("sales1")]
    assert to_lead and to_owner
    assert any("保密的客户名称" in m.subject + m.body for m in to_owner)
    for m in to_lead:
        assert "保密的客户名称" not in m.subject + m.body and "2026-03-02" not in m.body


# --- mass assignment ------------------------------------------------------------------------------


LONG_AGO = "2020-01-01T00:00:00Z"
#: System columns a client might try to set (None: another user's id).
SYSTEM_KEYS = {"id": 999_999, "created_at": LONG_AGO, "updated_at": LONG_AGO, "created_by": None,
               "updated_by": None, "archived": True, "archived_at": LONG_AGO,
               "rulebook_version": 1}  # fmt: skip


def _system_values(org: Any) -> dict[str, Any]:
    return {k: (org.user("sales2") if v is None else v) for k, v in SYSTEM_KEYS.items()}


def _stored(app: Any, entity: str, record_id: int) -> dict[str, Any]:
    st = state(app)
    table = st.runtime.table(st.runtime.entity(entity))
    with st.engine.connect() as conn:
        return dict(conn.execute(sa.select(table).where(table.c.id == record_id)).mappings().one())


def test_mass_assigning_owner_department_status_or_system_columns_on_create(api, app, org,
                                                                            snapshot):  # fmt: skip
    from tests.api.conftest import CUSTOMER

    before = snapshot.take("customer")
    attempts = {"owner": org.user("sales2"), "department": org.departments["service"],
                "status": "won", "row_version": 7,
                **_system_values(org)}  # fmt: skip
    for name, value in attempts.items():
        body = {**CUSTOMER, "company_name": f"批量赋值{name}有限公司", name: value}
        refused = api.post("/customer", user="sales1", json=body)
        assert refused.status_code == 422, (name, refused.status_code)
        assert name in _errors(refused), (name, _errors(refused))
    assert snapshot.take("customer") == before  # nothing was created


def test_mass_assigning_owner_department_status_or_system_columns_on_update(api, app, org,
                                                                            make_customer,
                                                                            snapshot):  # fmt: skip
    customer = make_customer("sales1")
    url = f"/customer/{customer['id']}"
    before = snapshot.take("customer", customer["id"])
    stored = _stored(app, "customer", customer["id"])
    headers = {"If-Match": f'W/"{customer["row_version"]}"'}
    attempts = {"owner": org.user("sales2"), "department": org.departments["service"],
                "status": "won",
                **_system_values(org)}  # fmt: skip
    for name, value in attempts.items():
        refused = api.patch(url, user="sales1", json={"wechat": "changed", name: value},
                            headers=headers)  # fmt: skip
        assert refused.status_code == 422, (name, refused.status_code)
        assert name in _errors(refused), (name, _errors(refused))
    # the row version is the lock, not a value: a made-up one is a conflict, never stored
    forged = api.patch(url, user="sales1", json={"wechat": "changed", "row_version": 99})
    assert forged.status_code == 409
    assert snapshot.take("customer", customer["id"]) == before
    assert _stored(app, "customer", customer["id"]) == stored
    # a manager may assign owners, but only within reach, and never the status
    for name, value in (("owner", org.user("service")), ("department", org.departments["finance"]),
                        ("status", "won")):  # fmt: skip
        refused = api.patch(url, user="manager", json={name: value}, headers=headers)
        assert refused.status_code == 422 and name in _errors(refused), name
    assert snapshot.take("customer", customer["id"]) == before
