"""Users, departments and role assignments: the organisation, as data.

One person, one account (R02): usernames are unique and case-insensitive; accounts are
deactivated, never deleted, so history stays attributed. Deactivating bumps the user's
session epoch, which ends their sessions and API tokens on the next request.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ...errors import FieldErrors
from .passwords import hash_password

__all__ = [
    "create_department", "create_user", "set_roles", "set_password", "deactivate_user",
    "find_user", "users_table", "departments_table", "user_roles_table",
]  # fmt: skip

_md = sa.MetaData()


def _tables() -> tuple[sa.Table, sa.Table, sa.Table]:
    from ..storage import add_system_tables

    if "users" not in _md.tables:
        add_system_tables(_md)
    return _md.tables["users"], _md.tables["departments"], _md.tables["user_roles"]


def users_table() -> sa.Table:
    return _tables()[0]


def departments_table() -> sa.Table:
    return _tables()[1]


def user_roles_table() -> sa.Table:
    return _tables()[2]


def create_department(conn: Connection, name: str, label_zh: str | None = None,
                      label_en: str | None = None, parent_id: int | None = None,
                      manager_id: int | None = None) -> int:  # fmt: skip
    """Add a department under ``parent_id``; returns its id."""
    deps = departments_table()
    return conn.execute(
        deps.insert().values(name=name, label_zh=label_zh or name, label_en=label_en or name,
                             parent_id=parent_id, manager_id=manager_id, active=True)
        .returning(deps.c.id)
    ).scalar_one()  # fmt: skip


def find_user(conn: Connection, username: str) -> dict | None:
    """The user named ``username`` (case-insensitive), or None."""
    users = users_table()
    row = conn.execute(
        sa.select(users).where(sa.func.lower(users.c.username) == username.strip().lower())
    ).mappings().first()
    return dict(row) if row else None


def create_user(conn: Connection, username: str, password: str | None, *,
                display_name: str | None = None, email: str | None = None,
                department_id: int | None = None, manager_id: int | None = None,
                roles: Iterable[str] = (), locale: str | None = None,
                is_admin: bool = False) -> int:  # fmt: skip
    """Create an account; FieldErrors if the username is taken or malformed."""
    name = username.strip()
    if not name or len(name) > 150 or any(ch.isspace() for ch in name):
        raise FieldErrors({"username": ["invalid username"]})
    if find_user(conn, name) is not None:
        raise FieldErrors({"username": ["this username is taken (one account per person)"]})
    users = users_table()
    user_id = conn.execute(
        users.insert().values(
            username=name, display_name=display_name or name, email=email,
            password_hash=hash_password(password) if password else None, locale=locale,
            department_id=department_id, manager_id=manager_id, active=True,
            is_admin=is_admin, session_epoch=0, created_at=datetime.now(UTC),
        ).returning(users.c.id)
    ).scalar_one()  # fmt: skip
    set_roles(conn, user_id, roles)
    return user_id


def set_roles(conn: Connection, user_id: int, roles: Iterable[str]) -> None:
    """Replace the roles of ``user_id``."""
    table = user_roles_table()
    conn.execute(table.delete().where(table.c.user_id == user_id))
    for role in sorted(set(roles)):
        conn.execute(table.insert().values(user_id=user_id, role=role))


def set_password(conn: Connection, user_id: int, password: str) -> None:
    """Set a new password and end the user's other sessions."""
    users = users_table()
    conn.execute(users.update().where(users.c.id == user_id).values(
        password_hash=hash_password(password), session_epoch=users.c.session_epoch + 1))  # fmt: skip


def deactivate_user(conn: Connection, user_id: int) -> None:
    """Deactivate an account: its sessions and tokens stop working on the next request."""
    users = users_table()
    conn.execute(users.update().where(users.c.id == user_id).values(
        active=False, deactivated_at=datetime.now(UTC),
        session_epoch=users.c.session_epoch + 1))  # fmt: skip
