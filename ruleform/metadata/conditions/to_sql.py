"""Compiling a typed tree to a SQLAlchemy Core expression.

The result is TRUE exactly for the rows where the Python evaluator says true:

- Every predicate is compiled in a *polarity*: ``positive`` (TRUE iff it holds) or
  ``negative`` (TRUE iff it does not). ``not`` flips the polarity, ``and``/``or`` follow
  De Morgan, so ``not`` never meets SQL's NULL: a negative comparison is
  ``NOT coalesce(cmp, false)``, true when an operand is null, as in Python.
- Everything that does not depend on the row (literals, ``today()``, ``now()``, durations
  and working time on them, ``current_user``) is computed in Python at query time and
  bound as a parameter. No value is ever written into the SQL text.
- ``field ± duration`` compared with such a value is rewritten (``purchased_at + 3 days
  <= today()`` becomes ``purchased_at <= today() - 3 days``); a date column compared with
  an instant becomes a date comparison, so no dialect date arithmetic is needed.
- The functions (``count(…)``, ``changed(…)``, …) bring their own SQL (``functions/``);
  a function may also compile a comparison it is part of (``count(…) > 0`` becomes
  ``EXISTS (…)``).
- Texts order by code point on both databases; text and list matching use the
  dialect-specific constructs of ``sqlfuncs.py``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from ...errors import ConditionError
from ..sqltypes import JSONList, UTCDateTime
from . import ast as a
from . import sqlfuncs as f
from .context import SqlContext
from .functions import function_for
from .timemath import add_duration, floor_date, start_of_day, zone
from .to_python import Evaluator

__all__ = ["SqlBuilder", "bind"]

_FLIP = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_ORDERING = ("<", "<=", ">", ">=")
_ID_TYPES = ("user", "department", "reference")


def bind(value: Any, type_: str) -> ColumnElement[Any]:
    """``value`` as a bound parameter of the SQL type matching the condition type."""
    if value is None:
        return sa.null()
    if isinstance(value, bool):
        return sa.literal(value, sa.Boolean())
    if isinstance(value, int):
        return sa.literal(value, sa.BigInteger())
    if isinstance(value, Decimal):
        return sa.literal(value, sa.Numeric(asdecimal=True))
    if isinstance(value, datetime):
        return sa.literal(value, UTCDateTime())
    if isinstance(value, date):
        return sa.literal(value, sa.Date())
    if isinstance(value, list):
        return sa.literal(value, JSONList())
    if isinstance(value, str):
        return sa.literal(value, sa.String())
    raise ConditionError(f"cannot use a {type(value).__name__} in a database query", 0)


class SqlBuilder:
    """Builds SQL for the nodes of one entity's table (a count's where-clause gets its own)."""

    def __init__(self, ctx: SqlContext, table: Any, evaluator: Evaluator | None = None):
        self.ctx = ctx
        self.table = table
        self.evaluator = evaluator or Evaluator(ctx.eval_context())
        self.tz = zone(ctx.timezone)

    # --- polarity --------------------------------------------------------------------------

    def positive(self, node: a.Node) -> ColumnElement[bool]:
        """TRUE exactly for the rows where ``node`` holds (FALSE or NULL elsewhere)."""
        if node.const:
            return sa.true() if self.evaluator.truth(node, {}) else sa.false()
        function = function_for(node)
        if function is not None and function.predicate:
            return function.sql(self, node)
        method = getattr(self, f"_pos_{type(node).__name__}", None)
        if method is not None:
            return method(node)
        return self.value(node).is_(sa.true())  # a boolean field or reference

    def negative(self, node: a.Node) -> ColumnElement[bool]:
        """TRUE exactly for the rows where ``node`` does not hold."""
        if node.const:
            return sa.false() if self.evaluator.truth(node, {}) else sa.true()
        if isinstance(node, a.Not):
            return self.positive(node.operand)
        if isinstance(node, a.BoolOp):
            parts = [self.negative(item) for item in node.items]
            return sa.or_(*parts) if node.op == "and" else sa.and_(*parts)
        if isinstance(node, a.IsEmpty):
            return self.positive(replace(node, negated=not node.negated))
        if isinstance(node, a.Compare):
            special = self._function_compare(node, positive=False)
            if special is not None:
                return special
        return sa.not_(sa.func.coalesce(self.positive(node), sa.false()))

    # --- values ---------------------------------------------------------------------------------

    def const(self, node: a.Node) -> Any:
        """The value of a node that does not depend on the row, computed in Python."""
        return self.evaluator.value(node, {})

    def bound(self, node: a.Node) -> ColumnElement[Any]:
        """A constant node's value, computed in Python, as a bound parameter."""
        return bind(self.const(node), node.type)

    def operand(self, node: a.Node) -> ColumnElement[Any]:
        """A node as SQL: bound when constant, an expression otherwise."""
        if node.const:
            return self.bound(node)
        return self.value(node)

    def value(self, node: a.Node) -> ColumnElement[Any]:
        """SQL for a node that depends on the row."""
        function = function_for(node)
        if isinstance(node, a.PREDICATES) or (function is not None and function.predicate):
            return sa.case((self.positive(node), sa.true()), else_=sa.false())
        if function is not None:
            return function.sql(self, node)
        method = getattr(self, f"_val_{type(node).__name__}", None)
        if method is None:  # pragma: no cover - every row-dependent node has a method
            raise ConditionError(f"{type(node).__name__} cannot run in the database", node.pos)
        return method(node)

    def column(self, table: Any, name: str, pos: int) -> ColumnElement[Any]:
        try:
            return table.c[name]
        except KeyError:
            raise ConditionError(
                f"the table {getattr(table, 'name', table)} has no column '{name}'", pos
            ) from None

    def nested(self, table: Any) -> SqlBuilder:
        """A builder for another entity's table (a count's where-clause), same context."""
        return SqlBuilder(self.ctx, table, self.evaluator)

    def other_table(self, entity: str, pos: int) -> Any:
        try:
            return self.ctx.tables[entity].alias()
        except KeyError:
            raise ConditionError(f"no table is known for the entity '{entity}'", pos) from None

    def _val_Field(self, node: a.Field) -> ColumnElement[Any]:
        return self.column(self.table, node.name, node.pos)

    def _val_Traverse(self, node: a.Traverse) -> ColumnElement[Any]:
        target = self.other_table(node.target, node.pos)
        ref = self.column(self.table, node.ref, node.pos)
        wanted = self.column(target, node.name, node.name_pos)
        query = sa.select(wanted).where(target.c.id == ref, *self.readable(node.target, target))
        return query.correlate(self.table).scalar_subquery()

    def readable(self, entity: str, table: Any) -> list[ColumnElement[bool]]:
        """The row rules of the asking user on another entity's rows (none for the system)."""
        if self.ctx.row_filter is None:
            return []
        return [self.ctx.row_filter(entity, table)]

    def _function_compare(self, node: a.Compare, positive: bool) -> ColumnElement[bool] | None:
        """A comparison a function compiles itself (``count(…) > 0`` as EXISTS), or None."""
        left, op, right = _oriented(node)
        function = function_for(left)
        if function is None or function.sql_compare is None:
            return None
        return function.sql_compare(self, left, op, right, positive)

    def _val_Negate(self, node: a.Negate) -> ColumnElement[Any]:
        return -self.operand(node.operand)

    def _val_Arith(self, node: a.Arith) -> ColumnElement[Any]:
        if node.type in ("date", "datetime"):
            raise ConditionError(
                "arithmetic on a date field can run in the database only inside a comparison "
                "with a value that does not depend on the record",
                node.pos,
            )
        left, right = self.operand(node.left), self.operand(node.right)
        if node.op == "+":
            return left + right
        if node.op == "-":
            return left - right
        if node.op == "*":
            return left * right
        zero = sa.literal(0, sa.BigInteger())
        return left / sa.func.nullif(right, zero, type_=right.type)

    # --- predicates ------------------------------------------------------------------------------

    def _pos_BoolOp(self, node: a.BoolOp) -> ColumnElement[bool]:
        parts = [self.positive(item) for item in node.items]
        return sa.and_(*parts) if node.op == "and" else sa.or_(*parts)

    def _pos_Not(self, node: a.Not) -> ColumnElement[bool]:
        return self.negative(node.operand)

    def _pos_Compare(self, node: a.Compare) -> ColumnElement[bool]:
        special = self._function_compare(node, positive=True)
        if special is not None:
            return special
        left, op, right = _oriented(node)
        if not right.const:
            return _apply(op, self.value(left), self.value(right), left.type)
        value = self.const(right)
        if value is None:
            return sa.false()
        return self._compare_with_value(left, op, value)

    def _compare_with_value(self, left: a.Node, op: str, value: Any) -> ColumnElement[bool]:
        """``left op value``: peel durations off ``left`` and align dates with instants."""
        base = left
        while _is_time_arith(base):
            base = _time_operand(base)  # type: ignore[arg-type]
        while True:
            if left.type == "datetime" and not isinstance(value, datetime):
                value = start_of_day(value, self.tz)
            elif left.type == "date" and isinstance(value, datetime):
                aligned = _date_side(op, value, self.tz)
                if isinstance(aligned, _Decided):
                    return aligned.sql(self.value(base))
                op, value = aligned
            if not _is_time_arith(left):
                break
            assert isinstance(left, a.Arith)
            span = left.right if isinstance(left.right, a.DurationLiteral) else left.left
            assert isinstance(span, a.DurationLiteral)
            sign = -1 if left.op == "-" else 1
            value = self._shift(value, -sign * span.amount, span.unit, left.pos)
            left = _time_operand(left)
        return _apply(op, self.value(left), bind(value, left.type), left.type)

    def _shift(self, value: Any, amount: Decimal, unit: str, pos: int) -> Any:
        try:
            return add_duration(value, amount, unit, self.tz, self.evaluator.calendar)
        except OverflowError:
            raise ConditionError("this date arithmetic goes past the year 9999", pos) from None

    def _pos_InList(self, node: a.InList) -> ColumnElement[bool]:
        left = self.operand(node.left)
        if node.right.const:
            values = list(self.const(node.right))
            if None in values and node.negated:
                return sa.false()
            items = [bind(v, node.left.type) for v in values if v is not None]
        else:
            assert isinstance(node.right, a.ListLiteral)
            items = []
            for item in node.right.items:
                if item.const and self.const(item) is None:
                    if node.negated:
                        return sa.false()
                    continue
                items.append(self.operand(item))
        if not items:
            return left.is_not(None) if node.negated else sa.false()
        if node.negated:
            return sa.and_(left.is_not(None), left.not_in(items))
        return left.in_(items)

    def _pos_IsEmpty(self, node: a.IsEmpty) -> ColumnElement[bool]:
        value = self.value(node.operand)
        if node.operand.type == "string":
            empty = sa.or_(value.is_(None), value == sa.literal("", sa.String()))
        elif node.operand.type == "list":
            empty = f.list_empty(value)
        else:
            empty = value.is_(None)
        return sa.not_(empty) if node.negated else empty

    def _pos_TextMatch(self, node: a.TextMatch) -> ColumnElement[bool]:
        for side in (node.left, node.right):
            if side.const and self.const(side) is None:
                return sa.false()
        haystack, needle = self.operand(node.left), self.operand(node.right)
        if node.left.type == "list":
            if node.right.const:
                array: Any = bind([self.const(node.right)], "list")
            else:
                array = sa.func.jsonb_build_array(sa.cast(needle, sa.Text()))
            return f.list_contains(haystack, needle, array)
        literal = node.right.const
        pattern = f.like_pattern(
            node.op, self.const(node.right) if literal else needle, literal=literal
        )
        func = {
            "contains": f.text_contains,
            "starts_with": f.text_starts,
            "ends_with": f.text_ends,
        }[node.op]
        return func(haystack, needle, pattern)


