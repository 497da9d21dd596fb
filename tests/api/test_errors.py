"""Every refusal has the one error shape ``{code, status, message, errors}`` and the right
status: 400 / 401 / 403 / 404 / 405 / 409 / 413 / 415 / 422 / 428."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from ruleform.app import create_app, state

from .conftest import CUSTOMER, Api, Tokens

pytestmark = pytest.mark.app

SHAPE = {"code", "status", "message", "errors"}


def _error(response, status, code=None):
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert SHAPE <= set(body) and body["status"] == status
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["errors"], dict)
    if code:
        assert body["code"] == code
    return body


def _count(app):
    with state(app).engine.connect() as conn:
        return conn.execute(sa.text("select count(*) from e_customer")).scalar()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer rf_nope"},
        {"Authorization": "Basic c2FsZXMxOmRlbW8="},
        {"Authorization": "Bearer"},
    ],
)
def test_401_without_a_valid_token(api, headers):
    for method, path in [
        ("GET", "/customer"),
        ("POST", "/customer"),
        ("GET", "/customer/1"),
        ("GET", "/openapi.json"),
        ("PATCH", "/customer/1"),
    ]:
        response = api.call(method, path, user=None, headers=headers, json={})
        _error(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "data, detail",
    [
        (b"{", "invalid JSON"),
        (b"[1, 2]", "object"),
        (b'"text"', "object"),
        (b"null", "object"),
        (b"", "invalid JSON"),
        (b'{"qq": "1", "qq": "2"}', "twice"),
        (b'{"size_score": NaN}', "NaN"),
        (b'{"company_name": "\xff\xfe"}', "UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "deeply"),
    ],
)
def test_400_for_a_body_that_is_not_one_json_object(app, api, data, detail):
    response = api.post("/customer", data=data, content_type="application/json")
    body = _error(response, 400, "malformed")
    assert detail in body["message"]
    assert _count(app) == 0


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None],
)
def test_415_when_the_body_is_not_declared_as_json(api, content_type):
    kw = {"content_type": content_type} if content_type else {}
    response = api.post("/customer", data=b'{"qq": "12345"}', **kw)
    _error(response, 415, "unsupported_media_type")


def test_json_with_a_charset_parameter_is_accepted(api):
    response = api.post(
        "/customer",
        data=__import__("json").dumps(CUSTOMER).encode(),
        content_type="application/json; charset=utf-8",
    )
    assert response.status_code == 201


def test_413_over_max_content_length(app, api):
    limit = app.config["MAX_CONTENT_LENGTH"]
    payload = {**CUSTOMER, "remarks": "x" * (limit + 10)}
    response = api.post("/customer", json=payload)
    _error(response, 413, "too_large_request")
    assert _count(app) == 0


def test_422_lists_every_problem_per_field_and_saves_nothing(app, api):
    response = api.post(
        "/customer",
        json={
            "company_name": "x" * 300,
            "mobile": "12345",
            "email": "nope",
            "source": "tv",
            "size_score": 9,
        },
    )
    body = _error(response, 422, "validation_failed")
    assert {"company_name", "mobile", "email", "source", "size_score", "contact_name"} <= set(
        body["errors"]
    )
    assert all(isinstance(m, list) and m for m in body["errors"].values())
    assert _count(app) == 0


def test_unknown_fields_are_422_with_the_unknown_field_message(app, api):
    response = api.post("/customer", json={**CUSTOMER, "bogus": 1, "company name": "x"})
    body = _error(response, 422)
    assert body["errors"]["bogus"] == ["未知字段。"]
    assert "company name" in body["errors"]
    assert _count(app) == 0
    english = api.post("/customer", user="sales2", json={**CUSTOMER, "bogus": 1}).get_json()
    assert english["errors"]["bogus"] == ["Unknown field."]


@pytest.mark.parametrize(
    "field, value",
    [
        ("id", 5),
        ("row_version", 7),
        ("created_at", "2020-01-01T00:00:00Z"),
        ("created_by", 1),
        ("updated_at", "2020-01-01T00:00:00Z"),
        ("updated_by", 1),
        ("archived", True),
        ("archived_at", "2020-01-01T00:00:00Z"),
        ("rulebook_version", 99),
        ("status", "won"),
        ("owner", 1),
        ("department", 1),
        ("importance_score", 99),
        ("at_risk", True),
        ("credit_limit", "100"),
    ],
)
def test_mass_assignment_is_refused_by_name_not_silently_dropped(app, api, field, value):
    """System columns, status, unwritable and read-only fields: 422 naming the field."""
    response = api.post("/customer", json={**CUSTOMER, field: value})
    body = _error(response, 422)
    assert field in body["errors"]
    assert _count(app) == 0


@pytest.mark.parametrize(
    "field, value",
    [("status", "won"), ("owner", 1), ("id", 9), ("created_by", 1), ("department", 1)],
)
def test_mass_assignment_on_update_is_refused_too(api, customer, field, value):
    url = f"/customer/{customer['data']['id']}"
    response = api.patch(url, json={field: value}, headers={"If-Match": 'W/"1"'})
    assert field in _error(response, 422)["errors"]
    assert api.get(url).get_json()["meta"]["version"] == 1


def test_a_manager_may_assign_the_owner(api, org):
    response = api.post("/customer", user="manager", json={**CUSTOMER, "owner": org.user("sales2")})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["data"]["owner"] == org.user("sales2")


def test_405_for_an_unsupported_method(api, customer):
    response = api.call("PUT", f"/customer/{customer['data']['id']}", json={})
    _error(response, 405)
    _error(api.call("DELETE", "/customer"), 405)


def test_404_shape_for_unknown_routes_and_records(api):
    _error(api.get("/customer/424242"), 404, "not_found")
    _error(api.get("/no_such_entity"), 404, "not_found")


def test_409_and_428_shapes(api, customer):
    url = f"/customer/{customer['data']['id']}"
    _error(api.patch(url, json={"qq": "12345"}), 428, "precondition_required")
    _error(
        api.patch(url, json={"qq": "12345"}, headers={"If-Match": 'W/"5"'}), 409, "version_conflict"
    )
    _error(api.delete(url, user="admin"), 428)


def test_403_shape(api):
    _error(api.post("/customer", user="finance", json=CUSTOMER), 403, "forbidden")


def test_the_api_works_with_csrf_protection_on(tmp_path, database_url, org):
    """Bearer-token requests are not subject to CSRF (no ambient authority)."""
    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path / "i"),
            "DATABASE_URL": database_url,
            "TESTING": True,
            "WTF_CSRF_ENABLED": True,
        }
    )
    try:
        api = Api(app.test_client(), Tokens(app, org.users))
        assert api.post("/customer", json=CUSTOMER).status_code == 201
    finally:
        state(app).engine.dispose()


def test_a_session_cookie_without_csrf_token_cannot_write_through_the_api(tmp_path, database_url):
    """A logged-in browser session reaches the API only with its CSRF token (auth's rule):
    a cross-site form post riding the cookie is refused and saves nothing."""
    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path / "i"),
            "DATABASE_URL": database_url,
            "TESTING": True,
            "WTF_CSRF_ENABLED": True,
            "SESSION_COOKIE_SECURE": False,
        }
    )
    try:
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert token is not None
        login = client.post(
            "/login", data={"username": "sales1", "password": "demo", "csrf_token": token.group(1)}
        )
        assert login.status_code in (302, 303)
        response = client.post("/api/v1/customer", json=CUSTOMER)
        _error(response, 400, "csrf_failed")
        assert _count(app) == 0
    finally:
        state(app).engine.dispose()
