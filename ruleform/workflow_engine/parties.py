"""Resolving "who" (approvers, escalation targets) against the organisation, as data.

Each party becomes *levels*: lists of active user ids, nearest first. ``{role: R, in:
owner_department}`` gives the holders of R in the owner's department, then in each
department above it; ``owner_manager`` the owner's manager, then that manager's manager …
The pure core (``approvals.choose``) takes the first level with someone allowed by the
segregation-of-duties rules, so an excluded manager hands the step to the next one up.
Delegations (``delegations`` table) are looked up here too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..metadata.model import Party

__all__ = ["Organisation"]

_MAX_DEPTH = 20


class Organisation:
    """Read-only questions about users, departments and delegations, on one connection."""

    def __init__(self, runtime: Any, conn: Connection):
        self.conn = conn
        self.users = runtime.system_table("users")
        self.roles = runtime.system_table("user_roles")
        self.departments = runtime.system_table("departments")
        self.delegations = runtime.system_table("delegations")
        self._user_cache: dict[int, Mapping[str, Any] | None] = {}

    # --- people --------------------------------------------------------------------------

    def user(self, user_id: int | None) -> Mapping[str, Any] | None:
        if user_id is None:
            return None
        if user_id not in self._user_cache:
            u = self.users
            row = (
                self.conn.execute(
                    sa.select(
                        u.c.id,
                        u.c.username,
                        u.c.display_name,
                        u.c.department_id,
                        u.c.manager_id,
                        u.c.active,
                    ).where(u.c.id == user_id)
                )
                .mappings()
                .first()
            )
            self._user_cache[user_id] = dict(row) if row else None
        return self._user_cache[user_id]

    def active(self, ids: Iterable[int | None]) -> list[int]:
        wanted = [i for i in dict.fromkeys(ids) if i is not None]
        if not wanted:
            return []
        u = self.users
        found = set(
            self.conn.execute(
                sa.select(u.c.id).where(u.c.id.in_(wanted), u.c.active.is_(True))
            ).scalars()
        )
        return [i for i in wanted if i in found]

    def by_username(self, names: Iterable[str]) -> list[int]:
        u = self.users
        lowered = [n.lower() for n in names]
        rows = self.conn.execute(
            sa.select(u.c.id, u.c.username).where(
                sa.func.lower(u.c.username).in_(lowered), u.c.active.is_(True)
            )
        ).all()
        order = {name: i for i, name in enumerate(lowered)}
        return [r.id for r in sorted(rows, key=lambda r: order[r.username.lower()])]

    def holders(self, role: str, department: int | None = None) -> list[int]:
        u, r = self.users, self.roles
        query = (
            sa.select(u.c.id)
            .join(r, r.c.user_id == u.c.id)
            .where(r.c.role == role, u.c.active.is_(True))
            .order_by(u.c.id)
        )
        if department is not None:
            query = query.where(u.c.department_id == department)
        return list(self.conn.execute(query).scalars())

    def department_chain(self, department: int | None) -> list[int]:
        """``department`` and every department above it, nearest first."""
        chain: list[int] = []
        d = self.departments
        while department is not None and department not in chain and len(chain) < _MAX_DEPTH:
            chain.append(department)
            department = self.conn.execute(
                sa.select(d.c.parent_id).where(d.c.id == department)
            ).scalar_one_or_none()
        return chain

    def manager_of(self, user_id: int) -> int | None:
        """The user's manager; without one, the manager of their department (or above)."""
        user = self.user(user_id)
        if user is None:
            return None
        if user["manager_id"] is not None:
            return user["manager_id"]
        d = self.departments
        for dept in self.department_chain(user["department_id"]):
            manager = self.conn.execute(sa.select(d.c.manager_id).where(d.c.id == dept)).scalar()
            if manager is not None and manager != user_id:
                return manager
        return None

    # --- parties ----------------------------------------------------------------------------

    def levels(self, party: Party, record: Mapping[str, Any]) -> list[list[int]]:
        """The people ``party`` names for ``record``, as levels (nearest first), active only."""
        owner = record.get("owner")
        kind = party.kind
        if kind == "role" and party.in_owner_department:
            home = self._owner_department(record)
            return [
                lvl
                for d in self.department_chain(home)
                if (lvl := self.holders(party.role or "", d))
            ]
        if kind == "role":
            return [self.holders(party.role or "")]
        if kind == "owner_manager":
            return [[m] for m in self._manager_chain(owner)]
        if kind == "owner":
            return [self.active([owner])]
        if kind == "creator":
            return [self.active([record.get("created_by")])]
        if kind == "user_field":
            return [self.active([record.get(party.field or "")])]
        if kind == "users":
            return [self.by_username(party.users)]
        return []

    def _owner_department(self, record: Mapping[str, Any]) -> int | None:
        owner = self.user(record.get("owner"))
        if owner is not None and owner["department_id"] is not None:
            return owner["department_id"]
        return record.get("department")

    def _manager_chain(self, user_id: int | None) -> list[int]:
        chain: list[int] = []
        current = user_id
        while current is not None and len(chain) < _MAX_DEPTH:
            manager = self.manager_of(current)
            if manager is None or manager in chain or manager == user_id:
                break
            chain.append(manager)
            current = manager
        return self.active(chain)

    # --- delegations ---------------------------------------------------------------------------

    def delegates(self, users: Iterable[int], now: datetime) -> dict[int, int]:
        """user → the delegate acting for them at ``now`` (the latest delegation wins)."""
        ids = list(users)
        if not ids:
            return {}
        d = self.delegations
        rows = self.conn.execute(
            sa.select(d.c.user_id, d.c.delegate_id)
            .where(
                d.c.user_id.in_(ids),
                d.c.starts_at <= now,
                d.c.ends_at > now,
                d.c.revoked_at.is_(None),
            )
            .order_by(d.c.id)
        ).all()
        return {r.user_id: r.delegate_id for r in rows}

    def delegators(self, delegate: int | None, now: datetime) -> set[int]:
        """Users for whom ``delegate`` acts at ``now``."""
        if delegate is None:
            return set()
        d = self.delegations
        return set(
            self.conn.execute(
                sa.select(d.c.user_id).where(
                    d.c.delegate_id == delegate,
                    d.c.starts_at <= now,
                    d.c.ends_at > now,
                    d.c.revoked_at.is_(None),
                )
            ).scalars()
        )
