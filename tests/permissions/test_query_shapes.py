"""One permission compiler serves every query shape (Twenty #25911): the same logical query —
customers whose name contains 贸易, in an open status — run as one user through the API list
(every page), the single-record reads, the counts, the aggregates and groups and the export
returns the same records with the same readable fields, and exactly the records and fields
the rulebook gives that user.

Relational reads apply the related entity's row rules (Directus #15437): reading a customer
does not open its contracts or contacts; the related list, the child list filtered by the
customer and the child's counts agree, and show only the children the user may read.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from ruleform.app import state
from ruleform.platform.runtime import utcnow

pytestmark = pytest.mark.app

QUERY = "filter[company_name][contains]=贸易&filter[status][in]=prospect,interested,won"
ALWAYS = {"id", "created_at", "updated_at", "created_by", "updated_by", "owner", "department",
          "status", "row_version", "archived"}  # fmt: skip
PAYMENT = {"company_name", "short_name", "invoice_title", "tax_id", "bank_name", "bank_account",
           "payment_terms", "credit_limit"}  # fmt: skip
SERVICE_HIDDEN = {"tax_id", "bank_name", "bank_account", "credit_limit"}


#: Contracts and contacts: (entity, key, customer, owner).
CHILDREN = [("contract", "s1_by_s1", "s1", "sales1"), ("contract", "s1_by_s2", "s1", "sales2"),
            ("contract", "asked_by_s2", "s2_asked", "sales2"),
            ("contract", "asked_by_s1", "s2_asked", "sales1"),
            ("contact", "s1_by_s2", "s1", "sales2"),
            ("contact", "asked_by_s2", "s2_asked", "sales2"),
            ("contact", "asked_by_s1", "s2_asked", "sales1")]  # fmt: skip


@pytest.fixture
def world(app, org, row) -> dict[str, Any]:
    """Customers in several hands (some outside the query), with contracts, contacts, an
    access request granted to sales1 and an expired one, and a ticket for the technician."""
    today = utcnow().date()

    def customer(owner: str, name: str, status: str = "prospect") -> int:
        return row("customer", owner, company_name=name, status=status, short_name=name[:4],
                   mobile="13900001234", bank_account="6222020200112233",
                   tax_id="91310000MA1FL0001X", contact_name="联系人")  # fmt: skip

    c = {
        "s1": customer("sales1", "张伟 华东贸易有限公司"),
        "s1_won": customer("sales1", "张伟 远洋贸易公司", "won"),
        "s1_other": customer("sales1", "张伟 精密机械厂"),  # outside the query (name)
        "s1_lost": customer("sales1", "张伟 旧贸易公司", "lost"),  # outside the query (status)
        "s2": customer("sales2", "刘洋 国际贸易公司", "interested"),
        "s2_asked": customer("sales2", "刘洋 对外贸易公司"),  # sales1 was granted access (R13)
        "s2_expired": customer("sales2", "刘洋 商业贸易公司"),  # sales1's grant has expired
        "s3": customer("sales3", "陈静 华东贸易分公司"),  # sales_east, below sales
        "svc": customer("service", "客服部 贸易客户"),  # outside the sales department
        "tech": customer("service", "技术支持 贸易客户"),  # the technician has its ticket
    }
    row("access_request", "sales1", customer=c["s2_asked"], status="granted",
        valid_until=today + timedelta(days=5))  # fmt: skip
    row("access_request", "sales1", customer=c["s2_expired"], status="granted",
        valid_until=today - timedelta(days=1))  # fmt: skip
    row("ticket", "service", customer=c["tech"], subject="设备故障", status="in_progress",
        technical_assignee=org.user("tech"))  # fmt: skip
    children: dict[str, dict[str, tuple[int, str]]] = {"contract": {}, "contact": {}}
    for entity, key, parent, owner in CHILDREN:
        values = {"contract_no": f"HT-{key}"} if entity == "contract" else {"full_name": key}
        children[entity][key] = (row(entity, owner, customer=c[parent], **values), parent)
    return {"customers": c, **children}


def _expected(world: dict[str, Any], user: str) -> set[int]:
    """The customers of the query each user may read, as the rulebook says (R28, R13)."""
    c = world["customers"]
    sales_dept = {c["s1"], c["s1_won"], c["s2"], c["s2_asked"], c["s2_expired"], c["s3"]}
    everything = sales_dept | {c["svc"], c["tech"]}
    return {"sales1": {c["s1"], c["s1_won"], c["s2_asked"]}, "sales3": {c["s3"]},
            "manager": sales_dept, "gm": everything, "finance": everything,
            "service": everything, "tech": {c["tech"]}}[user]  # fmt: skip


def _expected_fields(user: str, model: Any, columns: set[str]) -> set[str]:
    """The columns of customer each user may read (R39 finance, service, technical)."""
    columns = columns & (set(model.fields) | ALWAYS)  # not rulebook_version, archived_at
    own = {"finance": PAYMENT, "tech": {"company_name", "short_name"}}.get(user)
    if own is not None:
        return (own | ALWAYS) & columns
    if user == "service":
        return columns - SERVICE_HIDDEN
    return columns


# --- the shapes ------------------------------------------------------------------------------


def list_all_pages(api, user: str, path: str, query: str, size: int) -> tuple[list[dict], Any]:
    """Every row of a list, following the cursor; and the first page's meta."""
    rows, first, cursor = [], None, None
    for _ in range(100):
        url = f"{path}?{query}&page_size={size}" + (f"&cursor={cursor}" if cursor else "")
        response = api.get(url, user=user)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        first = first or body["meta"]
        rows += body["data"]
        cursor = body["meta"]["next_cursor"]
        if cursor is None:
            return rows, first
    raise AssertionError("the list never ended")


