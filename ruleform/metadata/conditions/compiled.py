"""Compiled conditions and expressions: parse + type-check once, evaluate or query many times."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.sql.elements import ColumnElement

from ...errors import ConditionError
from . import ast as a
from .context import EvalContext, SqlContext
from .functions.changed import CHANGED_MESSAGE
from .parser import parse
from .scope import Scope
from .to_python import Evaluator
from .to_sql import SqlBuilder, bind
from .typecheck import CheckResult, check, describe_type

__all__ = ["CompiledCondition", "CompiledExpression", "compile_condition", "compile_expression"]

_EXPECTED = frozenset(
    {
        "string",
        "number",
        "boolean",
        "date",
        "datetime",
        "list",
        "user",
        "department",
        "reference",
        "duration",
    }
)


@dataclass(frozen=True, slots=True)
class _Compiled:
    text: str
    ast: a.Node
    result_type: str
    entity: str
    fields_used: frozenset[str]
    uses_current_user: bool
    uses_changed: bool
    related_entities: frozenset[str]  # entities counted with count(...)
    referenced_entities: frozenset[str]  # entities read through a reference (customer.level)
    sql_problem: tuple[str, int, str] | None = None  # why to_sql() would fail (expressions)

    @property
    def runs_in_sql(self) -> bool:
        """Whether :meth:`to_sql` can compile it (no changed(), no unrewritable date math)."""
        return (
            not self.uses_changed
            and self.sql_problem is None
            and self.result_type not in ("duration", "departments")
        )

    def _builder(self, ctx: SqlContext) -> SqlBuilder:
        if ctx.entity != self.entity:
            raise ConditionError(f"this was compiled for '{self.entity}', not '{ctx.entity}'", 0)
        if self.sql_problem is not None:
            raise ConditionError(*self.sql_problem)
        if self.uses_changed:
            changed = next(n for n in a.walk(self.ast) if isinstance(n, a.Changed))
            raise ConditionError(CHANGED_MESSAGE, changed.pos, "check it on save instead")
        try:
            table = ctx.tables[ctx.entity]
        except KeyError:
            raise ConditionError(f"no table is known for the entity '{ctx.entity}'", 0) from None
        return SqlBuilder(ctx, table)

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class CompiledCondition(_Compiled):
    """A checked condition: true or false for a record, in Python or as a SQL WHERE clause."""

    def evaluate(self, record: Mapping[str, Any], ctx: EvalContext) -> bool:
        """Whether the condition holds for ``record`` (a comparison with null is false)."""
        return Evaluator(ctx).truth(self.ast, record)

    def to_sql(self, ctx: SqlContext) -> ColumnElement[bool]:
        """A WHERE clause selecting exactly the rows for which :meth:`evaluate` is true."""
        return self._builder(ctx).positive(self.ast)


@dataclass(frozen=True, slots=True)
class CompiledExpression(_Compiled):
    """A checked expression of any type (defaults, computed fields, ``set:`` updates)."""

    def evaluate(self, record: Mapping[str, Any], ctx: EvalContext) -> Any:
        """The value for ``record`` (null propagates; a condition gives True/False)."""
        return Evaluator(ctx).value(self.ast, record)

    def to_sql(self, ctx: SqlContext) -> ColumnElement[Any]:
        """The value as a SQL expression (constants are bound parameters)."""
        builder = self._builder(ctx)
        if self.result_type == "duration":
            raise ConditionError("a duration alone has no database value", self.ast.pos)
        if self.ast.const:
            return bind(builder.const(self.ast), self.result_type)
        return builder.value(self.ast)


def compile_condition(text: str, scope: Scope) -> CompiledCondition:
    """Parse and check a condition on ``scope.entity``; raise ConditionError."""
    result = check(parse(text), scope, condition=True)
    if result.node.type != "boolean":
        raise ConditionError(
            f"a condition must be true or false, but this is {describe_type(result.node.type)}",
            result.node.pos,
            _condition_hint(result.node),
        )
    return CompiledCondition(**_fields(text, scope, result))


def compile_expression(text: str, scope: Scope, expected: str | None = None) -> CompiledExpression:
    """Parse and check an expression; with ``expected``, its type must fit (null always does)."""
    result = check(parse(text), scope, condition=False)
    if expected is not None:
        _check_expected(result, expected)
    return CompiledExpression(**_fields(text, scope, result))


def _fields(text: str, scope: Scope, result: CheckResult) -> dict[str, Any]:
    problem = result.sql_problem
    return {
        "text": text,
        "ast": result.node,
        "result_type": result.node.type,
        "entity": scope.entity,
        "fields_used": frozenset(result.fields_used),
        "uses_current_user": result.uses_current_user,
        "uses_changed": result.uses_changed,
        "related_entities": frozenset(result.related_entities),
        "referenced_entities": frozenset(result.referenced_entities),
        "sql_problem": None if problem is None else (problem.message, problem.offset, problem.hint),
    }


def _check_expected(result: CheckResult, expected: str) -> None:
    if expected not in _EXPECTED:
        raise ValueError(f"unknown expected type {expected!r}")
    got = result.node.type
    fits = got in (expected, "null") or (expected == "reference" and got == "number")
    fits = fits or (expected in ("user", "department") and got == "number")
    if not fits:
        raise ConditionError(
            f"expected {describe_type(expected)}, but this is {describe_type(got)}",
            result.node.pos,
        )


def _condition_hint(node: a.Node) -> str:
    name = node.name if isinstance(node, a.Field) else None
    if name and node.type in ("string", "list", "date", "datetime", "user", "department"):
        return f"did you mean `{name} is not empty`?"
    if name and node.type == "number":
        return f"did you mean `{name} > 0`?"
    return "compare it with something, e.g. `x = 'value'`"
