"""Sessions end when they should: deactivation, password changes, a stolen cookie elsewhere.
And the actor of a request is loaded correctly and cheaply."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import g

from ruleform.app import state
from ruleform.platform.actors import load_actor
from ruleform.platform.auth.identity import admin_roles, load_token_actor, load_user_actor
from ruleform.platform.auth.tokens import create_token
from ruleform.platform.auth.users import deactivate_user, reactivate_user, set_password, set_roles
from ruleform.platform.runtime import utcnow
from tests.auth import logged_in, login

pytestmark = pytest.mark.app


def change_password(client, current="demo", new="a-new-password-1"):
    return client.post("/account/password", data={
        "current_password": current, "new_password": new, "confirm_password": new})  # fmt: skip


def test_deactivation_ends_an_open_session_and_the_tokens_on_the_next_request(app, org):
    client = app.test_client()
    login(client)
    with state(app).engine.begin() as conn:
        token = create_token(conn, org.user("sales1"), "script").token
    bearer = {"Authorization": f"Bearer {token}"}
    assert logged_in(client)
    assert client.get("/api/v1/tokens", headers=bearer).status_code == 200

    with state(app).engine.begin() as conn:
        deactivate_user(conn, org.user("sales1"))

    assert not logged_in(client)
    assert client.get("/api/v1/tokens", headers=bearer).status_code == 401
    with state(app).engine.begin() as conn:  # reactivating does not revive old credentials
        reactivate_user(conn, org.user("sales1"))
    assert client.get("/api/v1/tokens", headers=bearer).status_code == 401
    assert not logged_in(client)
    login(client)
    assert logged_in(client)


def test_changing_ones_password_ends_the_other_sessions_but_not_this_one(app):
    here, elsewhere = app.test_client(), app.test_client()
    login(here)
    login(elsewhere)
    response = change_password(here)
    assert response.status_code == 302
    assert logged_in(here)
    assert not logged_in(elsewhere)
    assert login(elsewhere, password="demo").status_code == 200  # the old one is gone
    assert login(elsewhere, password="a-new-password-1").status_code == 302


def test_changing_the_password_needs_the_current_one_and_a_good_new_one(client):
    login(client, "sales2")  # sales2 reads English
    headers = {"Accept-Language": "en"}
    wrong = client.post("/account/password", headers=headers, data={
        "current_password": "nope", "new_password": "long-enough-1",
        "confirm_password": "long-enough-1"})  # fmt: skip
    assert "The current password is wrong." in wrong.get_data(as_text=True)
    short = client.post("/account/password", headers=headers, data={
        "current_password": "demo", "new_password": "short",
        "confirm_password": "short"})  # fmt: skip
    assert "Use at least 8 characters." in short.get_data(as_text=True)
    differ = client.post("/account/password", headers=headers, data={
        "current_password": "demo", "new_password": "long-enough-1",
        "confirm_password": "long-enough-2"})  # fmt: skip
    assert "The two passwords differ." in differ.get_data(as_text=True)
    same = client.post("/account/password", headers=headers, data={
        "current_password": "demo", "new_password": "Sales2",
        "confirm_password": "Sales2"})  # fmt: skip
    assert "must not be the username" in same.get_data(as_text=True)
    assert logged_in(client)


def test_a_password_set_elsewhere_ends_the_session(app, org):
    client = app.test_client()
    login(client)
    with state(app).engine.begin() as conn:
        set_password(conn, org.user("sales1"), "changed-by-admin")
    assert not logged_in(client)


def test_a_session_cookie_replayed_from_another_browser_is_refused(app):
    client = app.test_client()
    login(client)
    assert client.get("/account/password", headers={"User-Agent": "Other/1.0"}).status_code == 302


def test_a_tampered_session_epoch_is_refused(client):
    login(client)
    with client.session_transaction() as session:
        session["session_epoch"] = 99
    assert not logged_in(client)


def test_role_changes_count_from_the_next_request(app, client, org):
    login(client, "sales2")
    assert client.get("/admin/users").status_code == 403
    with state(app).engine.begin() as conn:
        set_roles(conn, org.user("sales2"), ["sales", "admin"])
    assert client.get("/admin/users").status_code == 200


def test_the_actor_is_on_g_for_every_request(app, client, org):
    seen = []

    @app.after_request
    def _remember(response):
        seen.append(g.get("rf_actor"))
        return response

    client.get("/login")
    login(client)
    client.get("/account/password")
    assert seen[0] is None
    assert seen[-1].user_id == org.user("sales1")
    sales = {org.departments["sales"], org.departments["sales_east"]}
    assert seen[-1].departments == frozenset(sales)


# --- loading the actor ---------------------------------------------------------------------


@pytest.mark.parametrize("username", ["admin", "manager", "sales3", "gm"])
def test_identity_builds_the_same_actor_as_load_actor(app, org, username):
    st = state(app)
    admins = admin_roles(st.runtime.rulebook)
    with st.engine.begin() as conn:
        expected = load_actor(conn, org.user(username), admins)
        assert load_user_actor(conn, org.user(username), admins) == expected
        token = create_token(conn, org.user(username)).token
        assert load_token_actor(conn, token, utcnow(), admins).actor == expected


def test_admin_comes_from_the_rulebooks_admin_roles_or_the_superuser_flag(app, org):
    st = state(app)
    admins = admin_roles(st.runtime.rulebook)
    assert admins == frozenset({"admin"})
    with st.engine.begin() as conn:
        assert load_user_actor(conn, org.user("admin"), admins).is_admin
        assert not load_user_actor(conn, org.user("gm"), admins).is_admin
        set_roles(conn, org.user("gm"), ["general_manager", "admin"])
        assert load_user_actor(conn, org.user("gm"), admins).is_admin


class Statements:
    def __init__(self, engine):
        self.engine, self.seen = engine, []
        sa.event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, conn, cursor, statement, *args):
        self.seen.append(statement)

    def queries(self):
        """Statements other than transaction control (BEGIN on SQLite)."""
        return [s for s in self.seen if not s.strip().upper().startswith(("BEGIN", "COMMIT"))]

    def close(self):
        sa.event.remove(self.engine, "before_cursor_execute", self._record)


@pytest.fixture
def whoami(app):
    from ruleform.platform.web import current_actor

    def view():
        actor = current_actor()
        return {"user": actor.username if actor else None}

    app.add_url_rule("/api/v1/_whoami", "whoami_api", view)
    app.add_url_rule("/_whoami", "whoami_page", view)
    return app


def test_an_authenticated_request_costs_at_most_three_statements(whoami, org):
    app = whoami
    client = app.test_client()
    login(client)
    with state(app).engine.begin() as conn:
        token = create_token(conn, org.user("sales2")).token
    counter = Statements(state(app).engine)
    try:
        assert client.get("/_whoami").get_json() == {"user": "sales1"}
        assert len(counter.queries()) == 2, counter.seen
        counter.seen.clear()
        bearer = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/v1/_whoami", headers=bearer).get_json() == {"user": "sales2"}
        assert len(counter.queries()) == 3, counter.seen  # the first use records last_used_at
        counter.seen.clear()
        client.get("/api/v1/_whoami", headers=bearer)
        assert len(counter.queries()) == 2, counter.seen
        counter.seen.clear()
        anonymous = app.test_client()
        anonymous.get("/_whoami")
        assert counter.queries() == []
    finally:
        counter.close()
