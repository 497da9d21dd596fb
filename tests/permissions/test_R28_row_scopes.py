"""R28: salespeople see only their own customers; managers see their department (and the
groups below it); management sees everything; the service manager sees all tickets —
through the API and the pages, in lists, counts and single records."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.app


@pytest.fixture
def customers(row):
    """One customer per salesperson: sales1, sales2 (sales), sales3 (sales_east, below)."""
    return {
        u: row("customer", u, company_name=f"{u} 的客户") for u in ("sales1", "sales2", "sales3")
    }


def _api_ids(api, user: str, entity: str = "customer") -> set[int]:
    response = api.get(f"/{entity}?page_size=200", user=user)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["meta"]["count"] == len(body["data"])  # the count is the scoped count
    return {r["id"] for r in body["data"]}


_ALL = {"customer": "all_customers", "ticket": "all_tickets"}


def _page_ids(pages, user: str, ids: dict[str, int], entity: str = "customer") -> set[int]:
    text = pages.client(user).get(f"/{entity}?view={_ALL[entity]}").get_data(as_text=True)
    return {i for i in ids.values() if f'href="/{entity}/{i}"' in text}


def test_R28_a_salesperson_sees_only_their_own_customers(api, pages, customers):
    assert _api_ids(api, "sales1") == {customers["sales1"]}
    assert _page_ids(pages, "sales1", customers) == {customers["sales1"]}
    for other in ("sales2", "sales3"):
        assert api.get(f"/customer/{customers[other]}", user="sales1").status_code == 404
        assert pages.client("sales1").get(f"/customer/{customers[other]}").status_code == 404


def test_R28_a_manager_sees_the_department_and_below(api, pages, customers, row):
    elsewhere = row("customer", "service", company_name="客服部的客户")
    expected = set(customers.values())
    assert _api_ids(api, "manager") == expected
    assert _page_ids(pages, "manager", {**customers, "x": elsewhere}) == expected
    assert api.get(f"/customer/{elsewhere}", user="manager").status_code == 404


def test_R28_management_sees_everything(api, pages, customers, row):
    elsewhere = row("customer", "service")
    expected = {*customers.values(), elsewhere}
    assert _api_ids(api, "gm") == expected
    assert _page_ids(pages, "gm", {**customers, "x": elsewhere}) == expected


def test_R28_the_service_manager_sees_every_ticket(api, pages, row):
    tickets = {u: row("ticket", u, subject=f"{u} 工单", status="in_progress")
               for u in ("sales1", "service", "tech")}  # fmt: skip
    assert _api_ids(api, "service_manager", "ticket") == set(tickets.values())
    assert _page_ids(pages, "service_manager", tickets, "ticket") == set(tickets.values())
    # a service agent sees their own and the unassigned (received) ones only
    assert tickets["sales1"] not in _api_ids(api, "service", "ticket")


def test_R28_counts_and_aggregates_see_only_the_scope(api, customers):
    for user, expected in (("sales1", 1), ("manager", 3)):
        body = api.get("/customer/aggregate?count=1", user=user).get_json()
        assert sum(g["count"] for g in body["data"]) == expected
        grouped = api.get("/customer/aggregate?group_by=owner", user=user).get_json()["data"]
        assert sum(g["count"] for g in grouped) == expected
