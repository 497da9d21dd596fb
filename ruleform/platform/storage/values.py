"""Stored values as JSON (for the archive) and back, and conversion between column types.

``to_json`` turns whatever a column returned into plain JSON (decimals as strings so they
stay exact, dates and times in ISO form, naive times taken as UTC). ``convert`` turns a
value — from a column or from the archive — into a value for a column of another type,
or reports that it does not convert without loss (``NO_VALUE``); the caller then leaves
the column empty and keeps the archived copy.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .typesig import TypeSig

__all__ = ["NO_VALUE", "to_json", "convert"]


class _NoValue:
    def __repr__(self) -> str:
        return "NO_VALUE"


#: Returned by ``convert`` when a value does not convert without loss.
NO_VALUE: Any = _NoValue()


def to_json(value: Any) -> Any:
    """A JSON-able copy of a stored value."""
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):
        return str(Decimal(repr(value)))
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    return str(value)


def convert(value: Any, target: TypeSig) -> Any:
    """``value`` as a value of ``target``'s type, or ``NO_VALUE`` when it would change."""
    if value is None:
        return None
    converter = _CONVERTERS.get(target.family)
    if converter is None:
        return NO_VALUE
    try:
        return converter(value, target)
    except (ValueError, TypeError, InvalidOperation, OverflowError):
        return NO_VALUE


def _to_text(value: Any, target: TypeSig) -> Any:
    if isinstance(value, list) and len(value) == 1:  # a one-item list → its item
        value = value[0]
    if isinstance(value, bool) or isinstance(value, list | dict):
        return NO_VALUE
    text = to_json(value) if not isinstance(value, str) else value
    if not isinstance(text, str):
        text = str(text)
    return text if target.fits_length(text) else NO_VALUE


def _to_integer(value: Any, target: TypeSig) -> Any:
    if isinstance(value, bool):
        return NO_VALUE
    number = Decimal(value.strip()) if isinstance(value, str) else Decimal(str(value))
    if number != number.to_integral_value():
        return NO_VALUE
    result = int(number)
    limit = 2 ** (8 * (target.size or 8) - 1)
    return result if -limit <= result < limit else NO_VALUE


def _to_decimal(value: Any, target: TypeSig) -> Any:
    if isinstance(value, bool):
        return NO_VALUE
    number = Decimal(value.strip()) if isinstance(value, str) else Decimal(str(value))
    if not number.is_finite():
        return NO_VALUE
    if target.precision is None:
        return number
    scale = target.scale or 0
    quantum = Decimal(1).scaleb(-scale)
    if number != number.quantize(quantum) or abs(number) >= Decimal(10) ** (
        target.precision - scale
    ):
        return NO_VALUE
    return number.quantize(quantum)


def _to_boolean(value: Any, target: TypeSig) -> Any:
    return value if isinstance(value, bool) else NO_VALUE


def _to_date(value: Any, target: TypeSig) -> Any:
    if isinstance(value, datetime):
        return NO_VALUE
    if isinstance(value, date):
        return value
    return date.fromisoformat(value) if isinstance(value, str) else NO_VALUE


def _to_datetime(value: Any, target: TypeSig) -> Any:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        return NO_VALUE
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)


def _to_list(value: Any, target: TypeSig) -> Any:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    if isinstance(value, str):  # a choice becoming a multi-choice
        return [value]
    return NO_VALUE


_CONVERTERS = {
    "string": _to_text,
    "text": _to_text,
    "integer": _to_integer,
    "decimal": _to_decimal,
    "boolean": _to_boolean,
    "date": _to_date,
    "datetime": _to_datetime,
    "json": _to_list,
}
