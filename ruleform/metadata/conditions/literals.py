"""Date, datetime and duration literals written as text.

``date('2026-01-01')`` and ``datetime('2026-01-01T09:00:00+08:00')`` in conditions, and
text literals compared with dates. Durations are ``durations.parse_duration``.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from ...errors import ConditionError

__all__ = ["parse_date_text", "parse_datetime_text"]

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def parse_date_text(text: str, pos: int) -> date:
    """``'2026-01-01'`` -> a date, or ConditionError at ``pos``."""
    try:
        if _DATE_RE.match(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise ConditionError(f"'{text}' is not a date", pos, "write a date as '2026-01-01'")


def parse_datetime_text(text: str, pos: int) -> datetime:
    """``'2026-01-01T09:00:00+08:00'`` -> a datetime (naive: rulebook time), or ConditionError."""
    try:
        if _DATETIME_RE.match(text):
            return datetime.fromisoformat(text)
    except ValueError:
        pass
    raise ConditionError(
        f"'{text}' is not a date and time", pos, "write it as '2026-01-01T09:00:00+08:00'"
    )
