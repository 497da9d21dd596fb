"""The tokenizer and parser: precedence, literals, keywords, errors with offsets, limits."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from ruleform.errors import ConditionError
from ruleform.metadata.conditions import MAX_DEPTH, MAX_LENGTH
from ruleform.metadata.conditions import ast as a
from ruleform.metadata.conditions.parser import parse


def shape(node: a.Node) -> str:
    """A compact, fully parenthesised rendering of a tree, for precedence tests."""
    match node:
        case a.BoolOp(op=op, items=items):
            return "(" + f" {op} ".join(shape(i) for i in items) + ")"
        case a.Not(operand=x):
            return f"(not {shape(x)})"
        case a.Compare(op=op, left=left, right=right) | a.Arith(op=op, left=left, right=right):
            return f"({shape(left)} {op} {shape(right)})"
        case a.Negate(operand=x):
            return f"(-{shape(x)})"
        case a.Field(name=name):
            return name
        case a.Literal(value=value):
            return repr(value)
        case a.InList(left=left, right=right, negated=neg):
            return f"({shape(left)} {'not in' if neg else 'in'} {shape(right)})"
        case a.ListLiteral(items=items):
            return "[" + ", ".join(shape(i) for i in items) + "]"
        case a.IsEmpty(operand=x, negated=neg):
            return f"({shape(x)} is {'not ' if neg else ''}empty)"
        case a.TextMatch(op=op, left=left, right=right):
            return f"({shape(left)} {op} {shape(right)})"
        case a.DurationLiteral(amount=amount, unit=unit):
            return f"{amount}{unit}"
        case _:
            return type(node).__name__


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a = 1 or b = 2 and c = 3", "((a = 1) or ((b = 2) and (c = 3)))"),
        ("(a = 1 or b = 2) and c = 3", "(((a = 1) or (b = 2)) and (c = 3))"),
        ("not a = 1 and b", "((not (a = 1)) and b)"),
        ("not not a", "(not (not a))"),
        ("a + b * c - d / e > 0", "(((a + (b * c)) - (d / e)) > 0)"),
        ("a - b - c = 0", "(((a - b) - c) = 0)"),
        ("-a * 2 < -3", "(((-a) * 2) < -3)"),
        ("- 3.5 = x", "(Decimal('-3.5') = x)"),
        ("a or b or c or d", "(a or b or c or d)"),
        ("x not in [1, 2] or y in ['a']", "((x not in [1, 2]) or (y in ['a']))"),
        ("x is not empty and y is empty", "((x is not empty) and (y is empty))"),
        ("x starts with 'a' or x ends with 'b'", "((x starts_with 'a') or (x ends_with 'b'))"),
        ("x contains y + 'a'", "(x contains (y + 'a'))"),
        ("d < today() - 2 working days", "(d < (Today - 2working_days))"),
        ("t > now() - 1 hour", "(t > (Now - 1hours))"),
        ("t > now() - 90 MINUTES", "(t > (Now - 90minutes))"),
        ("t > now() + -3 days", "(t > (Now + -3days))"),
        ("d + 1 week = today()", "((d + 1weeks) = Today)"),
        ("x in [1, 2,]", "(x in [1, 2])"),
    ],
)
def test_precedence(text, expected):
    assert shape(parse(text)) == expected


def test_keywords_are_case_insensitive():
    node = parse("Status IS NOT EMPTY AND NOT (x In [TRUE, False, NULL]) OR Today() < D")
    assert (
        shape(node)
        == "(((Status is not empty) and (not (x in [True, False, None]))) or (Today < D))"
    )
    assert isinstance(parse("CURRENT_USER HAS ROLE 'x'"), a.HasRole)
    assert parse("3 WORKING DAYS = x").left.unit == "working_days"  # type: ignore[attr-defined]


def test_literals():
    assert parse("x = 12").right.value == 12  # type: ignore[attr-defined]
    assert parse("x = 3.50").right.value == Decimal("3.50")  # type: ignore[attr-defined]
    assert parse("x = date('2026-01-31')").right.value == date(2026, 1, 31)  # type: ignore[attr-defined]
    dt = parse("x = datetime('2026-01-01T09:00:00+08:00')").right.value  # type: ignore[attr-defined]
    assert dt == datetime.fromisoformat("2026-01-01T01:00:00+00:00")
    assert parse(r"x = 'it\'s \"q\" \\ \n\t\u4e0a'").right.value == 'it\'s "q" \\ \n\t上'  # type: ignore[attr-defined]
    assert parse("x = \"double 'quoted'\"").right.value == "double 'quoted'"  # type: ignore[attr-defined]
    assert parse("x = '上海 % _'").right.value == "上海 % _"  # type: ignore[attr-defined]


def test_references_and_calls():
    node = parse("customer.level = 'a'").left  # type: ignore[attr-defined]
    assert isinstance(node, a.Traverse) and (node.ref, node.name, node.name_pos) == (
        "customer",
        "level",
        9,
    )
    assert parse("current_user.department = department").left.attr == "department"  # type: ignore[attr-defined]
    count = parse("count(activity where kind = 'call') = 0").left  # type: ignore[attr-defined]
    assert isinstance(count, a.Count) and count.entity == "activity" and count.where is not None
    assert parse("changed(amount)").field == "amount"  # type: ignore[attr-defined]


def test_offsets_point_at_nodes():
    node = parse("a = 1 and   bb != 'x'")
    assert isinstance(node, a.BoolOp)
    assert node.items[1].pos == 15  # the operator
    assert node.items[1].left.pos == 12  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "offset", "message"),
    [
        ("", 0, "empty"),
        ("   ", 0, "empty"),
        ("status = ", 9, "ends too early"),
        ("status = 'won", 9, "no closing quote"),
        ("status == 'won'", 7, "'=='"),
        ("a <> 1", 2, "'<>'"),
        ("a = 1 && b = 2", 6, "'&&'"),
        ("a = 1 = 2", 6, "chained"),
        ("a < b < c", 6, "chained"),
        ("(a = 1", 6, "expected ')'"),
        ("a = 1)", 5, "no matching '('"),
        ("a = 1 b = 2", 6, "unexpected 'b'"),
        ("a = [1, 2", 9, "expected ']'"),
        ("a = 'x\\q'", 6, "unknown escape"),
        ("a = 3x", 5, "unexpected 'x'"),
        ("a = 客户", 4, "unexpected character"),
        ("a = ‘x’", 4, "unexpected character"),
        ("x is full", 5, "expected 'empty'"),
        ("x starts 'a'", 9, "expected 'with'"),
        ("x not contains 'a'", 2, "'not' cannot follow"),
        ("d > today() - 2 months", 16, "not a unit"),
        ("d > now() - 2 working weeks", 22, "expected 'days' or 'hours'"),
        ("d > tomorrow()", 4, "unknown function 'tomorrow'"),
        ("d > date(2026)", 9, "takes a text"),
        ("d > date('2026-02-30')", 9, "not a date"),
        ("d > date('01/02/2026')", 9, "not a date"),
        ("d > datetime('soon')", 13, "not a date and time"),
        ("changed(a.b)", 8, "changed() takes"),
        ("count('x') > 1", 6, "count() takes"),
        ("owner has role 'x'", 0, "only current_user"),
        ("current_user has role sales", 22, "role name in quotes"),
        ("current_user.name = 'x'", 13, "current_user has no 'name'"),
        ("a.b.c = 1", 3, "one step"),
        ("a. = 1", 3, "expected a field name"),
        ("and = 1", 0, "keyword 'and'"),
        ("x = in", 4, "keyword 'in'"),
    ],
)
def test_errors_carry_the_offset(text, offset, message):
    with pytest.raises(ConditionError) as info:
        parse(text)
    assert message in info.value.message
    assert info.value.offset == offset


def test_error_hints():
    with pytest.raises(ConditionError) as info:
        parse("status == 'won'")
    assert info.value.hint == "write '=' (a single equals sign)"
    with pytest.raises(ConditionError) as info:
        parse("d > today() - 1 month")
    assert "days or weeks" in info.value.hint


def test_unknown_function_suggests():
    with pytest.raises(ConditionError) as info:
        parse("x = tody()")
    assert "did you mean 'today'?" in info.value.message


def test_length_limit():
    text = "a = 1 or " * 250
    assert len(text) > MAX_LENGTH
    with pytest.raises(ConditionError) as info:
        parse(text)
    assert info.value.offset == MAX_LENGTH and "too long" in info.value.message


@pytest.mark.parametrize(
    "text",
    [
        "(" * 1000 + "a" + ")" * 1000,
        "not " * 500 + "a",
        "-" * 1500 + "1 = x",
        "x in " + "[" * 900 + "1" + "]" * 900,
        "1" + " + 1" * 400 + " = x",
        "count(a where " * 100 + "x" + ")" * 100,
    ],
)
def test_deep_nesting_is_a_clear_error_never_a_recursion_error(text):
    with pytest.raises(ConditionError) as info:
        parse(text[:MAX_LENGTH])
    assert "nested too deeply" in info.value.message or "ends too early" in info.value.message


def test_nesting_up_to_the_limit_is_fine():
    depth = MAX_DEPTH - 2
    parse("(" * depth + "a = 1" + ")" * depth)
    parse(" and ".join(f"f{i} = {i}" for i in range(120)))  # long chains stay shallow


def test_parse_duration_for_time_rules():
    from ruleform.metadata.conditions import parse_duration
    from ruleform.metadata.model import Duration

    assert parse_duration("45 days") == Duration(45.0, "days", "45 days")
    assert parse_duration(" 24  Working Hours ") == Duration(
        24.0, "working_hours", "24 Working Hours"
    )
    assert parse_duration("1 week").unit == "weeks"
    assert parse_duration("1.5 hours").amount == 1.5
    for bad, message in (
        ("45", "not a duration"),
        ("-3 days", "negative"),
        ("1.5 working days", "whole number"),
        ("3 months", "not a unit"),
    ):
        with pytest.raises(ConditionError, match=message):
            parse_duration(bad)
