"""The OpenAPI document: valid OpenAPI 3.1, generated from the model, filtered per role —
and good enough to drive the API: a client that only reads the document can list every
entity and create a record of every entity it may create."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate as validate_openapi

from ruleform.app import state

from .conftest import CUSTOMER

pytestmark = pytest.mark.app

SYSTEM = {"id", "row_version", "created_at", "updated_at", "created_by", "updated_by",
          "archived", "owner", "department", "status"}  # fmt: skip


def _doc(api, user="admin"):
    response = api.get("/openapi.json", user=user)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def conforms(doc: dict[str, Any], component: str, instance: Any) -> None:
    """``instance`` is valid against ``#/components/schemas/<component>`` of ``doc``."""
    schema = {"$ref": f"#/components/schemas/{component}", "components": doc["components"]}
    jsonschema.Draft202012Validator(schema).validate(instance)


@pytest.mark.parametrize("user", ["admin", "sales1", "finance", "service", "tech", "it"])
def test_the_document_is_valid_openapi_3_1_for_every_role(api, user):
    doc = _doc(api, user)
    assert doc["openapi"] == "3.1.0"
    validate_openapi(doc)
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token (ruleform tokens create).",
    }
    assert doc["security"] == [{"bearer": []}]


def test_every_readable_entity_has_its_paths_and_schemas(app, api):
    doc = _doc(api, "admin")
    rulebook = state(app).runtime.rulebook
    for name in rulebook.entities:
        assert f"/{name}" in doc["paths"] and f"/{name}/{{id}}" in doc["paths"]
        assert f"/{name}/{{id}}/history" in doc["paths"]
        assert name in doc["components"]["schemas"]
    customer = doc["components"]["schemas"]["customer"]["properties"]
    assert customer["source"]["enum"][:2] == ["trade_show", "online"]
    assert customer["company_name"]["maxLength"] == 200
    assert customer["email"]["format"] == "email"
    assert customer["last_contact_at"]["format"] == "date-time"
    assert customer["next_contact_on"]["format"] == "date"
    assert customer["qq"]["pattern"] == "^[1-9][0-9]{4,11}$"
    assert customer["status"]["enum"][:2] == ["pending_review", "prospect"]
    assert "/customer/{id}/related/contact" in doc["paths"]
    related = doc["paths"]["/customer/{id}/related/conflict_case"]["get"]["parameters"]
    via = next(p for p in related if isinstance(p, dict) and p.get("name") == "via")
    assert via["required"] is True and set(via["schema"]["enum"]) == {
        "customer",
        "duplicate_customer",
    }


def test_R39_finance_sees_only_payment_fields_of_customer(api):
    doc = _doc(api, "finance")
    props = set(doc["components"]["schemas"]["customer"]["properties"])
    assert props - SYSTEM == {
        "company_name",
        "short_name",
        "invoice_title",
        "tax_id",
        "bank_name",
        "bank_account",
        "payment_terms",
        "credit_limit",
    }
    update = doc["components"]["schemas"]["customer.update"]["properties"]
    assert set(update) - {"owner", "department"} == {"credit_limit", "row_version"}  # see below
    assert "customer.create" not in doc["components"]["schemas"]
    assert "post" not in doc["paths"]["/customer"]
    assert "delete" not in doc["paths"]["/customer/{id}"]
    filters = doc["components"]["parameters"]["customer.filter"]["schema"]["properties"]
    assert "mobile" not in filters and "credit_limit" in filters


def test_R39_finance_may_not_reassign_the_owner(api, customer, org):
    url = f"/customer/{customer['data']['id']}"
    response = api.patch(
        url, user="finance", json={"owner": org.user("sales2")}, headers={"If-Match": 'W/"1"'}
    )
    assert response.status_code == 422
    assert (
        "owner"
        not in _doc(api, "finance")["components"]["schemas"]["customer.update"]["properties"]
    )


def test_a_role_sees_only_the_entities_it_may_read(app, api):
    rulebook = state(app).runtime.rulebook
    for user, role in [("finance", "finance"), ("tech", "technical"), ("sales1", "sales")]:
        doc = _doc(api, user)
        readable = {n for n, e in rulebook.entities.items() if role in e.permissions
                    and "read" in e.permissions[role].actions}  # fmt: skip
        listed = {p.strip("/") for p in doc["paths"] if p.count("/") == 1} - {"openapi.json"}
        assert listed == readable, user
        for path in doc["paths"]:
            if "/related/" in path:
                assert path.rsplit("/", 1)[1] in readable


def test_sales_cannot_see_fields_it_may_not_write_in_its_create_schema(api):
    doc = _doc(api, "sales1")
    create = doc["components"]["schemas"]["customer.create"]
    assert "credit_limit" not in create["properties"] and "owner" not in create["properties"]
    assert set(create["required"]) == {"company_name", "contact_name", "source"}
    manager = _doc(api, "manager")["components"]["schemas"]["customer.create"]["properties"]
    assert "owner" in manager


