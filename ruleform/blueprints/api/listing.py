"""Lists over HTTP: the query string → a ``ListQuery``, a ``ListPage`` → the response document.

Query string (documented in docs/api.md)::

    filter[<field>][<op>]=<value>   op from queries.OPERATORS; ``in`` takes a comma list
    filter[<field>]=<value>         shorthand for eq
    sort=-updated_at,company_name   at most 3 keys; "-" for descending
    fields=a,b  view=<name>  q=<text>  cursor=<token>  page_size=<n>  count=false

Only the parameters above mean anything: any other parameter (``owner=``, ``as_user=``…)
is ignored, so no parameter can widen what the actor sees. Names are checked here (form
and bounds) and by ``queries`` (they must resolve in the model and be readable); every
value is a bound parameter.
"""

from __future__ import annotations

import re
from typing import Any

from flask import current_app, request
from werkzeug.datastructures import MultiDict

from ...errors import FieldErrors
from ...metadata.model import Entity, SortKey
from ...platform.messages import message
from ...platform.records import Filter, ListPage, ListQuery
from ...platform.records.values import mask, to_json
from ...platform.runtime import Runtime
from .requests import ApiError, split_names

__all__ = ["list_query", "page_document", "choice_labels"]

_FILTER = re.compile(r"^filter\[([^\[\]]{1,64})\](?:\[([^\[\]]{1,32})\])?$")
_DIGITS = re.compile(r"^[0-9]{1,6}$")  # ASCII digits only ("²".isdigit() is true)
_SORT = re.compile(r"^(-?)([A-Za-z_][A-Za-z0-9_]{0,63})$")
MAX_SORT_KEYS = 3
_TRUE, _FALSE = {"", "1", "true", "yes"}, {"0", "false", "no"}
_PLAIN = (str, int, bool, float, type(None))  # JSON as they are


def list_query(rt: Runtime, entity: Entity, readable: frozenset[str], locale: str,
               args: MultiDict[str, str] | None = None, **extra: Any) -> ListQuery:  # fmt: skip
    """The ``ListQuery`` the request's query string asks for; FieldErrors / ApiError if not."""
    args = request.args if args is None else args
    errors: dict[str, list[str]] = {}
    filters = _filters(args, locale, errors)
    sort = _sort(args.get("sort"), locale, errors)
    columns = _columns(rt, entity, readable, args.get("fields"), locale, errors)
    view = args.get("view") or None
    if view is not None and view not in entity.views:
        errors["view"] = [message("unknown_view", locale, name=view[:64])]
    page_size = _page_size(args.get("page_size"), locale, errors)
    count = _flag(args.get("count", "true"), "count", locale, errors)
    if errors:
        raise FieldErrors(errors)
    return ListQuery(view=view, filters=filters, search=args.get("q") or None, sort=sort,
                     cursor=args.get("cursor") or None, page_size=page_size, columns=columns,
                     count=count, default_view=False, **extra)  # fmt: skip


def _filters(args: MultiDict[str, str], locale: str, errors: dict[str, list[str]]) -> list[Filter]:
    limit = int(current_app.config.get("API_MAX_FILTERS", 20))
    filters: list[Filter] = []
    for key, values in args.lists():
        if not key.startswith("filter"):
            continue
        match = _FILTER.match(key)
        if match is None:
            raise ApiError(400, message("malformed", locale, detail=f"cannot read the parameter "
                           f"{key[:80]!r}; write filter[field][op]=value"),
                           "malformed")  # fmt: skip
        name, op = match.group(1), match.group(2) or "eq"
        for value in values:
            filters.append(_filter(name, op, value, locale, errors))
    if len(filters) > limit:
        errors["filter"] = [message("too_many_filters", locale, max=limit)]
    return filters


