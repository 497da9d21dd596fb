"""Several roles: the union of each role's rights *on its own rows*.

``finsales`` holds finance (every customer, payment fields only — R39) and sales (own
customers, every field — R28). On customers of other salespeople they read the payment
fields only; on their own customers every field. Every read path is checked through the
API and the pages: list, detail, reveal, search, filter, sort (and its cursors),
aggregates, export, related lists and history — a field is never shown, matched, ordered
or counted on a row where no role reaching that row reads it.
"""

from __future__ import annotations

import base64
import csv
import io
from typing import Any

import pytest
import sqlalchemy as sa

from ruleform.app import state
from ruleform.platform.actors import load_actor
from ruleform.platform.auth.users import create_user

pytestmark = pytest.mark.app

SALES_ONLY = {"contact_name", "mobile", "email", "wechat", "source"}
PAYMENT = {"company_name", "tax_id", "credit_limit"}
THEIR_CONTACT = "别人的联系人Aaron"
OTHER_CONTACT = "别人的联系人Bob"
OWN_CONTACT = "自己的联系人Zoe"


@pytest.fixture
def finsales(app, org) -> str:
    """A salesperson in the sales department who also holds finance."""
    with state(app).engine.begin() as conn:
        org.users["finsales"] = create_user(conn, "finsales", "demo", display_name="王财销",
                                            department_id=org.departments["sales"],
                                            roles=["finance", "sales"], locale="zh-CN")  # fmt: skip
    return "finsales"


@pytest.fixture
def world(api, finsales, make_customer) -> dict[str, Any]:
    """Two customers of sales1 (made through the API: their history holds contact data) and
    one of finsales; ids in the opposite order of their contact names."""
    bob = make_customer("sales1", contact_name=OTHER_CONTACT, mobile="13911110001",
                        email="bob@example.com", tax_id="91310000BOB000001X")  # fmt: skip
    aaron = make_customer("sales1", contact_name=THEIR_CONTACT, mobile="13911110002",
                          email="aaron@example.com", tax_id="91310000AARON0002X")  # fmt: skip
    own = make_customer(finsales, contact_name=OWN_CONTACT, mobile="13922220003",
                        email="zoe@example.com", source="referral",
                        tax_id="91310000OWN000003X")  # fmt: skip
    return {"bob": bob["id"], "aaron": aaron["id"], "own": own["id"]}


def _secrets() -> list[str]:
    return [THEIR_CONTACT, OTHER_CONTACT, "bob@example.com", "aaron@example.com",
            "13911110001", "13911110002", "1111000"]  # fmt: skip


def _no_secrets(text: str) -> None:
    for secret in _secrets():
        assert secret not in text, secret


def _rows(response: Any) -> dict[int, dict[str, Any]]:
    assert response.status_code == 200, response.get_json()
    return {r["id"]: r for r in response.get_json()["data"]}


# --- the API ------------------------------------------------------------------------------


def test_the_list_shows_sales_fields_on_own_customers_only(api, world):
    response = api.get("/customer?page_size=200", user="finsales")
    rows = _rows(response)
    assert set(world.values()) <= set(rows)
    assert SALES_ONLY <= set(response.get_json()["meta"]["columns"])  # the union of columns
    for theirs in (world["bob"], world["aaron"]):
        assert not SALES_ONLY & set(rows[theirs]), rows[theirs]
        assert PAYMENT <= set(rows[theirs])  # finance's fields on every customer
    assert rows[world["aaron"]]["tax_id"] == "91310000AARON0002X"
    assert rows[world["own"]]["contact_name"] == OWN_CONTACT and "tax_id" in rows[world["own"]]
    _no_secrets(response.get_data(as_text=True))
    asked = api.get("/customer?fields=company_name,contact_name", user="finsales")
    assert "contact_name" not in _rows(asked)[world["aaron"]]
    _no_secrets(asked.get_data(as_text=True))


