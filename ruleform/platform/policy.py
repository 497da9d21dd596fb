"""The one policy layer: every access decision of every path comes from here.

Pages, the API, exports, related lists, counts, history and notifications ask the same
questions: may this actor do ACTION on ENTITY, which rows (a SQL clause, never a Python
filter after loading), which fields may they read and write, which transitions.

A user with several roles gets the union of their roles' rights, each role on its own
rows: on one record, the fields a user may *read* (``field_reach``, ``record_readable``)
and *write* and the transitions they may take come only from the roles whose scope holds
that record (``roles_reaching``). ``readable_fields`` is the union over the reading roles:
the fields that can be asked for at all (columns, filters, the OpenAPI schema); queries
then leave each cell out where no role reaching its row reads it (``policy_fields``).
A list view whose condition reads a field hidden from the actor, and a related list
through a hidden link field, do not exist for them (``usable_views``, ``related_lists``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ..metadata.build_fields import SYSTEM_COLUMNS
from ..metadata.conditions import SqlContext
from ..metadata.model import Entity, ListView, Permission, Relation, Rulebook
from .actors import Actor
from .policy_explain import Decision, explain
from .policy_fields import FieldGroups, FieldReach
from .policy_scopes import BoundScope, ScopeCompiler, condition_fields

__all__ = ["Policy", "Decision", "BoundScope", "ALWAYS_READABLE"]

#: Columns every reader sees when they can see the row at all.
ALWAYS_READABLE = frozenset({"id", "created_at", "updated_at", "created_by", "updated_by",
                             "owner", "department", "status", "row_version", "archived"})  # fmt: skip


class Policy:
    """Access decisions for one compiled rulebook."""

    def __init__(self, rulebook: Rulebook, calendar: Any = None):
        self.rulebook = rulebook
        self._scopes = ScopeCompiler(rulebook, calendar)
        self._views: dict[tuple[str, frozenset[str]], frozenset[str]] = {}
        self._groups: dict[tuple[str, frozenset[str]], FieldGroups] = {}

    # --- actions ----------------------------------------------------------------------

    def permissions(
        self, actor: Actor, entity: Entity, action: str | None = None
    ) -> list[Permission]:
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
        return actor.is_system or bool(self.transition_holders(actor, entity, transition))

    def transition_holders(self, actor: Actor, entity: Entity, transition: str) -> frozenset[str]:
        """The actor's roles that hold the right to take ``transition`` (on their rows)."""
        t = entity.transitions.get(transition)
        if t is None:
            return frozenset()
        holders = {p.role for p in self.permissions(actor, entity) if transition in p.transitions}
        return frozenset(holders & set(t.roles) if t.roles else holders)

    def roles_reaching(self, conn: Any, actor: Actor, entity: Entity, tables: dict[str, sa.Table],
                       record_id: int, action: str = "read", among: frozenset[str] | None = None,
                       in_scope: bool = False) -> frozenset[str]:  # fmt: skip
        """The actor's roles granting ``action`` whose row scope holds the record (one
        query). A user's rights are the union of their roles' rights *each on its own rows*:
        a transition or a writable field of one role does not reach rows only another role's
        scope holds. ``in_scope``: the caller already found the record in the actor's scope
        for ``action`` (then a single granting role needs no query)."""
        if actor.is_system:
            return actor.roles
        granting = sorted(p.role for p in self.permissions(actor, entity, action))
        if in_scope and len(granting) == 1:
            return frozenset(granting) & (among if among is not None else frozenset(granting))
        roles = [r for r in granting if among is None or r in among]
        if not roles:
            return frozenset()
        columns, params = [], {}
        for i, role in enumerate(roles):
            scope = self.scope(self.narrowed(actor, frozenset({role})), entity, tables, action)
            columns.append(sa.case((scope.clause, 1), else_=0).label(f"r{i}"))
            params.update(scope.params)
        table = tables[entity.name]
        row = conn.execute(sa.select(*columns).where(table.c.id == record_id), params).first()
        return frozenset(r for i, r in enumerate(roles) if row is not None and row[i])

    @staticmethod
    def narrowed(actor: Actor, roles: frozenset[str]) -> Actor:
        """The actor holding only ``roles`` (for asking what those roles allow)."""
        return actor if actor.is_system else replace(actor, roles=frozenset(roles))

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

    # --- conditions, views and related lists -------------------------------------------

    def condition_readable(self, actor: Actor, entity: Entity, condition: Any) -> bool:
        """May the actor read every field ``condition`` (on ``entity``) reads — its own,
        those reached through references and those counted? A list filtered by a field the
        actor may not read tells them its values: such a condition is an oracle."""
        if actor.is_system:
            return True
        for name, field in condition_fields(entity.name, condition.ast):
            target = self.rulebook.entities.get(name)
            if target is None or not self.can(actor, target, "read") \
                    or field not in self.readable_fields(actor, target):  # fmt: skip
                return False
            if name != entity.name and self.field_groups(actor, target).readers(field) is not None:
                return False  # read on some of its rows only: the condition would tell
        return True

    def usable_views(self, actor: Actor, entity: Entity) -> dict[str, ListView]:
        """The list views of ``entity`` whose condition the actor may read (the others are
        refused like unknown views: they would filter by fields hidden from the actor)."""
        key = (entity.name, actor.roles if not actor.is_system else frozenset({"\0system"}))
        names = self._views.get(key)
        if names is None:
            names = frozenset(
                n for n, v in entity.views.items()
                if v.where is None or self.condition_readable(actor, entity, v.where))  # fmt: skip
            self._views[key] = names
        return {n: v for n, v in entity.views.items() if n in names}

    def related_lists(self, actor: Actor, entity: Entity) -> list[Relation]:
        """The related lists of ``entity`` the actor may see: the related entity readable
        *and* its link field readable — listing the records that link to this one filters
        by that field, which would otherwise reveal it."""
        shown = []
        for relation in entity.related:
            child = self.rulebook.entities.get(relation.entity)
            if child is not None and self.can(actor, child, "read") \
                    and relation.field in self.readable_fields(actor, child):  # fmt: skip
                shown.append(relation)
        return shown

    # --- explaining --------------------------------------------------------------------

    def explain(self, actor: Actor, entity: Entity, record_id: int, field: str | None = None, *,
                conn: Any, tables: dict[str, sa.Table], locale: str = "en") -> Decision:  # fmt: skip
        """Why ``actor`` may (or may not) read the record (and ``field``): roles, scopes,
        grants, in ``locale`` (``ruleform why`` and the admin page show it)."""
        return explain(self, conn, tables, actor, entity, record_id, field, locale)

    # --- fields ------------------------------------------------------------------------------

    def readable_fields(self, actor: Actor, entity: Entity) -> frozenset[str]:
        """Fields the actor may read (union over roles that may read the entity)."""
        names = set(entity.fields)
        if actor.is_system:
            return frozenset(names | set(SYSTEM_COLUMNS))
        readable = {
            f for p in self.permissions(actor, entity, "read") for f in names if p.read.allows(f)
        }
        return frozenset(readable | ALWAYS_READABLE)

    def field_groups(self, actor: Actor, entity: Entity) -> FieldGroups:
        """The readable fields and, when the actor's reading roles do not all read the same
        fields, those roles grouped by field set (kept per entity and role set)."""
        key = (entity.name, actor.roles if not actor.is_system else frozenset({"\0system"}))
        found = self._groups.get(key)
        if found is None:
            sets: dict[frozenset[str], set[str]] = {}
            if not actor.is_system:
                for perm in self.permissions(actor, entity, "read"):
                    fields = frozenset(f for f in entity.fields if perm.read.allows(f))
                    sets.setdefault(fields | ALWAYS_READABLE, set()).add(perm.role)
            groups = tuple(sorted(((frozenset(r), f) for f, r in sets.items()),
                                  key=lambda g: sorted(g[0])))  # fmt: skip
            found = FieldGroups(self.readable_fields(actor, entity),
                                groups if len(groups) > 1 else ())  # fmt: skip
            self._groups[key] = found
        return found

    def field_reach(self, actor: Actor, entity: Entity, tables: dict[str, sa.Table],
                    now: datetime | None = None) -> FieldReach:  # fmt: skip
        """Where each readable field of ``entity`` may be read by ``actor`` (see
        ``policy_fields``): every query shape leaves a cell out, and filters, searches,
        sorts and groups ignore it, on rows no role reading that field reaches."""
        now = now or _utcnow()

        def scope_of(roles: frozenset[str]) -> BoundScope:
            return self.scope(self.narrowed(actor, roles), entity, tables, "read", now)

        return FieldReach(self.field_groups(actor, entity), scope_of)

    def record_readable(self, conn: Any, actor: Actor, entity: Entity,
                        tables: dict[str, sa.Table], record_id: int) -> frozenset[str]:  # fmt: skip
        """The fields of one record *in the actor's read scope* they may read: those of the
        roles whose read scope holds it (no query when all reading roles read the same)."""
        groups = self.field_groups(actor, entity)
        if groups.uniform:
            return groups.readable
        roles = self.roles_reaching(conn, actor, entity, tables, record_id, "read")
        return frozenset(f for r, fields in groups.groups if r & roles for f in fields)

    def field_clause(self, actor: Actor, entity: Entity, tables: dict[str, sa.Table],
                     name: str, now: datetime | None = None) -> Any:  # fmt: skip
        """A self-contained condition holding where ``name`` is readable beyond the read
        scope itself (None: everywhere the actor reads) — for a related list through it."""
        scope = self.field_reach(actor, entity, tables, now).clause(name)
        return None if scope is None else scope.bound()

    def record_fields(self, conn: Any, actor: Actor, entity: Entity, tables: dict[str, sa.Table],
                      record_id: int, now: datetime | None = None) -> frozenset[str]:  # fmt: skip
        """The fields of one record the actor may read: :meth:`record_readable` when the row
        is in their read scope, only ``id`` when it is not (messages and task titles about a
        record someone may not see name nothing of it)."""
        if actor.is_system:
            return self.readable_fields(actor, entity)
        scope = self.scope(actor, entity, tables, "read", now)
        table = tables[entity.name]
        found = conn.execute(sa.select(sa.literal(1)).where(table.c.id == record_id, scope.clause),
                             scope.params).first()  # fmt: skip
        if found is None:
            return frozenset({"id"})
        return self.record_readable(conn, actor, entity, tables, record_id)

    def writable_fields(
        self, actor: Actor, entity: Entity, action: str = "update"
    ) -> frozenset[str]:
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
