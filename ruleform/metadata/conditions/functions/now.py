"""``now()``: the current instant (aware, UTC), when the condition is evaluated.

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
    return a.Now(pos=name.pos)


def _type_of(checker: TypeChecker, node: a.Now) -> a.Node:
    return replace(node, type="datetime", const=True)


def _python(evaluator: PythonEvaluator, node: a.Now, record: Record) -> Any:
    return evaluator.now


FUNCTION = ConditionFunction(
    name="now",
    node=a.Now,
    parse=_parse,
    type_of=_type_of,
    python=_python,
    sql=constant_sql,
    explain={
        "zh-CN": lambda words, node, entity: "当前时间",
        "en": lambda words, node, entity: "now",
    },
)