def test_the_record_shows_sales_fields_on_own_customers_only(api, world):
    theirs = api.get(f"/customer/{world['aaron']}?reveal=mobile", user="finsales")
    assert theirs.status_code == 200, theirs.get_json()
    data = theirs.get_json()["data"]
    assert not SALES_ONLY & set(data) and data["tax_id"] == "91310000AARON0002X"
    _no_secrets(theirs.get_data(as_text=True))
    own = api.get(f"/customer/{world['own']}?reveal=mobile", user="finsales").get_json()["data"]
    assert own["contact_name"] == OWN_CONTACT and own["mobile"].endswith("13922220003")
    assert own["tax_id"] == "91310000OWN000003X"
    # the single-role users are unchanged
    sales1 = api.get(f"/customer/{world['aaron']}", user="sales1").get_json()["data"]
    assert "contact_name" in sales1
    assert "contact_name" not in api.get(f"/customer/{world['own']}",
                                         user="finance").get_json()["data"]  # fmt: skip


def test_a_search_matches_sales_fields_on_own_customers_only(api, world):
    found = _rows(api.get("/customer?view=all_customers&q=联系人", user="finsales"))
    assert set(found) == {world["own"]}
    assert not _rows(api.get("/customer?view=all_customers&q=Aaron", user="finsales"))
    zoe = _rows(api.get("/customer?view=all_customers&q=Zoe", user="finsales"))
    assert set(zoe) == {world["own"]}
    assert world["aaron"] in _rows(api.get("/customer?view=all_customers&q=Aaron", user="sales1"))


def test_a_filter_matches_sales_fields_on_own_customers_only(api, world):
    def ids(query: str) -> set[int]:
        return set(_rows(api.get(f"/customer?page_size=200&{query}", user="finsales")))

    assert not ids(f"filter[contact_name]={THEIR_CONTACT}")
    assert not ids("filter[contact_name][contains]=Aaron")
    assert ids("filter[contact_name][contains]=联系人") == {world["own"]}
    assert ids("filter[contact_name][not_empty]=true") == {world["own"]}
    assert not ids("filter[mobile][empty]=true") & {world["aaron"], world["bob"]}
    assert not ids("filter[source]=trade_show") & {world["aaron"], world["bob"]}
    assert world["aaron"] in ids("filter[tax_id]=91310000AARON0002X")  # finance's field: everywhere


