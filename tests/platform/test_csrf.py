"""CSRF with protection on: cookie-authenticated writes need the token, bearer ones do not."""

from __future__ import annotations

import re

import pytest

from ruleform.app import create_app, state
from ruleform.platform.auth.tokens import create_token

pytestmark = pytest.mark.app

UNSAFE = ["POST", "PUT", "PATCH", "DELETE"]


@pytest.fixture
def csrf_app(database_url, tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": database_url,
                      "TESTING": True, "WTF_CSRF_ENABLED": True,
                      "SESSION_COOKIE_SECURE": False})  # fmt: skip

    def probe():
        return {"ok": True}

    app.add_url_rule("/api/v1/_probe", "probe_api", probe, methods=["GET", *UNSAFE])
    app.add_url_rule("/_probe", "probe_page", probe, methods=["GET", *UNSAFE])
    yield app
    state(app).engine.dispose()


def csrf_token(client, path="/login") -> str:
    """The CSRF token of the client's session, from a page's form."""
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


@pytest.fixture
def session_client(csrf_app):
    """A client logged in through the form (with its CSRF token), and that token."""
    client = csrf_app.test_client()
    token = csrf_token(client)
    response = client.post("/login", data={"username": "sales1", "password": "demo",
                                           "csrf_token": token})  # fmt: skip
    assert response.status_code == 302
    return client, csrf_token(client, "/account/password")  # the session was rotated


def test_login_form_without_the_token_is_refused(csrf_app):
    client = csrf_app.test_client()
    client.get("/login")
    response = client.post("/login", data={"username": "sales1", "password": "demo"})
    assert response.status_code == 400
    assert client.get("/account/password").status_code == 302


@pytest.mark.parametrize("method", UNSAFE)
def test_session_writes_without_the_token_are_refused_with_json_under_api(session_client, method):
    client, _ = session_client
    response = client.open("/api/v1/_probe", method=method)
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "csrf_failed" and body["status"] == 400
    assert set(body) == {"code", "status", "message", "errors"}
    assert client.open("/_probe", method=method).status_code == 400


@pytest.mark.parametrize("method", UNSAFE)
def test_session_writes_with_the_token_pass(session_client, method):
    client, token = session_client
    assert client.open("/api/v1/_probe", method=method,
                       headers={"X-CSRFToken": token}).status_code == 200  # fmt: skip
    assert client.open("/_probe", method=method, data={"csrf_token": token}).status_code == 200


@pytest.mark.parametrize("method", UNSAFE)
def test_bearer_requests_need_no_csrf_token(csrf_app, org, method):
    with state(csrf_app).engine.begin() as conn:
        token = create_token(conn, org.user("sales1")).token
    client = csrf_app.test_client()
    response = client.open("/api/v1/_probe", method=method,
                           headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert response.status_code == 200


def test_a_bearer_header_does_not_exempt_page_requests(csrf_app, org, session_client):
    client, _ = session_client
    with state(csrf_app).engine.begin() as conn:
        token = create_token(conn, org.user("sales1")).token
    response = client.post("/_probe", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400


def test_getting_a_token_with_a_password_needs_no_csrf_token(csrf_app):
    client = csrf_app.test_client()
    response = client.post("/api/v1/tokens", json={"username": "sales1", "password": "demo"})
    assert response.status_code == 201


def test_logout_needs_the_token(session_client):
    client, token = session_client
    assert client.post("/logout").status_code == 400
    assert client.get("/account/password").status_code == 200
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/account/password").status_code == 302


def test_a_session_token_cannot_be_used_after_logout_and_login_as_someone_else(csrf_app):
    client = csrf_app.test_client()
    before = csrf_token(client)
    client.post("/login", data={"username": "sales1", "password": "demo", "csrf_token": before})
    # the session was rotated at login: the token of the anonymous session no longer matches
    assert client.open("/api/v1/_probe", method="POST",
                       headers={"X-CSRFToken": before}).status_code == 400  # fmt: skip
