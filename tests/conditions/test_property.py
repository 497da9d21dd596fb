"""The heart of "done": for random records and random well-typed conditions, the rows
selected by ``cond.to_sql()`` are exactly the records for which ``cond.evaluate()`` is
true, on SQLite and on PostgreSQL.

Records mix NULLs, unicode, ``%``, ``_``, backslashes, quotes and case variants; decimals
are multiples of 0.25 (exact in SQLite's floating point, so arithmetic can be compared);
instants fall on half hours so they meet ``now()``, the starts of days and DST changes
(``America/New_York`` switches on 2026-03-08) exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ruleform.metadata.conditions import (
    EntityInfo,
    EvalContext,
    FieldInfo,
    Scope,
    SqlContext,
    UserContext,
    compile_condition,
)
from ruleform.metadata.sqltypes import ExactDecimal, JSONList, UTCDateTime

from .schema import use_human_collation

F = FieldInfo
CHOICES = ("a", "A", "b%", "c_d")
ROLES = frozenset({"r1", "r2"})
SCOPE = Scope(
    {
        "item": EntityInfo(
            "item",
            {
                "id": F("id", "number"),
                "s": F("s", "string"),
                "c": F("c", "string", CHOICES),
                "n": F("n", "number"),
                "d": F("d", "number"),
                "b": F("b", "boolean"),
                "day": F("day", "date"),
                "ts": F("ts", "datetime"),
                "tags": F("tags", "list"),
                "owner": F("owner", "user"),
                "partner": F("partner", "reference", target="partner"),
            },
            {"note": "item"},
        ),
        "note": EntityInfo(
            "note",
            {
                "id": F("id", "number"),
                "item": F("item", "reference", target="item"),
                "kind": F("kind", "string"),
                "at": F("at", "datetime"),
                "score": F("score", "number"),
            },
        ),
        "partner": EntityInfo(
            "partner",
            {
                "id": F("id", "number"),
                "name": F("name", "string"),
                "level": F("level", "string", ("a", "b")),
                "tags": F("tags", "list"),
            },
        ),
    },
    "item",
    ROLES,
)

METADATA = sa.MetaData()
TABLES = {
    "item": sa.Table(
        "prop_item",
        METADATA,
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("s", sa.String(50)),
        sa.Column("c", sa.String(10)),
        sa.Column("n", sa.BigInteger),
        sa.Column("d", ExactDecimal(18, 2)),
        sa.Column("b", sa.Boolean),
        sa.Column("day", sa.Date),
        sa.Column("ts", UTCDateTime()),
        sa.Column("tags", JSONList()),
        sa.Column("owner", sa.BigInteger),
        sa.Column("partner", sa.BigInteger),
    ),
    "note": sa.Table(
        "prop_note",
        METADATA,
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("item", sa.BigInteger),
        sa.Column("kind", sa.String(50)),
        sa.Column("at", UTCDateTime()),
        sa.Column("score", sa.BigInteger),
    ),
    "partner": sa.Table(
        "prop_partner",
        METADATA,
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(50)),
        sa.Column("level", sa.String(10)),
        sa.Column("tags", JSONList()),
    ),
}

BASE = datetime(2026, 3, 6, tzinfo=UTC)

# --- records --------------------------------------------------------------------------------

ALPHABET = ["a", "A", "b", "é", "É", "%", "_", "\\", "'", '"', " ", "上", "0"]
texts = st.text(alphabet=st.sampled_from(ALPHABET), max_size=3)
instants = st.integers(-600, 600).map(lambda k: BASE + timedelta(minutes=30 * k))
days = st.integers(-14, 14).map(lambda k: BASE.date() + timedelta(days=k))
quarters = st.integers(-400, 400).map(lambda k: (Decimal(k) / 4).quantize(Decimal("0.01")))
tag_lists = st.lists(
    st.sampled_from(["vip", "VIP", "a%", "x_y", "", "上"]), max_size=3, unique=True
)


def nullable(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


items = st.fixed_dictionaries(
    {
        "s": nullable(texts),
        "c": nullable(st.sampled_from(CHOICES)),
        "n": nullable(st.integers(-20, 20)),
        "d": nullable(quarters),
        "b": nullable(st.booleans()),
        "day": nullable(days),
        "ts": nullable(instants),
        "tags": nullable(tag_lists),
        "owner": nullable(st.sampled_from([1, 2, 3])),
        "partner": nullable(st.sampled_from([1, 2, 3])),
    }
)
notes = st.fixed_dictionaries(
    {
        "item": nullable(st.integers(1, 6)),
        "kind": nullable(texts),
        "at": nullable(instants),
        "score": nullable(st.integers(-3, 3)),
    }
)
partners = st.fixed_dictionaries(
    {
        "name": nullable(texts),
        "level": nullable(st.sampled_from(["a", "b"])),
        "tags": nullable(tag_lists),
    }
)
users = st.none() | st.builds(
    lambda uid, roles: UserContext(id=uid, roles=frozenset(roles), department=None),
    st.integers(1, 3),
    st.sets(st.sampled_from(sorted(ROLES))),
)

# --- conditions -----------------------------------------------------------------------------


def quote(text: str) -> str:
    """A condition-language text literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def fmt(template: str, *parts: st.SearchStrategy[Any]) -> st.SearchStrategy[str]:
    return st.tuples(*parts).map(lambda values: template.format(*values))


