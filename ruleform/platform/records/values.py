"""Plain values of records: JSON form for the API and history, masking of sensitive fields."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

__all__ = ["to_json", "mask", "MASK"]

MASK = "••••"


def to_json(value: Any) -> Any:
    """A JSON-safe form of a stored value (datetimes ISO in UTC, decimals as text)."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    return value


def mask(value: Any) -> Any:
    """A sensitive value as shown without an explicit reveal: its last two characters."""
    if value is None or value == "":
        return value
    text = str(value)
    return MASK + text[-2:] if len(text) > 4 else MASK