def test_a_sort_treats_unreadable_values_as_empty(api, world):
    """Sorted by contact name, the others' customers come after the own one (empty values
    last) in id order — not Aaron before Bob — and no cursor carries their names."""
    rows = api.get("/customer?page_size=200&sort=contact_name", user="finsales").get_json()["data"]
    order = [r["id"] for r in rows if r["id"] in world.values()]
    assert order == [world["own"], world["bob"], world["aaron"]]
    descending = api.get("/customer?page_size=200&sort=-contact_name", user="finsales")
    order = [r["id"] for r in descending.get_json()["data"] if r["id"] in world.values()]
    assert order == [world["own"], world["bob"], world["aaron"]]  # empty values last
    seen, cursor = [], ""
    for _ in range(20):
        page = api.get(f"/customer?page_size=1&sort=contact_name{cursor}", user="finsales")
        body = page.get_json()
        seen += [r["id"] for r in body["data"]]
        token = body["meta"].get("next_cursor")
        if not token:
            break
        _no_secrets(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
        cursor = f"&cursor={token}"
    assert [i for i in seen if i in world.values()] == [world["own"], world["bob"], world["aaron"]]
    assert len(seen) == len(set(seen))


def test_aggregates_count_sales_fields_on_own_customers_only(api, world):
    response = api.get("/customer/aggregate?group_by=source", user="finsales")
    assert response.status_code == 200, response.get_json()
    groups = {g["key"]["source"]: g["count"] for g in response.get_json()["data"]}
    assert groups.get("referral") == 1 and "trade_show" not in groups
    assert groups.get(None, 0) >= 2  # the others' customers: their source is unreadable
    everyone = api.get("/customer/aggregate?group_by=source", user="sales1").get_json()["data"]
    assert any(g["key"]["source"] == "trade_show" for g in everyone)


def test_a_view_condition_on_a_sales_field_holds_on_own_customers_only(api, finsales, row):
    """``stale`` tests ``last_contact_at``, which finance does not read: on the others'
    customers it must not tell finsales which of them were not contacted for 45 days."""
    from datetime import UTC, datetime, timedelta

    old = datetime.now(UTC) - timedelta(days=90)
    theirs = row("customer", "sales1", company_name="久未联系别人客户", status="prospect",
                 last_contact_at=old)  # fmt: skip
    own = row("customer", finsales, company_name="久未联系自己客户", status="prospect",
              last_contact_at=old)  # fmt: skip
    assert set(_rows(api.get("/customer?view=stale", user="finsales"))) == {own}
    assert theirs in _rows(api.get("/customer?view=stale", user="sales1"))


def test_the_export_shows_sales_fields_on_own_contracts_only(api, world, row):
    """Finance exports every contract (payment fields); sales reads every field of its own."""
    row("contract", "sales1", contract_no="HT-THEIRS", customer=world["aaron"], amount=1,
        termination_reason="机密的终止原因")  # fmt: skip
    row("contract", "finsales", contract_no="HT-OWN", customer=world["own"], amount=2,
        termination_reason="自己的终止原因")  # fmt: skip
    for fmt in ("csv", "xlsx"):
        response = api.get(f"/contract/export?format={fmt}", user="finsales")
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        text = _text(response, fmt)
        assert "HT-THEIRS" in text and "HT-OWN" in text
        assert "自己的终止原因" in text and "机密的终止原因" not in text


def test_related_lists_show_sales_fields_on_own_rows_only(api, world, row):
    row("contract", "sales1", contract_no="HT-REL-THEIRS", customer=world["aaron"], amount=1,
        termination_reason="机密的终止原因")  # fmt: skip
    row("contract", "finsales", contract_no="HT-REL-OWN", customer=world["own"], amount=2,
        termination_reason="自己的终止原因")  # fmt: skip
    theirs = api.get(f"/customer/{world['aaron']}/related/contract", user="finsales")
    listed = list(_rows(theirs).values())
    assert [r["contract_no"] for r in listed] == ["HT-REL-THEIRS"]
    assert "termination_reason" not in listed[0] and "机密" not in theirs.get_data(as_text=True)
    own = list(_rows(api.get(f"/customer/{world['own']}/related/contract",
                             user="finsales")).values())  # fmt: skip
    assert [r["termination_reason"] for r in own] == ["自己的终止原因"]


def test_a_related_list_through_a_sales_only_link_lists_own_rows_only(api, world, row):
    """Contracts of a quote: finance does not read which quote a contract came from, sales
    does on its own contracts — the quote's list names only those."""
    quote = row("quote", "sales1", customer=world["aaron"])
    row("contract", "sales1", contract_no="HT-Q-THEIRS", customer=world["aaron"], quote=quote,
        amount=1)  # fmt: skip
    row("contract", "finsales", contract_no="HT-Q-OWN", customer=world["own"], quote=quote,
        amount=2)  # fmt: skip
    listed = _rows(api.get(f"/quote/{quote}/related/contract", user="finsales"))
    assert [r["contract_no"] for r in listed.values()] == ["HT-Q-OWN"]
    assert "HT-Q-THEIRS" in str(api.get(f"/quote/{quote}/related/contract", user="gm").get_json())


def test_history_shows_sales_fields_on_own_customers_only(api, world):
    theirs = api.get(f"/customer/{world['aaron']}/history", user="finsales")
    assert theirs.status_code == 200, theirs.get_json()
    entries = theirs.get_json()["data"]
    assert entries and all(not SALES_ONLY & set(e["changes"]) for e in entries)
    assert any("tax_id" in e["changes"] for e in entries)
    _no_secrets(theirs.get_data(as_text=True))
    own = api.get(f"/customer/{world['own']}/history", user="finsales").get_json()["data"]
    assert any("contact_name" in e["changes"] for e in own)


def test_the_read_audit_names_the_fields_each_row_showed(api, app, world):
    api.get(f"/customer/{world['aaron']}", user="finsales")
    api.get("/customer?page_size=200", user="finsales")
    st = state(app)
    audit = st.runtime.system_table("read_audit")
    with st.engine.connect() as conn:
        wanted = audit.c.record_id.in_([world["aaron"], world["own"]])
        rows = conn.execute(sa.select(audit.c.record_id, audit.c.fields).where(wanted)).all()
    theirs = [set(r.fields) for r in rows if r.record_id == world["aaron"]]
    assert theirs and all(not SALES_ONLY & f for f in theirs)
    assert any("contact_name" in set(r.fields) for r in rows if r.record_id == world["own"])


def test_why_names_only_the_roles_reaching_the_record(app, org, world):
    st = state(app)
    rt = st.runtime
    customer = rt.entity("customer")
    with st.engine.connect() as conn:
        actor = load_actor(conn, org.user("finsales"))

        def why(record: int, field: str) -> Any:
            return rt.policy.explain(actor, customer, record, field, conn=conn,
                                     tables=rt.tables, locale="en")  # fmt: skip

        hidden = why(world["aaron"], "contact_name")
        assert not hidden.allowed and "none of them reaches this one" in hidden.reasons[-2]
        assert why(world["aaron"], "tax_id").allowed
        assert why(world["own"], "contact_name").allowed


# --- the pages ------------------------------------------------------------------------------


def test_the_pages_show_sales_fields_on_own_customers_only(pages, world, row):
    client = pages.client("finsales")
    listing = client.get("/customer?view=all_customers")
    assert listing.status_code == 200
    html = listing.get_data(as_text=True)
    assert OWN_CONTACT in html and "客户" in html
    _no_secrets(html)
    for query in ("q=Aaron", "f.source=trade_show", "sort=contact_name", "sort=-contact_name"):
        page = client.get(f"/customer?view=all_customers&{query}")
        assert page.status_code in (200, 422)
        _no_secrets(page.get_data(as_text=True))
    searched = client.get("/customer?view=all_customers&q=Aaron").get_data(as_text=True)
    assert "sales1测试客户" not in searched
    row("contract", "sales1", contract_no="HT-PAGE", customer=world["aaron"], amount=1,
        termination_reason="机密的终止原因")  # fmt: skip
    detail = client.get(f"/customer/{world['aaron']}?reveal=mobile")
    assert detail.status_code == 200
    text = detail.get_data(as_text=True)
    assert "91310000AARON0002X" in text and "HT-PAGE" in text and "机密的终止原因" not in text
    _no_secrets(text)  # the record, its related lists and its history timeline
    contract = client.get("/contract?view=receivables").get_data(as_text=True)
    assert "机密的终止原因" not in contract
    own = client.get(f"/customer/{world['own']}").get_data(as_text=True)
    assert OWN_CONTACT in own and "91310000OWN000003X" in own
    edit = client.get(f"/customer/{world['aaron']}/edit")
    _no_secrets(edit.get_data(as_text=True))


def test_one_role_keeps_the_fast_path(app, org, finsales):
    """Roles reading the same fields need nothing per row (the SQL of a list is unchanged)."""
    st = state(app)
    policy, customer = st.runtime.policy, st.runtime.entity("customer")
    with st.engine.connect() as conn:
        assert policy.field_groups(load_actor(conn, org.user("sales1")), customer).uniform
        assert policy.field_groups(load_actor(conn, org.user("finance")), customer).uniform
        both = policy.field_groups(load_actor(conn, org.user(finsales)), customer)
    assert not both.uniform
    assert both.readers("contact_name") == frozenset({"sales"})
    assert both.readers("tax_id") is None  # both roles read it: no restriction


def _text(response: Any, fmt: str) -> str:
    if fmt == "csv":
        rows = csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")))
        return "\n".join(",".join(r) for r in rows)
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(response.get_data()), read_only=True)
    return "\n".join(",".join("" if v is None else str(v) for v in r)
                     for r in book.active.iter_rows(values_only=True))  # fmt: skip
