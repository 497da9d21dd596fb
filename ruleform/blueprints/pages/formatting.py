"""Values as people read them: one ``Shown`` per value, rendered by the ``value`` macro.

Formatting decides *what* to show (a choice's label, a user's name, a link target, a
badge tone); the template decides the markup and escapes every piece of text. Nothing
here builds HTML, so metadata text can never become markup. Values are shown by widget
kind (``FieldType.widget`` of the value's type: ``DISPLAYS``), as inputs are made by it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import url_for

from ...metadata.field_types import type_of, value_type_of
from ...metadata.model import Entity, Field
from ...platform.i18n import format_d, format_dt, format_money, format_num, label, t
from ...platform.records.values import mask
from .lookups import Lookups
from .security import linkable_url

__all__ = ["Shown", "present", "present_column", "column_label", "TONES", "status_tone",
           "SYSTEM_COLUMNS_SHOWN", "DISPLAYS"]  # fmt: skip

#: Badge colours a rulebook may name; anything else is shown neutral.
TONES = frozenset({"red", "orange", "yellow", "green", "blue", "purple", "gray"})
_CATEGORY_TONES = {"open": "blue", "won": "green", "lost": "red", "closed": "gray"}
SYSTEM_COLUMNS_SHOWN = ("status", "owner", "department", "created_at", "created_by",
                        "updated_at", "updated_by", "id")  # fmt: skip


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
    show = DISPLAYS.get(value_type_of(f).widget or "", _plain)
    return show(f, value, lookups)


def _choices(f: Field, value: Any, lookups: Lookups) -> Shown:
    values = value if isinstance(value, list | tuple) else [value]
    items = []
    for v in values:
        choice = f.choice(str(v))
        text = label(choice.label, str(v)) if choice else str(v)
        tone = choice.color if choice and choice.color in TONES else None
        items.append(Shown("badge", text, tone=tone))
    if not value_type_of(f).list_valued and len(items) == 1:
        return items[0]
    return Shown("badges", items=items)


def _number(money: bool) -> Callable[[Field, Any, Lookups], Shown]:
    def show(f: Field, value: Any, lookups: Lookups) -> Shown:
        try:
            number = value if isinstance(value, int | Decimal) else Decimal(str(value))
        except (InvalidOperation, ValueError):
            return Shown("text", str(value))
        text = format_money(number, f.currency) if money else format_num(number)
        return Shown("text", text, numeric=True)

    return show


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


def _url(f: Field, value: Any, lookups: Lookups) -> Shown:
    text = str(value)
    href = linkable_url(text)
    return Shown("link", text, href=href) if href else Shown("text", text)


def _email(f: Field, value: Any, lookups: Lookups) -> Shown:
    return Shown("link", str(value), href=linkable_url(f"mailto:{value}"))


def _phone(f: Field, value: Any, lookups: Lookups) -> Shown:
    text = str(value)
    return Shown("link", text, href=f"tel:{text}" if text.lstrip("+").isdigit() else None)


def _multiline(f: Field, value: Any, lookups: Lookups) -> Shown:
    return Shown("multiline", str(value))


def _plain(f: Field, value: Any, lookups: Lookups) -> Shown:
    text = str(value)
    return Shown("multiline", text) if "\n" in text else Shown("text", text)


def _formatted(fn: Callable[[Any], str]) -> Callable[[Field, Any, Lookups], Shown]:
    return lambda f, value, lookups: Shown("text", _safe(fn, value))


#: widget kind → how a value of that kind is shown (an unknown kind: as plain text).
DISPLAYS: dict[str, Callable[[Field, Any, Lookups], Shown]] = {
    "input": _plain,
    "email": _email,
    "url": _url,
    "phone": _phone,
    "textarea": _multiline,
    "number": _number(money=False),
    "money": _number(money=True),
    "checkbox": lambda f, value, lookups: Shown(
        "text", t("page.yes") if value in (True, "true", 1) else t("page.no")
    ),
    "date": _formatted(format_d),
    "datetime": _formatted(format_dt),
    "select": _choices,
    "multi_select": _choices,
    "tags": _choices,
    "reference_picker": _reference,
    "user_picker": lambda f, value, lookups: Shown("text", lookups.user(value)),
    "department_picker": lambda f, value, lookups: Shown("text", lookups.department(value)),
}


def _safe(fn: Any, value: Any) -> str:
    try:
        return fn(value)
    except (ValueError, TypeError):
        return str(value)


def form_value(f: Field, value: Any, timezone: str) -> Any:
    """A stored value as a form input expects it (``YYYY-MM-DDTHH:MM`` in the rulebook zone …)."""
    widget = type_of(f).widget
    if value is None:
        return [] if widget == "multi_select" else None
    if widget == "datetime" and isinstance(value, datetime):
        from zoneinfo import ZoneInfo

        return value.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%dT%H:%M")
    if widget == "date" and isinstance(value, date):
        return value.isoformat()
    if widget == "tags":
        return ", ".join(value) if isinstance(value, list | tuple) else str(value)
    if widget == "multi_select":
        return list(value) if isinstance(value, list | tuple) else [str(value)]
    if widget == "checkbox":
        return bool(value)
    return str(value)
