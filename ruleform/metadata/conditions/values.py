"""Record values as conditions see them, shared by the evaluator and the functions."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from .timemath import as_utc

__all__ = ["normalize", "is_empty_value"]


def normalize(value: Any) -> Any:
    """A record value as conditions see it: floats -> Decimal, datetimes -> aware UTC, lists."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    return value


def is_empty_value(value: Any) -> bool:
    """Null, '' or an empty list."""
    if value is None or value == "":
        return True
    return isinstance(value, list | tuple | set | frozenset) and not value
