"""Who a rule reaches: recipients, assignees, escalation chains — resolved from a snapshot of
the organisation taken once per tick (users, roles, departments are small; records are not,
so nothing here is per record in SQL).

The semantics are the workflow engine's (``parties.py``): ``{role: R, in: owner_department}``
is the holders of R in the owner's department, else in the nearest department above it;
``owner_manager`` is the owner's manager (``users.manager_id``), else the manager of their
department or the nearest one above. Only active users are ever returned.

A recipient is a :class:`Target`: a user (``user:<id>``) or, for customer-facing rules, an
address taken from a field of the record (``email:…`` / ``phone:…``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ...metadata.model import Party

__all__ = ["Directory", "Target"]

_MAX_DEPTH = 20


@dataclass(frozen=True, slots=True)
class Target:
    """One recipient: ``kind`` user | address."""

    kind: str
    key: str  # user:7, email:a@b.c, phone:+86…
    user_id: int | None = None
    address: str | None = None
    field: str | None = None  # the record field an address came from
    locale: str | None = None
    username: str | None = None
    department_id: int | None = None


@dataclass(frozen=True, slots=True)
class _User:
    id: int
    username: str
    display_name: str
    department_id: int | None
    manager_id: int | None
    locale: str | None
    active: bool
    is_admin: bool


class Directory:
    """Users, roles and departments as of one tick."""

    def __init__(self, users: Iterable[_User], roles: Iterable[tuple[int, str]],
                 departments: Iterable[Mapping[str, Any]]):  # fmt: skip
        self.users = {u.id: u for u in users}
        self.by_username = {u.username.lower(): u.id for u in self.users.values()}
        self.roles: dict[int, set[str]] = {}
        for user_id, role in roles:
            self.roles.setdefault(user_id, set()).add(role)
        self.departments = {d["id"]: dict(d) for d in departments}
        self.department_ids = {d["name"]: d["id"] for d in self.departments.values()}

    @classmethod
    def load(cls, conn: Connection, runtime: Any) -> Directory:
        u, r, d = (runtime.system_table(n) for n in ("users", "user_roles", "departments"))
        users = [
            _User(row.id, row.username, row.display_name or row.username, row.department_id,
                  row.manager_id, row.locale, bool(row.active), bool(row.is_admin))
            for row in conn.execute(sa.select(
                u.c.id, u.c.username, u.c.display_name, u.c.department_id, u.c.manager_id,
                u.c.locale, u.c.active, u.c.is_admin))
        ]  # fmt: skip
        roles = [(row.user_id, row.role) for row in conn.execute(sa.select(r.c.user_id, r.c.role))]
        departments = conn.execute(
            sa.select(d.c.id, d.c.name, d.c.parent_id, d.c.manager_id)).mappings().all()  # fmt: skip
        return cls(users, roles, departments)

    # --- people ---------------------------------------------------------------------------

    def active(self, user_id: Any) -> _User | None:
        try:
            user = self.users.get(int(user_id)) if user_id is not None else None
        except (TypeError, ValueError):
            return None
        return user if user is not None and user.active else None

    def user_target(self, user_id: Any) -> Target | None:
        user = self.active(user_id)
        if user is None:
            return None
        return Target("user", f"user:{user.id}", user.id, locale=user.locale,
                      username=user.username, department_id=user.department_id)  # fmt: skip

    def roles_of(self, user_id: int) -> frozenset[str]:
        return frozenset(self.roles.get(user_id, ()))

    def department_chain(self, department: int | None) -> list[int]:
        """``department`` and every department above it, nearest first."""
        chain: list[int] = []
        while department is not None and department not in chain and len(chain) < _MAX_DEPTH:
            chain.append(department)
            department = (self.departments.get(department) or {}).get("parent_id")
        return chain

    def department_subtree(self, root: int | None) -> frozenset[int]:
        """``root`` and every department below it (``Actor.departments``)."""
        found: set[int] = set()
        stack = [root] if root is not None else []
        while stack:
            current = stack.pop()
            if current in found:
                continue
            found.add(current)
            stack.extend(d["id"] for d in self.departments.values()
                         if d.get("parent_id") == current)  # fmt: skip
        return frozenset(found)

    def department_of(self, user_id: Any) -> int | None:
        user = self.active(user_id)
        return user.department_id if user else None

    def manager_of(self, user_id: Any) -> int | None:
        """The user's manager; without one, the manager of their department or above."""
        user = self.users.get(user_id) if isinstance(user_id, int) else None
        if user is None:
            return None
        if user.manager_id is not None and self.active(user.manager_id):
            return user.manager_id
        for dept in self.department_chain(user.department_id):
            manager = (self.departments.get(dept) or {}).get("manager_id")
            if manager is not None and manager != user.id and self.active(manager):
                return manager
        return None

    def holders(self, role: str, department: int | None = None) -> list[int]:
        return sorted(uid for uid, roles in self.roles.items()
                      if role in roles and self.active(uid)
                      and (department is None or self.users[uid].department_id == department))  # fmt: skip

    def admins(self, admin_roles: Iterable[str] = ()) -> list[int]:
        wanted = set(admin_roles)
        return sorted(u.id for u in self.users.values()
                      if u.active and (u.is_admin or self.roles.get(u.id, set()) & wanted))  # fmt: skip

    # --- parties --------------------------------------------------------------------------

    def resolve(self, party: Party, record: Mapping[str, Any]) -> list[Target]:
        """The recipients ``party`` names for ``record`` (active users, or an address)."""
        if party.kind == "record_field":
            return _address(party.field or "", record.get(party.field or ""))
        return [t for uid in self._user_ids(party, record) if (t := self.user_target(uid))]

    def _user_ids(self, party: Party, record: Mapping[str, Any]) -> list[int]:
        kind, owner = party.kind, record.get("owner")
        if kind == "owner":
            return [owner] if owner is not None else []
        if kind == "owner_manager":
            manager = self.manager_of(owner)
            return [manager] if manager is not None else []
        if kind == "creator":
            creator = record.get("created_by")
            return [creator] if creator is not None else []
        if kind == "user_field":
            value = record.get(party.field or "")
            return [value] if value is not None else []
        if kind == "users":
            return [
                self.by_username[n.lower()] for n in party.users if n.lower() in self.by_username
            ]
        if kind == "role" and party.in_owner_department:
            home = self.department_of(owner) or record.get("department")
            for dept in self.department_chain(home):
                if found := self.holders(party.role or "", dept):
                    return found
            return []
        if kind == "role":
            return self.holders(party.role or "")
        return []


def _address(field: str, value: Any) -> list[Target]:
    text = str(value or "").strip()
    if not text:
        return []
    kind = "email" if "@" in text else "phone"
    return [Target("address", f"{kind}:{text.lower() if kind == 'email' else text}",
                   address=text, field=field)]  # fmt: skip