def aggregate(api, user: str, path: str, query: str) -> list[dict]:
    response = api.get(f"{path}/aggregate?{query}", user=user)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def export_csv(api, user: str, query: str) -> tuple[list[str], list[dict[str, str]]]:
    response = api.get(f"/customer/export?format=csv&{query}", user=user)
    assert response.status_code == 200, response.get_json()
    text = response.get_data().decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text))
    headers = next(reader)
    return headers, [dict(zip(headers, r, strict=True)) for r in reader]


USERS = ("sales1", "sales3", "manager", "gm", "finance", "service", "tech")


@pytest.mark.parametrize("user", USERS)
def test_every_query_shape_returns_the_same_rows_and_fields(app, api, world, user):
    expected = _expected(world, user)
    model = state(app).runtime.entity("customer")
    fields = _expected_fields(user, model, set(state(app).runtime.table(model).c.keys()))

    # list, through every page (two rows a page: the keyset cursor is exercised)
    paged, meta = list_all_pages(api, user, "/customer", QUERY, 2)
    ids = [r["id"] for r in paged]
    assert len(ids) == len(set(ids)), "a row came back on two pages"
    assert set(ids) == expected
    assert all(set(r) == fields for r in paged), {tuple(sorted(set(r) ^ fields)) for r in paged}
    assert set(meta["columns"]) == fields

    # one page holding everything: same rows, same values
    whole, whole_meta = list_all_pages(api, user, "/customer", QUERY, 200)
    assert {r["id"]: r for r in whole} == {r["id"]: r for r in paged}

    # counts: the list's own count (counted apart when there are more pages) and the total
    assert whole_meta["count"] == len(expected)
    if len(expected) > 2:
        assert meta["count"] == len(expected) and meta["next_cursor"]

    # get, record by record: same fields, same values (sensitive ones masked alike)
    for r in whole:
        response = api.get(f"/customer/{r['id']}", user=user)
        assert response.status_code == 200
        data = response.get_json()["data"]
        assert set(data) == fields
        assert data == r  # mobile, bank_account: masked alike (or absent alike)
    for other in _expected(world, "gm") - expected:  # out of scope: absent, not forbidden
        assert api.get(f"/customer/{other}", user=user).status_code == 404

    # aggregate: total, and groups by owner and by status equal the list's rows
    total = aggregate(api, user, "/customer", f"{QUERY}&count=1")
    assert sum(g["count"] for g in total) == len(expected)
    for key in ("owner", "status"):
        if key not in fields:
            continue
        groups = aggregate(api, user, "/customer", f"{QUERY}&group_by={key}")
        assert {g["key"][key]: g["count"] for g in groups} == Counter(r[key] for r in whole)

    # export: the same rows and the same business fields, or refused without the right
    can_export = user in ("manager", "gm")
    if not can_export:
        assert api.get(f"/customer/export?format=csv&{QUERY}", user=user).status_code == 403
        return
    headers, exported = export_csv(api, user, QUERY)
    assert {int(r["id"]) for r in exported} == expected
    labels = {model.fields[n].label.get("zh-CN", n) if n in model.fields else n for n in fields}
    assert set(headers) == labels and len(headers) == len(fields)
    names = {r["id"]: r["company_name"] for r in whole}
    label = model.fields["company_name"].label.get("zh-CN")
    assert {int(r["id"]): r[label] for r in exported} == names


