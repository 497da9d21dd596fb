"""Type checking against the entity description: names, types, choices, suggestions,
what may run in the database, and what the compiled object says it depends on."""

from __future__ import annotations

import pytest

from ruleform.errors import ConditionError
from ruleform.metadata.conditions import (
    CompiledCondition,
    CompiledExpression,
    EntityInfo,
    FieldInfo,
    Scope,
    compile_condition,
    compile_expression,
)

from .schema import ENTITIES, ROLES, SCOPE


def error(text: str, scope: Scope = SCOPE) -> ConditionError:
    with pytest.raises(ConditionError) as info:
        compile_condition(text, scope)
    return info.value


def test_unknown_field_suggests_the_closest():
    e = error("stauts = 'won'")
    assert e.message == "unknown field 'stauts' — did you mean 'status'?"
    assert e.offset == 0
    assert "fields of customer:" in e.hint and "status" in e.hint


def test_uppercase_field_names_are_unknown_but_suggested():
    assert "did you mean 'status'?" in error("Status = 'won'").message


@pytest.mark.parametrize(
    ("text", "offset", "message"),
    [
        ("status = 'wno'", 9, "'wno' is not a choice of status — did you mean 'won'?"),
        ("'wno' = status", 0, "'wno' is not a choice of status"),
        (
            "status in ['won', 'lots']",
            18,
            "'lots' is not a choice of status — did you mean 'lost'?",
        ),
        ("channels contains 'wbe'", 18, "'wbe' is not a choice of channels — did you mean 'web'?"),
        ("partner.level = 'd'", 16, "'d' is not a choice of level"),
        ("count(activity where kind = 'cal') > 0", 28, "did you mean 'call'?"),
    ],
)
def test_choices_are_checked(text, offset, message):
    e = error(text)
    assert message in e.message and e.offset == offset
    assert e.hint.startswith("choices: ")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("amount = 'big'", "cannot compare a number with a text"),
        ("name > 3", "cannot compare a text with a number"),
        ("vip = 'true'", "cannot compare true or false with a text"),
        ("signed_on = 'tomorrow'", "'tomorrow' is not a date and time"),
        ("signed_on = '2026-13-01'", "'2026-13-01' is not a date"),
        ("owner = department", "cannot compare a user with a department"),
        ("partner = owner", "cannot compare a reference with a user"),
        ("tags = 'vip'", "cannot compare a list with a text"),
        ("vip < true", "'<' orders numbers, texts and dates, not true or false"),
        ("owner > 3", "'>' orders numbers, texts and dates, not a user"),
        ("amount = null", "comparing with null (=) is never true"),
        ("null != amount", "comparing with null (!=) is never true"),
        (
            "amount contains '1'",
            "'contains' works on texts and lists (tags, multi-choice), not a number",
        ),
        ("signed_on starts with '2026'", "'starts with' works on texts, not a date"),
        ("name contains 3", "'contains' needs a text, not a number"),
        ("tags contains 3", "'contains' on a list needs a text, not a number"),
        ("name contains null", "'contains' null is never true"),
        ("name + 1 > 2", "'+' needs numbers, not a text and a number"),
        ("-name = 'x'", "'-' needs a number, not a text"),
        ("amount and vip", "'and' needs true or false, not a number"),
        ("vip or name", "'or' needs true or false, not a text"),
        ("not amount", "'not' needs true or false, not a number"),
        ("status in 'won'", "'in' needs a list in [brackets]"),
        ("'vip' in tags", "'in' needs a list in [brackets]"),
        ("status in []", "an empty list never matches"),
        ("status in ['won', null]", "null in a list never matches"),
        ("amount in [1, 'x']", "cannot compare a number with a text"),
        ("tags in ['a']", "'in' cannot test a list"),
        ("signed_on in [now()]", "mixes dates and datetimes"),
        ("owner in current_user.departments", "current_user.departments holds departments"),
        ("signed_on + 3 hours < now()", "hours need a date and time, not a date"),
        ("signed_on + 1.5 days < today()", "must be a whole number"),
        ("now() + 1.5 working days > created_at", "must be a whole number"),
        ("3 days - signed_on < today()", "a duration can be added to or taken from a date"),
        ("today() + 3 days + 2 hours > created_at", "hours need a date and time"),
        ("3 days + 2 days > signed_on", "durations are added to a date one at a time"),
        ("amount + 3 days > 1", "a duration can be added to or taken from a date"),
        ("3 days is empty", "a duration is never empty"),
        ("signed_on > today() - 40000 days", "too long"),
        ("amount > 99999999999999999999", "too large"),
        ("current_user has role 'salse'", "unknown role 'salse' — did you mean 'sales'?"),
        ("count(activty) > 0", "unknown related entity 'activty' — did you mean 'activity'?"),
        ("count(partner) > 0", "'partner' has no reference field pointing at 'customer'"),
        ("count(activity where kind) > 0", "the condition after 'where' needs true or false"),
        ("count(activity where changed(kind)) > 0", "changed() cannot be used inside count"),
        ("changed(amout)", "unknown field 'amout' — did you mean 'amount'?"),
        ("partner.levl = 'a'", "unknown field 'levl' of partner — did you mean 'level'?"),
        ("owner.name = 'x'", "'owner' is a user, not a reference to another record"),
        ("partnr.level = 'a'", "unknown field 'partnr' — did you mean 'partner'?"),
        ("['a'] is empty and tags contains ['a']", "'contains' on a list needs a text, not a list"),
        ("[1] is empty", "a list value holds texts, not a number"),
    ],
)
def test_type_errors(text, message):
    assert message in error(text).message


def test_a_condition_must_be_boolean():
    e = error("amount")
    assert e.message == "a condition must be true or false, but this is a number"
    assert e.hint == "did you mean `amount > 0`?"
    assert error("email").hint == "did you mean `email is not empty`?"
    assert "true or false" in error("today()").message


