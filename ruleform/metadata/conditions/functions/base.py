"""What a condition-language function is: one object holding every step of its life.

A function (``today()``, ``count(activity where …)``) is parsed into its syntax-tree node,
type-checked, evaluated in Python, compiled to SQL and explained in words. Each step is a
hook of :class:`ConditionFunction`, called by the parser, the type checker, the evaluator,
the SQL builder and the explainer with themselves as the first argument. The protocols
below are what a hook may use of them; nothing else about a function lives elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.sql.elements import ColumnElement

from .. import ast as a
from ..tokens import Token

if TYPE_CHECKING:
    from ...model import Entity
    from ..context import EvalContext, SqlContext
    from ..scope import Scope
    from ..typecheck import CheckResult

__all__ = [
    "LOCALES",
    "ConditionFunction",
    "ArgParser",
    "TypeChecker",
    "PythonEvaluator",
    "SqlCompiler",
    "Explainer",
    "Record",
]

LOCALES = ("zh-CN", "en")
"""The locales every function explains itself in."""

Record = Mapping[str, Any]


class ArgParser(Protocol):
    """The parser, positioned after the ``(`` of the call (the ``)`` is checked after)."""

    @property
    def tok(self) -> Token: ...  # the current token

    def peek(self, ahead: int = 1) -> Token: ...
    def advance(self) -> Token: ...  # the current token, moving past it
    def at_word(self, *words: str) -> bool: ...
    def at_name(self) -> bool: ...  # a word that may name a field or an entity
    def string_arg(self, name: str, example: str) -> Token: ...  # a quoted text, or an error
    def or_expr(self) -> a.Node: ...  # a whole condition
    def additive(self) -> a.Node: ...  # a value (sums and products, no comparison)


class TypeChecker(Protocol):
    """The type checker: the scope, what the condition depends on, and checking sub-nodes."""

    scope: Scope
    result: CheckResult
    count_depth: int  # > 0 inside count(… where …)

    def visit(self, node: a.Node) -> a.Node: ...  # the typed copy of a sub-node
    def require(self, node: a.Node, type_: str, what: str) -> None: ...
    def sql_problem(self, message: str, pos: int, hint: str = "") -> None: ...


class PythonEvaluator(Protocol):
    """The Python evaluator of one EvalContext."""

    ctx: EvalContext
    tz: Any  # the rulebook's time zone
    calendar: Any
    now: datetime  # aware, UTC

    def value(self, node: a.Node, record: Record) -> Any: ...
    def truth(self, node: a.Node, record: Record) -> bool: ...


class SqlCompiler(Protocol):
    """The SQL builder of one table (``nested`` gives one for another table)."""

    ctx: SqlContext
    table: Any
    evaluator: PythonEvaluator

    def const(self, node: a.Node) -> Any: ...  # a constant node's value, in Python
    def bound(self, node: a.Node) -> ColumnElement[Any]: ...  # ... as a bound parameter
    def operand(self, node: a.Node) -> ColumnElement[Any]: ...  # bound or an expression
    def value(self, node: a.Node) -> ColumnElement[Any]: ...
    def positive(self, node: a.Node) -> ColumnElement[bool]: ...
    def column(self, table: Any, name: str, pos: int) -> ColumnElement[Any]: ...
    def other_table(self, entity: str, pos: int) -> Any: ...  # an alias of its table
    def readable(self, entity: str, table: Any) -> list[ColumnElement[bool]]: ...
    def nested(self, table: Any) -> SqlCompiler: ...


class Explainer(Protocol):
    """The explainer of one rulebook and locale."""

    locale: str

    def field_label(self, entity: Entity | None, name: str) -> str: ...
    def related(self, name: str) -> tuple[Entity | None, str]: ...  # an entity and its label
    def text(self, node: a.Node, entity: Entity | None) -> str: ...  # a condition in words
    def value(self, node: a.Node, entity: Entity | None) -> str: ...  # a value in words


ParseHook = Callable[[ArgParser, Token], a.Node]
TypeHook = Callable[[TypeChecker, Any], a.Node]
PythonHook = Callable[[PythonEvaluator, Any, Record], Any]
SqlHook = Callable[[SqlCompiler, Any], ColumnElement[Any]]
SqlCompareHook = Callable[[SqlCompiler, Any, str, a.Node, bool], "ColumnElement[bool] | None"]
ExplainHook = Callable[[Explainer, Any, "Entity | None"], str]
ExplainCompareHook = Callable[[Explainer, Any, str, a.Node, "Entity | None"], "str | None"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ConditionFunction:
    """One function of the condition language, from its text to its words.

    - ``parse(parser, name_token)``: read the arguments (the parser is after ``(``) and
      return the node, at the position of the function's name.
    - ``type_of(checker, node)``: the typed copy of the node (``type``, ``const``); resolve
      names in ``checker.scope``, record dependencies in ``checker.result``; raise
      ConditionError with the offending position and a hint.
    - ``python(evaluator, node, record)``: the value (a predicate returns True/False).
    - ``sql(builder, node)``: the SQL of a node that depends on the row — its value, or for
      a predicate the clause TRUE where it holds. A constant node (``const``) never gets
      here: it is computed in Python and bound (``builder.bound``).
    - ``explain[locale](explainer, node, entity)``: the node in words, for every locale of
      :data:`LOCALES`.
    - ``predicate``: the node is true or false by construction, never null.
    - ``sql_compare(builder, node, op, other, positive)`` (optional): SQL for ``node op
      other`` (``positive``) or its negation, or None for the ordinary comparison;
      ``explain_compare[locale](explainer, node, op, other, entity)`` the same for words.
    """

    name: str
    node: type[a.Node]
    parse: ParseHook
    type_of: TypeHook
    python: PythonHook
    sql: SqlHook
    explain: Mapping[str, ExplainHook]
    predicate: bool = False
    sql_compare: SqlCompareHook | None = None
    explain_compare: Mapping[str, ExplainCompareHook] = field(default_factory=dict)


def constant_sql(builder: SqlCompiler, node: a.Node) -> ColumnElement[Any]:
    """The ``sql`` of a function whose value never depends on the row: bound from Python."""
    return builder.bound(node)
