"""The home page (R30 start pages, dashboard) and the parts of the detail page."""

from __future__ import annotations

import pytest

from tests.pages.conftest import record_id, row_version
from tests.pages.rulebooks import kitchen

pytestmark = pytest.mark.app


def test_a_role_without_start_page_gets_the_dashboard(make_app):
    app, pages = make_app(kitchen())
    response = pages.client("manager").get("/")  # sales_manager has no start_page
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert 'href="/thing"' in body and 'href="/account"' in body
    assert 'href="/thing/new"' in body
    assert pages.client("sales2").get("/").headers["Location"].endswith("/thing")


def test_an_inbox_start_page_opens_the_approvals_when_they_exist(pages, app):
    response = pages.client("admin").get("/")  # admin: start_page inbox
    approvals = any(rule.rule == "/approvals" for rule in app.url_map.iter_rules())
    if approvals:
        assert response.status_code == 302 and response.headers["Location"].endswith("/approvals")
    else:
        assert response.status_code == 200


def test_history_of_a_readable_record_hides_unreadable_changes(make_app):
    rulebook = kitchen()
    rulebook["entities"]["thing"]["permissions"]["sales"]["fields"] = {
        "read": {"except": ["notes"]},
        "write": {"except": ["notes", "team"]},
    }
    rulebook["entities"]["thing"]["permissions"]["sales_manager"]["fields"] = {
        "read": "all",
        "write": "all",
    }
    app, pages = make_app(rulebook)
    sales2 = pages.client("sales2")
    created = sales2.post("/thing/new", data={"name": "Mine", "_fields": ["name"]})
    thing = record_id(created.headers["Location"])
    manager = pages.client("manager")  # sales2's manager: department_tree scope
    edit = manager.get(f"/thing/{thing}/edit").get_data(as_text=True)
    changed = {"notes": "secret plan", "qty": "737"}
    response = manager.post(
        f"/thing/{thing}/edit",
        data={**changed, "_fields": list(changed), "row_version": row_version(edit)},
    )
    assert response.status_code == 303
    detail = sales2.get(f"/thing/{thing}").get_data(as_text=True)
    timeline = detail[detail.index('class="timeline"') :]
    assert "secret plan" not in detail and "Notes" not in timeline
    assert "Quantity" in timeline and "737" in timeline  # the readable change is shown


def test_archived_record_shows_a_badge_and_no_edit(make_app):
    app, pages = make_app(kitchen())
    manager = pages.client("manager")
    thing = record_id(manager.post("/thing/new", data={"name": "Old", "_fields": ["name"]})
                      .headers["Location"])  # fmt: skip
    detail = manager.get(f"/thing/{thing}").get_data(as_text=True)
    manager.post(f"/thing/{thing}/archive", data={"row_version": row_version(detail)})
    after = manager.get(f"/thing/{thing}").get_data(as_text=True)
    assert "badge--gray" in after and f"/thing/{thing}/edit" not in after


def test_related_list_on_the_target_record(make_app):
    app, pages = make_app(kitchen())
    manager = pages.client("manager")
    account = record_id(manager.post("/account/new", data={"name": "Acme", "_fields": ["name"]})
                        .headers["Location"])  # fmt: skip
    values = {"name": "Linked", "account": str(account)}
    manager.post("/thing/new", data={**values, "_fields": list(values)})
    body = manager.get(f"/account/{account}").get_data(as_text=True)
    assert "Linked" in body and f"/thing/new?account={account}" in body
    thing_page = manager.get("/thing").get_data(as_text=True)
    assert "Linked" in thing_page
