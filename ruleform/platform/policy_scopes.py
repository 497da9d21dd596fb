"""Row scopes as SQL: compiled once per (entity, action, role set, shape), bound per request.

A role's scope (``own``, ``department``, ``department_tree``, ``all`` or ``{where: …}``)
becomes a WHERE clause. Building it from the condition tree costs about a millisecond, so
the *structure* is built once and kept; only the request's values change:

- the user's id, department and departments are compiled as placeholders (sentinel values
  swapped for named bind parameters ``rf_user``, ``rf_dept``, ``rf_dep_<i>``), so the same
  structure serves every user with the same roles and the same number of departments;
- ``today()`` (and working-day arithmetic on it) is bound when the clause is built: a
  clause using it is kept for that day only; a clause using ``now()`` is never kept.

Counts and references inside a scope (``count(access_request where …)``,
``customer.level``) only see rows of the other entity that the same user may read
(``SqlContext.row_filter``), so a scope cannot be used to learn about rows outside it. A
scope that reaches back to an entity already being compiled (A counts B, B counts A) sees
no rows there: the conservative answer, never a loop.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import BindParameter

from ..metadata import conditions as c
from ..metadata.conditions import ast as a
from ..metadata.model import Entity, Permission, Rulebook
from .actors import Actor

__all__ = ["BoundScope", "ScopeCompiler", "request_values", "condition_fields"]

_SENTINEL = -(2**62)  # ids no record, user or department ever has
_USER, _DEPT = _SENTINEL - 1, _SENTINEL - 2
_MAX_CACHED = 4096


def _dep_sentinel(i: int) -> int:
    return _SENTINEL - 100 - i


@dataclass(frozen=True)
class BoundScope:
    """A scope clause with named placeholders and the values this request binds to them."""

    clause: Any
    params: dict[str, Any] = field(default_factory=dict)

    def bound(self) -> Any:
        """The clause with the values written in as (anonymous) bound parameters."""
        if not self.params:
            return self.clause
        return _substitute(self.clause, self.params)


def request_values(actor: Actor) -> dict[str, Any]:
    """The placeholder values of ``actor`` (see the module docstring)."""
    values: dict[str, Any] = {"rf_user": actor.user_id, "rf_dept": actor.department_id}
    for i, dep in enumerate(sorted(actor.departments)):
        values[f"rf_dep_{i}"] = dep
    return values


class ScopeCompiler:
    """Builds and caches the row clauses of one rulebook's permissions."""

    def __init__(self, rulebook: Rulebook, calendar: Any = None):
        self.rulebook = rulebook
        self.calendar = calendar
        self._cache: dict[tuple, Any] = {}
        self._lock = threading.Lock()

    def scope(self, actor: Actor, entity: Entity, perms: list[Permission], tables: Any,
              action: str, now: datetime) -> BoundScope:  # fmt: skip
        """The clause selecting rows of ``entity`` any of ``perms`` reaches, for ``actor``."""
        if not perms:
            return BoundScope(sa.false())
        if any(p.scope.kind == "all" for p in perms):
            return BoundScope(sa.true())
        timed = _time_dependence(perms)
        if timed == "now":  # never kept: the clause depends on the instant
            return BoundScope(self.build(actor.user_context(), entity, perms, tables, now))
        day = _local_day(now, self.rulebook.timezone) if timed == "today" else None
        key = (id(tables), entity.name, action, tuple(sorted(actor.roles)),
               actor.user_id is None, actor.department_id is None, len(actor.departments),
               day)  # fmt: skip
        template = self._cache.get(key)
        if template is None:
            template = self._template(actor, entity, perms, tables, now)
            with self._lock:
                if len(self._cache) >= _MAX_CACHED:
                    self._cache.clear()
                self._cache[key] = template
        return BoundScope(template, request_values(actor))

    def _template(self, actor: Actor, entity: Entity, perms: list[Permission], tables: Any,
                  now: datetime) -> Any:  # fmt: skip
        deps = [_dep_sentinel(i) for i in range(len(actor.departments))]
        user = c.UserContext(_USER if actor.user_id is not None else None, actor.roles,
                             _DEPT if actor.department_id is not None else None,
                             frozenset(deps))  # fmt: skip
        clause = self.build(user, entity, perms, tables, now)
        names = {_USER: "rf_user", _DEPT: "rf_dept"}
        names.update({d: f"rf_dep_{i}" for i, d in enumerate(deps)})
        return _placeholders(clause, names)

    def build(self, user: c.UserContext, entity: Entity, perms: list[Permission], tables: Any,
              now: datetime, table: Any = None, stack: tuple[str, ...] = ()) -> Any:  # fmt: skip
        """The OR of ``perms``' scopes on ``table`` (default: the entity's table)."""
        table = tables[entity.name] if table is None else table
        clauses = []
        for perm in perms:
            clause = self._one(user, entity, perm, table, tables, now, (*stack, entity.name))
            if clause is None:
                return sa.true()
            clauses.append(clause)
        return sa.or_(*clauses) if clauses else sa.false()

    def _one(self, user: c.UserContext, entity: Entity, perm: Permission, table: Any,
             tables: Any, now: datetime, stack: tuple[str, ...]) -> Any:  # fmt: skip
        kind = perm.scope.kind
        if kind == "all":
            return None
        if kind == "own":
            if not entity.owner or user.id is None:
                return sa.false()
            return table.c.owner == sa.literal(user.id, sa.BigInteger())
        if kind == "department":
            if not entity.department or user.department is None:
                return sa.false()
            return table.c.department == sa.literal(user.department, sa.BigInteger())
        if kind == "department_tree":
            if not entity.department or not user.departments:
                return sa.false()
            return table.c.department.in_([sa.literal(d, sa.BigInteger())
                                           for d in sorted(user.departments)])  # fmt: skip
        assert perm.scope.where is not None
        return perm.scope.where.to_sql(self.sql_context(user, entity, table, tables, now, stack))

    def sql_context(self, user: c.UserContext, entity: Entity, table: Any, tables: Any,
                    now: datetime, stack: tuple[str, ...]) -> c.SqlContext:  # fmt: skip
        """A context compiling conditions on ``entity`` whose related reads obey ``user``'s
        row rules (used for scopes and, by the query compiler, for list views)."""
        view = dict(tables)
        view[entity.name] = table

        def row_filter(name: str, other: Any) -> Any:
            target = self.rulebook.entities.get(name)
            if target is None or name in stack:
                return sa.false()
            perms = [target.permissions[r] for r in sorted(user.roles) if r in target.permissions
                     and "read" in target.permissions[r].actions]  # fmt: skip
            return self.build(user, target, perms, tables, now, other, stack)

        return c.SqlContext(view, entity.name, now, self.rulebook.timezone, self.calendar, user,
                            row_filter=row_filter)  # fmt: skip


