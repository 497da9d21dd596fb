"""``count(entity)`` / ``count(entity where condition)``: the related records pointing here.

The records of ``entity`` whose reference field (``EntityInfo.related[entity]``) points at
this record, and that match the ``where`` condition (checked against ``entity``). In SQL
it is a correlated ``count(*)`` subquery on the related table, limited to the rows the
asking user may read; ``count(…) > 0`` (``>= 1``, ``!= 0``) becomes ``EXISTS (…)`` and
``count(…) = 0`` (``< 1``, ``<= 0``) ``NOT EXISTS (…)``: the database stops at the first
related row, and PostgreSQL can run an EXISTS under OR as one hashed subplan instead of
one count per row (a row scope like "own, or granted by an access request" at a million
rows).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from ....errors import ConditionError
from .. import ast as a
from ..scope import known_list, suggest
from ..tokens import Token
from .base import (
    ArgParser,
    ConditionFunction,
    Explainer,
    PythonEvaluator,
    Record,
    SqlCompiler,
    TypeChecker,
)

__all__ = ["FUNCTION"]

#: ``count(…) op n`` that only asks whether a related row exists (True) or none does (False).
_EXISTENCE = {(">", 0): True, (">=", 1): True, ("!=", 0): True,
              ("=", 0): False, ("<", 1): False, ("<=", 0): False}  # fmt: skip


def _parse(parser: ArgParser, name: Token) -> a.Node:
    arg = parser.tok
    if not parser.at_name():
        raise ConditionError(
            f"count() takes the name of a related entity, found {arg.describe()}",
            arg.pos,
            "write count(activity) or count(activity where kind = 'call')",
        )
    parser.advance()
    where = None
    if parser.at_word("where"):
        parser.advance()
        where = parser.or_expr()
    return a.Count(pos=name.pos, entity=arg.text, entity_pos=arg.pos, where=where)


def _type_of(checker: TypeChecker, node: a.Count) -> a.Node:
    scope = checker.scope
    info = scope.info
    fk = info.related.get(node.entity)
    if fk is None:
        hint = f"related to {info.name}: {known_list(info.related)}"
        if node.entity in scope.entities:
            raise ConditionError(
                f"'{node.entity}' has no reference field pointing at '{info.name}'",
                node.entity_pos,
                hint,
            )
        raise ConditionError(
            f"unknown related entity '{node.entity}'{suggest(node.entity, info.related)}",
            node.entity_pos,
            hint,
        )
    if not checker.count_depth:
        checker.result.fields_used.add("id")
    checker.result.related_entities.add(node.entity)
    where = None
    if node.where is not None:
        checker.scope = scope.for_entity(node.entity)
        checker.count_depth += 1
        try:
            where = checker.visit(node.where)
            checker.require(where, "boolean", "the condition after 'where'")
        finally:
            checker.scope = scope
            checker.count_depth -= 1
    return replace(node, where=where, fk=fk, type="number")


def _python(evaluator: PythonEvaluator, node: a.Count, record: Record) -> Any:
    record_id = record.get("id")
    if record_id is None:
        return 0
    related = evaluator.ctx.related
    if related is None:
        raise ConditionError(f"count({node.entity}) needs EvalContext.related", node.pos)
    rows = related(node.entity, node.fk, record_id)
    if node.where is None:
        return sum(1 for _ in rows)
    return sum(1 for row in rows if evaluator.truth(node.where, row))


def _related_rows(builder: SqlCompiler, node: a.Count) -> tuple[Any, list[ColumnElement[bool]]]:
    """The related table of ``count(…)`` and the conditions of the rows it counts:
    pointing here, matching its ``where``, readable by the asking user."""
    related = builder.other_table(node.entity, node.entity_pos)
    conditions = [builder.column(related, node.fk, node.entity_pos) == builder.table.c.id]
    if node.where is not None:
        conditions.append(builder.nested(related).positive(node.where))
    conditions += builder.readable(node.entity, related)
    return related, conditions


def _sql(builder: SqlCompiler, node: a.Count) -> ColumnElement[Any]:
    related, conditions = _related_rows(builder, node)
    query = sa.select(sa.func.count()).select_from(related).where(*conditions)
    return query.correlate(builder.table).scalar_subquery()


def _exists(builder: SqlCompiler, node: a.Count) -> ColumnElement[bool]:
    """``EXISTS`` a related row that ``count(…)`` would count."""
    related, conditions = _related_rows(builder, node)
    return sa.exists().select_from(related).where(*conditions).correlate(builder.table)


def _sql_compare(
    builder: SqlCompiler, node: a.Count, op: str, other: a.Node, positive: bool
) -> ColumnElement[bool] | None:
    """``count(…) > 0`` and its equivalents as EXISTS, ``count(…) = 0`` as NOT EXISTS (a
    count is never null, so the negation is exact); None for any other comparison."""
    if not other.const:
        return None
    value = builder.const(other)
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    exists = _EXISTENCE.get((op, value))
    if exists is None:
        return None
    found = _exists(builder, node)
    return found if exists == positive else sa.not_(found)


_ZH = {
    "count": "{e}的数量",
    "count_where": "{e}（{c}）的数量",
    "exists": "该记录有关联的{e}",
    "exists_where": "该记录有关联的{e}（{c}）",
    "none": "该记录没有关联的{e}",
    "none_where": "该记录没有关联的{e}（{c}）",
}
_EN = {
    "count": "the number of {e}",
    "count_where": "the number of {e} ({c})",
    "exists": "the record has a related {e}",
    "exists_where": "the record has a related {e} ({c})",
    "none": "the record has no related {e}",
    "none_where": "the record has no related {e} ({c})",
}


def _explain(p: Mapping[str, str]) -> Callable[[Explainer, a.Count, Any], str]:
    def words(explainer: Explainer, node: a.Count, entity: Any) -> str:
        related, label = explainer.related(node.entity)
        if node.where is None:
            return p["count"].format(e=label)
        return p["count_where"].format(e=label, c=explainer.text(node.where, related))

    return words


def _explain_compare(
    p: Mapping[str, str],
) -> Callable[[Explainer, a.Count, str, a.Node, Any], str | None]:
    def words(
        explainer: Explainer, node: a.Count, op: str, other: a.Node, entity: Any
    ) -> str | None:
        if not isinstance(other, a.Literal):
            return None
        n = other.value
        related, label = explainer.related(node.entity)
        where = explainer.text(node.where, related) if node.where is not None else ""
        if (op, n) in ((">", 0), (">=", 1), ("!=", 0)):
            return p["exists_where" if where else "exists"].format(e=label, c=where)
        if (op, n) in (("=", 0), ("<", 1), ("<=", 0)):
            return p["none_where" if where else "none"].format(e=label, c=where)
        return None

    return words


FUNCTION = ConditionFunction(
    name="count",
    node=a.Count,
    parse=_parse,
    type_of=_type_of,
    python=_python,
    sql=_sql,
    sql_compare=_sql_compare,
    explain={"zh-CN": _explain(_ZH), "en": _explain(_EN)},
    explain_compare={"zh-CN": _explain_compare(_ZH), "en": _explain_compare(_EN)},
)
