"""The field-type registry: one module per type, each defining ``FIELD_TYPE``.

Each ``FieldType`` says which options a field of that type may declare, which value type
the condition language sees, how a raw input value (from a form, the API, an import or a
validation example) becomes a stored value — or why it cannot — and which kinds the upper
layers use for it: storage (``platform.storage.COLUMN_TYPES``), widget (the pages'
``WIDGETS`` and ``DISPLAYS``) and API (``blueprints.api.fields.API_FIELDS``). Those
registries are keyed by kind, never by type name, so a new type reusing existing kinds is a
new module here plus its line in ``_BUILT_IN`` — or ``register_field_type`` at run time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..model import Field
from . import (
    boolean,
    choice,
    computed,
    date,
    datetime,
    decimal,
    department,
    email,
    integer,
    money,
    multi_choice,
    phone,
    reference,
    string,
    tags,
    text,
    url,
    user,
)
from .base import COMMON_OPTIONS, FieldType, ValueError_
from .computed import COMPUTED_RETURNS

__all__ = ["FieldType", "FIELD_TYPES", "ValueError_", "parse_value", "COMMON_OPTIONS",
           "COMPUTED_RETURNS", "register_field_type", "unregister_field_type", "on_change",
           "type_of", "value_type_of"]  # fmt: skip

#: The built-in types, in the order the schema and the docs list them.
_BUILT_IN = (
    string, text, integer, decimal, money, boolean, date, datetime, choice, multi_choice, tags,
    email, phone, url, reference, user, department, computed,
)  # fmt: skip

FIELD_TYPES: dict[str, FieldType] = {m.FIELD_TYPE.name: m.FIELD_TYPE for m in _BUILT_IN}

_LISTENERS: list[Callable[[], None]] = []


def register_field_type(field_type: FieldType) -> FieldType:
    """Add (or replace) a field type; caches built from the registry (the JSON Schema, its
    validators) are cleared. Returns the type, for decorator-style use."""
    FIELD_TYPES[field_type.name] = field_type
    _changed()
    return field_type


def unregister_field_type(name: str) -> None:
    """Take a type out of the registry again (tests registering a throw-away type)."""
    if FIELD_TYPES.pop(name, None) is not None:
        _changed()


def on_change(listener: Callable[[], None]) -> None:
    """Call ``listener`` when a field type is registered or removed (to clear caches)."""
    _LISTENERS.append(listener)


def _changed() -> None:
    for listener in _LISTENERS:
        listener()


def type_of(field: Field) -> FieldType:
    """The registered type of ``field``."""
    return FIELD_TYPES[field.type]


def value_type_of(field: Field) -> FieldType:
    """The type of ``field``'s stored value: a computed field's ``returns``, else its type."""
    return FIELD_TYPES[field.value_type]


def parse_value(field: Field, raw: Any, timezone: str = "UTC") -> Any:
    """Parse ``raw`` for ``field`` (its registered type); raises ``ValueError_``."""
    if field.type == "computed":
        return FIELD_TYPES[field.returns or "string"].parse(field, raw, timezone)
    return FIELD_TYPES[field.type].parse(field, raw, timezone)
