"""Lists of records: filters from a fixed operator list, search, sort, keyset pagination and
capped counts — all inside the database, with the policy's row clause always applied.

Only fields that resolve in the model *and* that the actor may read can be filtered,
searched or sorted on (a hidden field must not become an oracle). Every value is a bound
parameter. Counts stop at a cap ("10,000+"): exact counts are what make lists slow at
millions of rows. Pages are cut by keyset (the last row's sort values), never OFFSET.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ...errors import FieldErrors
from ...metadata.field_types import ValueError_, type_of
from ...metadata.model import Entity, SortKey
from ..messages import message
from .filters import (
    OPERATORS,
    SYSTEM_TYPES,
    Filter,
    field_for,
    filter_clause,
    parse_filter_value,
    search_clause,
)
from .scoped import compile_scope
from .values import to_json

__all__ = [
    "Filter",
    "ListQuery",
    "ListPage",
    "OPERATORS",
    "run_list",
    "count_records",
    "MAX_PAGE_SIZE",
    "filter_clause",
    "search_clause",
    "capped_count",
]

MAX_PAGE_SIZE = 200
_MAX_PAGES = 256
_PAGES: dict[tuple, tuple[tuple[Any, ...], Any]] = {}  # see _page_statement
_PAGES_LOCK = threading.Lock()


@dataclass
class ListQuery:
    """What a list asks for; every part is checked against the model and the policy."""

    view: str | None = None
    filters: Sequence[Filter] = ()
    search: str | None = None
    sort: Sequence[SortKey] | None = None
    cursor: str | None = None
    page_size: int = 50
    columns: Sequence[str] | None = None
    include_archived: bool = False
    count: bool = True
    extra_clause: Any = None  # e.g. a related list's foreign key
    default_view: bool = True  # without ``view``, use the entity's default view (pages do)


@dataclass
class ListPage:
    rows: list[dict[str, Any]]
    columns: list[str]
    next_cursor: str | None = None
    count: int | None = None
    count_capped: bool = False
    masked: set[str] = field(default_factory=set)
    hidden: list[frozenset[str]] | None = None  # per row, the columns left out (several roles)


def run_list(service: Any, entity: Entity, query: ListQuery, count_cap: int = 10_000,
             action: str = "read") -> ListPage:  # fmt: skip
    """One page of ``entity`` records for ``service.actor`` (a RecordService)."""
    scoped = compile_scope(service, entity, query, action)
    table, readable, locale = scoped.table, scoped.readable, scoped.locale
    columns = _columns(entity, scoped.view, query, readable)
    sort = _sort_keys(entity, scoped.view, query, readable, locale, scoped.errors)
    scoped.raise_errors()
    page_size = max(1, min(int(query.page_size or 50), MAX_PAGE_SIZE))
    selected = columns + [k.field for k in sort if k.field not in columns]
    stmt = _page_statement(entity, table, scoped, query, selected, sort, page_size, service.rt)
    found = scoped.execute(service.conn, stmt).all()  # plain tuples in ``selected`` order
    hidden = None
    if not scoped.reach.uniform:  # cells no role reaching their row reads are left out
        hidden = [scoped.reach.hidden_of(r[len(selected) :]) for r in found]
        found = [tuple(None if n in h else v for n, v in zip(selected, r, strict=False))
                 for r, h in zip(found, hidden, strict=True)]  # fmt: skip
    next_cursor = None
    if len(found) > page_size:
        next_cursor = _cursor(dict(zip(selected, found[page_size - 1], strict=True)), sort)
    rows = [dict(zip(columns, r, strict=False)) for r in found[:page_size]]  # sort-only keys cut
    if hidden is not None:
        hidden = hidden[:page_size]
        for row, h in zip(rows, hidden, strict=True):
            for name in h & row.keys():
                del row[name]
    count, capped = None, False
    if query.count and not query.cursor:
        if next_cursor is None:  # the whole list is on this page: no need to count again
            count, capped = min(len(rows), count_cap), len(rows) > count_cap
        else:
            count, capped = capped_count(service.conn, scoped, count_cap)
    masked = {c for c in columns if c in entity.fields and entity.fields[c].sensitive}
    return ListPage(rows, columns, next_cursor, count, capped, masked, hidden)


def _page_statement(entity: Entity, table: sa.Table, scoped: Any, query: ListQuery,
                    selected: list[str], sort: list[SortKey], page_size: int,
                    rt: Any) -> Any:  # fmt: skip
    """The page's SELECT. A list that adds nothing to the actor's scope — no filter,
    search, view condition, related-record clause or cursor: opening a list, the most
    frequent request — is built from clause objects that are themselves cached (the scope
    template, the archived test), so its statement is kept and reused as long as the same
    objects ask for the same columns, order and page size; SQLAlchemy then skips building
    it and computing its cache key. Values reach it as parameters (``scoped.params``)."""
    plain = not (query.filters or query.search or query.cursor) and query.extra_clause is None \
        and (scoped.view is None or scoped.view.where is None) and scoped.reach.uniform  # fmt: skip
    key = (table, tuple(selected), tuple(sort), page_size, tuple(id(w) for w in scoped.where))
    if plain:
        kept = _PAGES.get(key)
        if kept is not None and all(a is b for a, b in zip(kept[0], scoped.where, strict=True)):
            return kept[1]
    stmt = _selecting(table, tuple(selected)).where(*scoped.where)
    column = table.c.__getitem__
    if not scoped.reach.uniform:  # one flag per group of roles; sorts see NULL where hidden
        stmt = stmt.add_columns(*scoped.reach.flag_columns(scoped.params))
        column = scoped.column
    if query.cursor:
        stmt = stmt.where(_after_cursor(entity, column, sort, query.cursor, scoped.locale, rt))
    stmt = stmt.order_by(*_order_by(column, table, sort)).limit(page_size + 1)
    if plain:
        with _PAGES_LOCK:
            while len(_PAGES) >= _MAX_PAGES:
                _PAGES.pop(next(iter(_PAGES)))
            _PAGES[key] = (tuple(scoped.where), stmt)  # holds the clauses: their ids stay theirs
    return stmt


@functools.lru_cache(maxsize=512)
def _selecting(table: sa.Table, names: tuple[str, ...]) -> Any:
    """``SELECT names FROM table``, built once per table and column list (coercing some
    fifty columns into a SELECT is a good part of a short list's time in Python)."""
    return sa.select(*(table.c[n] for n in names)).select_from(table)


def count_records(
    service: Any, entity: Entity, query: ListQuery, cap: int = 10_000
) -> tuple[int, bool]:
    """How many records ``query`` matches for the actor (capped): the list's own count."""
    scoped = compile_scope(service, entity, query)
    scoped.raise_errors()
    return capped_count(service.conn, scoped, cap)


def _columns(entity: Entity, view: Any, query: ListQuery, readable: frozenset[str]) -> list[str]:
    wanted = list(query.columns or (view.columns if view else ()) or [entity.title_field])
    base = ["id", "row_version", entity.title_field]
    if entity.statuses is not None:
        base.append("status")
    names = []
    for name in [*base, *wanted]:
        if name in readable and name not in names:
            names.append(name)
    return names


def _sort_keys(entity: Entity, view: Any, query: ListQuery, readable: frozenset[str],
               locale: str, errors: dict[str, list[str]]) -> list[SortKey]:  # fmt: skip
    asked = query.sort is not None
    keys = list(query.sort if asked else (view.sort if view else ()))
    good = []
    for key in keys[:3]:
        f = entity.fields.get(key.field)
        sortable = key.field in readable and (key.field in SYSTEM_TYPES or (
            f is not None and type_of(f).sortable and not f.sensitive))  # fmt: skip
        if sortable:
            good.append(key)
        elif asked:  # a view's own order by a field hidden from the actor is left out
            errors.setdefault("sort", []).append(message("invalid_sort", locale, field=key.field))
    return good or ([] if asked and keys else [SortKey("updated_at", True)])


def _order_by(column: Any, table: sa.Table, sort: list[SortKey]) -> list[Any]:
    """Empty values last in both directions. ``NULLS LAST`` (not an ``IS NULL`` sort term)
    and nothing at all for NOT NULL columns, so an index on the column can serve the order
    (``updated_at DESC`` at a million rows: an index scan, not a sort of every match)."""
    order = []
    for key in sort:
        col = column(key.field)
        term = col.desc() if key.descending else col.asc()
        order.append(term.nulls_last() if getattr(col, "nullable", True) else term)
    return [*order, table.c.id.asc()]


def _cursor(row: dict[str, Any], sort: list[SortKey]) -> str:
    values = [to_json(row.get(k.field)) for k in sort] + [row["id"]]
    raw = json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _after_cursor(entity: Entity, column: Any, sort: list[SortKey], cursor: str,
                  locale: str, rt: Any) -> Any:  # fmt: skip
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(sort) + 1:
            raise ValueError
        last_id = int(values[-1])
        typed = [None if v is None else parse_filter_value(field_for(entity, k.field), v,
                                                            rt.rulebook.timezone)
                 for k, v in zip(sort, values, strict=False)]  # fmt: skip
    except (ValueError, TypeError, binascii.Error, ValueError_, UnicodeDecodeError):
        raise FieldErrors({"cursor": [message("bad_cursor", locale)]}) from None
    branches, equal = [], []
    for key, value in zip(sort, typed, strict=True):
        col = column(key.field)
        if value is None:
            equal.append(col.is_(None))
            continue
        after = col < value if key.descending else col > value
        nullable = getattr(col, "nullable", True)
        branches.append(sa.and_(*equal, sa.or_(after, col.is_(None)) if nullable else after))
        equal.append(col == value)
    branches.append(sa.and_(*equal, column("id") > last_id))
    clause = sa.or_(*branches)
    first, value = column(sort[0].field), typed[0]
    if not getattr(first, "nullable", True) and value is not None:  # an index range start
        clause = sa.and_(first <= value if sort[0].descending else first >= value, clause)
    return clause


def capped_count(conn: Any, scoped: Any, cap: int) -> tuple[int, bool]:
    """The number of rows of ``scoped`` (a ``ScopedQuery``), stopping at ``cap`` + 1."""
    inner = scoped.select(sa.literal(1).label("one")).limit(cap + 1)
    stmt = sa.select(sa.func.count()).select_from(inner.subquery())
    total = scoped.execute(conn, stmt).scalar_one()
    return (cap, True) if total > cap else (total, False)
