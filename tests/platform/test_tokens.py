"""API tokens: created with a password (API) or by an operator (CLI), used as Bearer,
revoked, expired; only their hash is stored."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import click
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from ruleform.app import state
from ruleform.platform.auth import commands
from ruleform.platform.auth.tokens import (
    TOUCH_INTERVAL,
    create_token,
    list_tokens,
    revoke_token,
    verify_token,
)
from ruleform.platform.runtime import utcnow
from tests.auth import sign_in

pytestmark = pytest.mark.app

ERROR_KEYS = {"code", "status", "message", "errors"}


def new_token(client, username="sales1", password="demo", **extra):
    return client.post("/api/v1/tokens", json={"username": username, "password": password, **extra})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def stored_tokens(app) -> list[dict]:
    with state(app).engine.connect() as conn:
        rows = conn.execute(sa.text("select * from api_tokens order by id")).mappings()
        return [dict(r) for r in rows]


# --- the API ---------------------------------------------------------------------------------


def test_a_token_is_made_from_a_username_and_password(app, client):
    response = new_token(client, name="nightly export", expires_in_days=30)
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"token", "id", "name", "expires_at"}
    assert body["token"].startswith("rf_") and len(body["token"]) >= 43
    assert body["name"] == "nightly export"
    assert body["expires_at"] is not None
    assert "Set-Cookie" not in response.headers
    (row,) = stored_tokens(app)
    assert row["token_hash"] == hashlib.sha256(body["token"].encode()).hexdigest()
    assert body["token"] not in str(row)


def test_the_token_authenticates_api_requests(client, org):
    token = new_token(client).get_json()["token"]
    response = client.get("/api/v1/tokens", headers=bearer(token))
    assert response.status_code == 200
    assert [item["name"] for item in response.get_json()["items"]] == ["API token"]


def test_wrong_credentials_get_401_in_the_error_shape(client):
    response = new_token(client, password="wrong")
    assert response.status_code == 401
    body = response.get_json()
    assert set(body) == ERROR_KEYS
    assert body["code"] == "login_failed" and body["status"] == 401


def test_token_requests_must_be_json_with_both_fields(client):
    assert client.post("/api/v1/tokens", data="x").status_code == 400
    response = client.post("/api/v1/tokens", json={"username": "sales1"})
    assert response.status_code == 422
    assert "password" in response.get_json()["errors"]
    assert new_token(client, expires_in_days=0).status_code == 422
    assert new_token(client, expires_in_days="7").status_code == 422


def test_token_creation_is_rate_limited_like_login(client):
    for _ in range(5):
        assert new_token(client, password="wrong").status_code == 401
    response = new_token(client)
    assert response.status_code == 429
    assert response.get_json()["code"] == "login_throttled"
    assert int(response.headers["Retry-After"]) >= 1


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer rf_not-a-real-token"}, {"Authorization": "Bearer "},
    {"Authorization": "Basic c2FsZXMxOmRlbW8="}, {"Authorization": "Bearer x" * 200},
])  # fmt: skip
def test_api_requests_without_a_valid_token_get_401_json(client, headers):
    response = client.get("/api/v1/tokens", headers=headers)
    assert response.status_code == 401
    body = response.get_json()
    assert set(body) == ERROR_KEYS
    assert body["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_unknown_api_paths_do_not_answer_anonymous_callers(client):
    assert client.get("/api/v1/no-such-thing").status_code == 401


def test_a_bad_token_is_refused_even_beside_a_valid_session(client):
    client.post("/login", data={"username": "sales1", "password": "demo"})
    assert client.get("/api/v1/tokens").status_code == 200  # the session works for the API
    assert client.get("/api/v1/tokens", headers=bearer("rf_wrong")).status_code == 401


def test_revoking_ones_own_token(app, client):
    token = new_token(client).get_json()
    other = new_token(client, name="second").get_json()
    response = client.delete(f"/api/v1/tokens/{token['id']}", headers=bearer(other["token"]))
    assert response.status_code == 204
    assert client.get("/api/v1/tokens", headers=bearer(token["token"])).status_code == 401
    assert client.get("/api/v1/tokens", headers=bearer(other["token"])).status_code == 200
    assert stored_tokens(app)[0]["revoked_at"] is not None


def test_others_tokens_are_out_of_reach_except_for_admins(client):
    victim = new_token(client, "sales2").get_json()
    intruder = new_token(client, "sales1").get_json()["token"]
    url = f"/api/v1/tokens/{victim['id']}"
    assert client.delete(url, headers=bearer(intruder)).status_code == 404
    assert client.get("/api/v1/tokens", headers=bearer(victim["token"])).status_code == 200
    admin = new_token(client, "admin").get_json()["token"]
    assert client.delete(f"/api/v1/tokens/{victim['id']}", headers=bearer(admin)).status_code == 204
    assert client.get("/api/v1/tokens", headers=bearer(victim["token"])).status_code == 401
    assert client.delete("/api/v1/tokens/999999", headers=bearer(admin)).status_code == 404


def test_an_expired_token_stops_working(app, client, org):
    with state(app).engine.begin() as conn:
        soon = create_token(conn, org.user("sales1"), "soon", utcnow() + timedelta(hours=1))
        gone = create_token(conn, org.user("sales1"), "gone", utcnow() - timedelta(seconds=1))
    assert client.get("/api/v1/tokens", headers=bearer(soon.token)).status_code == 200
    assert client.get("/api/v1/tokens", headers=bearer(gone.token)).status_code == 401
    with state(app).engine.begin() as conn:
        assert verify_token(conn, soon.token, utcnow() + timedelta(hours=2)) is None


def test_a_password_reset_revokes_the_users_tokens(app, client, org):
    """Finding of #11: a token minted with a leaked password outlived the reset."""
    mine = new_token(client).get_json()["token"]
    others = new_token(client, username="sales2").get_json()["token"]
    admin = sign_in(app.test_client(), "admin")
    page = admin.post(f"/admin/users/{org.user('sales1')}/password",
                      data={"new_password": "reset-by-admin-9", "confirm_password": "reset-by-admin-9"})  # fmt: skip
    assert page.status_code == 302, page.get_data(as_text=True)[:300]
    assert client.get("/api/v1/tokens", headers=bearer(mine)).status_code == 401
    assert client.get("/api/v1/tokens", headers=bearer(others)).status_code == 200
    assert all(row["revoked_at"] is not None for row in stored_tokens(app)
               if row["user_id"] == org.user("sales1"))  # fmt: skip


