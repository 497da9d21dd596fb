"""Logging in and out: the login page, rate limits, redirects after login, cookie flags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from ruleform.app import create_app, state
from ruleform.platform.auth.guards import safe_next
from ruleform.platform.auth.throttle import forget_failures, record_failure, retry_after
from ruleform.platform.auth.users import find_user
from tests.auth import logged_in, login

pytestmark = pytest.mark.app


def test_login_with_the_right_password_starts_a_session_and_redirects_home(client):
    response = login(client)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert logged_in(client)


def test_wrong_password_shows_the_message_next_to_the_form_and_keeps_the_username(client):
    response = login(client, password="wrong")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "用户名或密码错误" in page or "Wrong username or password" in page
    assert 'value="sales1"' in page
    assert "wrong" not in page  # the password is never sent back
    assert not logged_in(client)


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(client):
    unknown = login(client, username="nobody", password="demo", headers={"Accept-Language": "en"})
    wrong = login(client, password="nope", address="10.0.0.2", headers={"Accept-Language": "en"})
    assert unknown.status_code == wrong.status_code == 200
    assert "Wrong username or password." in unknown.get_data(as_text=True)
    assert "Wrong username or password." in wrong.get_data(as_text=True)


def test_username_is_case_insensitive(client):
    assert login(client, username="SALES1").status_code == 302


def test_deactivated_account_cannot_log_in(app, client, org):
    from ruleform.platform.auth.users import deactivate_user

    with state(app).engine.begin() as conn:
        deactivate_user(conn, org.user("sales2"))
    response = login(client, username="sales2", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert "This account is deactivated." in response.get_data(as_text=True)
    assert not logged_in(client)


def test_missing_fields_are_refused_without_checking(client):
    response = client.post("/login", data={"username": "", "password": ""},
                           headers={"Accept-Language": "en"})  # fmt: skip
    assert response.status_code == 200
    assert "This field is required." in response.get_data(as_text=True)


def test_logout_ends_the_session_and_only_accepts_post(client):
    login(client)
    assert client.get("/logout").status_code in (404, 405)  # a link cannot log anyone out
    assert logged_in(client)
    response = client.post("/logout")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert not logged_in(client)


def test_a_page_that_needs_login_sends_anonymous_visitors_to_login_with_next(client):
    response = client.get("/account/password")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/account/password"


def test_login_page_when_already_logged_in_goes_on(client):
    login(client)
    response = client.get("/login?next=/customer")
    assert response.status_code == 302
    assert response.headers["Location"] == "/customer"


# --- next: same-site paths only ------------------------------------------------------------


@pytest.mark.parametrize("target", [
    "/customer?view=mine", "/customer/12", "/",
])  # fmt: skip
def test_next_is_followed_for_paths_on_this_site(client, target):
    response = client.post("/login", query_string={"next": target},
                           data={"username": "sales1", "password": "demo"})  # fmt: skip
    assert response.headers["Location"] == target


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/x", "/\\evil.example", "\\\\evil.example",
    "javascript:alert(1)", "http:/evil.example", "/\tx", "/\r\nSet-Cookie:x", "customer",
    " /customer", "/\x00",
])  # fmt: skip
def test_next_refuses_other_sites_and_odd_paths(client, target):
    response = client.post("/login", query_string={"next": target},
                           data={"username": "sales1", "password": "demo"})  # fmt: skip
    assert response.headers["Location"] == "/"


def test_safe_next_rules():
    assert safe_next("/a/b?c=d#e") == "/a/b?c=d#e"
    for bad in (None, "", "//x", "/\\x", "https://x", "x", "/a\nb", "/a\x7fb"):
        assert safe_next(bad) == "/"


# --- rate limiting -----------------------------------------------------------------------


def test_R_throttle_per_username_across_addresses(client):
    for n in range(5):
        assert login(client, password="wrong", address=f"10.1.0.{n}").status_code == 200
    response = login(client, address="10.1.0.99", headers={"Accept-Language": "en"})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert "Too many attempts. Try again in" in response.get_data(as_text=True)
    assert not logged_in(client)
    assert login(client, username="sales2", address="10.1.0.99").status_code == 302


def test_throttle_per_address_across_usernames(client):
    for name in ("a1", "a2", "a3", "a4", "a5"):
        assert login(client, username=name, password="x", address="10.2.0.1").status_code == 200
    throttled = login(client, address="10.2.0.1")
    assert throttled.status_code == 429
    assert "Retry-After" in throttled.headers
    assert login(client, address="10.2.0.2").status_code == 302


def test_throttle_follows_the_configured_limit(app, client):
    app.config["LOGIN_RATE_LIMIT"] = (2, 60)
    login(client, password="x")
    login(client, password="x")
    assert login(client).status_code == 429


def test_a_successful_login_forgets_that_usernames_failures(client):
    for n in range(4):
        login(client, password="wrong", address=f"10.3.0.{n}")
    assert login(client, address="10.3.0.9").status_code == 302
    client.post("/logout")
    for n in range(4):
        login(client, password="wrong", address=f"10.3.1.{n}")
    assert login(client, address="10.3.1.9").status_code == 302


def test_throttle_window_and_retry_after(app):
    engine = state(app).engine
    start = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
    limit = (3, 60)
    with engine.begin() as conn:
        for seconds in (0, 10, 20):
            record_failure(conn, "Zed", "1.2.3.4", limit, start + timedelta(seconds=seconds))
        assert retry_after(conn, "zed", "9.9.9.9", limit, start + timedelta(seconds=30)) == 30
        assert retry_after(conn, "other", "1.2.3.4", limit, start + timedelta(seconds=30)) == 30
        assert retry_after(conn, "zed", "9.9.9.9", limit, start + timedelta(seconds=61)) == 0
        forget_failures(conn, "ZED")
        assert retry_after(conn, "zed", "9.9.9.9", limit, start + timedelta(seconds=30)) == 0
        # the address still remembers the failures
        assert retry_after(conn, "other", "1.2.3.4", limit, start + timedelta(seconds=30)) == 0


def test_failures_are_stored_in_the_database_so_every_worker_sees_them(app, client):
    login(client, password="wrong")
    with state(app).engine.connect() as conn:
        rows = conn.execute(sa.text("select username, address from login_attempts")).all()
    assert [tuple(r) for r in rows] == [("sales1", "127.0.0.1")]


# --- what is stored, what is sent ------------------------------------------------------------


def test_only_an_argon2id_hash_is_stored(app, client):
    login(client)
    with state(app).engine.connect() as conn:
        user = find_user(conn, "sales1")
    assert user["password_hash"].startswith("$argon2id$")
    assert "demo" not in user["password_hash"]
    assert user["last_login_at"] is not None


def test_session_cookie_is_secure_httponly_and_samesite_lax(database_url, tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path / "secure"), "DATABASE_URL": database_url,
                      "TESTING": True, "WTF_CSRF_ENABLED": False,
                      "SESSION_COOKIE_SECURE": True})  # fmt: skip
    try:
        client = app.test_client()
        response = client.post("/login", data={"username": "sales1", "password": "demo"},
                               base_url="https://localhost")  # fmt: skip
        assert response.status_code == 302
        cookie = response.headers["Set-Cookie"]
        assert cookie.startswith("ruleform_session=")
        assert "; Secure" in cookie
        assert "; HttpOnly" in cookie
        assert "SameSite=Lax" in cookie
    finally:
        state(app).engine.dispose()


def test_login_rotates_the_session(client):
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    login(client)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["session_epoch"] == 0
