"""The permission matrix of the CRM rulebook, generated from the compiled rulebook (not
written by hand): for every role × entity × action (read, create, update, archive, export
and every transition), through the API and the pages, an allowed action gets past the
permission check and a denied one gets 403 — or 404 when the role may not even read —
and leaves every table as it was.

"Gets past the permission check" means any answer but 401/403/404: an empty update may
still fail validation (422) and a transition may not apply in the record's status (409).
"""

from __future__ import annotations

from typing import Any

import pytest

from ruleform.app import state
from ruleform.metadata.compiler import check_rulebook
from ruleform.platform.auth.users import create_user
from tests.conftest import CRM
from tests.permissions.conftest import insert_row

pytestmark = pytest.mark.app

RULEBOOK = check_rulebook(CRM).rulebook
ROLES = sorted(RULEBOOK.roles)
DENIED = (401, 403, 404)


def _user_for(app: Any, org: Any, role: str) -> tuple[str, int, int]:
    """A user holding only ``role`` (made for the test), in the sales department."""
    username = f"matrix_{role}"
    with state(app).engine.begin() as conn:
        user_id = create_user(conn, username, "demo", display_name=username,
                              department_id=org.departments["sales"], roles=[role],
                              locale="en", email=f"{username}@example.com")  # fmt: skip
    return username, user_id, org.departments["sales"]


def _in_scope(app: Any, username: str, entity: Any, record_id: int, action: str) -> bool:
    import sqlalchemy as sa

    from ruleform.platform.actors import load_actor
    from ruleform.platform.auth.users import find_user

    st = state(app)
    with st.engine.connect() as conn:
        actor = load_actor(conn, find_user(conn, username)["id"])
        table = st.runtime.table(entity)
        clause = st.runtime.policy.row_clause(actor, entity, st.runtime.tables, action)
        return conn.execute(sa.select(table.c.id).where(table.c.id == record_id, clause)).first() \
            is not None  # fmt: skip


def _may_transition(entity: Any, role: str, name: str) -> bool:
    perm = entity.permissions.get(role)
    t = entity.transitions[name]
    return perm is not None and name in perm.transitions and (not t.roles or role in t.roles)


@pytest.mark.parametrize("role", ROLES)
def test_matrix_every_entity_and_action_for_role(app, org, tokens, api, pages, snapshot, role):
    username, user_id, department = _user_for(app, org, role)
    tokens.users[username] = user_id
    page = pages.client(username)
    problems: list[str] = []

    def expect(ok: bool, status: int, what: str) -> None:
        if ok and status in DENIED or not ok and status not in (403, 404):
            problems.append(f"{role} {what}: {'allowed' if ok else 'denied'} but got {status}")

    for entity in RULEBOOK.entities.values():
        perm = entity.permissions.get(role)
        actions = perm.actions if perm is not None else frozenset()
        can = {a: a in actions for a in ("read", "create", "update", "archive", "export")}
        record = insert_row(app, entity.name, user_id, department)
        readable = can["read"] and _in_scope(app, username, entity, record, "read")
        name, url = entity.name, f"/{entity.name}/{record}"
        expect(can["read"], api.get(f"/{name}", user=username).status_code, f"{name} list")
        expect(can["read"], page.get(f"/{name}").status_code, f"{name} list page")
        expect(readable, api.get(url, user=username).status_code, f"{name} get")
        expect(readable, page.get(url).status_code, f"{name} detail page")
        expect(can["read"] and can["export"],
               api.get(f"/{name}/export", user=username).status_code, f"{name} export")  # fmt: skip
        expect(can["read"] and can["export"], page.get(f"/{name}/export").status_code,
               f"{name} export page")  # fmt: skip
        _writes(api, page, snapshot, expect, username, entity, record, can, readable, app, role)
    assert not problems, "\n".join(problems)


def _writes(api, page, snapshot, expect, username, entity, record, can, readable, app, role):
    name, url = entity.name, f"/{entity.name}/{record}"
    headers = {"If-Match": 'W/"1"'}

    def denied_changes_nothing(ok: bool, call, what: str) -> None:
        before = snapshot.take(name, record)
        status = call()
        expect(ok, status, what)
        if status in (403, 404):
            assert snapshot.take(name, record) == before, f"{role} {what}: a refused write wrote"

    denied_changes_nothing(can["read"] and can["create"],
                           lambda: api.post(f"/{name}", user=username, json={}).status_code,
                           f"{name} create")  # fmt: skip
    denied_changes_nothing(can["read"] and can["create"],
                           lambda: page.get(f"/{name}/new").status_code, f"{name} new page")  # fmt: skip
    may_update = readable and can["update"] and _in_scope(app, username, entity, record, "update")
    denied_changes_nothing(may_update, lambda: api.patch(url, user=username, json={},
                                                         headers=headers).status_code,
                           f"{name} update")  # fmt: skip
    denied_changes_nothing(may_update, lambda: page.get(f"{url}/edit").status_code,
                           f"{name} edit page")  # fmt: skip
    for transition in entity.transitions:
        ok = readable and _may_transition(entity, role, transition)
        denied_changes_nothing(ok, lambda t=transition: api.post(
            f"{url}/transitions/{t}", user=username, json={}, headers=headers).status_code,
            f"{name} transition {transition}")  # fmt: skip
    may_archive = (
        readable and can["archive"] and _in_scope(app, username, entity, record, "archive")
    )
    denied_changes_nothing(may_archive, lambda: api.delete(url, user=username,
                                                           headers=headers).status_code,
                           f"{name} archive")  # fmt: skip