def test_working_day_arithmetic_only_on_today_or_now():
    e = error("signed_on + 2 working days < today()")
    assert e.message == (
        "working-day arithmetic runs in the database only on today() or now(); "
        "write `field < today() - 2 working days`"
    )
    assert e.offset == 10
    assert "working-day" in error("last_contact_at - 8 working hours > now()").message
    compile_condition("signed_on < today() - 2 working days", SCOPE)
    compile_condition("signed_on < date('2026-01-05') + 2 working days", SCOPE)  # constants too


@pytest.mark.parametrize(
    "text",
    [
        "signed_on + 3 days < signed_on",
        "signed_on + 3 days is empty",
        "signed_on + 3 days in [today()]",
        "count(activity where happened_at + 1 days > customer.created_at) > 0",
    ],
)
def test_date_field_arithmetic_needs_a_constant_to_compare_with(text):
    e = error(text)
    assert "compared with a value that does not depend on the record" in e.message
    assert "purchased_at + 3 days <= today()" in e.hint


def test_date_and_datetime_fields_are_not_compared_in_the_database():
    e = error("signed_on < created_at")
    assert "date field with a datetime field" in e.message


def test_text_literals_next_to_dates_become_dates():
    cond = compile_condition(
        "signed_on >= '2026-01-01' and created_at < '2026-01-01T08:00:00Z'", SCOPE
    )
    assert cond.ast.items[0].right.type == "date"  # type: ignore[attr-defined]
    assert cond.ast.items[1].right.type == "datetime"  # type: ignore[attr-defined]


def test_what_a_compiled_condition_depends_on():
    cond = compile_condition(
        "status = 'won' and partner.level = 'a' and owner = current_user and changed(amount)"
        " and count(activity where kind = 'call' and customer.vip) > 0",
        SCOPE,
    )
    assert isinstance(cond, CompiledCondition)
    assert cond.result_type == "boolean"
    assert cond.entity == "customer"
    assert cond.fields_used == {"status", "partner", "owner", "amount", "id"}
    assert cond.uses_current_user and cond.uses_changed
    assert cond.related_entities == {"activity"}
    assert cond.referenced_entities == {"partner", "customer"}
    assert not cond.runs_in_sql
    plain = compile_condition("current_user has role 'sales'", SCOPE)
    assert plain.fields_used == frozenset() and plain.uses_current_user and plain.runs_in_sql
    assert str(plain) == "current_user has role 'sales'"


def test_compiled_objects_are_immutable():
    cond = compile_condition("status = 'won'", SCOPE)
    with pytest.raises(AttributeError):
        cond.text = "x"  # type: ignore[misc]
    assert cond == compile_condition("status = 'won'", SCOPE)


def test_expressions_of_any_type():
    assert compile_expression("today()", SCOPE, "date").result_type == "date"
    assert compile_expression("now()", SCOPE).result_type == "datetime"
    assert compile_expression("current_user", SCOPE, "user").result_type == "user"
    assert compile_expression("amount * 0.3 + employees", SCOPE, "number").result_type == "number"
    assert compile_expression("null", SCOPE, "date").result_type == "null"
    assert compile_expression("['a', 'b']", SCOPE, "list").result_type == "list"
    assert compile_expression("status = 'won'", SCOPE, "boolean").result_type == "boolean"
    assert compile_expression("3 days", SCOPE).result_type == "duration"
    assert compile_expression("7", SCOPE, "user").result_type == "number"
    expr = compile_expression("signed_on + 30 days", SCOPE, "date")
    assert isinstance(expr, CompiledExpression)
    assert not expr.runs_in_sql and expr.sql_problem is not None  # Python only, not an error
    with pytest.raises(ConditionError, match="expected a date, but this is a text"):
        compile_expression("'soon'", SCOPE, "date")
    with pytest.raises(ConditionError, match="working-day"):
        compile_expression("signed_on + 2 working days", SCOPE)
    with pytest.raises(ValueError):
        compile_expression("1", SCOPE, "money")


def test_conditions_on_other_entities_and_unknown_scope():
    compile_condition("customer.status = 'won'", Scope(ENTITIES, "activity", ROLES))
    with pytest.raises(ConditionError, match="unknown entity 'nope'"):
        compile_condition("x = 1", Scope(ENTITIES, "nope", ROLES))


def test_roles_must_be_declared():
    no_roles = Scope(ENTITIES, "customer")
    assert "none are declared" in error("current_user has role 'sales'", no_roles).hint


def test_references_compare_only_with_the_same_target():
    other = EntityInfo("other", {"id": FieldInfo("id", "number")})
    entity = EntityInfo(
        "x",
        {
            "a": FieldInfo("a", "reference", target="other"),
            "b": FieldInfo("b", "reference", target="other"),
            "c": FieldInfo("c", "reference", target="x"),
        },
    )
    scope = Scope({"x": entity, "other": other}, "x")
    compile_condition("a = b", scope)
    assert "cannot compare a reference with a reference" in error("a = c", scope).message


def test_fields_the_compiler_could_not_type_are_refused_where_used():
    entity = EntityInfo(
        "x",
        {
            "odd": FieldInfo("odd", "any"),
            "ref": FieldInfo("ref", "reference"),
            "name": FieldInfo("name", "string"),
        },
    )
    scope = Scope({"x": entity}, "x")
    compile_condition("name = 'a'", scope)  # the others do not get in the way
    assert error("odd = 1", scope).message == (
        "the field 'odd' (of type 'any') cannot be used in conditions"
    )
    assert "a reference without a target" in error("ref.name = 'a'", scope).message
    assert "a reference without a target" in error("ref = 1", scope).message
