"""Users, departments and role assignments: the organisation, as data.

One person, one account (R02): usernames are unique and case-insensitive; accounts are
deactivated, never deleted, so history stays attributed. Deactivating bumps the user's
session epoch (ending their sessions on the next request) and revokes their API tokens.

Refusals are ``FieldErrors`` whose messages are codes of ``platform.messages``
(``username_taken``, ``department_cycle`` …): the caller knows the reader's locale and
translates them with ``message(code, locale)`` ("raise low, enrich high").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ...errors import FieldErrors
from ..actors import department_subtree
from ..messages import SUPPORTED_LOCALES
from ..storage import add_system_tables
from .passwords import hash_password

__all__ = [
    "create_department", "update_department", "move_department", "list_departments",
    "get_department", "create_user", "update_user", "set_roles", "user_roles",
    "set_password", "deactivate_user", "reactivate_user", "find_user", "get_user",
    "list_users", "users_table", "departments_table", "user_roles_table", "api_tokens_table",
    "USER_FIELDS",
]  # fmt: skip

_md = sa.MetaData()

#: Columns ``update_user`` may change (roles: ``set_roles``; active: (de|re)activate).
USER_FIELDS = frozenset({"username", "display_name", "email", "department_id", "manager_id",
                         "locale", "timezone", "is_admin"})  # fmt: skip
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DEPARTMENT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")


def _table(name: str) -> sa.Table:
    if name not in _md.tables:
        add_system_tables(_md)
    return _md.tables[name]


def users_table() -> sa.Table:
    return _table("users")


def departments_table() -> sa.Table:
    return _table("departments")


def user_roles_table() -> sa.Table:
    return _table("user_roles")


def api_tokens_table() -> sa.Table:
    return _table("api_tokens")


# --- departments ---------------------------------------------------------------------------


def create_department(conn: Connection, name: str, label_zh: str | None = None,
                      label_en: str | None = None, parent_id: int | None = None,
                      manager_id: int | None = None) -> int:  # fmt: skip
    """Add a department under ``parent_id``; returns its id."""
    name = name.strip()
    _check_department(conn, None, name, parent_id, manager_id)
    deps = departments_table()
    return conn.execute(
        deps.insert().values(name=name, label_zh=label_zh or name, label_en=label_en or name,
                             parent_id=parent_id, manager_id=manager_id, active=True)
        .returning(deps.c.id)
    ).scalar_one()  # fmt: skip


def update_department(conn: Connection, department_id: int, *, name: str,
                      label_zh: str | None, label_en: str | None, parent_id: int | None,
                      manager_id: int | None) -> None:  # fmt: skip
    """Change a department; a new parent below itself is refused (``department_cycle``)."""
    name = name.strip()
    _check_department(conn, department_id, name, parent_id, manager_id)
    deps = departments_table()
    conn.execute(deps.update().where(deps.c.id == department_id).values(
        name=name, label_zh=label_zh or name, label_en=label_en or name,
        parent_id=parent_id, manager_id=manager_id))  # fmt: skip


def move_department(conn: Connection, department_id: int, parent_id: int | None) -> None:
    """Put a department under ``parent_id`` (None: top level), refusing cycles."""
    if get_department(conn, department_id) is None:
        raise FieldErrors({"id": ["unknown_department"]})
    errors = _parent_errors(conn, department_id, parent_id)
    if errors:
        raise FieldErrors({"parent_id": errors})
    deps = departments_table()
    conn.execute(deps.update().where(deps.c.id == department_id).values(parent_id=parent_id))


def get_department(conn: Connection, department_id: int) -> dict | None:
    deps = departments_table()
    row = conn.execute(sa.select(deps).where(deps.c.id == department_id)).mappings().first()
    return dict(row) if row else None


def list_departments(conn: Connection) -> list[dict]:
    """Every department, ordered by name."""
    deps = departments_table()
    return [dict(r) for r in conn.execute(sa.select(deps).order_by(deps.c.name)).mappings()]


def _check_department(conn: Connection, department_id: int | None, name: str,
                      parent_id: int | None, manager_id: int | None) -> None:  # fmt: skip
    errors: dict[str, list[str]] = {}
    if not _DEPARTMENT_NAME.match(name):
        errors["name"] = ["department_name_invalid"]
    else:
        deps = departments_table()
        clash = conn.execute(sa.select(deps.c.id).where(
            sa.func.lower(deps.c.name) == name.lower())).scalar()  # fmt: skip
        if clash is not None and clash != department_id:
            errors["name"] = ["department_name_taken"]
    parent_errors = _parent_errors(conn, department_id, parent_id)
    if parent_errors:
        errors["parent_id"] = parent_errors
    if manager_id is not None and get_user(conn, manager_id) is None:
        errors["manager_id"] = ["unknown_user"]
    if errors:
        raise FieldErrors(errors)


def _parent_errors(conn: Connection, department_id: int | None, parent_id: int | None) -> list[str]:
    if parent_id is None:
        return []
    if get_department(conn, parent_id) is None:
        return ["unknown_department"]
    if department_id is not None and parent_id in department_subtree(conn, department_id):
        return ["department_cycle"]
    return []


# --- users ---------------------------------------------------------------------------------


def find_user(conn: Connection, username: str) -> dict | None:
    """The user named ``username`` (case-insensitive), or None."""
    users = users_table()
    row = (
        conn.execute(
            sa.select(users).where(sa.func.lower(users.c.username) == username.strip().lower())
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def get_user(conn: Connection, user_id: int) -> dict | None:
    """The user with id ``user_id`` (with ``roles``), or None."""
    users = users_table()
    row = conn.execute(sa.select(users).where(users.c.id == user_id)).mappings().first()
    if row is None:
        return None
    return {**row, "roles": user_roles(conn, user_id)}


def user_roles(conn: Connection, user_id: int) -> list[str]:
    table = user_roles_table()
    query = sa.select(table.c.role).where(table.c.user_id == user_id).order_by(table.c.role)
    return list(conn.execute(query).scalars())


def list_users(conn: Connection, search: str = "", active: bool | None = None,
               limit: int = 50, offset: int = 0) -> tuple[list[dict], int]:  # fmt: skip
    """Users matching ``search`` (username, name or email) and ``active``; and their count."""
    users = users_table()
    where: list[sa.ColumnElement[bool]] = []
    if search.strip():
        text = search.strip().lower()
        for special in ("\\", "%", "_"):
            text = text.replace(special, "\\" + special)
        columns = (users.c.username, users.c.display_name, users.c.email)
        where.append(sa.or_(*(sa.func.lower(c).like(f"%{text}%", escape="\\") for c in columns)))
    if active is not None:
        where.append(users.c.active == active)
    total = conn.execute(sa.select(sa.func.count()).select_from(users).where(*where)).scalar_one()
    rows = conn.execute(sa.select(users).where(*where).order_by(sa.func.lower(users.c.username))
                        .limit(limit).offset(offset)).mappings().all()  # fmt: skip
    roles = _roles_of(conn, [r["id"] for r in rows])
    return [{**r, "roles": roles.get(r["id"], [])} for r in rows], total


def _roles_of(conn: Connection, user_ids: list[int]) -> dict[int, list[str]]:
    table = user_roles_table()
    found: dict[int, list[str]] = {}
    if user_ids:
        query = sa.select(table).where(table.c.user_id.in_(user_ids)).order_by(table.c.role)
        for row in conn.execute(query):
            found.setdefault(row.user_id, []).append(row.role)
    return found


def create_user(conn: Connection, username: str, password: str | None, *,
                display_name: str | None = None, email: str | None = None,
                department_id: int | None = None, manager_id: int | None = None,
                roles: Iterable[str] = (), locale: str | None = None,
                is_admin: bool = False) -> int:  # fmt: skip
    """Create an account; FieldErrors if the username is taken or a value is invalid."""
    values = {"username": username.strip(), "display_name": display_name,
              "email": email or None, "department_id": department_id,
              "manager_id": manager_id, "locale": locale or None}  # fmt: skip
    _check_user(conn, None, values)
    values["display_name"] = (display_name or "").strip() or values["username"]
    users = users_table()
    user_id = conn.execute(
        users.insert().values(
            **values, password_hash=hash_password(password) if password else None,
            active=True, is_admin=is_admin, session_epoch=0, created_at=datetime.now(UTC),
        ).returning(users.c.id)
    ).scalar_one()  # fmt: skip
    set_roles(conn, user_id, roles)
    return user_id


def update_user(conn: Connection, user_id: int, changes: Mapping[str, Any]) -> None:
    """Change the columns in ``changes`` (keys from ``USER_FIELDS``) after checking them."""
    unknown = set(changes) - USER_FIELDS
    if unknown:
        raise ValueError(f"update_user cannot change {', '.join(sorted(unknown))}")
    current = get_user(conn, user_id)
    if current is None:
        raise FieldErrors({"id": ["unknown_user"]})
    values = dict(changes)
    if "username" in values:
        values["username"] = str(values["username"]).strip()
    if "email" in values:
        values["email"] = values["email"] or None
    if "locale" in values:
        values["locale"] = values["locale"] or None
    _check_user(conn, user_id, values)
    if "display_name" in values:
        display = (values["display_name"] or "").strip()
        values["display_name"] = display or values.get("username") or current["username"]
    if values:
        users = users_table()
        conn.execute(users.update().where(users.c.id == user_id).values(**values))


def _check_user(conn: Connection, user_id: int | None, values: Mapping[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    if "username" in values:
        name = values["username"]
        if not name or len(name) > 150 or any(ch.isspace() for ch in name):
            errors["username"] = ["username_invalid"]
        else:
            other = find_user(conn, name)
            if other is not None and other["id"] != user_id:
                errors["username"] = ["username_taken"]
    if len(values.get("display_name") or "") > 200:
        errors["display_name"] = ["display_name_too_long"]
    email = values.get("email")
    if email and (len(email) > 254 or not _EMAIL.match(email)):
        errors["email"] = ["not_email"]
    if values.get("locale") and values["locale"] not in SUPPORTED_LOCALES:
        errors["locale"] = ["unknown_locale"]
    department_id = values.get("department_id")
    if department_id is not None and get_department(conn, department_id) is None:
        errors["department_id"] = ["unknown_department"]
    manager_error = _manager_error(conn, user_id, values.get("manager_id"))
    if manager_error:
        errors["manager_id"] = [manager_error]
    if errors:
        raise FieldErrors(errors)


def _manager_error(conn: Connection, user_id: int | None, manager_id: int | None) -> str | None:
    """Unknown manager, or a chain of managers that would lead back to the user."""
    if manager_id is None:
        return None
    users = users_table()
    seen: set[int] = set()
    current: int | None = manager_id
    while current is not None and current not in seen:
        if user_id is not None and current == user_id:
            return "manager_cycle"
        seen.add(current)
        row = conn.execute(sa.select(users.c.manager_id).where(users.c.id == current)).first()
        if row is None:
            return "unknown_user" if current == manager_id else None
        current = row.manager_id
    return None


def set_roles(conn: Connection, user_id: int, roles: Iterable[str]) -> None:
    """Replace the roles of ``user_id``."""
    table = user_roles_table()
    conn.execute(table.delete().where(table.c.user_id == user_id))
    for role in sorted(set(roles)):
        conn.execute(table.insert().values(user_id=user_id, role=role))


def set_password(conn: Connection, user_id: int, password: str) -> int:
    """Set a new password, end the user's sessions and revoke their API tokens (a leaked
    password may have minted them); returns the new session epoch."""
    users, tokens = users_table(), api_tokens_table()
    epoch = conn.execute(
        users.update().where(users.c.id == user_id)
        .values(password_hash=hash_password(password), session_epoch=users.c.session_epoch + 1)
        .returning(users.c.session_epoch)
    ).scalar_one()  # fmt: skip
    conn.execute(tokens.update().where(tokens.c.user_id == user_id, tokens.c.revoked_at.is_(None))
                 .values(revoked_at=datetime.now(UTC)))  # fmt: skip
    return epoch


def deactivate_user(conn: Connection, user_id: int) -> None:
    """Deactivate an account: its sessions and tokens stop working on the next request.

    Its API tokens are revoked too, so reactivating the account does not revive them.
    """
    users, tokens = users_table(), api_tokens_table()
    now = datetime.now(UTC)
    conn.execute(users.update().where(users.c.id == user_id).values(
        active=False, deactivated_at=now, session_epoch=users.c.session_epoch + 1))  # fmt: skip
    conn.execute(tokens.update().where(tokens.c.user_id == user_id, tokens.c.revoked_at.is_(None))
                 .values(revoked_at=now))  # fmt: skip


def reactivate_user(conn: Connection, user_id: int) -> None:
    """Let a deactivated account log in again (with a fresh session epoch)."""
    users = users_table()
    conn.execute(users.update().where(users.c.id == user_id).values(
        active=True, deactivated_at=None, session_epoch=users.c.session_epoch + 1))  # fmt: skip
