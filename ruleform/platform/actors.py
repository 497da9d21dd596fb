"""Who is acting: the user behind a request, a token or a job, with roles and departments.

An ``Actor`` is plain data loaded once per request (two small queries) and handed to the
policy and the services; nothing below the HTTP layer looks at Flask's ``current_user``.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..metadata.conditions import UserContext

__all__ = ["Actor", "SYSTEM", "load_actor", "department_subtree"]


@dataclass(frozen=True, slots=True)
class Actor:
    """A user (or the system) acting now."""

    user_id: int | None
    username: str
    display_name: str = ""
    roles: frozenset[str] = frozenset()
    department_id: int | None = None
    departments: frozenset[int] = frozenset()  # own department and every one below it
    manager_id: int | None = None
    locale: str | None = None
    timezone: str | None = None
    is_admin: bool = False
    session_epoch: int = 0

    @property
    def is_system(self) -> bool:
        return self.user_id is None

    def user_context(self) -> UserContext:
        """The view of this actor the condition language gets (``current_user``)."""
        return UserContext(self.user_id, self.roles, self.department_id, self.departments)


#: Time rules and jobs act as the system: never limited by row scopes, always audited.
SYSTEM = Actor(user_id=None, username="system", display_name="Ruleform", is_admin=True)


def department_subtree(conn: Connection, root: int | None) -> frozenset[int]:
    """``root`` and every department below it (one recursive query)."""
    if root is None:
        return frozenset()
    departments = sa.table("departments", sa.column("id"), sa.column("parent_id"))
    tree = sa.select(departments.c.id).where(departments.c.id == root).cte("tree", recursive=True)
    tree = tree.union_all(sa.select(departments.c.id).where(departments.c.parent_id == tree.c.id))
    return frozenset(conn.execute(sa.select(tree.c.id)).scalars())


def load_actor(
    conn: Connection, user_id: int, admin_roles: frozenset[str] = frozenset()
) -> Actor | None:
    """The active user ``user_id`` as an Actor, or None if missing or deactivated."""
    users = sa.table(
        "users", sa.column("id"), sa.column("username"), sa.column("display_name"),
        sa.column("department_id"), sa.column("manager_id"), sa.column("locale"),
        sa.column("timezone"), sa.column("active"), sa.column("session_epoch"),
        sa.column("is_admin"),
    )  # fmt: skip
    row = conn.execute(sa.select(users).where(users.c.id == user_id)).mappings().first()
    if row is None or not row["active"]:
        return None
    user_roles = sa.table("user_roles", sa.column("user_id"), sa.column("role"))
    roles = frozenset(
        conn.execute(sa.select(user_roles.c.role).where(user_roles.c.user_id == user_id)).scalars()
    )
    return Actor(
        user_id=row["id"],
        username=row["username"],
        display_name=row["display_name"] or row["username"],
        roles=roles,
        department_id=row["department_id"],
        departments=department_subtree(conn, row["department_id"]),
        manager_id=row["manager_id"],
        locale=row["locale"],
        timezone=row["timezone"],
        is_admin=bool(row["is_admin"]) or bool(roles & admin_roles),
        session_epoch=row["session_epoch"] or 0,
    )
