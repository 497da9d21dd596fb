"""The filter grammar of lists, exports and counts: ``field op value`` and free-text search,
checked against the entity and what the actor may read, compiled to SQL clauses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ...metadata.conditions import sqlfuncs
from ...metadata.conditions.to_sql import bind
from ...metadata.field_types import ValueError_, parse_value, type_of
from ...metadata.model import Choice, Entity, Field, Text
from ..messages import message

__all__ = ["Filter", "OPERATORS", "MAX_FILTERS", "MAX_IN_VALUES", "field_for", "filter_clause",
           "search_clause", "parse_filter_value", "SYSTEM_TYPES"]  # fmt: skip

OPERATORS = ("eq", "ne", "lt", "le", "gt", "ge", "in", "contains", "starts", "empty", "not_empty")
MAX_FILTERS = 20
MAX_IN_VALUES = 100
SYSTEM_TYPES = {"id": "integer", "created_at": "datetime", "updated_at": "datetime",
                 "owner": "user", "department": "department", "status": "choice",
                 "created_by": "user", "updated_by": "user", "row_version": "integer"}  # fmt: skip
#: System columns holding ids or counters: a filter on them takes any whole number.
_SYSTEM_IDS = frozenset({"id", "owner", "department", "created_by", "updated_by", "row_version"})


@dataclass(frozen=True)
class Filter:
    field: str
    op: str
    value: Any = None


def field_for(entity: Entity, name: str) -> Field | None:
    if name in entity.fields:
        return entity.fields[name]
    if name in SYSTEM_TYPES:
        choices = ()
        if name == "status" and entity.statuses is not None:
            choices = tuple(Choice(s, Text()) for s in entity.statuses.states)
        return Field(name=name, type=SYSTEM_TYPES[name], label=None, choices=choices)  # type: ignore[arg-type]
    return None


def filter_clause(rt: Any, entity: Entity, table: sa.Table, flt: Filter,
                   readable: frozenset[str], locale: str,
                   errors: dict[str, list[str]]) -> Any:  # fmt: skip
    f = field_for(entity, flt.field)
    if (
        f is None
        or flt.field not in readable
        or flt.field not in table.c
        or flt.op not in OPERATORS
    ):
        errors.setdefault(flt.field, []).append(message("invalid_filter", locale, field=flt.field))
        return None
    col = table.c[flt.field]
    ftype = type_of(f)
    list_valued = ftype.list_valued
    if flt.op in ("empty", "not_empty"):
        if list_valued:
            clause = sqlfuncs.list_empty(col)
        elif ftype.text_like:
            clause = sa.or_(col.is_(None), col == "")
        else:
            clause = col.is_(None)
        return clause if flt.op == "empty" else sa.not_(clause)
    if list_valued and flt.op != "contains":
        errors.setdefault(flt.field, []).append(message("invalid_filter", locale, field=flt.field))
        return None
    raw_values = flt.value if isinstance(flt.value, list) else [flt.value]
    if not raw_values or flt.op != "in" and len(raw_values) != 1 or len(raw_values) > MAX_IN_VALUES:
        errors.setdefault(flt.field, []).append(message("invalid_filter", locale, field=flt.field))
        return None
    values = []
    for raw in raw_values:
        try:
            value = raw if list_valued else parse_filter_value(f, raw, rt.rulebook.timezone)
        except ValueError_ as exc:
            errors.setdefault(flt.field, []).append(message(exc.code, locale, **exc.params))
            return None
        if value is None:
            errors.setdefault(flt.field, []).append(
                message("invalid_filter", locale, field=flt.field)
            )
            return None
        values.append(value)
    value = values[0]
    if list_valued:
        needle = str(value)
        return sqlfuncs.list_contains(col, sa.literal(needle, sa.String()), bind([needle], "list"))
    if flt.op in ("contains", "starts"):
        if not isinstance(value, str):
            errors.setdefault(flt.field, []).append(
                message("invalid_filter", locale, field=flt.field)
            )
            return None
        pattern = sqlfuncs.like_pattern("contains" if flt.op == "contains" else "starts_with",
                                        value, literal=True)  # fmt: skip
        func = sqlfuncs.text_contains if flt.op == "contains" else sqlfuncs.text_starts
        return func(col, sa.literal(value, sa.String()), pattern)
    ops = {"eq": col.__eq__, "ne": col.__ne__, "lt": col.__lt__, "le": col.__le__,
           "gt": col.__gt__, "ge": col.__ge__}  # fmt: skip
    if flt.op == "in":
        return col.in_(values)
    return ops[flt.op](value)


def parse_filter_value(f: Field, raw: Any, tz: str) -> Any:
    """A filter's (or a cursor's) value of ``f``, as stored; ``ValueError_`` if it cannot be."""
    if f.name in _SYSTEM_IDS:  # (no field may take a system column's name)
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise ValueError_("not_integer") from None
    if f.type == "computed":  # the type it returns parses (no check for empty)
        return parse_value(f, raw, tz)
    ftype = type_of(f)
    if ftype.text_like and ftype.choices != "closed" and isinstance(raw, str):
        return raw.strip()  # filters match what is stored; no format checks on partial input
    value = parse_value(f, raw, tz)
    if value is None:
        raise ValueError_("required")
    return value


def search_clause(entity: Entity, table: sa.Table, view: Any, readable: frozenset[str],
                   text: str, restrict: Any = None) -> Any:  # fmt: skip
    """Rows where one searched field contains ``text``; ``restrict(name, clause)`` limits
    each field's test to the rows where it is readable (see ``FieldReach.restrict``)."""
    fields = [n for n in (view.search if view else ()) or (entity.title_field,)
              if n in readable and n in table.c and not (n in entity.fields and entity.fields[n].sensitive)]  # fmt: skip
    needle = text.strip()[:200].lower()
    if not fields or not needle:
        return sa.true()
    pattern = sqlfuncs.like_pattern("contains", needle, literal=True)
    tests = [(n, sa.func.lower(table.c[n]).like(pattern, escape=sqlfuncs.ESCAPE)) for n in fields]
    return sa.or_(*(c if restrict is None else restrict(n, c) for n, c in tests))
