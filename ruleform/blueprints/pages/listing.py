"""The list page's query string ↔ ``ListQuery``: view, filters, search, sort and cursor.

Query parameters: ``view``, ``q`` (search), ``sort`` (``field`` or ``-field``), ``cursor``,
and one or two per offered filter: ``f.<field>`` (equals / contains) or ``f.<field>.from`` /
``f.<field>.to`` (ranges of dates and numbers). Filters are only offered for fields the
view lists in ``filters`` and the actor may read; ``run_list`` re-checks everything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from werkzeug.datastructures import MultiDict

from ...metadata.field_types import FIELD_TYPES, FieldType, type_of, value_type_of
from ...metadata.model import Entity, Field, ListView, SortKey
from ...platform.i18n import label, t
from ...platform.records import Filter, ListQuery, RecordService
from .formatting import column_label
from .lookups import department_options, record_options, user_options

__all__ = ["FilterSpec", "Listing", "sortable", "parse_listing"]

_SYSTEM_KINDS = {"status": "choice", "owner": "user", "created_by": "user",
                 "updated_by": "user", "department": "department",
                 "created_at": "datetime", "updated_at": "datetime"}  # fmt: skip
_SYSTEM_SORTABLE = frozenset({"id", "created_at", "updated_at", "owner", "department", "status",
                              "created_by", "updated_by"})  # fmt: skip
#: widget kind → its range filter (the selects are below; any other kind: a text input)
_RANGES = {"date": "date_range", "datetime": "date_range", "number": "number_range",
           "money": "number_range"}  # fmt: skip


def _kind(entity: Entity, name: str) -> FieldType | None:
    """The type of the column's value (a field's, or a system column's)."""
    f = entity.fields.get(name)
    if f is not None:
        return value_type_of(f)
    return FIELD_TYPES[_SYSTEM_KINDS[name]] if name in _SYSTEM_KINDS else None


def sortable(entity: Entity, name: str, readable: frozenset[str]) -> bool:
    """May the list be sorted by ``name`` (a readable, ordered, non-sensitive column)?"""
    if name not in readable:
        return False
    f = entity.fields.get(name)
    if f is None:
        return name in _SYSTEM_SORTABLE
    return type_of(f).sortable and not f.sensitive


@dataclass
class FilterSpec:
    """One filter input of the list page."""

    name: str
    label: str
    kind: str  # select | text | date_range | number_range
    options: list[tuple[str, str]] = field(default_factory=list)
    value: str = ""
    start: str = ""
    end: str = ""

    @property
    def active(self) -> bool:
        return bool(self.value or self.start or self.end)


@dataclass
class Listing:
    """What the list page shows, parsed from the query string."""

    entity: Entity
    view: ListView | None
    filters: list[FilterSpec]
    search: str
    sort: SortKey | None
    cursor: str | None

    def query(self) -> ListQuery:
        """The ``ListQuery`` for ``run_list`` (which re-checks every part)."""
        return ListQuery(view=self.view.name if self.view else None,
                         filters=self.service_filters(), search=self.search or None,
                         sort=[self.sort] if self.sort else None, cursor=self.cursor,
                         page_size=self.view.page_size if self.view else 50)  # fmt: skip

    def service_filters(self) -> list[Filter]:
        result = []
        for spec in self.filters:
            kind = _kind(self.entity, spec.name)
            if spec.kind in ("select", "text") and spec.value:
                listed = kind is not None and kind.list_valued
                op = "contains" if listed or spec.kind == "text" else "eq"
                result.append(Filter(spec.name, op, spec.value))
            elif spec.kind == "date_range":
                result += _date_range(spec, kind)
            elif spec.kind == "number_range":
                bounds = (("ge", spec.start), ("le", spec.end))
                result += [Filter(spec.name, op, v) for op, v in bounds if v]
        return result

    def params(self, **changes: Any) -> dict[str, Any]:
        """The query string of this listing with ``changes`` (None removes a key)."""
        values: dict[str, Any] = {}
        if self.view is not None:
            values["view"] = self.view.name
        if self.search:
            values["q"] = self.search
        if self.sort is not None:
            values["sort"] = ("-" if self.sort.descending else "") + self.sort.field
        for spec in self.filters:
            for key, value in ((f"f.{spec.name}", spec.value), (f"f.{spec.name}.from", spec.start),
                               (f"f.{spec.name}.to", spec.end)):  # fmt: skip
                if value:
                    values[key] = value
        if self.cursor:
            values["cursor"] = self.cursor
        for key, value in changes.items():
            if value is None:
                values.pop(key, None)
            else:
                values[key] = value
        return values


