"""Metadata is untrusted input: a rulebook whose every text for people is a script injection
renders it as text on every page (list, form, detail, errors)."""

from __future__ import annotations

import pytest

from tests.pages.conftest import record_id, row_version
from tests.pages.rulebooks import HOSTILE, hostile

pytestmark = pytest.mark.app

RAW = "<img src=x"
ESCAPED = ("&#34;&gt;&lt;img", "&#34;&gt;&lt;img src=x", "&gt;&lt;img")


def assert_escaped(body: str, where: str) -> None:
    assert RAW not in body, f"raw markup from the rulebook on the {where} page"
    assert any(e in body for e in ESCAPED), f"the hostile text is missing on the {where} page"


@pytest.fixture
def hostile_app(make_app):
    return make_app(hostile())


def test_hostile_metadata_is_text_everywhere(hostile_app):
    app, pages = hostile_app
    manager = pages.client("manager")
    account = manager.post("/account/new", data={"name": "Acme", "_fields": ["name"]})
    assert account.status_code == 303
    new = manager.get("/thing/new").get_data(as_text=True)
    assert_escaped(new, "new form")
    values = {"name": "Widget", "kind": "alpha", "colors": ["red"], "labels": "vip",
              "account": str(record_id(account.headers["Location"])), "qty": "3",
              "outcome": "lost", "lost_reason": "price", "secret": "s3cret"}  # fmt: skip
    created = manager.post("/thing/new", data={**values, "_fields": list(values)})
    assert created.status_code == 303, created.get_data(as_text=True)[:500]
    thing = record_id(created.headers["Location"])

    listing = manager.get("/thing").get_data(as_text=True)
    assert_escaped(listing, "list")
    assert "Widget" in listing
    detail = manager.get(f"/thing/{thing}").get_data(as_text=True)
    assert_escaped(detail, "detail")
    edit = manager.get(f"/thing/{thing}/edit").get_data(as_text=True)
    assert_escaped(edit, "edit form")


def test_hostile_validation_messages_are_text(hostile_app):
    app, pages = hostile_app
    manager = pages.client("manager")
    bad = {"name": "bad!", "qty": "13"}  # pattern_message and a validation rule's message
    response = manager.post("/thing/new", data={**bad, "_fields": list(bad)})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert_escaped(body, "form with errors")
    assert body.count("f-qty-error") >= 1


def test_hostile_metadata_on_error_pages(hostile_app):
    app, pages = hostile_app
    manager = pages.client("manager")
    for url, status in (("/thing/999999", 404), ("/no_such_entity", 404)):
        response = manager.get(url)
        assert response.status_code == status
        assert_escaped(response.get_data(as_text=True), f"error {status}")
    created = manager.post("/thing/new", data={"name": "W", "_fields": ["name"]})
    thing = record_id(created.headers["Location"])
    sales1 = pages.client("sales1")
    forbidden = sales1.post(f"/thing/{thing}/archive", data={"row_version": "1"})
    assert forbidden.status_code == 404  # not in sales1's scope: no existence leak
    assert_escaped(forbidden.get_data(as_text=True), "error 404 after POST")


def test_hostile_filters_and_list_errors(hostile_app):
    app, pages = hostile_app
    manager = pages.client("manager")
    response = manager.get("/thing?f.due.from=not-a-date")
    assert response.status_code == 422
    assert_escaped(response.get_data(as_text=True), "list with a bad filter")


def test_hostile_text_never_reaches_attributes_unescaped(hostile_app):
    app, pages = hostile_app
    body = pages.client("manager").get("/thing/new").get_data(as_text=True)
    assert f'placeholder="{HOSTILE}"' not in body
    assert 'placeholder="&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"' in body


def test_history_of_a_hostile_rulebook_is_text(hostile_app):
    app, pages = hostile_app
    manager = pages.client("manager")
    created = manager.post("/thing/new", data={"name": "W", "kind": "alpha",
                                               "_fields": ["name", "kind"]})  # fmt: skip
    thing = record_id(created.headers["Location"])
    edit = manager.get(f"/thing/{thing}/edit").get_data(as_text=True)
    manager.post(f"/thing/{thing}/edit", data={"kind": "beta", "_fields": ["kind"],
                                               "row_version": row_version(edit)})  # fmt: skip
    detail = manager.get(f"/thing/{thing}").get_data(as_text=True)
    timeline = detail[detail.index('class="timeline"') :]
    assert_escaped(timeline, "history")
