"""Lists over HTTP: filters, sort, fields, search, views, keyset pages, capped counts — and
names that do not resolve (or are hidden from the reader) refused with 422."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ruleform.app import state

from .conftest import CUSTOMER

pytestmark = pytest.mark.app


@pytest.fixture
def customers(api):
    """Five customers of sales1 with different sources, scores and names."""
    rows = [
        ("甲公司", "online", 1, "13800138001"), ("乙公司", "referral", 2, "13800138002"),
        ("丙公司", "online", 3, "13800138003"),
        ("O'Brien \"Ltd\" 100%_x", "website", 4, "13800138004"),
        ("戊公司", "trade_show", 5, "13800138005"),
    ]  # fmt: skip
    ids = []
    for name, source, score, mobile in rows:
        payload = {**CUSTOMER, "company_name": name, "source": source, "size_score": score,
                   "mobile": mobile}  # fmt: skip
        response = api.post("/customer", json=payload)
        assert response.status_code == 201, response.get_json()
        ids.append(response.get_json()["data"]["id"])
    return ids


def _ids(response):
    assert response.status_code == 200, response.get_json()
    return [r["id"] for r in response.get_json()["data"]]


def _errors(response):
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert body["code"] == "validation_failed"
    return body["errors"]


def test_list_shape(api, customers):
    body = api.get("/customer").get_json()
    assert set(body) == {"data", "meta"}
    assert {"next_cursor", "count", "count_capped"} <= set(body["meta"])
    assert body["meta"]["count"] == 5 and body["meta"]["count_capped"] is False
    assert (
        body["meta"]["masked"] == ["contact_birthday", "mobile"]
        or "mobile" in body["meta"]["masked"]
    )
    assert all(r["mobile"].startswith("••••") for r in body["data"])
    assert body["meta"]["choices"]["source"]["online"]


def test_filter_eq_shorthand_and_operators(api, customers):
    online = _ids(api.get("/customer?filter[source]=online"))
    assert sorted(online) == sorted([customers[0], customers[2]])
    assert _ids(api.get("/customer?filter[source][eq]=online")) == online
    assert len(_ids(api.get("/customer?filter[source][ne]=online"))) == 3
    assert sorted(_ids(api.get("/customer?filter[size_score][ge]=4"))) == customers[3:]
    assert _ids(api.get("/customer?filter[size_score][lt]=2")) == [customers[0]]
    assert sorted(_ids(api.get("/customer?filter[source][in]=website,referral"))) == sorted(
        [customers[1], customers[3]]
    )
    assert _ids(api.get("/customer?filter[company_name][contains]=Brien")) == [customers[3]]
    assert _ids(api.get("/customer?filter[company_name][starts]=甲")) == [customers[0]]
    assert len(_ids(api.get("/customer?filter[email][empty]=true"))) == 5
    assert _ids(api.get("/customer?filter[email][empty]=false")) == []
    assert _ids(api.get("/customer?filter[email][not_empty]")) == []
    both = _ids(api.get("/customer?filter[source]=online&filter[size_score][gt]=1"))
    assert both == [customers[2]]


def test_filter_values_with_quotes_and_wildcards_are_bound_values(api, customers):
    name = 'O\'Brien "Ltd" 100%_x'
    assert _ids(api.get("/customer", query_string={"filter[company_name]": name})) == [customers[3]]
    for value in ["%", "_", "'", "' OR '1'='1", "\\", "100%_"]:
        found = _ids(api.get("/customer", query_string={"filter[company_name][contains]": value}))
        assert found == ([customers[3]] if value in name else [])


def test_filter_on_system_columns(api, customers, org):
    assert len(_ids(api.get(f"/customer?filter[owner]={org.user('sales1')}"))) == 5
    assert _ids(api.get(f"/customer?filter[id]={customers[1]}")) == [customers[1]]
    assert len(_ids(api.get("/customer?filter[status]=pending_review"))) == 5


@pytest.mark.parametrize(
    "query, key",
    [
        ("filter[nope]=1", "nope"),
        ("filter[source][like]=x", "source"),
        ("filter[size_score]=abc", "size_score"),
        ("filter[source]=tv", "source"),
        ("filter[segments][eq]=vip", "segments"),
        ("filter[size_score][contains]=1", "size_score"),
        ("filter[source][in]=", "source"),
        ("filter[email][empty]=maybe", "email"),
    ],
)
def test_bad_filters_are_422_naming_the_field(api, customers, query, key):
    assert key in _errors(api.get(f"/customer?{query}"))


def test_hidden_fields_cannot_be_filtered_sorted_or_selected(api, customers):
    """Finance may not read `source` or `mobile`: using them answers exactly as for a field
    that does not exist, so the list is no oracle for hidden values."""
    for name, query in [
        ("mobile", "filter[mobile][starts]=138"),
        ("source", "filter[source]=online"),
        ("nope", "filter[nope]=online"),
    ]:
        assert list(_errors(api.get(f"/customer?{query}", user="finance"))) == [name]
    assert "sort" in _errors(api.get("/customer?sort=source", user="finance"))
    assert "sort" in _errors(api.get("/customer?sort=nope", user="finance"))
    hidden = _errors(api.get("/customer?fields=company_name,mobile", user="finance"))
    unknown = _errors(api.get("/customer?fields=company_name,nope", user="finance"))
    assert set(hidden) == set(unknown) == {"fields"}


def test_too_many_filters_and_too_many_in_values(app, api, customers):
    limit = app.config["API_MAX_FILTERS"]
    many = "&".join(f"filter[size_score][ge]={n % 5}" for n in range(limit + 1))
    assert "filter" in _errors(api.get(f"/customer?{many}"))
    assert _ids(api.get("/customer?" + "&".join("filter[size_score][ge]=1" for _ in range(limit))))
    values = ",".join(str(n) for n in range(101))
    assert "size_score" in _errors(api.get(f"/customer?filter[size_score][in]={values}"))


def test_malformed_filter_parameter_is_400(api):
    for key in ["filter[a", "filter]x[", "filter[a][b][c]", "filterx", "filter[]"]:
        response = api.get("/customer", query_string={key: "1"})
        assert response.status_code == 400, key
        assert response.get_json()["code"] == "malformed"


def test_sort(api, customers):
    assert _ids(api.get("/customer?sort=size_score")) == customers
    assert _ids(api.get("/customer?sort=-size_score")) == customers[::-1]
    assert _ids(api.get("/customer?sort=source,-size_score"))[:2] == [customers[2], customers[0]]
    assert "sort" in _errors(api.get("/customer?sort=a,b,c,d"))
    assert "sort" in _errors(api.get("/customer?sort=remarks"))  # long text: not sortable
    assert "sort" in _errors(api.get("/customer?sort=mobile"))  # sensitive: not sortable


@pytest.mark.parametrize(
    "sort",
    [
        "company_name;DROP TABLE e_customer",
        "(select 1)",
        "company_name desc",
        "1",
        "--",
        "company_name,(select password_hash from users)",
        "company_name/**/",
        "e_customer.id",
    ],
)
def test_sort_injection_is_422_and_breaks_nothing(app, api, customers, sort):
    assert "sort" in _errors(api.get("/customer", query_string={"sort": sort}))
    with state(app).engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from e_customer")).scalar() == 5


@pytest.mark.parametrize(
    "name",
    ["company_name;DROP TABLE e_customer", "(select 1)", "id) or (1=1", "users.password_hash"],
)
def test_filter_and_fields_injection_is_422(app, api, customers, name):
    assert _errors(api.get("/customer", query_string={f"filter[{name}]": "1"}))
    assert "fields" in _errors(api.get("/customer", query_string={"fields": name}))
    with state(app).engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from e_customer")).scalar() == 5


def test_fields_selects_columns(api, customers):
    body = api.get("/customer?fields=company_name,source").get_json()
    assert set(body["data"][0]) == {"id", "row_version", "company_name", "status", "source"}
    assert body["meta"]["columns"] == ["id", "row_version", "company_name", "status", "source"]


def test_search_and_views(api, customers):
    assert _ids(api.get("/customer?q=brien")) == [customers[3]]
    assert _ids(api.get("/customer", query_string={"q": "%"})) == [customers[3]]  # literally
    assert _ids(api.get("/customer", query_string={"q": "甲%"})) == []
    assert len(_ids(api.get("/customer?view=mine"))) == 5
    body = api.get("/customer?view=by_importance").get_json()
    assert body["meta"]["view"] == "by_importance" and body["data"] == []  # pending_review only
    assert "view" in _errors(api.get("/customer?view=nope"))


def test_keyset_pages_cover_every_record_once(api, customers):
    seen, cursor, pages = [], None, 0
    while True:
        url = "/customer?page_size=2&sort=-size_score" + (f"&cursor={cursor}" if cursor else "")
        body = api.get(url).get_json()
        seen += [r["id"] for r in body["data"]]
        pages += 1
        assert body["meta"]["count"] == (5 if cursor is None else None)
        cursor = body["meta"]["next_cursor"]
        if cursor is None:
            break
    assert seen == customers[::-1] and pages == 3


def test_bad_cursor_and_page_size(app, api, customers):
    assert "cursor" in _errors(api.get("/customer?cursor=garbage"))
    assert "page_size" in _errors(api.get("/customer?page_size=0"))
    assert "page_size" in _errors(api.get("/customer?page_size=abc"))
    assert "page_size" in _errors(api.get("/customer", query_string={"page_size": "²"}))
    too_big = app.config["API_MAX_PAGE_SIZE"] + 1
    assert "page_size" in _errors(api.get(f"/customer?page_size={too_big}"))


def test_count_is_capped(app, api, customers):
    app.config["LIST_COUNT_CAP"] = 3
    meta = api.get("/customer").get_json()["meta"]
    assert meta["count"] == 3 and meta["count_capped"] is True
    assert api.get("/customer?count=false").get_json()["meta"]["count"] is None


def test_lists_apply_the_row_scope(api, customers):
    assert _ids(api.get("/customer", user="sales2")) == []
    assert len(_ids(api.get("/customer", user="manager"))) == 5
    assert _ids(api.get(f"/customer?filter[id]={customers[0]}", user="sales2")) == []
