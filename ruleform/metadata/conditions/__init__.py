"""The condition language: one small expression language for guards, conditional fields,
validation rules, row scopes and time-rule predicates.

    status = 'won' and amount >= 100000
    purchased_at <= today() - 3 working days
    count(activity where kind = 'call' and happened_at > now() - 7 days) = 0

Text is tokenized and parsed by our own grammar (``tokens.py``, ``parser.py``; never
``eval``), type-checked against a :class:`Scope` (``typecheck.py``), and compiled both to a
Python predicate (``to_python.py``) and to a SQLAlchemy Core expression (``to_sql.py``)
that selects exactly the same records. The grammar and every decision are described in
``docs/conditions-grammar.md``.

Use::

    cond = compile_condition("status = 'won'", scope)       # ConditionError if wrong
    cond.evaluate(record, EvalContext(now=..., timezone="Asia/Shanghai"))
    select(t.c.id).where(cond.to_sql(SqlContext(tables, "customer", now, "Asia/Shanghai")))

Layering: this package imports SQLAlchemy Core and ``ruleform.metadata.sqltypes`` only; no
Flask, no sessions, no I/O. ``EvalContext.related``/``lookup`` are how callers give it
other records.
"""

from __future__ import annotations

from .compiled import CompiledCondition, CompiledExpression, compile_condition, compile_expression
from .context import EvalContext, SqlContext, UserContext
from .durations import parse_duration
from .parser import KEYWORDS, MAX_DEPTH, RESERVED_WORDS
from .scope import EntityInfo, FieldInfo, Scope
from .timemath import DefaultCalendar
from .tokens import MAX_LENGTH

__all__ = [
    "compile_condition",
    "compile_expression",
    "parse_duration",
    "CompiledCondition",
    "CompiledExpression",
    "EvalContext",
    "SqlContext",
    "UserContext",
    "Scope",
    "EntityInfo",
    "FieldInfo",
    "DefaultCalendar",
    "KEYWORDS",
    "RESERVED_WORDS",
    "MAX_DEPTH",
    "MAX_LENGTH",
]
