"""The functions of the condition language are one module each (``conditions/functions/``).

The drift test keeps the registry, the parser's keywords, the modules and the docs in step.
The throw-away ``abs(number)`` below shows that a function is nothing but its module: once
registered, it parses, type-checks, evaluates in Python, runs in SQL (agreeing with Python,
on SQLite and, when reachable, PostgreSQL) and reads in zh-CN and en — with no other code.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from ruleform.errors import ConditionError
from ruleform.metadata.compiler import compile_rulebook
from ruleform.metadata.conditions import (
    KEYWORDS,
    compile_condition,
    compile_expression,
    functions,
)
from ruleform.metadata.conditions import ast as a
from ruleform.metadata.conditions.functions import (
    FUNCTIONS,
    LOCALES,
    ConditionFunction,
    function_for,
    register_function,
    unregister_function,
)
from ruleform.metadata.conditions.parser import parse
from ruleform.metadata.explain_conditions import condition_words

from .schema import CUSTOMERS, SCOPE, TABLES

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = ROOT / "ruleform" / "metadata" / "conditions" / "functions"
GRAMMAR = ROOT / "docs" / "conditions-grammar.md"

# --- drift ----------------------------------------------------------------------------------


def test_the_built_in_functions_in_their_fixed_order():
    assert list(FUNCTIONS) == ["today", "now", "date", "datetime", "changed", "count"]
    with pytest.raises(ConditionError) as info:
        parse("tody()")
    assert info.value.message == "unknown function 'tody' — did you mean 'today'?"
    assert info.value.hint == "functions: today(), now(), date(), datetime(), changed(), count()"


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_every_function_has_every_step(name):
    function = FUNCTIONS[name]
    assert isinstance(function, ConditionFunction) and function.name == name
    assert isinstance(function.node, type) and issubclass(function.node, a.Node)
    for hook in (function.parse, function.type_of, function.python, function.sql):
        assert callable(hook), f"{name}(): a hook is missing"
    assert set(function.explain) == set(LOCALES), f"{name}() must read in {LOCALES}"
    assert all(callable(words) for words in function.explain.values())
    if function.explain_compare:
        assert set(function.explain_compare) == set(LOCALES)
        assert all(callable(words) for words in function.explain_compare.values())
    assert function.sql_compare is None or callable(function.sql_compare)


def test_every_function_is_a_keyword_a_module_and_in_the_docs():
    assert set(FUNCTIONS) <= KEYWORDS
    modules = {p.stem for p in FUNCTIONS_DIR.glob("*.py")} - {"__init__", "base"}
    assert modules == set(FUNCTIONS), "one module per function, each in the registry list"
    for name in FUNCTIONS:
        assert getattr(functions, name).FUNCTION is FUNCTIONS[name]
    docs = GRAMMAR.read_text("utf-8")
    missing = [name for name in FUNCTIONS if f'"{name}" "("' not in docs or f"`{name}(" not in docs]
    assert not missing, f"docs/conditions-grammar.md does not describe {missing}"
    assert "## Adding a function" in docs


def test_every_function_node_leads_back_to_its_function():
    texts = {"today": "today()", "now": "now()", "date": "date('2026-01-01')",
             "datetime": "datetime('2026-01-01T09:00:00Z')", "changed": "changed(amount)",
             "count": "count(activity)"}  # fmt: skip
    assert set(texts) == set(FUNCTIONS)
    for name, text in texts.items():
        node = parse(text)
        assert function_for(node) is FUNCTIONS[name]
        assert function_for(compile_expression(text, SCOPE).ast) is FUNCTIONS[name]
    assert function_for(parse("amount")) is None


def test_registration_refuses_clashes():
    today = FUNCTIONS["today"]
    with pytest.raises(ValueError, match="already registered"):
        register_function(today)
    with pytest.raises(ValueError, match="already the node of today"):
        register_function(replace(today, name="today2"))
    with pytest.raises(ValueError, match="lower-case word"):
        register_function(replace(ABS, name="Abs"))
    with pytest.raises(ValueError, match="no explanation in en"):
        register_function(replace(ABS, explain={"zh-CN": ABS.explain["zh-CN"]}))
    assert "abs" not in FUNCTIONS


# --- a function added at test time: abs(number) -----------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Abs(a.Node):
    """``abs(number)``."""

    operand: a.Node


def _parse(parser: Any, name: Any) -> a.Node:
    return Abs(pos=name.pos, operand=parser.additive())


def _type_of(checker: Any, node: Abs) -> a.Node:
    operand = checker.visit(node.operand)
    if operand.type not in ("number", "null"):
        raise ConditionError(
            f"abs() takes a number, not {operand.type}", operand.pos, "write abs(amount)"
        )
    return replace(node, operand=operand, type="number", const=operand.const)


def _python(evaluator: Any, node: Abs, record: Any) -> Any:
    value = evaluator.value(node.operand, record)
    return None if value is None else abs(value)


def _sql(builder: Any, node: Abs) -> Any:
    return sa.func.abs(builder.operand(node.operand), type_=sa.Numeric())


ABS = ConditionFunction(
    name="abs",
    node=Abs,
    parse=_parse,
    type_of=_type_of,
    python=_python,
    sql=_sql,
    explain={
        "zh-CN": lambda words, node, entity: f"{words.value(node.operand, entity)}的绝对值",
        "en": lambda words, node, entity: (
            "the absolute value of " + words.value(node.operand, entity)
        ),
    },
)


@pytest.fixture
def with_abs():
    register_function(ABS)
    try:
        yield ABS
    finally:
        unregister_function("abs")
    assert "abs" not in FUNCTIONS
    assert function_for(Abs(pos=0, operand=a.Literal(pos=0, value=1))) is None


def test_unknown_until_registered():
    with pytest.raises(ConditionError, match="unknown function 'abs'"):
        parse("abs(amount) > 1")


def test_a_registered_function_parses_and_checks(with_abs):
    node = parse("abs(amount - 100) < 1")
    assert isinstance(node, a.Compare) and isinstance(node.left, Abs)
    assert node.left.pos == 0 and isinstance(node.left.operand, a.Arith)
    with pytest.raises(ConditionError) as info:
        parse("abs(amount")
    assert (info.value.message, info.value.offset) == ("expected ')' to close abs(, found the "
                                                       "end of the condition", 10)  # fmt: skip
    with pytest.raises(ConditionError) as info:
        parse("ab(amount)")
    assert "did you mean 'abs'?" in info.value.message and "abs()" in info.value.hint

    cond = compile_condition("abs(amount) > 100", SCOPE)
    assert cond.fields_used == {"amount"} and cond.runs_in_sql
    assert isinstance(cond.ast, a.Compare) and cond.ast.left.type == "number"
    with pytest.raises(ConditionError) as info:
        compile_condition("abs(name) > 1", SCOPE)
    assert (info.value.message, info.value.offset, info.value.hint) == (
        "abs() takes a number, not string",
        4,
        "write abs(amount)",
    )
    with pytest.raises(ConditionError, match="a condition must be true or false"):
        compile_condition("abs(amount)", SCOPE)
    assert compile_expression("abs(-3)", SCOPE).ast.const


def test_a_registered_function_evaluates_in_python(with_abs, sample_db):
    expr = compile_expression("abs(amount)", SCOPE)
    ctx = sample_db.eval_context()
    values = [expr.evaluate(r, ctx) for r in sample_db.records["customer"]]
    assert values == [Decimal("150000.00"), Decimal("99.50"), None, Decimal("3.25")]
    assert compile_expression("abs(-3) + 1", SCOPE).evaluate({}, ctx) == 4


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("abs(amount) > 50", {1, 2}),
        ("abs(amount) < 5", {4}),
        ("abs(amount - 100) < 1", {2}),
        ("not (abs(amount) < 5)", {1, 2, 3}),
        ("abs(-3) = 3", {1, 2, 3, 4}),
        ("abs(employees) >= abs(0 - 5)", {1, 2}),
        ("count(activity where abs(minutes - 10) <= 5) > 0", {1}),
        ("abs(amount) in [99.5, 3.25]", {2, 4}),
    ],
)
def test_a_registered_function_runs_in_sql_as_python_says(with_abs, sample_db, text, ids):
    assert sample_db.ids(text) == ids  # Python and SQL agree (Db.ids checks)


def test_a_registered_function_compiles_to_its_sql(with_abs, sample_db):
    expr = compile_expression("abs(amount)", SCOPE)
    sql = str(expr.to_sql(sample_db.sql_context()).compile(dialect=sqlite.dialect()))
    assert sql == "abs(customer.amount)"
    table = TABLES["customer"]
    query = sa.select(table.c.id, expr.to_sql(sample_db.sql_context())).order_by(table.c.id)
    with sample_db.engine.connect() as conn:
        rows = dict(conn.execute(query).all())
    assert {k: v if v is None else Decimal(str(v)) for k, v in rows.items()} == {
        c["id"]: None if c["amount"] is None else abs(c["amount"]) for c in CUSTOMERS
    }


RULEBOOK = """\
language: ruleform/v1
name: abs_test
version: "1"
locales: [zh-CN, en]
default_locale: zh-CN
timezone: Asia/Shanghai
entities:
  deal:
    label: {zh-CN: 交易, en: Deal}
    fields:
      amount: {type: decimal, label: {zh-CN: 金额, en: Amount}}
      note:
        type: string
        label: {zh-CN: 说明, en: Note}
        visible_when: "abs(amount) > 100"
"""


def test_a_registered_function_reads_in_both_locales(with_abs, tmp_path):
    path = tmp_path / "abs.yaml"
    path.write_text(RULEBOOK, "utf-8")
    rb = compile_rulebook(path)
    deal = rb.entities["deal"]
    cond = deal.fields["note"].visible_when
    assert cond is not None and isinstance(cond.ast.left, Abs)
    assert condition_words(rb, deal, cond.ast, "zh-CN") == "金额的绝对值大于100"
    en = condition_words(rb, deal, cond.ast, "en")
    assert en == "the absolute value of Amount is more than 100"
    assert condition_words(rb, deal, cond.ast, "en-GB") == en