def condition_fields(entity: str, node: a.Node) -> frozenset[tuple[str, str]]:
    """Every ``(entity, field)`` a typed condition on ``entity`` reads: its own fields, the
    reference and the field reached through it (``customer.level``), and inside
    ``count(e where …)`` the link field and the fields of ``e`` the inner condition reads."""
    found: set[tuple[str, str]] = set()
    stack = [(node, entity)]
    while stack:
        current, name = stack.pop()
        if isinstance(current, a.Field):
            found.add((name, current.name))
        elif isinstance(current, a.Traverse):
            found.update({(name, current.ref), (current.target, current.name)})
        elif isinstance(current, a.Changed):
            found.add((name, current.field))
        elif isinstance(current, a.Count):
            if current.fk:
                found.add((current.entity, current.fk))
            if current.where is not None:
                stack.append((current.where, current.entity))
            continue
        stack.extend((child, name) for child in a.children(current))
    return frozenset(found)


def _time_dependence(perms: list[Permission]) -> str | None:
    """ "now" if a where-scope reads now(), "today" if it reads today(), else None."""
    found = None
    for perm in perms:
        where = perm.scope.where
        if where is None:
            continue
        for node in a.walk(where.ast):
            if isinstance(node, a.Now):
                return "now"
            if isinstance(node, a.Today):
                found = "today"
    return found


def _local_day(now: datetime, timezone: str) -> date:
    from zoneinfo import ZoneInfo

    return now.astimezone(ZoneInfo(timezone)).date()


def _placeholders(clause: Any, names: dict[int, str]) -> Any:
    """``clause`` with every literal whose value is a sentinel replaced by a named parameter."""

    def replace(element: Any) -> Any:
        if isinstance(element, BindParameter) and not element.expanding:
            value = element.value
            if isinstance(value, int) and not isinstance(value, bool) and value in names:
                return sa.bindparam(names[value], type_=sa.BigInteger(), required=True)
        return None

    return visitors.replacement_traverse(clause, {}, replace)


def _substitute(clause: Any, params: dict[str, Any]) -> Any:
    def replace(element: Any) -> Any:
        if isinstance(element, BindParameter) and element.key in params:
            return sa.literal(params[element.key], sa.BigInteger())
        return None

    return visitors.replacement_traverse(clause, {}, replace)
