"""Values as people read them: one ``Shown`` per value, rendered by the ``value`` macro.

Formatting decides *what* to show (a choice's label, a user's name, a link target, a
badge tone); the template decides the markup and escapes every piece of text. Nothing
here builds HTML, so metadata text can never become markup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import url_for

from ...metadata.model import Entity, Field
from ...platform.i18n import format_d, format_dt, format_money, format_num, label, t
from ...platform.records.values import mask
from .lookups import Lookups
from .security import linkable_url

__all__ = ["Shown", "present", "present_column", "column_label", "TONES", "status_tone",
           "SYSTEM_COLUMNS_SHOWN"]  # fmt: skip

#: Badge colours a rulebook may name; anything else is shown neutral.
TONES = frozenset({"red", "orange", "yellow", "green", "blue", "purple", "gray"})
_CATEGORY_TONES = {"open": "blue", "won": "green", "lost": "red", "closed": "gray"}
SYSTEM_COLUMNS_SHOWN = ("status", "owner", "department", "created_at", "created_by",
                        "updated_at", "updated_by", "id")  # fmt: skip
_NUMERIC = ("integer", "decimal", "money")


@dataclass(frozen=True)
class Shown:
    """A value ready for the ``value`` macro.

    kind: empty | text | multiline | link | badge | badges | masked
    """

    kind: str
    text: str = ""
    href: str | None = None
    tone: str | None = None
    items: list[Shown] = field(default_factory=list)
    numeric: bool = False


EMPTY = Shown("empty")


def status_tone(entity: Entity, status: str | None) -> str | None:
    if entity.statuses is None or status is None:
        return None
    state = entity.statuses.states.get(status)
    return _CATEGORY_TONES.get(state.category) if state else None


def column_label(entity: Entity, name: str) -> str:
    """The label of a field or system column in the current locale."""
    f = entity.fields.get(name)
    if f is not None:
        return label(f.label, name)
    return t(f"page.col.{name}") if name in SYSTEM_COLUMNS_SHOWN else name


def present_column(entity: Entity, name: str, value: Any, lookups: Lookups,
                   masked: bool = False) -> Shown:  # fmt: skip
    """A field's or system column's value for display."""
    if masked and value not in (None, ""):
        return Shown("masked", str(mask(value)))  # idempotent: masked values stay as they are
    if name == "status":
        return _status(entity, value)
    if name in ("owner", "created_by", "updated_by"):
        return Shown("text", lookups.user(value)) if value is not None else EMPTY
    if name == "department":
        return Shown("text", lookups.department(value)) if value is not None else EMPTY
    if name in ("created_at", "updated_at", "archived_at"):
        return Shown("text", format_dt(value)) if value else EMPTY
    f = entity.fields.get(name)
    if f is None:
        return EMPTY if value in (None, "") else Shown("text", str(value))
    return present(f, value, lookups)


def _status(entity: Entity, value: Any) -> Shown:
    if value in (None, ""):
        return EMPTY
    state = entity.statuses.states.get(value) if entity.statuses else None
    text = label(state.label, value) if state else str(value)
    return Shown("badge", text, tone=status_tone(entity, value))


def present(f: Field, value: Any, lookups: Lookups) -> Shown:
    """A field value (stored, or its JSON form from history) for display."""
    if value is None or value == "" or value == []:
        return EMPTY
    kind = f.value_type
    if kind in ("choice", "multi_choice", "tags"):
        return _choices(f, value)
    if kind == "boolean":
        return Shown("text", t("page.yes") if value in (True, "true", 1) else t("page.no"))
    if kind in _NUMERIC:
        return _number(f, kind, value)
    if kind == "date":
        return Shown("text", _safe(format_d, value))
    if kind == "datetime":
        return Shown("text", _safe(format_dt, value))
    if kind == "reference":
        return _reference(f, value, lookups)
    if kind == "user":
        return Shown("text", lookups.user(value))
    if kind == "department":
        return Shown("text", lookups.department(value))
    return _text(kind, str(value))


def _choices(f: Field, value: Any) -> Shown:
    values = value if isinstance(value, list | tuple) else [value]
    items = []
    for v in values:
        choice = f.choice(str(v))
        text = label(choice.label, str(v)) if choice else str(v)
        tone = choice.color if choice and choice.color in TONES else None
        items.append(Shown("badge", text, tone=tone))
    if f.type == "choice" and len(items) == 1:
        return items[0]
    return Shown("badges", items=items)


def _number(f: Field, kind: str, value: Any) -> Shown:
    try:
        number = value if isinstance(value, int | Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Shown("text", str(value))
    text = format_money(number, f.currency) if kind == "money" else format_num(number)
    return Shown("text", text, numeric=True)


def _reference(f: Field, value: Any, lookups: Lookups) -> Shown:
    try:
        record_id = int(value)
    except (TypeError, ValueError):
        return Shown("text", str(value))
    title = lookups.record(f.target or "", record_id)
    if title is None:
        return Shown("text", f"#{record_id}")
    href = url_for("pages.detail", entity=f.target, record_id=record_id)
    return Shown("link", title or f"#{record_id}", href=href)


def _text(kind: str, text: str) -> Shown:
    if kind == "url":
        href = linkable_url(text)
        return Shown("link", text, href=href) if href else Shown("text", text)
    if kind == "email":
        return Shown("link", text, href=linkable_url(f"mailto:{text}"))
    if kind == "phone":
        return Shown("link", text, href=f"tel:{text}" if text.lstrip("+").isdigit() else None)
    if kind == "text" or "\n" in text:
        return Shown("multiline", text)
    return Shown("text", text)


def _safe(fn: Any, value: Any) -> str:
    try:
        return fn(value)
    except (ValueError, TypeError):
        return str(value)


def form_value(f: Field, value: Any, timezone: str) -> Any:
    """A stored value as a form input expects it (``YYYY-MM-DDTHH:MM`` in the rulebook zone …)."""
    if value is None:
        return [] if f.type == "multi_choice" else None
    if f.type == "datetime" and isinstance(value, datetime):
        from zoneinfo import ZoneInfo

        return value.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%dT%H:%M")
    if f.type == "date" and isinstance(value, date):
        return value.isoformat()
    if f.type == "tags":
        return ", ".join(value) if isinstance(value, list | tuple) else str(value)
    if f.type == "multi_choice":
        return list(value) if isinstance(value, list | tuple) else [str(value)]
    if f.type == "boolean":
        return bool(value)
    return str(value)