# --- relational reads apply the related entity's row rules (Directus #15437) ------------------


def _related(api, user: str, parent: int, child: str) -> tuple[set[int], int, list[dict]]:
    response = api.get(f"/customer/{parent}/related/{child}?page_size=200", user=user)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    return {r["id"] for r in body["data"]}, body["meta"]["count"], body["data"]


RELATED_CASES = [
    # user, customer, child entity, children the user may read
    ("sales1", "s1", "contract", {"s1_by_s1"}),  # own customer: only own contracts (scope own)
    ("sales1", "s2_asked", "contract", {"asked_by_s1"}),  # a granted customer opens no contract
    ("sales1", "s1", "contact", {"s1_by_s2"}),  # contacts of own customers (customer.owner)
    ("sales1", "s2_asked", "contact", {"asked_by_s1"}),  # the grant does not open contacts
    ("manager", "s1", "contract", {"s1_by_s1", "s1_by_s2"}),
    ("manager", "s2_asked", "contact", {"asked_by_s2", "asked_by_s1"}),
    ("finance", "s1", "contract", {"s1_by_s1", "s1_by_s2"}),
    ("gm", "s2_asked", "contract", {"asked_by_s2", "asked_by_s1"}),
]


@pytest.mark.parametrize(("user", "parent", "child", "visible"), RELATED_CASES)
def test_related_lists_and_counts_apply_the_related_entitys_rules(app, api, world, user, parent,
                                                                  child, visible):  # fmt: skip
    children = {k: i for k, (i, p) in world[child].items() if p == parent}
    expected = {children[k] for k in visible}
    customer = world["customers"][parent]
    ids, count, rows = _related(api, user, customer, child)
    assert ids == expected and count == len(expected)
    # the child's own list filtered by the customer, its count and its aggregate agree
    listed, meta = list_all_pages(api, user, f"/{child}", f"filter[customer]={customer}", 1)
    assert {r["id"] for r in listed} == expected
    assert meta["count"] == len(expected)
    total = aggregate(api, user, f"/{child}", f"filter[customer]={customer}&count=1")
    assert sum(g["count"] for g in total) == len(expected)
    # the same readable fields in the related list and in the child's list
    assert {frozenset(r) for r in rows} == {frozenset(r) for r in listed}
    # and the customer's other children are absent one by one
    for other in set(children.values()) - expected:
        assert api.get(f"/{child}/{other}", user=user).status_code == 404


def test_R39_finance_sees_related_contracts_with_payment_fields_only(api, world):
    customer = world["customers"]["s1"]
    _, _, rows = _related(api, "finance", customer, "contract")
    finance = {"amount", "contract_no", "customer", "end_on", "invoice_title", "paid_amount",
               "payment_status", "payment_terms", "signed_on", "start_on"}  # fmt: skip
    assert rows and all(set(r) - ALWAYS <= finance for r in rows)
    assert all("contract_no" in r for r in rows)


def test_a_customer_out_of_scope_has_no_related_list(api, world):
    """The related list of a customer the user may not read is 404, not an empty list."""
    hidden = world["customers"]["s2"]
    for child in ("contract", "contact"):
        response = api.get(f"/customer/{hidden}/related/{child}", user="sales1")
        assert response.status_code == 404


def test_the_same_list_answers_each_user_for_themselves(api, world):
    """Opening the same list (same roles, same shape) one user after another — the list
    statement is built once and reused — gives each user their own records, every time."""
    c = world["customers"]
    own = {"sales1": {c["s1"], c["s1_won"], c["s1_other"], c["s1_lost"], c["s2_asked"]},
           "sales2": {c["s2"], c["s2_asked"], c["s2_expired"]}, "sales3": {c["s3"]}}  # fmt: skip
    for _ in range(2):
        for user, expected in own.items():
            body = api.get("/customer?page_size=200", user=user).get_json()
            assert {r["id"] for r in body["data"]} == expected, user
            assert body["meta"]["count"] == len(expected)
