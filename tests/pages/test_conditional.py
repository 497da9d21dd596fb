"""Conditional fields: the form asks the server (one evaluator) and the server enforces."""

from __future__ import annotations

import pytest

from tests.pages.conftest import field_block, field_classes, record_id, row_version
from tests.pages.rulebooks import kitchen

pytestmark = pytest.mark.app


@pytest.fixture
def kitchen_app(make_app):
    return make_app(kitchen())


def test_form_state_follows_the_values_being_typed(kitchen_app):
    app, pages = kitchen_app
    client = pages.client("sales2")
    won = client.post("/thing/form-state", data={"outcome": "won", "_fields": ["outcome"]})
    assert won.status_code == 200 and won.is_json
    assert won.json["lost_reason"] == {"visible": False, "required": False, "editable": True}
    lost = client.post("/thing/form-state", data={"outcome": "lost", "_fields": ["outcome"]})
    assert lost.json["lost_reason"] == {"visible": True, "required": True, "editable": True}
    assert lost.json["name"]["required"] is True
    assert lost.json["total"]["editable"] is False  # computed


def test_first_render_hides_what_is_not_visible_yet(kitchen_app):
    app, pages = kitchen_app
    body = pages.client("sales2").get("/thing/new").get_data(as_text=True)
    assert "is-hidden" in field_classes(body, "lost_reason")
    assert "is-hidden" not in field_classes(body, "outcome")
    assert 'data-form-state-url="/thing/form-state"' in body


def test_conditionally_required_field_is_enforced_on_submit(kitchen_app):
    app, pages = kitchen_app
    client = pages.client("sales2")
    values = {"name": "Deal", "outcome": "lost", "lost_reason": ""}
    response = client.post("/thing/new", data={**values, "_fields": list(values)})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    block = field_block(body, "lost_reason")
    assert "This field is required." in block and "is-hidden" not in field_classes(
        body, "lost_reason"
    )
    assert 'aria-invalid="true"' in block
    values["lost_reason"] = "Too expensive"
    assert client.post("/thing/new", data={**values, "_fields": list(values)}).status_code == 303


def test_form_state_of_an_existing_record_uses_its_stored_values(kitchen_app):
    app, pages = kitchen_app
    client = pages.client("sales2")
    values = {"name": "Deal", "outcome": "lost", "lost_reason": "Too expensive"}
    thing = record_id(client.post("/thing/new", data={**values, "_fields": list(values)})
                      .headers["Location"])  # fmt: skip
    state = client.post(f"/thing/{thing}/form-state", data={}).json
    assert state["lost_reason"]["visible"] is True  # outcome is 'lost' in the stored record
    state = client.post(f"/thing/{thing}/form-state",
                        data={"outcome": "won", "_fields": ["outcome"]}).json  # fmt: skip
    assert state["lost_reason"]["visible"] is False
    edit = client.get(f"/thing/{thing}/edit").get_data(as_text=True)
    assert "Too expensive" in field_block(edit, "lost_reason")
    # another salesperson may not even ask
    assert pages.client("sales1").post(f"/thing/{thing}/form-state", data={}).status_code == 404
    # hidden fields keep no value once the condition turns false (the service clears them)
    client.post(f"/thing/{thing}/edit", data={"outcome": "won", "_fields": ["outcome"],
                                              "row_version": row_version(edit)})  # fmt: skip
    detail = client.get(f"/thing/{thing}").get_data(as_text=True)
    assert "Too expensive" not in detail.split('class="timeline"')[0]


def test_form_state_reports_only_readable_fields(make_app):
    rulebook = kitchen()
    perms = rulebook["entities"]["thing"]["permissions"]["sales"]
    perms["fields"] = {"read": {"except": ["secret"]}, "write": {"except": ["team", "secret"]}}
    app, pages = make_app(rulebook)
    state = pages.client("sales2").post("/thing/form-state", data={}).json
    assert "secret" not in state and "name" in state


def test_a_section_hidden_by_its_own_condition_hides_its_fields(make_app):
    rulebook = kitchen()
    rulebook["entities"]["thing"]["layout"]["more"]["visible_when"] = "active = true"
    app, pages = make_app(rulebook)
    client = pages.client("sales2")
    inactive = client.post("/thing/form-state", data={"active": "", "_fields": ["active"]}).json
    assert inactive["due"]["visible"] is False and inactive["secret"]["visible"] is False
    assert inactive["lost_reason"]["visible"] is False  # its own visible_when, as before
    assert inactive["name"]["visible"] is True  # another section
    active = client.post("/thing/form-state", data={"active": "y", "_fields": ["active"]}).json
    assert active["due"]["visible"] is True and active["secret"]["visible"] is True
