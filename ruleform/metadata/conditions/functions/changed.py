"""``changed(field)``: on save, the field's value differs from the stored one.

On update it compares with ``EvalContext.previous``; on create (``previous`` is None) it is
true when the field has a value. It never runs in SQL (``uses_changed``), and not inside
``count(…)``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ....errors import ConditionError
from .. import ast as a
from ..scope import known_list, suggest
from ..tokens import Token
from ..values import is_empty_value, normalize
from .base import ArgParser, ConditionFunction, PythonEvaluator, Record, SqlCompiler, TypeChecker

__all__ = ["FUNCTION", "CHANGED_MESSAGE"]

CHANGED_MESSAGE = "changed() cannot run in the database"
_HINT = "use it in rules checked on save (transitions, validations), not in views or scopes"


def _parse(parser: ArgParser, name: Token) -> a.Node:
    arg = parser.tok
    if not parser.at_name() or parser.peek().text == ".":
        raise ConditionError(
            "changed() takes the name of a field of this record",
            arg.pos,
            "write changed(amount)",
        )
    parser.advance()
    return a.Changed(pos=name.pos, field=arg.text, field_pos=arg.pos)


def _type_of(checker: TypeChecker, node: a.Changed) -> a.Node:
    if checker.count_depth:
        raise ConditionError("changed() cannot be used inside count(...)", node.pos)
    info = checker.scope.info
    if node.field not in info.fields:
        raise ConditionError(
            f"unknown field '{node.field}'{suggest(node.field, info.fields)}",
            node.field_pos,
            f"fields of {info.name}: {known_list(info.fields)}",
        )
    checker.result.fields_used.add(node.field)
    checker.result.uses_changed = True
    return replace(node, type="boolean")


def _python(evaluator: PythonEvaluator, node: a.Changed, record: Record) -> bool:
    new = normalize(record.get(node.field))
    previous = evaluator.ctx.previous
    if previous is None:
        return not is_empty_value(new)
    return new != normalize(previous.get(node.field))


def _sql(builder: SqlCompiler, node: a.Changed) -> Any:
    raise ConditionError(CHANGED_MESSAGE, node.pos, _HINT)


FUNCTION = ConditionFunction(
    name="changed",
    node=a.Changed,
    parse=_parse,
    type_of=_type_of,
    python=_python,
    sql=_sql,
    predicate=True,
    explain={
        "zh-CN": lambda words, node, entity: f"{words.field_label(entity, node.field)}被修改",
        "en": lambda words, node, entity: f"{words.field_label(entity, node.field)} changed",
    },
)
