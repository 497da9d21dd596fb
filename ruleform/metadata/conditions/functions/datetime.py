"""``datetime('2026-01-01T09:00:00+08:00')``: an instant constant (bound in SQL).

Without an offset it is rulebook time, resolved when evaluated. The type checker also
turns a text literal compared with a datetime into this node.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .. import ast as a
from ..literals import parse_datetime_text
from ..timemath import as_utc
from ..tokens import Token
from .base import ArgParser, ConditionFunction, PythonEvaluator, Record, TypeChecker, constant_sql

__all__ = ["FUNCTION"]


def _parse(parser: ArgParser, name: Token) -> a.Node:
    arg = parser.string_arg("datetime", "2026-01-01T09:00:00+08:00")
    return a.DateTimeLiteral(pos=name.pos, value=parse_datetime_text(arg.text, arg.pos))


def _type_of(checker: TypeChecker, node: a.DateTimeLiteral) -> a.Node:
    return replace(node, type="datetime", const=True)


def _python(evaluator: PythonEvaluator, node: a.DateTimeLiteral, record: Record) -> Any:
    value = node.value
    if value.tzinfo is None:
        value = value.replace(tzinfo=evaluator.tz)
    return as_utc(value)


def _words(words: Any, node: a.DateTimeLiteral, entity: Any) -> str:
    return node.value.isoformat()


FUNCTION = ConditionFunction(
    name="datetime",
    node=a.DateTimeLiteral,
    parse=_parse,
    type_of=_type_of,
    python=_python,
    sql=constant_sql,
    explain={"zh-CN": _words, "en": _words},
)