def test_changing_ones_own_password_revokes_ones_tokens(app, client, org):
    token = new_token(client).get_json()["token"]
    own = sign_in(app.test_client(), "sales1")
    page = own.post("/account/password", data={
        "current_password": "demo", "new_password": "a-new-password-1",
        "confirm_password": "a-new-password-1"})  # fmt: skip
    assert page.status_code in (302, 303), page.get_data(as_text=True)[:300]
    assert client.get("/api/v1/tokens", headers=bearer(token)).status_code == 401


def test_bearer_tokens_only_count_under_api(client):
    token = new_token(client).get_json()["token"]
    assert client.get("/account/password", headers=bearer(token)).status_code == 302


# --- the functions ---------------------------------------------------------------------------


def test_verify_records_use_at_most_once_a_minute(app, org):
    engine = state(app).engine
    now = utcnow()
    with engine.begin() as conn:
        new = create_token(conn, org.user("sales1"))
        assert verify_token(conn, new.token, now)["user_id"] == org.user("sales1")
        assert verify_token(conn, new.token, now + timedelta(seconds=30))
        (row,) = list_tokens(conn, org.user("sales1"))
        assert row["last_used_at"] == now
        verify_token(conn, new.token, now + TOUCH_INTERVAL)
        (row,) = list_tokens(conn, org.user("sales1"))
        assert row["last_used_at"] == now + TOUCH_INTERVAL
        assert "token_hash" not in row


def test_revoke_and_ownership(app, org):
    with state(app).engine.begin() as conn:
        new = create_token(conn, org.user("sales1"))
        assert not revoke_token(conn, new.id, user_id=org.user("sales2"))
        assert revoke_token(conn, new.id, user_id=org.user("sales1"))
        assert not revoke_token(conn, new.id)
        assert verify_token(conn, new.token) is None
        assert list_tokens(conn, org.user("sales1")) == []
        assert len(list_tokens(conn, org.user("sales1"), include_revoked=True)) == 1


def test_malformed_tokens_are_refused_without_a_lookup(app):
    with state(app).engine.begin() as conn:
        for text in ("", "rf_", "abc", "rf_" + "x" * 200):
            assert verify_token(conn, text) is None


# --- the command line ------------------------------------------------------------------------


@pytest.fixture
def cli(database_url):
    group = click.Group("ruleform")
    group.add_command(commands.users)
    group.add_command(commands.tokens)
    runner = CliRunner()

    def run(*args, input=None):
        return runner.invoke(group, [*args, "--database", database_url], input=input)

    return run


def test_cli_token_create_prints_it_once_and_it_works(cli, app, client):
    result = cli("tokens", "create", "--user", "sales1", "--name", "ci", "--expires-days", "7")
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("rf_")
    assert client.get("/api/v1/tokens", headers=bearer(token)).status_code == 200
    listing = cli("tokens", "list", "--user", "sales1")
    assert "ci" in listing.stdout and token not in listing.stdout
    token_id = stored_tokens(app)[0]["id"]
    assert cli("tokens", "revoke", str(token_id)).exit_code == 0
    assert client.get("/api/v1/tokens", headers=bearer(token)).status_code == 401
    again = cli("tokens", "revoke", str(token_id))
    assert again.exit_code == 1 and "no active token" in again.stderr


def test_cli_token_errors(cli):
    unknown = cli("tokens", "create", "--user", "nobody")
    assert unknown.exit_code == 1 and "no user 'nobody'" in unknown.stderr
    assert cli("tokens", "create").exit_code == 2
    assert cli("tokens", "create", "--user", "sales1", "--expires-days", "0").exit_code == 2