def _date_range(spec: FilterSpec, kind: FieldType | None) -> list[Filter]:
    result = []
    # whole days in the rulebook's zone: [from 00:00, to+1 00:00)
    if kind is not None and kind.widget == "datetime":
        if spec.start:
            result.append(Filter(spec.name, "ge", f"{spec.start}T00:00"))
        if spec.end:
            try:
                after = date.fromisoformat(spec.end) + timedelta(days=1)
                result.append(Filter(spec.name, "lt", f"{after.isoformat()}T00:00"))
            except ValueError:
                result.append(Filter(spec.name, "le", spec.end))  # run_list reports it
        return result
    return [Filter(spec.name, op, v) for op, v in (("ge", spec.start), ("le", spec.end)) if v]


def parse_listing(service: RecordService, entity: Entity, args: MultiDict, locale: str) -> Listing:
    """The listing the query string asks for (an unknown view — or one filtering by fields
    hidden from the actor — falls back to the default)."""
    usable = service.policy.usable_views(service.actor, entity)
    default = entity.default_view()
    view = usable.get(args.get("view", "")) or (usable.get(default.name) if default else None)
    readable = service.policy.readable_fields(service.actor, entity)
    specs = []
    for name in view.filters if view else ():
        if name in readable:
            spec = _spec(service, entity, name, locale)
            if spec is not None:
                spec.value = args.get(f"f.{name}", "").strip()[:200]
                spec.start = args.get(f"f.{name}.from", "").strip()[:40]
                spec.end = args.get(f"f.{name}.to", "").strip()[:40]
                specs.append(spec)
    sort = None
    raw = args.get("sort", "").strip()
    if raw:
        sort = SortKey(raw.lstrip("-"), raw.startswith("-"))
    return Listing(entity, view, specs, args.get("q", "").strip()[:200], sort,
                   args.get("cursor") or None)  # fmt: skip


def _spec(service: RecordService, entity: Entity, name: str, locale: str) -> FilterSpec | None:
    kind = _kind(entity, name)
    title = column_label(entity, name)
    f = entity.fields.get(name)
    if name == "status" and entity.statuses is not None:
        options = [(s.name, label(s.label, s.name)) for s in entity.statuses.states.values()]
        return FilterSpec(name, title, "select", options)
    if kind is None:
        return None
    widget = kind.widget or ""
    if widget in ("select", "multi_select") or (widget == "tags" and f is not None and f.choices):
        return FilterSpec(name, title, "select", _choice_options(f))
    if widget == "checkbox":
        return FilterSpec(name, title, "select", [("true", t("page.yes")), ("false", t("page.no"))])
    if widget == "user_picker":
        return FilterSpec(name, title, "select", user_options(service))
    if widget == "department_picker":
        return FilterSpec(name, title, "select", department_options(service, locale))
    if widget == "reference_picker" and f is not None:
        return FilterSpec(name, title, "select", record_options(service, f.target or ""))
    return FilterSpec(name, title, _RANGES.get(widget, "text"))


def _choice_options(f: Field | None) -> list[tuple[str, str]]:
    return [(c.value, label(c.label, c.value)) for c in (f.choices if f else ())]
