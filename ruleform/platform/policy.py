"""The one policy layer: every access decision of every path comes from here.

Pages, the API, exports, related lists, counts, history and notifications ask the same
questions: may this actor do ACTION on ENTITY, which rows (a SQL clause, never a Python
filter after loading), which fields may they read and write, which transitions.

A user with several roles gets the union of their roles' rights. Field access is the
union over the roles that grant the action (documented in docs/permissions.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ..metadata.build_fields import SYSTEM_COLUMNS
from ..metadata.conditions import SqlContext
from ..metadata.model import Entity, Permission, Rulebook
from .actors import Actor

__all__ = ["Policy", "Decision"]

#: Columns every reader sees when they can see the row at all.
ALWAYS_READABLE = frozenset({"id", "created_at", "updated_at", "created_by", "updated_by",
                             "owner", "department", "status", "row_version", "archived"})  # fmt: skip


@dataclass(frozen=True)
class Decision:
    """An explained yes/no: which roles (and grants) allow or deny it."""

    allowed: bool
    reasons: tuple[str, ...] = ()


class Policy:
    """Access decisions for one compiled rulebook."""

    def __init__(self, rulebook: Rulebook):
        self.rulebook = rulebook

    # --- actions ----------------------------------------------------------------------

    def permissions(self, actor: Actor, entity: Entity, action: str | None = None) -> list[Permission]:
        """The permissions of the actor's roles on ``entity`` (granting ``action`` if given)."""
        perms = [entity.permissions[r] for r in sorted(actor.roles) if r in entity.permissions]
        if action is not None:
            perms = [p for p in perms if action in p.actions]
        return perms

    def can(self, actor: Actor, entity: Entity, action: str) -> bool:
        """May the actor do ``action`` on some records of ``entity``?"""
        return actor.is_system or bool(self.permissions(actor, entity, action))

    def can_transition(self, actor: Actor, entity: Entity, transition: str) -> bool:
        """Does one of the actor's roles hold the right to take ``transition``?"""
        if actor.is_system:
            return True
        t = entity.transitions.get(transition)
        if t is None:
            return False
        holders = [p for p in self.permissions(actor, entity) if transition in p.transitions]
        if t.roles:
            holders = [p for p in holders if p.role in t.roles]
        return bool(holders)

    def visible_entities(self, actor: Actor) -> list[Entity]:
        """Entities the actor may read (for navigation)."""
        return [e for e in self.rulebook.entities.values() if self.can(actor, e, "read")]

    # --- rows ----------------------------------------------------------------------------

    def row_clause(self, actor: Actor, entity: Entity, tables: dict[str, sa.Table],
                   action: str = "read", now: datetime | None = None) -> sa.ColumnElement[bool]:  # fmt: skip
        """A SQL condition selecting the rows the actor may ``action``; false if none."""
        if actor.is_system:
            return sa.true()
        table = tables[entity.name]
        clauses = []
        for perm in self.permissions(actor, entity, action):
            clause = self._scope_clause(actor, entity, perm, table, tables, now)
            if clause is None:  # scope "all"
                return sa.true()
            clauses.append(clause)
        return sa.or_(*clauses) if clauses else sa.false()

    def _scope_clause(self, actor: Actor, entity: Entity, perm: Permission, table: sa.Table,
                      tables: dict[str, sa.Table], now: datetime | None) -> sa.ColumnElement[bool] | None:  # fmt: skip
        kind = perm.scope.kind
        if kind == "all":
            return None
        if kind == "own":
            if not entity.owner or actor.user_id is None:
                return sa.false()
            return table.c.owner == actor.user_id
        if kind == "department":
            if not entity.department or actor.department_id is None:
                return sa.false()
            return table.c.department == actor.department_id
        if kind == "department_tree":
            if not entity.department or not actor.departments:
                return sa.false()
            return table.c.department.in_(sorted(actor.departments))
        assert perm.scope.where is not None
        ctx = SqlContext(tables, entity.name, now or _utcnow(), self.rulebook.timezone,
                         user=actor.user_context())  # fmt: skip
        return perm.scope.where.to_sql(ctx)

    # --- fields ------------------------------------------------------------------------------

    def readable_fields(self, actor: Actor, entity: Entity) -> frozenset[str]:
        """Fields the actor may read (union over roles that may read the entity)."""
        names = set(entity.fields)
        if actor.is_system:
            return frozenset(names | set(SYSTEM_COLUMNS))
        readable = {f for p in self.permissions(actor, entity, "read") for f in names if p.read.allows(f)}
        return frozenset(readable | ALWAYS_READABLE)

    def writable_fields(self, actor: Actor, entity: Entity, action: str = "update") -> frozenset[str]:
        """Fields the actor may write when doing ``action`` (create or update)."""
        names = {n for n, f in entity.fields.items() if not f.read_only}
        if actor.is_system:
            return frozenset(names)
        return frozenset(
            f for p in self.permissions(actor, entity, action) for f in names
            if p.write.allows(f) and p.read.allows(f)
        )  # fmt: skip

    def may_assign_owner(self, actor: Actor, entity: Entity) -> bool:
        """Only roles whose update scope reaches beyond their own records may set the owner."""
        if actor.is_system:
            return True
        broad = ("department", "department_tree", "all")
        return any(p.scope.kind in broad for p in self.permissions(actor, entity, "update"))


def _utcnow() -> datetime:
    from datetime import UTC

    return datetime.now(UTC)