def one(*options: str) -> st.SearchStrategy[str]:
    return st.sampled_from(options)


lit = texts.map(quote)
choice = st.sampled_from(CHOICES).map(quote)
ops = one("=", "!=", "<", "<=", ">", ">=")
small = st.integers(0, 3)
half_hours = st.integers(0, 48).map(lambda k: 30 * k)

text_value = one("s", "c", "partner.name") | lit
string_atoms = st.one_of(
    fmt("{} {} {}", one("s", "partner.name"), ops, lit),
    fmt("c {} {}", ops, choice),
    fmt("{} {} {}", one("s", "c"), ops, one("s", "c", "partner.name")),
    fmt("{} {}in [{}, {}]", one("s", "partner.name"), one("", "not "), lit, text_value),
    fmt("c {}in [{}, {}]", one("", "not "), choice, choice),
    fmt("{} is {}empty", one("s", "c", "partner.name"), one("", "not ")),
    fmt(
        "{} {} {}",
        one("s", "c", "partner.name"),
        one("contains", "starts with", "ends with"),
        text_value,
    ),
    fmt("{} {} {}", lit, one("contains", "starts with", "ends with"), one("s", "c")),
)

number = st.one_of(
    one(
        "n",
        "d",
        "-n",
        "count(note)",
        "n + d",
        "n * 2",
        "d * 3",
        "d / 2",
        "n / 4",
        "(n - d) * 2",
        "d / (n - n)",
        "count(note where score > 0)",
        "d - count(note)",
    ),
    st.integers(-20, 20).map(str),
    quarters.map(str),
)
number_atoms = st.one_of(
    fmt("{} {} {}", number, ops, number),
    fmt("{} {}in [{}, {}]", one("n", "d", "n + 1"), one("", "not "), number, number),
    fmt("{} is {}empty", one("n", "d", "d / (n - n)"), one("", "not ")),
)

boolean_atoms = one(
    "b",
    "b = true",
    "b != false",
    "b = false",
    "b is empty",
    "b is not empty",
    "b = (n > 0)",
    "(d > 0) = b",
    "true",
    "false",
)

date_const = st.one_of(
    fmt("today() {} {} days", one("+", "-"), small),
    fmt("today() - {} weeks", small),
    fmt("today() {} {} working days", one("+", "-"), small),
    fmt("now() {} {} hours", one("+", "-"), st.integers(0, 30)),
    fmt("now() {} {} minutes", one("+", "-"), half_hours),
    fmt("now() - {} working hours", st.integers(0, 20)),
    fmt("now() + {} working days", small),
    fmt("'{}'", days),
    fmt("date('{}')", days),
    fmt("datetime('{}')", instants.map(lambda t: t.replace(tzinfo=None).isoformat())),
    fmt("datetime('{}')", instants.map(lambda t: t.isoformat())),
    one("today()", "now()"),
)
date_side = st.one_of(
    one("day", "ts"),
    fmt("day {} {} days", one("+", "-"), small),
    fmt("day - {} weeks", small),
    fmt("{} days + day", small),
    fmt("day + {} days - {} days", small, small),
    fmt("ts {} {} hours", one("+", "-"), st.integers(0, 30)),
    fmt("ts - {} minutes", half_hours),
    fmt("ts + {} days", small),
    fmt("{} hours + ts", small),
)
date_atoms = st.one_of(
    fmt("{} {} {}", date_side, ops, date_const),
    fmt("{} {} {}", date_const, ops, date_side),
    fmt("day {}in [today(), date('{}')]", one("", "not "), days),
    fmt("{} is {}empty", one("day", "ts"), one("", "not ")),
)

