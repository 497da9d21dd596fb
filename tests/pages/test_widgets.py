"""Every field type gets the right input, and only writable fields are inputs."""

from __future__ import annotations

import re

import pytest

from ruleform.blueprints.pages.formatting import DISPLAYS
from ruleform.blueprints.pages.widgets import WIDGETS
from ruleform.metadata.field_types import FIELD_TYPES
from tests.pages.conftest import field_block, record_id, row_version
from tests.pages.rulebooks import kitchen

pytestmark = pytest.mark.app


def test_every_field_type_has_a_widget_or_is_never_an_input():
    kinds = {t.widget for t in FIELD_TYPES.values()}
    assert kinds - {None} == set(WIDGETS) == set(DISPLAYS)
    assert [n for n, t in FIELD_TYPES.items() if t.widget is None] == ["computed"]


@pytest.fixture
def kitchen_app(make_app):
    return make_app(kitchen())


EXPECTED = {  # field → a fragment its input must contain
    "name": 'type="text"',
    "mail": 'type="email"',
    "site": 'type="url"',
    "phone": 'type="tel"',
    "qty": 'type="number"',
    "ratio": 'step="0.001"',
    "price": 'step="0.01"',
    "active": 'type="checkbox"',
    "due": 'type="date"',
    "meet_at": 'type="datetime-local"',
    "kind": "<select",
    "colors": 'type="checkbox"',
    "labels": 'list="dl-labels"',
    "account": "<select",
    "assignee": "<select",
    "notes": "<textarea",
}


def test_every_field_type_renders_its_widget(kitchen_app):
    app, pages = kitchen_app
    body = pages.client("manager").get("/thing/new").get_data(as_text=True)
    for name, fragment in EXPECTED.items():
        block = field_block(body, name)
        assert fragment in block, name
        assert f'name="{name}"' in block, name
        assert f'value="{name}"' in block, name  # the _fields marker


def test_labels_help_placeholder_and_bound_labels(kitchen_app):
    app, pages = kitchen_app
    block = field_block(pages.client("sales2").get("/thing/new").get_data(as_text=True), "name")
    assert '<label class="field__label" for="f-name">Name' in block
    assert 'id="f-name"' in block and 'placeholder="e.g. Sample"' in block
    assert 'aria-describedby="f-name-help"' in block and "Public name" in block
    assert 'aria-required="true"' in block


def test_choices_users_departments_and_suggestions_are_offered(kitchen_app):
    app, pages = kitchen_app
    manager = pages.client("manager")
    manager.post("/account/new", data={"name": "Acme", "_fields": ["name"]})
    body = manager.get("/thing/new").get_data(as_text=True)
    assert '<option value="beta">乙</option>' in field_block(body, "kind")  # manager reads zh-CN
    assert ">Acme</option>" in field_block(body, "account")
    assert ">张伟</option>" in field_block(body, "assignee")  # active users by name
    assert ">销售部</option>" in field_block(body, "team")  # departments in the locale
    assert '<option value="vip">重要</option>' in field_block(body, "labels")  # datalist


def test_computed_read_only_and_unwritable_fields_are_not_inputs(kitchen_app):
    app, pages = kitchen_app
    sales1 = pages.client("sales1")
    new = sales1.get("/thing/new").get_data(as_text=True)
    for name in ("total", "locked", "team"):  # computed, read_only, not writable by sales
        assert f'name="{name}"' not in new
    response = sales1.post(
        "/thing/new", data={"name": "Widget", "qty": "4", "_fields": ["name", "qty"]}
    )
    thing = record_id(response.headers["Location"])
    edit = sales1.get(f"/thing/{thing}/edit").get_data(as_text=True)
    total = field_block(edit, "total")
    assert "8" in total and 'name="total"' not in total  # shown read-only
    assert 'name="team"' not in field_block(edit, "team")


def test_values_round_trip_through_the_form(kitchen_app):
    app, pages = kitchen_app
    manager = pages.client("sales2")  # an English-speaking user
    values = {
        "name": "Widget",
        "qty": "12",
        "ratio": "0.125",
        "price": "99.50",
        "active": "y",
        "due": "2026-03-01",
        "meet_at": "2026-03-01T09:30",
        "kind": "beta",
        "colors": ["red", "blue"],
        "labels": "vip, spare",
        "mail": "a@Example.COM",
        "site": "https://example.com/x",
        "phone": "13800138000",
        "notes": "line 1\nline 2",
    }
    response = manager.post("/thing/new", data={**values, "_fields": list(values)})
    assert response.status_code == 303, response.get_data(as_text=True)
    thing = record_id(response.headers["Location"])
    edit = manager.get(f"/thing/{thing}/edit").get_data(as_text=True)
    assert 'value="2026-03-01T09:30"' in field_block(edit, "meet_at")  # rulebook time zone
    assert 'value="0.125"' in field_block(edit, "ratio")
    assert 'value="vip, spare"' in field_block(edit, "labels")
    colors = field_block(edit, "colors")
    assert re.search(r'checked[^>]*value="red"|value="red"[^>]*checked', colors)
    assert "checked" in field_block(edit, "active")
    detail = manager.get(f"/thing/{thing}").get_data(as_text=True)
    assert "¥99.50" in detail or "CN¥99.50" in detail
    assert 'href="https://example.com/x"' in detail
    # stored in UTC, shown in the rulebook's zone (Asia/Shanghai)
    assert "Mar 1, 2026 9:30\u202fAM" in detail or "Mar 1, 2026 9:30 AM" in detail
    # an unchecked checkbox means false when its marker comes along
    manager.post(f"/thing/{thing}/edit", data={"_fields": ["active"], "row_version":
                                                row_version(edit)})  # fmt: skip
    assert "checked" not in field_block(
        manager.get(f"/thing/{thing}/edit").get_data(as_text=True), "active"
    )


def test_javascript_url_is_refused_and_never_a_link(kitchen_app):
    app, pages = kitchen_app
    manager = pages.client("sales2")
    response = manager.post("/thing/new", data={"name": "X", "site": "javascript:alert(1)",
                                                "_fields": ["name", "site"]})  # fmt: skip
    assert response.status_code == 422
    block = field_block(response.get_data(as_text=True), "site")
    assert "Only http, https and mailto links are allowed." in block
    assert 'href="javascript' not in response.get_data(as_text=True)


def test_append_only_field_takes_supplements(kitchen_app):
    app, pages = kitchen_app
    manager = pages.client("manager")
    response = manager.post("/thing/new", data={"name": "X", "first_note": "original",
                                                "_fields": ["name", "first_note"]})  # fmt: skip
    thing = record_id(response.headers["Location"])
    edit = manager.get(f"/thing/{thing}/edit").get_data(as_text=True)
    block = field_block(edit, "first_note")
    assert "original" in block and 'name="supplements-first_note"' in block
    assert 'name="first_note"' not in block
    manager.post(f"/thing/{thing}/edit", data={"supplements-first_note": "later",
                                               "row_version": row_version(edit)})  # fmt: skip
    detail = manager.get(f"/thing/{thing}").get_data(as_text=True)
    assert detail.index("original") < detail.index("later")
