"""Where each field may be read, for an actor holding several roles.

A user's rights are the union of their roles' rights, *each role on its own rows*: a field
of a record is readable when one of the actor's roles both reaches the record (its read
scope) and may read the field. When every role that may read the entity reads the same
fields (one role: the common case) that is simply "the readable fields on every row the
actor reaches" — :attr:`FieldReach.uniform`, and nothing is added to any query.

Otherwise the roles are grouped by their field set, and:

- a field read by only some groups is readable where the OR of those groups' scopes holds
  (:meth:`FieldReach.clause`, compiled through the policy's scope cache like any scope) —
  filters, searches and view conditions on it are ANDed with that clause, sorts and groups
  use ``CASE WHEN clause THEN field END`` (NULL where unreadable);
- a query selecting rows adds one boolean column per group (``CASE WHEN scope THEN 1
  ELSE 0 END``, :meth:`FieldReach.flag_columns`), and each row's readable fields are the
  union of the fields of the groups whose flag is set (:meth:`FieldReach.fields_of`):
  rows are never filtered in Python, only cells left out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from .policy_scopes import BoundScope

__all__ = ["FieldGroups", "FieldReach", "FLAG_PREFIX"]

FLAG_PREFIX = "rf_reach_"


@dataclass(frozen=True)
class FieldGroups:
    """The static part, per entity and role set: the readable fields (the union) and, when
    the reading roles do not all read the same fields, the roles grouped by field set."""

    readable: frozenset[str]
    groups: tuple[tuple[frozenset[str], frozenset[str]], ...] = ()  # (roles, fields)

    @property
    def uniform(self) -> bool:
        return not self.groups

    def readers(self, name: str) -> frozenset[str] | None:
        """The roles that may read ``name`` — None when all of them may (no restriction)."""
        if self.uniform or all(name in fields for _roles, fields in self.groups):
            return None
        return frozenset(r for roles, fields in self.groups if name in fields for r in roles)


@dataclass
class FieldReach:
    """:class:`FieldGroups` bound to one actor and instant (``scope_of`` compiles the read
    scope of a set of the actor's roles, from the policy's cache)."""

    static: FieldGroups
    scope_of: Callable[[frozenset[str]], BoundScope]
    _scopes: dict[frozenset[str], BoundScope] = field(default_factory=dict)

    @property
    def readable(self) -> frozenset[str]:
        return self.static.readable

    @property
    def uniform(self) -> bool:
        return self.static.uniform

    def _scope(self, roles: frozenset[str]) -> BoundScope:
        found = self._scopes.get(roles)
        if found is None:
            found = self._scopes[roles] = self.scope_of(roles)
        return found

    def clause(self, name: str) -> BoundScope | None:
        """Where ``name`` is readable, beyond the read scope itself (None: on every row the
        actor reaches)."""
        readers = self.static.readers(name)
        if readers is None:
            return None
        scope = self._scope(readers)
        return None if _is_true(scope.clause) else scope

    def column(self, table: sa.Table, name: str, params: dict[str, Any]) -> Any:
        """``table.c[name]``, or NULL on rows where it is unreadable (its parameters are
        added to ``params``)."""
        scope = self.clause(name)
        if scope is None:
            return table.c[name]
        params.update(scope.params)
        return sa.case((scope.clause, table.c[name]), else_=sa.null())

    def restrict(self, name: str, clause: Any, params: dict[str, Any]) -> Any:
        """``clause`` (a test on ``name``) holding only where ``name`` is readable."""
        scope = self.clause(name)
        if scope is None:
            return clause
        params.update(scope.params)
        return sa.and_(scope.clause, clause)

    def flag_columns(self, params: dict[str, Any]) -> list[Any]:
        """One ``CASE WHEN <group scope> THEN 1 ELSE 0 END`` per group (none when uniform)."""
        columns = []
        for i, (roles, _fields) in enumerate(self.static.groups):
            scope = self._scope(roles)
            params.update(scope.params)
            columns.append(sa.case((scope.clause, 1), else_=0).label(f"{FLAG_PREFIX}{i}"))
        return columns

    def fields_of(self, flags: Sequence[Any]) -> frozenset[str]:
        """The fields readable on a row whose group flags are ``flags``."""
        found: set[str] = set()
        for (_roles, fields), flag in zip(self.static.groups, flags, strict=True):
            if flag:
                found |= fields
        return frozenset(found)

    def hidden_of(self, flags: Sequence[Any]) -> frozenset[str]:
        """The readable fields left out on a row whose group flags are ``flags``."""
        return self.readable - self.fields_of(flags) if self.static.groups else frozenset()


def _is_true(clause: Any) -> bool:
    return isinstance(clause, sa.sql.elements.True_)
