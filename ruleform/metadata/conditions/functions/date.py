"""``date('2026-01-01')``: a date constant (bound in SQL).

The type checker also turns a text literal compared with a date into this node
(``signed_on > '2026-01-01'``), so such literals evaluate and read the same way.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .. import ast as a
from ..literals import parse_date_text
from ..tokens import Token
from .base import ArgParser, ConditionFunction, PythonEvaluator, Record, TypeChecker, constant_sql

__all__ = ["FUNCTION"]


def _parse(parser: ArgParser, name: Token) -> a.Node:
    arg = parser.string_arg("date", "2026-01-01")
    return a.DateLiteral(pos=name.pos, value=parse_date_text(arg.text, arg.pos))


def _type_of(checker: TypeChecker, node: a.DateLiteral) -> a.Node:
    return replace(node, type="date", const=True)


def _python(evaluator: PythonEvaluator, node: a.DateLiteral, record: Record) -> Any:
    return node.value


def _words(words: Any, node: a.DateLiteral, entity: Any) -> str:
    return node.value.isoformat()


FUNCTION = ConditionFunction(
    name="date",
    node=a.DateLiteral,
    parse=_parse,
    type_of=_type_of,
    python=_python,
    sql=constant_sql,
    explain={"zh-CN": _words, "en": _words},
)
