"""The SQL side beyond operator parity: what cannot run there, bound values, caching,
calendars, list storage, expressions as SQL values, and the nesting limit."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ruleform.errors import ConditionError
from ruleform.metadata.conditions import (
    MAX_DEPTH,
    SqlContext,
    UserContext,
    compile_condition,
    compile_expression,
)

from .schema import NOW, SCOPE, TABLES, TZ
from .test_evaluate import HolidayCalendar


def sql_ctx(**kw) -> SqlContext:
    return SqlContext(
        tables=TABLES, entity=kw.pop("entity", "customer"), now=NOW, timezone=TZ, **kw
    )


def test_changed_cannot_run_in_the_database():
    for text in ("changed(amount)", "not changed(amount) and status = 'won'"):
        cond = compile_condition(text, SCOPE)
        assert cond.uses_changed and not cond.runs_in_sql
        with pytest.raises(ConditionError) as info:
            cond.to_sql(sql_ctx())
        assert info.value.message == "changed() cannot run in the database"
        assert info.value.offset == text.index("changed")


def test_python_only_expressions_refuse_sql():
    expr = compile_expression("signed_on + 30 days", SCOPE)
    with pytest.raises(ConditionError, match="arithmetic on a date field"):
        expr.to_sql(sql_ctx())
    with pytest.raises(ConditionError, match="duration"):
        compile_expression("3 days", SCOPE).to_sql(sql_ctx())


def test_the_context_must_match():
    cond = compile_condition("status = 'won'", SCOPE)
    with pytest.raises(ConditionError, match="compiled for 'customer', not 'activity'"):
        cond.to_sql(sql_ctx(entity="activity"))
    with pytest.raises(ConditionError, match="no table is known for the entity 'customer'"):
        cond.to_sql(SqlContext(tables={}, entity="customer", now=NOW, timezone=TZ))
    missing = sa.Table("customer", sa.MetaData(), sa.Column("id", sa.Integer))
    with pytest.raises(ConditionError, match="has no column 'status'"):
        cond.to_sql(
            SqlContext(tables={"customer": missing}, entity="customer", now=NOW, timezone=TZ)
        )
    with pytest.raises(ConditionError, match="no table is known for the entity 'partner'"):
        compile_condition("partner.level = 'a'", SCOPE).to_sql(
            SqlContext(
                tables={"customer": TABLES["customer"]}, entity="customer", now=NOW, timezone=TZ
            )
        )


@pytest.mark.parametrize("dialect", [postgresql.dialect(), sqlite.dialect()], ids=["pg", "sqlite"])
def test_every_value_is_a_bound_parameter(dialect):
    evil = "'; DROP TABLE customer; --"
    cond = compile_condition(
        f"name = {evil!r} or name contains 'x%_' or tags contains 'o\\'r' or name < 'zz'"
        " or created_at > now() - 3 days or owner = current_user or amount > 12.5",
        SCOPE,
    )
    user = UserContext(id=424242, roles=frozenset(), department=None)
    compiled = (
        sa.select(TABLES["customer"].c.id)
        .where(cond.to_sql(sql_ctx(user=user)))
        .compile(dialect=dialect)
    )
    sql = str(compiled)
    for value in ("DROP", "x%", "12.5", "424242", "2026", "zz"):
        assert value not in sql
    params = list(compiled.params.values())
    assert evil in params
    texts = [p for p in params if isinstance(p, str)]
    assert any(r"%x\%\_%" == p or "x%_" == p for p in texts)
    assert 424242 in params and Decimal("12.5") in params


def test_same_shape_different_values_is_safe_with_the_statement_cache(empty_db):
    empty_db.load(
        "customer",
        [
            {
                "id": 1,
                "name": "alpha",
                "tags": ["a"],
                "created_at": NOW - timedelta(days=1),
                "owner": 1,
            },
            {
                "id": 2,
                "name": "beta",
                "tags": ["b"],
                "created_at": NOW - timedelta(days=5),
                "owner": 2,
            },
        ],
    )
    for letter, expected in (("l", {1}), ("e", {2}), ("a", {1, 2})):
        assert empty_db.ids(f"name contains '{letter}'") == expected
        assert empty_db.ids(f"name starts with '{letter}'") == ({1} if letter == "a" else set())
        assert empty_db.ids(f"tags contains '{letter}'") == ({1} if letter == "a" else set())
    for shift, expected in ((0, {1}), (-3, {1, 2}), (3, set())):
        now = NOW + timedelta(days=shift)
        assert empty_db.ids("created_at > now() - 3 days", now=now) == expected
    for uid in (1, 2, 3):
        user = UserContext(id=uid, roles=frozenset(), department=None)
        assert empty_db.ids("owner = current_user", user=user) == ({uid} - {3})


def test_sql_uses_the_calendar_given(empty_db):
    empty_db.load(
        "customer",
        [
            {"id": 1, "signed_on": date(2026, 3, 1)},
            {"id": 2, "signed_on": date(2026, 3, 2)},
            {"id": 3, "last_contact_at": NOW - timedelta(hours=5)},
            {"id": 4, "last_contact_at": NOW - timedelta(hours=7)},
        ],
    )
    cal = HolidayCalendar()  # 2026-03-03 is a holiday; working hours count double
    assert empty_db.ids("signed_on >= today() - 2 working days", calendar=cal) == {1, 2}
    assert empty_db.ids("signed_on >= today() - 2 working days") == {2}
    assert empty_db.ids("last_contact_at > now() - 3 working hours", calendar=cal) == {3}


def test_lists_stored_as_sql_null_or_json_null(empty_db):
    with empty_db.engine.begin() as conn:
        conn.execute(TABLES["customer"].insert().values(id=1, tags=sa.null()))  # SQL NULL
        conn.execute(
            TABLES["customer"].insert(),
            [
                {"id": 2, "tags": None},  # JSON null: what a plain None becomes
                {"id": 3, "tags": []},
                {"id": 4, "tags": ["x"]},
            ],
        )
    empty_db.records["customer"] = [
        {"id": 1, "tags": None},
        {"id": 2, "tags": None},
        {"id": 3, "tags": []},
        {"id": 4, "tags": ["x"]},
    ]
    assert empty_db.ids("tags is empty") == {1, 2, 3}
    assert empty_db.ids("tags is not empty") == {4}
    assert empty_db.ids("tags contains 'x'") == {4}
    assert empty_db.ids("not (tags contains 'x')") == {1, 2, 3}


def test_expressions_compile_to_sql_values(sample_db):
    table = TABLES["customer"]
    for text in (
        "amount * 2 + 1",
        "partner.name",
        "count(activity where kind = 'call')",
        "status = 'won'",
        "today()",
        "current_user",
        "-employees",
        "employees / 4",
    ):
        expr = compile_expression(text, SCOPE)
        ctx = sample_db.sql_context()
        query = sa.select(table.c.id, expr.to_sql(ctx).label("v")).order_by(table.c.id)
        with sample_db.engine.connect() as conn:
            rows = conn.execute(query).all()
        py_ctx = sample_db.eval_context()
        for (record_id, got), record in zip(rows, sample_db.records["customer"], strict=True):
            want = expr.evaluate(record, py_ctx)
            if isinstance(want, bool) and got is not None:
                got = bool(got)
            if isinstance(want, Decimal) or isinstance(got, float):
                got, want = (None if got is None else Decimal(str(got))), want
                assert (got is None and want is None) or abs(got - want) < Decimal("0.000001"), text
            elif isinstance(want, date) and isinstance(got, str):
                assert got == want.isoformat(), text
            else:
                assert got == want, (text, record_id)


def test_the_deepest_condition_allowed_runs_everywhere(sample_db):
    depth = (MAX_DEPTH - 4) // 2
    text = "not (status = 'won' or " * depth + "amount > 0" + ")" * depth
    cond = compile_condition(text, SCOPE)
    sample_db.ids(text)  # Python and SQL agree, no RecursionError anywhere
    assert cond.runs_in_sql


def test_dst_day_starts_in_new_york(empty_db):
    empty_db.load(
        "customer",
        [
            {"id": 1, "created_at": datetime(2026, 3, 8, 4, 59, tzinfo=UTC)},
            {"id": 2, "created_at": datetime(2026, 3, 8, 5, 0, tzinfo=UTC)},
            {"id": 3, "signed_on": date(2026, 3, 8)},
            {"id": 4, "signed_on": date(2026, 3, 9)},
        ],
    )
    now = datetime(2026, 3, 8, 15, 0, tzinfo=UTC)
    kw = {"now": now, "tz": "America/New_York"}
    assert empty_db.ids("created_at >= today()", **kw) == {2}
    assert empty_db.ids("signed_on + 1 days <= now() + 14 hours", **kw) == {3}
    assert empty_db.ids("signed_on = datetime('2026-03-08T05:00:00Z')", **kw) == {3}
    assert empty_db.ids("signed_on != datetime('2026-03-08T05:00:01Z')", **kw) == {3, 4}
