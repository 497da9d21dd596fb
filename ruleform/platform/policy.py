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
from typing import Any

import sqlalchemy as sa

from ..metadata.build_fields import SYSTEM_COLUMNS
from ..metadata.conditions import SqlContext
from ..metadata.model import Entity, Permission, Rulebook
from .actors import Actor
from .policy_scopes import BoundScope, ScopeCompiler

__all__ = ["Policy", "Decision", "BoundScope", "ALWAYS_READABLE"]

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

    def __init__(self, rulebook: Rulebook, calendar: Any = None):
        self.rulebook = rulebook
        self._scopes = ScopeCompiler(rulebook, calendar)

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

    def scope(self, actor: Actor, entity: Entity, tables: dict[str, sa.Table],
              action: str = "read", now: datetime | None = None) -> BoundScope:  # fmt: skip
        """The rows the actor may ``action`` as a cached clause with named parameters and
        this request's values for them (the query compiler passes both to the database)."""
        if actor.is_system:
            return BoundScope(sa.true())
        perms = self.permissions(actor, entity, action)
        return self._scopes.scope(actor, entity, perms, tables, action, now or _utcnow())

    def row_clause(self, actor: Actor, entity: Entity, tables: dict[str, sa.Table],
                   action: str = "read", now: datetime | None = None) -> sa.ColumnElement[bool]:  # fmt: skip
        """A self-contained SQL condition selecting the rows the actor may ``action``
        (false if none) — the same clause as :meth:`scope`, with its values written in."""
        return self.scope(actor, entity, tables, action, now).bound()

    def sql_context(self, actor: Actor, entity: Entity, tables: dict[str, sa.Table],
                    now: datetime | None = None) -> SqlContext:  # fmt: skip
        """A context for compiling a condition on ``entity`` (a list view's ``where``) whose
        counts and references only see rows the actor may read."""
        if actor.is_system:
            return SqlContext(tables, entity.name, now or _utcnow(), self.rulebook.timezone,
                              self._scopes.calendar, actor.user_context())  # fmt: skip
        return self._scopes.sql_context(actor.user_context(), entity, tables[entity.name], tables,
                                        now or _utcnow(), ())  # fmt: skip

    # --- explaining --------------------------------------------------------------------

    def explain(self, actor: Actor, entity: Entity, record_id: int, field: str | None = None, *,
                conn: Any, tables: dict[str, sa.Table], locale: str = "en") -> Decision:  # fmt: skip
        """Why ``actor`` may (or may not) read the record (and ``field``): roles, scopes,
        grants, in ``locale`` (``ruleform why`` and the admin page show it)."""
        from .policy_explain import explain

        return explain(self, conn, tables, actor, entity, record_id, field, locale)

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

    def may_assign_owner(self, actor: Actor, entity: Entity, action: str = "update") -> bool:
        """May the actor set ``owner`` / ``department`` when doing ``action``?

        Only through a role granting the action whose scope reaches beyond its holder's own
        records (department, department_tree, all) and whose write access does not exclude
        them (``all``, or an ``except`` list not naming them). A role limited to a list of
        fields (finance: ``write: [credit_limit]``) never reassigns records.
        """
        if actor.is_system:
            return True
        return bool(self._assigning(actor, entity, action))

    def assignable_departments(self, actor: Actor, entity: Entity,
                               action: str = "update") -> frozenset[int] | None:  # fmt: skip
        """Departments the actor may give a record to (and whose users may own it): None
        for any, else the departments their assigning roles' scopes reach."""
        if actor.is_system:
            return None
        reach: set[int] = set()
        for perm in self._assigning(actor, entity, action):
            if perm.scope.kind == "all":
                return None
            if perm.scope.kind == "department_tree":
                reach |= actor.departments
            elif actor.department_id is not None:
                reach.add(actor.department_id)
        return frozenset(reach)

    def _assigning(self, actor: Actor, entity: Entity, action: str) -> list[Permission]:
        broad = ("department", "department_tree", "all")
        return [p for p in self.permissions(actor, entity, action) if p.scope.kind in broad
                and p.write.mode != "only" and p.write.allows("owner")
                and p.write.allows("department")]  # fmt: skip


def _utcnow() -> datetime:
    from datetime import UTC

    return datetime.now(UTC)
