"""The type rules of conditions: which types compare, how errors name types, and hints."""

from __future__ import annotations

from decimal import Decimal

from ...errors import ConditionError
from . import ast as a

__all__ = [
    "ID_TYPES",
    "ORDERED",
    "TIME_TYPES",
    "WORKING_DAY_MESSAGE",
    "describe_type",
    "comparable",
    "check_number",
    "boolean_hint",
    "compare_hint",
    "arith_message",
    "arith_hint",
]

ID_TYPES = frozenset({"user", "department", "reference"})
ORDERED = frozenset({"number", "string", "date", "datetime"})
TIME_TYPES = frozenset({"date", "datetime"})
WORKING_DAY_MESSAGE = (
    "working-day arithmetic runs in the database only on today() or now(); "
    "write `field < today() - 2 working days`"
)
_TYPE_WORDS = {
    "string": "a text",
    "number": "a number",
    "boolean": "true or false",
    "date": "a date",
    "datetime": "a date and time",
    "list": "a list",
    "user": "a user",
    "department": "a department",
    "reference": "a reference",
    "null": "null",
    "duration": "a duration",
    "departments": "a set of departments",
}


def describe_type(type_: str) -> str:
    """``'a number'`` for ``'number'``: how errors name a type."""
    return _TYPE_WORDS.get(type_, type_)


def comparable(left: str, right: str, same_target: bool) -> bool:
    """Whether values of these types may meet in ``=``, ``!=`` or ``in``."""
    unordered = ("list", "duration", "departments", "null")
    if left in unordered or right in unordered:
        return False
    if left == right:
        return left != "reference" or same_target
    if {left, right} <= TIME_TYPES:
        return True
    return (left in ID_TYPES and right == "number") or (right in ID_TYPES and left == "number")


def check_number(value: int | Decimal, pos: int) -> None:
    """Refuse numbers the databases cannot hold exactly."""
    if isinstance(value, int) and abs(value) >= 2**63:
        raise ConditionError("this number is too large", pos, "numbers stay below 2^63")
    if isinstance(value, Decimal) and len(value.as_tuple().digits) > 30:
        raise ConditionError("this number has too many digits (at most 30)", pos)


def boolean_hint(node: a.Node) -> str:
    """How to turn a value that is not true/false into a condition."""
    name = getattr(node, "name", None)
    if node.type in ("string", "list") and name:
        return f"did you mean `{name} is not empty`?"
    if node.type == "number" and name:
        return f"did you mean `{name} > 0`?"
    return ""


def compare_hint(left: str, right: str) -> str:
    """A hint for comparing two types that do not compare."""
    types = {left, right}
    if "list" in types:
        return "for tags or multi-choice fields write `tags contains 'vip'`"
    if types == {"number", "string"}:
        return "numbers are written without quotes"
    if "boolean" in types and "string" in types:
        return "write true or false without quotes"
    return ""


def arith_message(op: str, left: a.Node, right: a.Node) -> str:
    """Why ``left op right`` is not arithmetic the language knows."""
    if left.type == "duration" and right.type == "duration":
        return "durations are added to a date one at a time: x + 3 days + 2 hours"
    if "duration" in (left.type, right.type):
        other = left.type if right.type == "duration" else right.type
        return (
            "a duration can be added to or taken from a date or datetime, "
            f"not {describe_type(other)} ('{op}')"
        )
    return f"'{op}' needs numbers, not {describe_type(left.type)} and {describe_type(right.type)}"


def arith_hint(left: a.Node, right: a.Node) -> str:
    """A hint for impossible arithmetic."""
    if "string" in (left.type, right.type):
        return "texts cannot be added or multiplied"
    return ""
