"""Every field type gets the column its docs promise, and values round-trip through it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from ruleform.metadata.field_types import FIELD_TYPES, register_field_type, unregister_field_type
from ruleform.platform.storage import COLUMN_TYPES, build_metadata, ensure_schema
from ruleform.platform.storage.columns import column_type_for
from ruleform.platform.storage.typesig import signature

from .factories import make_entity, make_field, make_rulebook

# field → (family of the live column, length or (precision, scale), table referred to, value)
CASES = {
    "string": (make_field("f_string", max_length=80), "string", 80, None, "上海某某有限公司"),
    "string_default": (make_field("f_string_default"), "string", 255, None, "x" * 255),
    "text": (make_field("f_text", "text"), "text", None, None, "line\n" * 2000),
    "integer": (make_field("f_integer", "integer"), "integer", None, None, 9_000_000_000),
    "decimal": (
        make_field("f_decimal", "decimal", precision=12, scale=4),
        "decimal",
        (12, 4),
        None,
        Decimal("12345678.1234"),
    ),
    "decimal_default": (
        make_field("f_decimal_default", "decimal"), "decimal", (18, 2), None, Decimal("1.50")
    ),
    "money": (make_field("f_money", "money"), "decimal", (18, 2), None, Decimal("99.99")),
    "boolean": (make_field("f_boolean", "boolean"), "boolean", None, None, True),
    "date": (make_field("f_date", "date"), "date", None, None, date(2026, 1, 1)),
    "datetime": (
        make_field("f_datetime", "datetime"),
        "datetime",
        None,
        None,
        datetime(2026, 1, 1, 9, 30, tzinfo=UTC),
    ),
    "choice": (make_field("f_choice", "choice", choices=["a", "b"]), "string", 64, None, "a"),
    "multi_choice": (
        make_field("f_multi", "multi_choice", choices=["a", "b"]), "json", None, None, ["a", "b"]
    ),
    "tags": (make_field("f_tags", "tags"), "json", None, None, ["vip", "重点"]),
    "email": (make_field("f_email", "email"), "string", 254, None, "a@example.com"),
    "phone": (make_field("f_phone", "phone"), "string", 32, None, "+8613800138000"),
    "url": (make_field("f_url", "url"), "string", 2048, None, "https://example.com/a"),
    "reference": (
        make_field("f_reference", "reference", target="other"), "integer", None, "e_other", None
    ),
    "user": (make_field("f_user", "user"), "integer", None, "users", None),
    "department": (make_field("f_department", "department"), "integer", None, "departments", None),
    "computed": (
        make_field("f_computed", "computed", returns="decimal", scale=3),
        "decimal",
        (18, 3),
        None,
        Decimal("0.125"),
    ),
}  # fmt: skip


def _rulebook():
    other = make_entity("other", [make_field("name")])
    thing = make_entity("thing", [case[0] for case in CASES.values()])
    return make_rulebook([other, thing])


def test_every_field_type_has_a_column_type():
    types = {case[0].type for case in CASES.values()}
    assert types == set(FIELD_TYPES)  # every type is a case above
    assert {FIELD_TYPES[t].storage for t in types - {"computed"}} == set(COLUMN_TYPES)


def test_column_registry_matches_the_metadata_field_types():
    for name, field_type in FIELD_TYPES.items():
        if name != "computed":
            assert field_type.storage in COLUMN_TYPES, name
            assert COLUMN_TYPES[field_type.storage].list_valued == field_type.list_valued, name


@pytest.mark.parametrize("case", list(CASES))
def test_column_of_each_field_type(engine, case):
    field, family, size, target, _ = CASES[case]
    ensure_schema(engine, _rulebook())
    live = {c["name"]: c for c in sa.inspect(engine).get_columns("e_thing")}[field.name]
    sig = signature(live["type"], engine.dialect)
    assert live["nullable"] is True  # required is enforced by validation, never NOT NULL
    assert sig.family == family
    if family == "string":
        assert sig.length == size
    if family == "decimal" and engine.dialect.name == "postgresql":
        assert (sig.precision, sig.scale) == size
    links = {
        fk["constrained_columns"][0]: fk["referred_table"]
        for fk in sa.inspect(engine).get_foreign_keys("e_thing")
    }
    assert links.get(field.name) == target


def test_values_of_every_type_round_trip(engine):
    rulebook = _rulebook()
    ensure_schema(engine, rulebook)
    table = build_metadata(rulebook).tables["e_thing"]
    values = {case[0].name: case[4] for case in CASES.values() if case[4] is not None}
    with engine.begin() as conn:
        conn.execute(sa.insert(table).values(values))
        row = conn.execute(sa.select(table)).mappings().one()
    assert {name: row[name] for name in values} == values
    assert row["row_version"] == 1 and row["archived"] is False
    assert row["created_at"].tzinfo is not None


def test_computed_field_is_stored_as_what_it_returns():
    field = make_field("score", "computed", returns="integer")
    assert column_type_for(field).name == "integer"


def test_other_layers_can_register_a_column_type(engine):
    from ruleform.platform.storage import ColumnType, register_column_type

    register_column_type(ColumnType("ip_address", lambda field: sa.String(45)))
    register_field_type(replace(FIELD_TYPES["string"], name="ip_address", storage="ip_address"))
    try:
        thing = make_entity("thing", [make_field("ip", "ip_address")])
        ensure_schema(engine, make_rulebook([thing]))
        live = {c["name"]: c for c in sa.inspect(engine).get_columns("e_thing")}
        assert signature(live["ip"]["type"], engine.dialect).length == 45
    finally:
        unregister_field_type("ip_address")
        del COLUMN_TYPES["ip_address"]
