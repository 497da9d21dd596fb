"""Durations written as text in time rules (``for: 45 days``, ``within: 24 working hours``),
read with the condition language's own duration literal."""

from __future__ import annotations

from ...errors import ConditionError
from ..model import Duration
from . import ast as a
from .parser import parse

__all__ = ["parse_duration"]


def parse_duration(text: str) -> Duration:
    """``'45 days'``, ``'24 working hours'`` -> a Duration (for time rules); ConditionError."""
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
