"""Applying plans: one transaction, archiving what destructive steps remove, restoring it."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from alembic.operations.ops import ExecuteSQLOp

from ruleform.errors import MigrationRefused, NotFound
from ruleform.metadata.model import frozen_map
from ruleform.platform.storage import (
    SAFE,
    MigrationStep,
    apply_plan,
    build_metadata,
    ensure_schema,
    restore_archived,
    table_fingerprint,
)

from .factories import make_entity, make_field, make_rulebook, replace_field, without_fields
from .helpers import archived, columns, insert, migrate, plan, select


def _customer(*extra):
    fields = [make_field("company_name", max_length=100), make_field("qq"), *extra]
    return make_entity("customer", fields)


def _failing_step() -> MigrationStep:
    text = frozen_map({"en": "fail on purpose", "zh-CN": "故意失败"})
    return MigrationStep("boom", "e_customer", SAFE, text, (ExecuteSQLOp("SELECT * FROM nowhere"),))


def test_a_failure_mid_plan_leaves_the_database_unchanged(engine):
    old = make_rulebook([_customer()])
    migrate(engine, None, old)
    insert(engine, old, "customer", {"company_name": "Acme"})
    entity = replace_field(_customer(make_field("store")), "company_name", max_length=200)
    new = make_rulebook([entity, make_entity("shop", [make_field("name")])])
    p = plan(engine, old, new)
    assert [s.kind for s in p.steps][:3] == ["create_table", "widen_column", "add_column"]
    broken = dataclasses.replace(p, steps=(*p.steps, _failing_step()))
    with pytest.raises(sa.exc.DBAPIError):
        apply_plan(engine, broken)
    assert "e_shop" not in sa.inspect(engine).get_table_names()
    assert "store" not in columns(engine, "e_customer")
    assert columns(engine, "e_customer")["company_name"]["type"].length == 100
    assert select(engine, old, "customer", "company_name") == [("Acme",)]
    apply_plan(engine, p)  # the same plan still applies afterwards
    assert len(plan(engine, new, new)) == 0


def test_archive_drop_then_restore_round_trip(engine):
    with_qq = make_rulebook([_customer()])
    migrate(engine, None, with_qq)
    insert(
        engine, with_qq, "customer",
        {"company_name": "Acme", "qq": "10001"},
        {"company_name": "Beta", "qq": None},
        {"company_name": "Gamma", "qq": "10003"},
    )  # fmt: skip
    without_qq = make_rulebook([without_fields(_customer(), "qq")])
    migrate(engine, with_qq, without_qq, archive=True)
    assert "qq" not in columns(engine, "e_customer")
    assert archived(engine, "customer", "qq") == [(1, "10001", False), (3, "10003", False)]
    migrate(engine, without_qq, with_qq)  # the field comes back, empty
    with engine.begin() as conn:
        assert restore_archived(conn, "customer", "qq") == 2
    assert select(engine, with_qq, "customer", "qq") == [("10001",), (None,), ("10003",)]
    assert archived(engine, "customer", "qq") == [(1, "10001", True), (3, "10003", True)]
    with engine.begin() as conn:
        assert restore_archived(conn, "customer", "qq") == 0  # nothing left to restore


def test_restore_never_overwrites_a_new_value(engine):
    with_qq = make_rulebook([_customer()])
    migrate(engine, None, with_qq)
    insert(engine, with_qq, "customer", {"qq": "old"})
    without_qq = make_rulebook([without_fields(_customer(), "qq")])
    migrate(engine, with_qq, without_qq, archive=True)
    migrate(engine, without_qq, with_qq)
    table = build_metadata(with_qq).tables["e_customer"]
    with engine.begin() as conn:
        conn.execute(sa.update(table).values(qq="new"))
        assert restore_archived(conn, "customer", "qq") == 0
    assert select(engine, with_qq, "customer", "qq") == [("new",)]


def test_restore_needs_the_field_to_exist(engine):
    migrate(engine, None, make_rulebook([_customer()]))
    with engine.begin() as conn, pytest.raises(NotFound):
        restore_archived(conn, "customer", "nothing")


def test_type_change_with_archive_keeps_what_converts(engine):
    old = make_rulebook([_customer(make_field("size", "integer"), make_field("code"))])
    migrate(engine, None, old)
    insert(
        engine, old, "customer",
        {"size": 12, "code": "42"},
        {"size": None, "code": "abc"},
        {"size": 7, "code": None},
    )  # fmt: skip
    new = make_rulebook([_customer(make_field("size", "decimal"), make_field("code", "integer"))])
    p = plan(engine, old, new)
    assert [s.kind for s in p.destructive_steps] == ["change_type", "change_type"]
    with pytest.raises(MigrationRefused):
        apply_plan(engine, p)
    apply_plan(engine, p, archive=True)
    assert select(engine, new, "customer", "size", "code") == [
        (Decimal("12.00"), 42),
        (None, None),  # 'abc' is no number: left empty, kept in the archive
        (Decimal("7.00"), None),
    ]
    assert archived(engine, "customer", "code") == [(1, "42", True), (2, "abc", False)]
    assert archived(engine, "customer", "size") == [(1, 12, True), (3, 7, True)]
    assert len(plan(engine, new, new)) == 0


def test_narrowing_with_archive_keeps_values_that_fit(engine):
    old = make_rulebook([_customer()])
    migrate(engine, None, old)
    insert(engine, old, "customer", {"company_name": "A" * 80}, {"company_name": "short"})
    new = make_rulebook([replace_field(_customer(), "company_name", max_length=50)])
    migrate(engine, old, new, archive=True)
    assert select(engine, new, "customer", "company_name") == [(None,), ("short",)]
    assert archived(engine, "customer", "company_name") == [
        (1, "A" * 80, False),
        (2, "short", True),
    ]
    assert columns(engine, "e_customer")["company_name"]["type"].length == 50
    assert len(plan(engine, new, new)) == 0


def test_removed_choice_is_archived_then_cleared(engine):
    fields = (
        make_field("level", "choice", choices=["a", "b", "c"]),
        make_field("areas", "multi_choice", choices=["n", "s", "x"]),
    )
    old = make_rulebook([_customer(*fields)])
    migrate(engine, None, old)
    insert(
        engine, old, "customer",
        {"level": "c", "areas": ["n", "x"]},
        {"level": "a", "areas": ["x"]},
        {"level": "b", "areas": ["s"]},
    )  # fmt: skip
    new_fields = (
        make_field("level", "choice", choices=["a", "b"]),
        make_field("areas", "multi_choice", choices=["n", "s"]),
    )
    new = make_rulebook([_customer(*new_fields)])
    p = plan(engine, old, new)
    assert [(s.kind, s.column) for s in p.destructive_steps] == [
        ("remove_choice", "level"),
        ("remove_choice", "areas"),
    ]
    with pytest.raises(MigrationRefused):
        apply_plan(engine, p)
    apply_plan(engine, p, archive=True)
    assert select(engine, new, "customer", "level", "areas") == [
        (None, ["n"]),
        ("a", None),
        ("b", ["s"]),
    ]
    assert archived(engine, "customer", "level") == [(1, "c", False)]
    assert archived(engine, "customer", "areas") == [(1, ["n", "x"], False), (2, ["x"], False)]
    with engine.begin() as conn:  # the choice came back: restore into empty records
        assert restore_archived(conn, "customer", "level") == 1
        assert restore_archived(conn, "customer", "areas") == 1  # record 1 still has ['n']
    assert select(engine, new, "customer", "level", "areas")[:2] == [("c", ["n"]), ("a", ["x"])]


def test_dropping_an_entity_with_archive(engine):
    shop = make_entity("shop", [make_field("name"), make_field("city")])
    old = make_rulebook([_customer(), shop])
    migrate(engine, None, old)
    insert(engine, old, "shop", {"name": "North", "city": "上海"}, {"name": "South", "city": None})
    new = make_rulebook([_customer()])
    migrate(engine, old, new, archive=True)
    assert "e_shop" not in sa.inspect(engine).get_table_names()
    assert archived(engine, "shop", "name") == [(1, "North", False), (2, "South", False)]
    assert archived(engine, "shop", "city") == [(1, "上海", False)]


def test_entities_linking_to_each_other(engine):
    contact = make_entity("contact", [make_field("customer", "reference", target="customer")])
    customer = _customer(make_field("main_contact", "reference", target="contact"))
    rulebook = make_rulebook([customer, contact])
    p = migrate(engine, None, rulebook)
    if engine.dialect.name == "postgresql":  # the key closing the cycle comes last
        assert p.steps[-1].kind == "add_foreign_key"
    links = {
        (t, k["constrained_columns"][0]): k["referred_table"]
        for t in ("e_customer", "e_contact")
        for k in sa.inspect(engine).get_foreign_keys(t)
    }
    assert links[("e_customer", "main_contact")] == "e_contact"
    assert links[("e_contact", "customer")] == "e_customer"
    assert len(plan(engine, rulebook, rulebook)) == 0


def test_changing_the_delete_rule_of_a_reference_is_safe(engine):
    contact = make_entity("contact", [make_field("name")])
    link = make_field("main_contact", "reference", target="contact")
    old = make_rulebook([_customer(link), contact])
    migrate(engine, None, old)
    new = make_rulebook([_customer(dataclasses.replace(link, on_delete="set_null")), contact])
    p = migrate(engine, old, new)
    assert [(s.kind, s.safety) for s in p.steps] == [("alter_link", SAFE)]
    keys = sa.inspect(engine).get_foreign_keys("e_customer")
    rule = [
        k["options"].get("ondelete") for k in keys if k["constrained_columns"] == ["main_contact"]
    ]
    assert rule == ["SET NULL"]
    assert len(plan(engine, new, new)) == 0


def test_ensure_schema_applies_safe_steps_and_refuses_destructive_ones(engine):
    old = make_rulebook([_customer()])
    assert len(ensure_schema(engine, old)) > 0
    assert len(ensure_schema(engine, old)) == 0
    new = make_rulebook([without_fields(_customer(make_field("store")), "qq")])
    with pytest.raises(MigrationRefused) as refused:
        ensure_schema(engine, new)
    assert refused.value.steps == ["Remove field 'qq' (qq) from Customer (0 records hold a value)"]
    assert "store" not in columns(engine, "e_customer")  # nothing applied


def test_schema_state_records_table_fingerprints(engine):
    rulebook = make_rulebook([_customer()])
    ensure_schema(engine, rulebook)
    expected = table_fingerprint(build_metadata(rulebook).tables["e_customer"])
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT entity, fingerprint FROM schema_state")).all()
    assert [tuple(r) for r in rows] == [("customer", expected)]


ROUND_TRIP = {
    "text": "多行\n文本",
    "integer": 2**40,
    "decimal": Decimal("1234.56"),
    "money": Decimal("0.01"),
    "boolean": False,
    "date": date(2026, 2, 28),
    "datetime": datetime(2026, 2, 28, 23, 59, 59, 123456, tzinfo=UTC),
    "tags": ["vip", "重点"],
    "email": "a@example.com",
}


@pytest.mark.parametrize("kind", list(ROUND_TRIP))
def test_archived_values_of_every_type_restore_exactly(engine, kind):
    field = make_field("extra", kind)
    with_field = make_rulebook([_customer(field)])
    migrate(engine, None, with_field)
    insert(engine, with_field, "customer", {"extra": ROUND_TRIP[kind]})
    without = make_rulebook([_customer()])
    migrate(engine, with_field, without, archive=True)
    migrate(engine, without, with_field)
    with engine.begin() as conn:
        assert restore_archived(conn, "customer", "extra") == 1
    assert select(engine, with_field, "customer", "extra") == [(ROUND_TRIP[kind],)]
