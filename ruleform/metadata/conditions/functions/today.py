"""``today()``: the date in the rulebook's time zone, when the condition is evaluated.

It does not depend on the record: SQL gets it computed in Python, as a bound parameter.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .. import ast as a
from ..tokens import Token
from .base import ArgParser, ConditionFunction, PythonEvaluator, Record, TypeChecker, constant_sql

__all__ = ["FUNCTION"]


def _parse(parser: ArgParser, name: Token) -> a.Node:
    return a.Today(pos=name.pos)


def _type_of(checker: TypeChecker, node: a.Today) -> a.Node:
    return replace(node, type="date", const=True)


def _python(evaluator: PythonEvaluator, node: a.Today, record: Record) -> Any:
    return evaluator.now.astimezone(evaluator.tz).date()


FUNCTION = ConditionFunction(
    name="today",
    node=a.Today,
    parse=_parse,
    type_of=_type_of,
    python=_python,
    sql=constant_sql,
    explain={
        "zh-CN": lambda words, node, entity: "今天",
        "en": lambda words, node, entity: "today",
    },
)