def _filter(name: str, op: str, value: str, locale: str, errors: dict[str, list[str]]) -> Filter:
    if op == "in":
        return Filter(name, "in", split_names(value))
    if op in ("empty", "not_empty"):
        flag = value.strip().lower()
        if flag not in _TRUE | _FALSE:
            errors.setdefault(name, []).append(message("not_boolean", locale))
        elif flag in _FALSE:  # filter[x][empty]=false means not empty
            op = "not_empty" if op == "empty" else "empty"
        return Filter(name, op)
    return Filter(name, op, value)


def _sort(raw: str | None, locale: str, errors: dict[str, list[str]]) -> list[SortKey] | None:
    if raw is None or not raw.strip():
        return None
    keys = []
    parts = raw.split(",")
    if len(parts) > MAX_SORT_KEYS:
        errors.setdefault("sort", []).append(
            message("too_many_sort_keys", locale, max=MAX_SORT_KEYS)
        )
        return None
    for part in parts:
        match = _SORT.match(part.strip())
        if match is None:
            errors.setdefault("sort", []).append(message("invalid_sort", locale, field=part[:64]))
            continue
        keys.append(SortKey(match.group(2), descending=match.group(1) == "-"))
    return keys


def _columns(rt: Runtime, entity: Entity, readable: frozenset[str], raw: str | None,
             locale: str, errors: dict[str, list[str]]) -> list[str]:  # fmt: skip
    """Asked-for columns (all readable ones by default); unknown and unreadable names are
    refused alike, so a hidden field cannot be discovered by asking for it."""
    table = rt.table(entity)
    if raw is None:
        return [n for n in table.c.keys() if n in readable]
    names = split_names(raw)
    bad = [n for n in names if n not in readable or n not in table.c]
    if bad:
        errors["fields"] = [message("invalid_column", locale, field=n[:64]) for n in bad[:10]]
    return names


def _page_size(raw: str | None, locale: str, errors: dict[str, list[str]]) -> int:
    limit = int(current_app.config.get("API_MAX_PAGE_SIZE", 200))
    if raw is None or raw == "":
        return min(50, limit)
    if not _DIGITS.match(raw.strip()):
        errors["page_size"] = [message("not_integer", locale)]
        return 1
    size = int(raw)
    if size < 1:
        errors["page_size"] = [message("too_small", locale, min=1)]
    elif size > limit:
        errors["page_size"] = [message("too_large_max", locale, max=limit)]
    return size


def _flag(raw: str, name: str, locale: str, errors: dict[str, list[str]]) -> bool:
    value = raw.strip().lower()
    if value not in _TRUE | _FALSE:
        errors[name] = [message("not_boolean", locale)]
    return value not in _FALSE


def choice_labels(entity: Entity, names: Any, locale: str) -> dict[str, dict[str, str]]:
    """``{field: {value: label}}`` for the choice-like fields (and status) among ``names``."""
    labels: dict[str, dict[str, str]] = {}
    for name in names:
        f = entity.fields.get(name)
        if f is not None and f.choices and not f.sensitive:
            labels[name] = {c.value: c.label.get(locale, c.value) for c in f.choices}
        elif name == "status" and entity.statuses is not None:
            labels[name] = {s.name: s.label.get(locale, s.name)
                            for s in entity.statuses.states.values()}  # fmt: skip
    return labels


def page_document(entity: Entity, page: ListPage, query: ListQuery, locale: str) -> dict[str, Any]:
    """``{"data": [...], "meta": {...}}`` for one page; sensitive columns masked."""
    masked = page.masked
    rows = [{k: (mask(v) if k in masked else v if type(v) in _PLAIN else to_json(v))
             for k, v in row.items()} for row in page.rows]  # fmt: skip
    meta = {"next_cursor": page.next_cursor, "count": page.count,
            "count_capped": page.count_capped, "columns": page.columns,
            "masked": sorted(page.masked), "view": query.view,
            "choices": choice_labels(entity, page.columns, locale)}  # fmt: skip
    return {"data": rows, "meta": meta}
