"""The one permission compiler: what a query may select, for every shape of query.

Lists, single records, counts, aggregates, groups and exports all start here. Given an
actor, an entity and what the query asks for (view, filters, search), ``compile_scope``
returns the WHERE clauses — the policy's row scope for the action, the archived flag, the
view's condition, filters and search — and the parameter values to run them with. Each
shape then only adds its SELECT list, ORDER BY or GROUP BY; none of them decides access.

Rules every shape inherits from here:

- the row scope is SQL (``Policy.scope``), never a filter in Python after loading;
- only readable fields can be filtered, searched, sorted, grouped or summed; an unreadable
  field is refused exactly like an unknown one ("cannot filter by 'x'"), so a refusal
  tells nothing about the field; a list view whose condition reads a hidden field (its
  own, a related record's, or inside a count) is refused like an unknown view;
- sensitive fields are masked, so they can be tested for emptiness only (a prefix filter
  would reveal the masked value without the audited reveal); they are never searched;
- counts and references inside conditions only see rows the actor may read;
- a user holding several roles reads a field only on the rows of a role that reads it
  (``ScopedQuery.reach``): a filter, search or view condition on it holds only there, a
  sort or group sees NULL elsewhere (``column``), and each shape leaves the cell out where
  it is unreadable (``Policy.field_reach``; nothing changes when every reading role reads
  the same fields).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ...errors import FieldErrors, PermissionDenied
from ...metadata.model import Entity, ListView
from ..messages import message
from ..policy_fields import FieldReach
from ..policy_scopes import condition_fields
from ..runtime import utcnow
from .filters import MAX_FILTERS, filter_clause, search_clause

__all__ = ["ScopedQuery", "compile_scope", "SENSITIVE_FILTER_OPS"]

SENSITIVE_FILTER_OPS = ("empty", "not_empty")


@dataclass
class ScopedQuery:
    """The access-checked part of a query: FROM ``table`` WHERE ``where`` with ``params``."""

    entity: Entity
    table: sa.Table
    where: list[Any]
    params: dict[str, Any]
    readable: frozenset[str]
    view: ListView | None
    locale: str
    reach: FieldReach
    errors: dict[str, list[str]] = field(default_factory=dict)

    def column(self, name: str) -> Any:
        """The column ``name`` as sorts, groups and sums see it: NULL where unreadable."""
        return self.reach.column(self.table, name, self.params)

    def select(self, *columns: Any) -> Any:
        """``SELECT columns FROM table WHERE …`` (run it with :meth:`execute`)."""
        return sa.select(*columns).select_from(self.table).where(*self.where)

    def execute(self, conn: Any, statement: Any) -> Any:
        """Run ``statement`` (built on this query) with the scope's parameter values."""
        return conn.execute(statement, self.params) if self.params else conn.execute(statement)

    def fail(self, name: str, code: str, **params: Any) -> None:
        self.errors.setdefault(name, []).append(message(code, self.locale, **params))

    def raise_errors(self) -> None:
        if self.errors:
            raise FieldErrors(self.errors)


def compile_scope(service: Any, entity: Entity, query: Any, action: str = "read") -> ScopedQuery:
    """The WHERE of ``query`` (a ``ListQuery``) on ``entity`` for ``service.actor``.

    ``action`` other than read (``export``) must be granted too: the rows are those the
    actor may read *and* ``action``. Problems with filters are collected in ``errors``.
    """
    rt, actor, policy = service.rt, service.actor, service.policy
    if action != "read" and not policy.can(actor, entity, action):
        raise PermissionDenied(action)
    locale = actor.locale or rt.rulebook.default_locale
    table = rt.table(entity)
    now = utcnow()
    read = policy.scope(actor, entity, rt.tables, "read", now)
    where, params = [read.clause], dict(read.params)
    if action != "read":
        extra = policy.scope(actor, entity, rt.tables, action, now)
        where.append(extra.clause)
        params.update(extra.params)
    view = _view(entity, query, policy.usable_views(actor, entity))
    reach = policy.field_reach(actor, entity, rt.tables, now)
    scoped = ScopedQuery(entity, table, where, params, reach.readable, view, locale, reach)
    if query.view and view is None:  # unknown, or filtering by fields hidden from the actor
        scoped.errors.setdefault("view", []).append(
            message("unknown_view", locale, name=str(query.view)[:64]))  # fmt: skip
    if not query.include_archived:
        where.append(_live(table))
    if view is not None and view.where is not None:
        clause = view.where.to_sql(policy.sql_context(actor, entity, rt.tables, now))
        if not reach.uniform:  # the view's condition holds only where it may read its fields
            for name in sorted({f for e, f in condition_fields(entity.name, view.where.ast)
                                if e == entity.name and f in table.c}):  # fmt: skip
                clause = reach.restrict(name, clause, params)
        where.append(clause)
    if query.extra_clause is not None:
        where.append(query.extra_clause)
    _filters(rt, scoped, query.filters)
    if query.search:
        where.append(search_clause(entity, table, view, scoped.readable, query.search,
                                   lambda n, c: reach.restrict(n, c, params)))  # fmt: skip
    return scoped


@functools.lru_cache(maxsize=256)
def _live(table: sa.Table) -> Any:
    """``archived IS false`` for ``table``: one clause object per table, so a list that adds
    nothing else to its scope is built from the same objects every time (``queries``
    reuses its statement)."""
    return table.c.archived.is_(False)


def _view(entity: Entity, query: Any, usable: dict[str, ListView]) -> ListView | None:
    """The view asked for, else the default one (pages), if the actor may use it."""
    if query.view:
        return usable.get(query.view)
    default = entity.default_view() if query.default_view else None
    return default if default is not None and default.name in usable else None


def _filters(rt: Any, scoped: ScopedQuery, filters: Sequence[Any]) -> None:
    if len(filters) > MAX_FILTERS:
        scoped.fail("filter", "too_many_filters", max=MAX_FILTERS)
    for flt in filters[:MAX_FILTERS]:
        f = scoped.entity.fields.get(flt.field)
        if f is not None and f.sensitive and flt.op not in SENSITIVE_FILTER_OPS \
                and flt.field in scoped.readable:  # fmt: skip
            scoped.fail(flt.field, "sensitive_filter", field=flt.field)
            continue
        clause = filter_clause(rt, scoped.entity, scoped.table, flt, scoped.readable,
                               scoped.locale, scoped.errors)  # fmt: skip
        if clause is not None:
            scoped.where.append(scoped.reach.restrict(flt.field, clause, scoped.params))
