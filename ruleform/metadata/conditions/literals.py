"""Date, datetime and duration literals written as text.

``date('2026-01-01')`` and ``datetime('2026-01-01T09:00:00+08:00')`` in conditions, text
literals compared with dates, and durations in time rules (``for: 45 days``).
"""

from __future__ import annotations

import re
from datetime import date, datetime

from ...errors import ConditionError
from ..model import Duration

__all__ = ["parse_date_text", "parse_datetime_text", "parse_duration"]

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


def parse_duration(text: str) -> Duration:
    """``'45 days'``, ``'24 working hours'`` -> a Duration (for time rules); ConditionError."""
    from . import ast as a
    from .parser import parse  # the parser imports this module

    node = parse(text)
    if not isinstance(node, a.DurationLiteral):
        raise ConditionError(
            f"'{text.strip()}' is not a duration", node.pos, "write e.g. 3 days or 24 working hours"
        )
    if node.amount < 0:
        raise ConditionError("a duration here cannot be negative", node.pos)
    if node.unit == "working_days" and node.amount != node.amount.to_integral_value():
        raise ConditionError(f"'{text.strip()}' must be a whole number of working days", node.pos)
    return Duration(float(node.amount), node.unit, " ".join(text.split()))
