"""The query budget: a request costs a small, fixed number of SQL statements — authentication
included, no statement per row, no metadata query. Counted with a ``before_cursor_execute``
listener on the app's engine (SQLite counts its ``BEGIN`` statements too; PostgreSQL's
transactions begin without one, so the same requests cost two fewer there)."""

from __future__ import annotations

import pytest

from ruleform.app import state
from ruleform.platform.actors import load_actor
from ruleform.platform.records import RecordService

from .conftest import CUSTOMER

pytestmark = pytest.mark.app

GET_BUDGET = 8  # auth 2-3 · BEGIN · row · supplements · read audit (customer audits reads)
LIST_BUDGET = 8  # auth 2-3 · BEGIN · page · capped count
CREATE_BUDGET = 12
PATCH_BUDGET = 12


def _count(statements, call):
    call()  # warm: the token's first use is recorded, caches are filled
    with statements.counting():
        response = call()
    assert response.status_code < 400, response.get_json()
    assert not any("rulebook_versions" in s for s in statements.statements), "metadata query"
    return len(statements)


@pytest.fixture
def sixty(app, org):
    """Sixty customers of sales1 (more than one page of 50), made through the service."""
    st = state(app)
    with st.engine.begin() as conn:
        service = RecordService(st.runtime, conn, load_actor(conn, org.user("sales1")))
        for n in range(60):
            service.create("customer", {**CUSTOMER, "company_name": f"公司{n:02d}",
                                        "mobile": f"1380013{n:04d}"})  # fmt: skip


def test_get_one_record_fits_the_budget(api, customer, statements):
    url = f"/customer/{customer['data']['id']}"
    assert _count(statements, lambda: api.get(url)) <= GET_BUDGET
    assert _count(statements, lambda: api.get(url + "?reveal=mobile")) <= GET_BUDGET


def test_a_list_of_50_fits_the_budget_and_costs_no_statement_per_row(api, sixty, statements):
    one = _count(statements, lambda: api.get("/customer?page_size=1"))
    fifty_rows = _count(statements, lambda: api.get("/customer?page_size=50"))
    assert api.get("/customer?page_size=50").get_json()["meta"]["count"] == 60
    assert fifty_rows == one <= LIST_BUDGET
    whole = _count(statements, lambda: api.get("/customer?page_size=100"))
    assert whole == one - 1  # everything on one page: counted without a count query
    page = api.get("/customer?page_size=20").get_json()
    cursor = page["meta"]["next_cursor"]
    assert _count(statements, lambda: api.get(f"/customer?page_size=20&cursor={cursor}")) < one


def test_related_list_and_history_fit_the_list_budget(api, customer, statements):
    url = f"/customer/{customer['data']['id']}"
    assert _count(statements, lambda: api.get(url + "/related/contact")) <= LIST_BUDGET
    assert _count(statements, lambda: api.get(url + "/history")) <= LIST_BUDGET


def test_create_fits_the_budget(api, statements):
    """A customer: insert, history, duplicate keys (one statement for all rules), the first
    status period and its event, the conflict lookups (once, before the insert)."""
    assert _count(statements, lambda: api.post("/customer", json=CUSTOMER)) <= CREATE_BUDGET


def test_create_without_workflow_hooks_fits_the_budget(api, customer, statements):
    """A contact has no statuses: insert, history, duplicate keys and the reference check."""
    payload = {"customer": customer["data"]["id"], "full_name": "李四", "mobile": "13900139000"}
    assert _count(statements, lambda: api.post("/contact", json=payload)) <= CREATE_BUDGET


def test_patch_fits_the_budget(api, customer, statements):
    url = f"/customer/{customer['data']['id']}"
    version = {"n": 1}

    def change():
        response = api.patch(
            url, json={"qq": f"1234{version['n']}"}, headers={"If-Match": f'W/"{version["n"]}"'}
        )
        version["n"] = response.get_json()["meta"]["version"]
        return response

    assert _count(statements, change) <= PATCH_BUDGET


def test_openapi_costs_nothing_but_authentication(api, statements):
    assert _count(statements, lambda: api.get("/openapi.json")) <= 3