class _Decided:
    """A comparison whose outcome no longer depends on the value, only on it being set."""

    def __init__(self, when_set: bool):
        self.when_set = when_set

    def sql(self, value: ColumnElement[Any]) -> ColumnElement[bool]:
        return value.is_not(None) if self.when_set else sa.false()


def _is_time_arith(node: a.Node) -> bool:
    return isinstance(node, a.Arith) and node.type in ("date", "datetime")


def _date_side(op: str, instant: datetime, tz: Any) -> tuple[str, date] | _Decided:
    """``start_of_day(d) op instant`` as a comparison of the date ``d`` (or a fixed answer)."""
    day = floor_date(instant, tz)  # the last day starting at or before the instant
    exact = start_of_day(day, tz) == instant
    if op in ("<=", ">"):
        return op, day
    if op == "<":
        return ("<", day) if exact else ("<=", day)
    if op == ">=":
        return (">=", day) if exact else (">", day)
    if exact:
        return op, day
    return _Decided(when_set=(op == "!="))


def _time_operand(node: a.Arith) -> a.Node:
    """The date/datetime side of ``x ± duration`` / ``duration + x``."""
    return node.left if isinstance(node.right, a.DurationLiteral) else node.right


def _oriented(node: a.Compare) -> tuple[a.Node, str, a.Node]:
    """``left op right`` with the constant side (if any) on the right."""
    if node.left.const:
        return node.right, _FLIP[node.op], node.left
    return node.left, node.op, node.right


def _apply(op: str, left: ColumnElement[Any], right: ColumnElement[Any], type_: str):
    if op in _ORDERING and type_ == "string":
        left = f.bytewise(left)
    if op == "=":
        return left == right
    if op == "!=":
        return left != right
    if op == "<":
        return left < right
    if op == "<=":
        return left <= right
    if op == ">":
        return left > right
    return left >= right