def test_the_document_is_cached_per_version_and_role_set(app, api, statements):
    first = api.get("/openapi.json", user="sales1").get_data()
    api.get("/openapi.json", user="sales3")  # token made and first use recorded
    with statements.counting():
        again = api.get("/openapi.json", user="sales3").get_data()
    assert len(statements) <= 3, statements.statements  # authentication only
    assert not any("rulebook_versions" in s for s in statements.statements)
    runtime = state(app).runtime
    keys = [k for k in runtime._cache if k[0] == "api.openapi"]
    assert {k[1] for k in keys} == {("sales",)}
    assert first == again


def test_list_and_record_responses_conform_to_the_document(api, customer):
    doc = _doc(api, "sales1")
    conforms(doc, "customer.page", api.get("/customer").get_json())
    conforms(doc, "customer.document", customer)
    url = f"/customer/{customer['data']['id']}"
    conforms(doc, "customer.document", api.get(url).get_json())
    conforms(doc, "customer.document", api.get(url + "?reveal=mobile").get_json())
    conforms(doc, "HistoryPage", api.get(url + "/history").get_json())
    conforms(doc, "FormState", api.post("/customer/form-state", json={}).get_json())
    conforms(doc, "Error", api.post("/customer", json={"bogus": 1}).get_json())
    conforms(doc, "customer.create", CUSTOMER)


# --- driving the API from the document alone ----------------------------------------------


class Driver:
    """A client that knows only the OpenAPI document (and who it is)."""

    def __init__(self, api, doc, org, user="admin"):
        self.api, self.doc, self.org, self.user = api, doc, org, user
        self.made: dict[str, int] = {}

    def schema(self, name):
        return self.doc["components"]["schemas"][name]

    def value(self, name, prop):
        kinds = prop.get("type", "string")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        kind = next(k for k in kinds if k != "null")
        links = prop.get("x-ruleform-links")
        if links == "users":
            return self.org.user(self.user)
        if links == "departments":
            return self.org.departments["company"]
        if links:
            return self.record_of(links)
        if prop.get("enum"):
            return next(v for v in prop["enum"] if v is not None)
        if kind == "array":
            items = prop.get("items", {})
            return [next(v for v in items["enum"] if v is not None)] if items.get("enum") else ["x"]
        fmt = prop.get("format")
        today = date.today()
        if fmt == "date":
            return (today + timedelta(days=1)).isoformat()
        if fmt == "date-time":
            return (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
        if fmt == "email":
            return "driver@example.com"
        if fmt == "uri":
            return "https://example.com/"
        if fmt == "phone":
            return "13800138000"
        if fmt == "decimal":
            return "1"
        if kind in ("integer", "number"):
            return max(1, prop.get("minimum", 1))
        if kind == "boolean":
            return False
        return f"{name} {len(self.made) + 1}"[: prop.get("maxLength", 200)]

    def record_of(self, entity):
        if entity not in self.made:
            self.made[entity] = self.create(entity)
        return self.made[entity]

    def create(self, entity):
        schema = self.schema(f"{entity}.create")
        props = schema["properties"]
        payload = {n: self.value(n, props[n]) for n in schema.get("required", [])}
        for _attempt in range(3):
            response = self.api.post(f"/{entity}", user=self.user, json=payload)
            if response.status_code == 201:
                conforms(self.doc, f"{entity}.document", response.get_json())
                return response.get_json()["data"]["id"]
            assert response.status_code == 422, response.get_json()
            missing = [n for n in response.get_json()["errors"] if n in props and n not in payload]
            assert missing, (entity, payload, response.get_json())
            payload.update({n: self.value(n, props[n]) for n in missing})
        raise AssertionError(f"{entity}: could not create from the document: {payload}")


def test_a_client_drives_the_api_from_the_document_alone(api, org):
    doc = _doc(api, "admin")
    driver = Driver(api, doc, org)
    entities = [p.strip("/") for p in doc["paths"] if p.count("/") == 1 and p != "/openapi.json"]
    assert len(entities) >= 10
    for entity in entities:
        operations = doc["paths"][f"/{entity}"]
        listed = api.get(f"/{entity}", user="admin")
        assert listed.status_code == 200, (entity, listed.get_json())
        conforms(doc, f"{entity}.page", listed.get_json())
        if "post" in operations:
            record_id = driver.record_of(entity)
            one = api.get(f"/{entity}/{record_id}", user="admin")
            conforms(doc, f"{entity}.document", one.get_json())
    assert set(driver.made) == {e for e in entities if "post" in doc["paths"][f"/{e}"]}


def test_sales_drives_its_own_document(api, org):
    doc = _doc(api, "sales1")
    driver = Driver(api, doc, org, user="sales1")
    customer_id = driver.record_of("customer")
    assert api.get(f"/customer/{customer_id}", user="sales1").status_code == 200
