"""What every field type module builds on: ``FieldType``, the value error, shared parsers.

A ``FieldType`` is declarative: besides what the language needs (options, the condition
type, a parser) it names the *kinds* the upper layers key their registries by — how the
value is stored (``storage``), which input edits it (``widget``), how the API describes it
(``api``) — and a few facts the layers ask (list-valued? sortable? text?). No layer above
names a field type; a new type that reuses existing kinds is one module in this package.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ..model import Field

__all__ = ["FieldType", "ValueError_", "COMMON_OPTIONS", "TEXT_OPTIONS", "NUMBER_OPTIONS",
           "text_value", "list_value", "record_id", "bounded"]  # fmt: skip


class ValueError_(ValueError):
    """A raw value does not fit its field; ``code`` keys a translated message."""

    def __init__(self, code: str, **params: Any):
        self.code = code
        self.params = params
        super().__init__(code)


COMMON_OPTIONS = frozenset(
    {
        "type", "label", "help", "placeholder", "required", "required_when", "visible_when",
        "editable_when", "default", "index", "read_only", "sensitive",
    }
)  # fmt: skip

TEXT_OPTIONS = frozenset({"unique", "min_length", "max_length", "pattern", "pattern_message"})
NUMBER_OPTIONS = frozenset({"unique", "min", "max"})


@dataclass(frozen=True)
class FieldType:
    """What a field type is, for the metadata language, input parsing and the layers above.

    ``storage``, ``widget`` and ``api`` are kinds: keys of ``platform.storage.COLUMN_TYPES``,
    of the pages' ``WIDGETS`` / ``DISPLAYS`` and of ``blueprints.api.fields.API_FIELDS``
    (``tests/metadata/test_field_type_registry.py`` keeps them known). None means "as the
    type the field returns" (a computed field) — and, for ``widget``, never an input.
    """

    name: str
    condition_type: str  # the type the condition language sees
    options: frozenset[str]  # options beyond COMMON_OPTIONS
    parser: Callable[[Field, Any, str], Any]
    scalar: bool = True  # may be unique / compared with < >
    label: tuple[str, str] = ("", "")  # (zh-CN, en) for explanations and admin pages
    # --- what the upper layers read -----------------------------------------------------
    storage: str | None = None  # storage kind: string, text, integer, decimal, json_list …
    width: int | None = None  # string storage: the column's width whatever max_length says
    widget: str | None = None  # widget kind: input, textarea, number, select, user_picker …
    api: str | None = None  # api kind: the marshmallow field / JSON Schema of the value
    list_valued: bool = False  # a list of strings: filters test membership only
    sortable: bool = True  # lists may be sorted by it (if not sensitive)
    text_like: bool = False  # text: empty is '' or NULL; contains/starts filters; search
    choices: str | None = None  # "closed": a value must be a declared choice; "suggested"
    groupable: bool = False  # aggregates may group by it
    address_kind: str | None = None  # "email" / "phone": a message can be sent to the value
    #: Field attributes the type always has, with their default (``currency: CNY``).
    option_defaults: Mapping[str, Any] = field(default_factory=dict, hash=False)

    @property
    def numeric(self) -> bool:
        """A number (sums, averages, number inputs and ranges, right-aligned columns)."""
        return self.condition_type == "number"

    @property
    def searchable(self) -> bool:
        """Free-text search (``q=``) may look in it."""
        return self.text_like

    def parse(self, field: Field, raw: Any, timezone: str = "UTC") -> Any:
        """Turn a raw input into the stored value, or raise ``ValueError_``; ''/None → None."""
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            return None
        return self.parser(field, raw, timezone)


# --- parsers shared by several types ----------------------------------------------------------


def text_value(field: Field, raw: Any, *, strip: bool = True,
               default_limit: int | None = None) -> str:  # fmt: skip
    """Text within the field's length and pattern (stripped unless ``strip`` is False)."""
    if not isinstance(raw, str):
        raise ValueError_("not_text")
    value = raw.strip() if strip else raw
    if "\x00" in value:
        raise ValueError_("not_text")
    limit = field.max_length or default_limit
    if limit is not None and len(value) > limit:
        raise ValueError_("too_long", max=limit)
    if field.min_length is not None and len(value) < field.min_length:
        raise ValueError_("too_short", min=field.min_length)
    if field.pattern and not re.fullmatch(field.pattern, value):
        raise ValueError_("pattern")
    return value


def list_value(field: Field, raw: Any) -> list[str]:
    """A list of distinct short strings (a comma-separated text is split)."""
    if isinstance(raw, str):
        raw = [part.strip() for part in re.split(r"[,，;；]", raw) if part.strip()]
    if not isinstance(raw, list | tuple) or not all(isinstance(v, str) for v in raw):
        raise ValueError_("not_list")
    values = list(dict.fromkeys(v.strip() for v in raw if v.strip()))
    if len(values) > 100 or any(len(v) > 64 for v in values):
        raise ValueError_("too_long", max=64)
    return values


def record_id(field: Field, raw: Any, tz: str) -> int:
    """A positive id (of a record, a user or a department)."""
    if isinstance(raw, bool):
        raise ValueError_("not_reference")
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ValueError_("not_reference") from None
    if value <= 0:
        raise ValueError_("not_reference")
    return value


def bounded(field: Field, value: Any) -> Any:
    """``value`` if within the field's ``min`` / ``max`` (bounds of another kind are ignored)."""
    if field.min is not None and _comparable(field.min, value) and value < field.min:
        raise ValueError_("too_small", min=field.min)
    if field.max is not None and _comparable(field.max, value) and value > field.max:
        raise ValueError_("too_large_max", max=field.max)
    return value


def _comparable(bound: Any, value: Any) -> bool:
    if isinstance(value, datetime):
        return isinstance(bound, datetime)
    if isinstance(value, date):
        return isinstance(bound, date) and not isinstance(bound, datetime)
    return isinstance(bound, int | float | Decimal) and not isinstance(bound, bool)
