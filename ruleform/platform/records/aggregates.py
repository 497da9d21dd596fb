"""Aggregates and groups (R22's funnel: count and amount per stage), through the same
permission compiler as lists.

A fixed set of functions — ``count``, ``sum``, ``avg``, ``min``, ``max`` — on fields the
actor may read; ``sum``/``avg`` need a number, ``min``/``max`` a number or a date. Groups
are by at most two readable, low-cardinality columns (choice, boolean, user, department,
status, owner, department). Sensitive fields are neither summed nor grouped: a sum of
masked values would reveal them. The rows counted are exactly the rows the list would
show (same scope, view, filters and search), so an aggregate is never an oracle on rows
outside the actor's scope; a value counts only where the actor may read it (a user with
several roles: NULL on rows no role reading the field reaches).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ...metadata.field_types import FIELD_TYPES, FieldType, value_type_of
from ...metadata.model import Entity
from .queries import ListQuery
from .scoped import compile_scope
from .values import to_json

__all__ = ["AggregateQuery", "run_aggregate", "FUNCTIONS", "MAX_GROUPS"]

FUNCTIONS = ("count", "sum", "avg", "min", "max")
MAX_GROUPS = 1000
MAX_GROUP_BY = 2
_ORDERED = frozenset({"number", "date", "datetime"})  # condition types min / max apply to
_SYSTEM_GROUPS = {"status": "choice", "owner": "user", "department": "department",
                  "created_by": "user", "updated_by": "user"}  # fmt: skip


@dataclass
class AggregateQuery:
    """What to compute over the rows ``rows`` selects (a ``ListQuery``: view, filters …)."""

    rows: ListQuery = field(default_factory=lambda: ListQuery(default_view=False))
    group_by: list[str] = field(default_factory=list)
    measures: list[tuple[str, str]] = field(default_factory=list)  # (function, field)


def run_aggregate(service: Any, entity: Entity, query: AggregateQuery) -> dict[str, Any]:
    """``{"groups": [{"key": {...}, "count": n, "sum": {...}, ...}], "truncated": bool}``."""
    scoped = compile_scope(service, entity, query.rows)
    table = scoped.table
    keys = [name for name in query.group_by if _groupable(entity, name, scoped, table)]
    if len(query.group_by) > MAX_GROUP_BY:
        scoped.fail("group_by", "too_many_groups", max=MAX_GROUP_BY)
    groups_by = [scoped.column(k) for k in keys]  # NULL where a role set cannot read it
    columns = [g.label(f"g_{i}") for i, g in enumerate(groups_by)]
    labels: list[tuple[str, str, str]] = [("count", "", "n")]
    columns.append(sa.func.count().label("n"))
    for i, (func, name) in enumerate(query.measures):
        if _measurable(entity, func, name, scoped, table):
            column = getattr(sa.func, func)(scoped.column(name))
            columns.append(column.label(f"m_{i}"))
            labels.append((func, name, f"m_{i}"))
    scoped.raise_errors()
    stmt = scoped.select(*columns)
    if keys:
        stmt = stmt.group_by(*groups_by).order_by(*groups_by)
        stmt = stmt.limit(MAX_GROUPS + 1)
    rows = list(scoped.execute(service.conn, stmt).mappings())
    groups = [_group(row, keys, labels) for row in rows[:MAX_GROUPS]]
    return {"groups": groups, "truncated": len(rows) > MAX_GROUPS}


def _group(row: Any, keys: list[str], labels: list[tuple[str, str, str]]) -> dict[str, Any]:
    out: dict[str, Any] = {"key": {k: to_json(row[f"g_{i}"]) for i, k in enumerate(keys)}}
    for func, name, label in labels:
        value = row[label]
        if func == "count":
            out["count"] = int(value or 0)
        else:
            out.setdefault(func, {})[name] = to_json(value)
    return out


def _kind(entity: Entity, name: str) -> FieldType | None:
    f = entity.fields.get(name)
    if f is not None:
        return value_type_of(f)
    return FIELD_TYPES[_SYSTEM_GROUPS[name]] if name in _SYSTEM_GROUPS else None


def _groupable(entity: Entity, name: str, scoped: Any, table: sa.Table) -> bool:
    f = entity.fields.get(name)
    kind = _kind(entity, name)
    ok = (name in scoped.readable and name in table.c and kind is not None and kind.groupable
          and not (f is not None and f.sensitive))  # fmt: skip
    if not ok:
        scoped.fail("group_by", "invalid_group", field=name[:64])
    return ok


def _measurable(entity: Entity, func: str, name: str, scoped: Any, table: sa.Table) -> bool:
    f = entity.fields.get(name)
    kind = _kind(entity, name) if f is not None else None
    if kind is None:
        fits = False
    elif func in ("sum", "avg"):
        fits = kind.numeric
    else:
        fits = kind.condition_type in _ORDERED
    ok = (func in FUNCTIONS and func != "count" and f is not None and not f.sensitive
          and name in scoped.readable and name in table.c and fits)  # fmt: skip
    if not ok:
        scoped.fail(func if func in FUNCTIONS else "aggregate", "invalid_aggregate",
                    field=name[:64], function=func[:16])  # fmt: skip
    return ok