other_atoms = st.one_of(
    fmt("tags contains {}", one("'vip'", "'VIP'", "'a%'", "'x_y'", "''", "'上'", "s", "c")),
    fmt("{} is {}empty", one("tags", "partner.tags"), one("", "not ")),
    fmt("partner.tags contains {}", one("'vip'", "s")),
    fmt("owner {} current_user", one("=", "!=")),
    fmt("owner {}in [current_user, {}]", one("", "not "), st.integers(1, 3)),
    fmt("current_user has role '{}'", one("r1", "r2")),
    fmt("{} is {}empty", one("owner", "partner", "current_user"), one("", "not ")),
    fmt("partner.level {} {}", one("=", "!="), one("'a'", "'b'")),
    fmt("partner {} {}", one("=", "!="), st.integers(1, 3)),
)

note_atoms = st.one_of(
    fmt("kind {} {}", ops, lit),
    fmt("kind {} {}", one("contains", "starts with"), lit),
    fmt("at {} now() - {} hours", ops, st.integers(0, 72)),
    fmt("at + 1 days {} today()", ops),
    fmt("score {} {}", ops, st.integers(-3, 3)),
    fmt("{} is {}empty", one("score", "kind", "at"), one("", "not ")),
)


def combine(atoms: st.SearchStrategy[str], leaves: int) -> st.SearchStrategy[str]:
    return st.recursive(
        atoms,
        lambda inner: st.one_of(
            inner.map(lambda x: f"not ({x})"),
            fmt("({}) and ({})", inner, inner),
            fmt("({}) or ({})", inner, inner),
        ),
        max_leaves=leaves,
    )


count_atoms = fmt("count(note where {}) {} {}", combine(note_atoms, 3), ops, small)
atoms = string_atoms | number_atoms | boolean_atoms | date_atoms | other_atoms | count_atoms
conditions = combine(atoms, 5)

# --- the property -------------------------------------------------------------------------------


def _rows(entity: str, drawn: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": i, **row} for i, row in enumerate(drawn, start=1)]


def _contexts(
    records: dict[str, list[dict[str, Any]]], now: datetime, tz: str, user: UserContext | None
) -> tuple[EvalContext, SqlContext]:
    def related(entity: str, fk: str, record_id: Any) -> list[dict[str, Any]]:
        return [r for r in records[entity] if r[fk] == record_id]

    def lookup(entity: str, record_id: Any) -> dict[str, Any] | None:
        return next((r for r in records[entity] if r["id"] == record_id), None)

    return (
        EvalContext(now=now, timezone=tz, user=user, related=related, lookup=lookup),
        SqlContext(tables=TABLES, entity="item", now=now, timezone=tz, user=user),
    )


def _reload(engine: sa.Engine, records: dict[str, list[dict[str, Any]]]) -> None:
    with engine.begin() as conn:
        for entity, table in TABLES.items():
            conn.execute(table.delete())
            if records[entity]:
                conn.execute(table.insert(), records[entity])


def _check(
    engine: sa.Engine,
    texts_: list[str],
    records: dict[str, list[dict[str, Any]]],
    now: datetime,
    tz: str,
    user: UserContext | None,
) -> None:
    _reload(engine, records)
    eval_ctx, sql_ctx = _contexts(records, now, tz, user)
    table = TABLES["item"]
    with engine.connect() as conn:
        for text in texts_:
            cond = compile_condition(text, SCOPE)
            python = {r["id"] for r in records["item"] if cond.evaluate(r, eval_ctx)}
            sql = set(conn.execute(sa.select(table.c.id).where(cond.to_sql(sql_ctx))).scalars())
            assert python == sql, (
                f"{text!r} (now={now.isoformat()}, tz={tz}): "
                f"Python selects {sorted(python)}, SQL {sorted(sql)}"
            )


def _run(engine: sa.Engine, test: Callable[..., None]) -> None:
    METADATA.create_all(engine)
    item, partner = TABLES["item"], TABLES["partner"]
    use_human_collation(engine, [item.c.s, item.c.c, partner.c.name])
    try:
        test()
    finally:
        METADATA.drop_all(engine)


def test_sql_selects_exactly_what_python_evaluates(any_engine):
    @settings(
        max_examples=300,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        texts_=st.lists(conditions, min_size=1, max_size=4),
        item_rows=st.lists(items, max_size=6),
        note_rows=st.lists(notes, max_size=8),
        partner_rows=st.lists(partners, min_size=2, max_size=2),
        now=instants,
        tz=st.sampled_from(["Asia/Shanghai", "UTC", "America/New_York"]),
        user=users,
    )
    def check(texts_, item_rows, note_rows, partner_rows, now, tz, user):
        records = {
            "item": _rows("item", item_rows),
            "note": _rows("note", note_rows),
            "partner": _rows("partner", partner_rows),
        }
        _check(any_engine, texts_, records, now, tz, user)

    _run(any_engine, check)


def test_the_generator_writes_conditions_that_compile():
    @settings(max_examples=300, deadline=None)
    @given(conditions)
    def check(text):
        compile_condition(text, SCOPE)

    check()
