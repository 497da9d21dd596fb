"""Evaluating a typed tree in Python.

Logic is two-valued and matches the SQL side exactly: a comparison, membership or text
match with a null operand is *false* (SQL's unknown, collapsed to false); ``not`` turns
that false into true; ``and``/``or`` are Python's. Arithmetic with null is null;
division by zero is null. Numbers are ``int`` or ``Decimal`` (computed with 60 digits).
"""

from __future__ import annotations

import decimal
import operator
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ...errors import ConditionError
from ..model import Duration
from . import ast as a
from .context import EvalContext
from .functions import function_for
from .timemath import DefaultCalendar, add_duration, as_utc, start_of_day, zone
from .values import is_empty_value, normalize

__all__ = ["Evaluator", "compare_values", "is_empty_value", "normalize"]

Record = Mapping[str, Any]

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul}
_DECIMALS = decimal.Context(prec=60)


def compare_values(op: str, left: Any, right: Any, tz: Any) -> bool:
    """``left op right``; false when either is null; a date next to a datetime is its start."""
    if left is None or right is None:
        return False
    if isinstance(left, datetime) != isinstance(right, datetime):
        if isinstance(left, date) and not isinstance(left, datetime):
            left = start_of_day(left, tz)
        elif isinstance(right, date) and not isinstance(right, datetime):
            right = start_of_day(right, tz)
    return _OPS[op](left, right)


class Evaluator:
    """Evaluates typed nodes against records, with one EvalContext."""

    def __init__(self, ctx: EvalContext):
        if ctx.now.tzinfo is None:
            raise ConditionError("EvalContext.now must be timezone-aware", 0)
        self.ctx = ctx
        self.tz = zone(ctx.timezone)
        self.calendar = ctx.calendar if ctx.calendar is not None else DefaultCalendar(ctx.timezone)
        self.now = as_utc(ctx.now)

    # --- entry points -------------------------------------------------------------------

    def truth(self, node: a.Node, record: Record) -> bool:
        """Whether the condition ``node`` holds for ``record`` (never None)."""
        handler = _TRUTH.get(type(node))
        if handler is not None:
            return handler(self, node, record)
        function = function_for(node)
        if function is not None and function.predicate:
            return function.python(self, node, record)
        return self.value(node, record) is True

    def value(self, node: a.Node, record: Record) -> Any:
        """The value of ``node`` for ``record`` (a predicate gives True/False)."""
        if type(node) in _TRUTH:
            return self.truth(node, record)
        handler = _VALUE.get(type(node))
        if handler is not None:
            return handler(self, node, record)
        function = function_for(node)
        if function is None:
            raise ConditionError(f"{type(node).__name__} cannot be evaluated", node.pos)
        return function.python(self, node, record)

    # --- values ----------------------------------------------------------------------------------

    def _literal(self, node: a.Literal, record: Record) -> Any:
        return node.value

    def _duration(self, node: a.DurationLiteral, record: Record) -> Any:
        words = node.unit.replace("_", " ")
        return Duration(float(node.amount), node.unit, f"{node.amount} {words}")

    def _list(self, node: a.ListLiteral, record: Record) -> Any:
        return [self.value(item, record) for item in node.items]

    def _field(self, node: a.Field, record: Record) -> Any:
        return normalize(record.get(node.name))

    def _traverse(self, node: a.Traverse, record: Record) -> Any:
        ref = record.get(node.ref)
        if ref is None:
            return None
        if self.ctx.lookup is None:
            raise ConditionError(
                f"{node.ref}.{node.name} needs EvalContext.lookup to read the {node.target}",
                node.pos,
            )
        target = self.ctx.lookup(node.target, ref)
        return None if target is None else normalize(target.get(node.name))

    def _current_user(self, node: a.CurrentUser, record: Record) -> Any:
        user = self.ctx.user
        if node.attr == "departments":
            return frozenset() if user is None else frozenset(user.departments)
        return None if user is None else getattr(user, node.attr)

    def _negate(self, node: a.Negate, record: Record) -> Any:
        value = self.value(node.operand, record)
        return None if value is None else -value

    def _arith(self, node: a.Arith, record: Record) -> Any:
        if node.type in ("date", "datetime"):
            return self._time_arith(node, record)
        left, right = self.value(node.left, record), self.value(node.right, record)
        if left is None or right is None:
            return None
        with decimal.localcontext(_DECIMALS):
            if node.op == "/":
                if right == 0:
                    return None
                return Decimal(left) / Decimal(right)
            return _ARITH[node.op](left, right)

    def _time_arith(self, node: a.Arith, record: Record) -> Any:
        if isinstance(node.right, a.DurationLiteral):
            when, span, sign = node.left, node.right, (1 if node.op == "+" else -1)
        else:
            assert isinstance(node.left, a.DurationLiteral)
            when, span, sign = node.right, node.left, 1
        value = self.value(when, record)
        if value is None:
            return None
        try:
            return add_duration(value, span.amount * sign, span.unit, self.tz, self.calendar)
        except OverflowError:
            return None

    # --- predicates ------------------------------------------------------------------------------

    def _bool_op(self, node: a.BoolOp, record: Record) -> bool:
        if node.op == "and":
            return all(self.truth(item, record) for item in node.items)
        return any(self.truth(item, record) for item in node.items)

    def _not(self, node: a.Not, record: Record) -> bool:
        return not self.truth(node.operand, record)

    def _compare(self, node: a.Compare, record: Record) -> bool:
        left, right = self.value(node.left, record), self.value(node.right, record)
        return compare_values(node.op, left, right, self.tz)

    def _in_list(self, node: a.InList, record: Record) -> bool:
        left = self.value(node.left, record)
        if left is None:
            return False
        items = self.value(node.right, record)
        found = [item is not None and compare_values("=", left, item, self.tz) for item in items]
        if node.negated:
            return not any(found) and None not in items
        return any(found)

    def _is_empty(self, node: a.IsEmpty, record: Record) -> bool:
        return is_empty_value(self.value(node.operand, record)) != node.negated

    def _text_match(self, node: a.TextMatch, record: Record) -> bool:
        left, right = self.value(node.left, record), self.value(node.right, record)
        if left is None or right is None:
            return False
        if isinstance(left, list):
            return right in left
        if node.op == "contains":
            return right in left
        if node.op == "starts_with":
            return left.startswith(right)
        return left.endswith(right)

    def _has_role(self, node: a.HasRole, record: Record) -> bool:
        user = self.ctx.user
        return user is not None and node.role in user.roles


_TRUTH: dict[type, Callable[[Evaluator, Any, Record], bool]] = {
    a.BoolOp: Evaluator._bool_op,
    a.Not: Evaluator._not,
    a.Compare: Evaluator._compare,
    a.InList: Evaluator._in_list,
    a.IsEmpty: Evaluator._is_empty,
    a.TextMatch: Evaluator._text_match,
    a.HasRole: Evaluator._has_role,
}

_VALUE: dict[type, Callable[[Evaluator, Any, Record], Any]] = {
    a.Literal: Evaluator._literal,
    a.DurationLiteral: Evaluator._duration,
    a.ListLiteral: Evaluator._list,
    a.Field: Evaluator._field,
    a.Traverse: Evaluator._traverse,
    a.CurrentUser: Evaluator._current_user,
    a.Negate: Evaluator._negate,
    a.Arith: Evaluator._arith,
}
