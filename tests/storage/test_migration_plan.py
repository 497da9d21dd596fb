"""Planning: what a new rulebook version changes in the database, in plain words."""

from __future__ import annotations

import pytest

from ruleform.errors import MigrationRefused
from ruleform.platform.storage import DESTRUCTIVE, SAFE, apply_plan

from .factories import (
    make_entity,
    make_field,
    make_rulebook,
    make_view,
    replace_field,
    with_fields,
    with_views,
    without_fields,
)
from .helpers import columns, indexes, insert, migrate, plan


def _customer(*extra):
    fields = [make_field("company_name", max_length=100), make_field("qq"), *extra]
    return make_entity("customer", fields)


def _kinds(p):
    return [(s.kind, s.column, s.safety) for s in p.steps]


def test_first_plan_creates_every_table_and_replanning_is_empty(engine):
    rulebook = make_rulebook([_customer()])
    first = migrate(engine, None, rulebook)
    assert {s.kind for s in first.steps} == {"create_table"} | (
        {"add_foreign_key"} if engine.dialect.name == "postgresql" else set()
    )
    assert all(s.safety == SAFE for s in first.steps)
    assert len(plan(engine, rulebook, rulebook)) == 0
    assert len(plan(engine, None, rulebook)) == 0  # the live database is the truth


def test_plan_adds_a_field(engine):
    old = make_rulebook([_customer()])
    migrate(engine, None, old)
    store = make_field("store")
    new = make_rulebook([_customer(store)])
    p = plan(engine, old, new)
    assert _kinds(p) == [("add_column", "store", SAFE)]
    assert p.steps[0].describe("en") == "Add field 'store' (Store) to Customer"
    assert p.steps[0].describe("zh-CN") == "为「客户」添加字段 'store'（门店）"
    apply_plan(engine, p)
    assert "store" in columns(engine, "e_customer")
    assert len(plan(engine, new, new)) == 0


def test_adding_a_required_field_to_a_table_with_rows_is_safe(engine):
    old = make_rulebook([_customer()])
    migrate(engine, None, old)
    insert(engine, old, "customer", {"company_name": "Acme"})
    new = make_rulebook([_customer(make_field("region", required=True))])
    migrate(engine, old, new)
    assert columns(engine, "e_customer")["region"]["nullable"] is True


def test_plan_adds_an_entity_and_a_reference_to_it(engine):
    old = make_rulebook([_customer()])
    migrate(engine, None, old)
    contact = make_entity("contact", [make_field("name")])
    new = make_rulebook(
        [_customer(make_field("main_contact", "reference", target="contact")), contact]
    )
    p = plan(engine, old, new)
    kinds = [(s.kind, s.table) for s in p.steps]
    assert kinds[:2] == [("create_table", "e_contact"), ("add_column", "e_customer")]
    assert ("add_index", "e_customer") in kinds  # every reference is indexed
    apply_plan(engine, p)
    assert len(plan(engine, new, new)) == 0


def test_plan_adds_indexes_for_index_fields_and_view_filters(engine):
    old = make_rulebook([_customer()])
    migrate(engine, None, old)
    entity = replace_field(_customer(), "qq", index=True)
    entity = with_fields(entity, make_field("level", "choice", choices=["a"]))
    entity = with_views(entity, make_view("all", filters=["level"]))
    new = make_rulebook([entity])
    p = plan(engine, old, new)
    assert [(s.kind, s.column) for s in p.steps if s.kind == "add_index"] == [
        ("add_index", "level"),
        ("add_index", "qq"),
    ]
    apply_plan(engine, p)
    assert {"ix_e_customer_qq", "ix_e_customer_level"} <= set(indexes(engine, "e_customer"))
    assert len(plan(engine, new, new)) == 0


def test_widening_a_string_is_safe(engine):
    old = make_rulebook([_customer()])
    migrate(engine, None, old)
    insert(engine, old, "customer", {"company_name": "Acme"})
    new = make_rulebook([replace_field(_customer(), "company_name", max_length=200)])
    p = plan(engine, old, new)
    assert _kinds(p) == [("widen_column", "company_name", SAFE)]
    assert p.steps[0].describe("en") == (
        "Widen 'company_name' of Customer from 100 characters to 200 characters"
    )
    apply_plan(engine, p)
    assert columns(engine, "e_customer")["company_name"]["type"].length == 200
    assert len(plan(engine, new, new)) == 0


def test_string_to_text_is_a_safe_widening(engine):
    old = make_rulebook([_customer()])
    migrate(engine, None, old)
    insert(engine, old, "customer", {"qq": "12345"})
    new = make_rulebook([replace_field(_customer(), "qq", type="text")])
    p = plan(engine, old, new)
    assert _kinds(p) == [("widen_column", "qq", SAFE)]
    apply_plan(engine, p)
    assert len(plan(engine, new, new)) == 0


def test_narrowing_a_string_is_refused_without_archive(engine):
    old = make_rulebook([_customer()])
    migrate(engine, None, old)
    insert(engine, old, "customer", {"company_name": "A" * 80}, {"company_name": "short"})
    new = make_rulebook([replace_field(_customer(), "company_name", max_length=50)])
    p = plan(engine, old, new)
    assert _kinds(p) == [("narrow_column", "company_name", DESTRUCTIVE)]
    assert "(1 values do not fit)" in p.steps[0].describe("en")
    with pytest.raises(MigrationRefused) as refused:
        apply_plan(engine, p)
    assert refused.value.steps == [p.steps[0].describe("en")]
    assert columns(engine, "e_customer")["company_name"]["type"].length == 100


def test_dropping_a_field_is_refused_and_names_the_step(engine):
    old = make_rulebook([_customer()])
    migrate(engine, None, old)
    insert(engine, old, "customer", {"qq": "12345"})
    new = make_rulebook([without_fields(_customer(), "qq")])
    p = plan(engine, old, new)
    assert _kinds(p) == [("drop_column", "qq", DESTRUCTIVE)]
    with pytest.raises(MigrationRefused) as refused:
        apply_plan(engine, p)
    assert refused.value.steps == [
        "Remove field 'qq' (QQ number) from Customer (1 records hold a value)"
    ]
    assert "archive=True" in str(refused.value)
    assert "qq" in columns(engine, "e_customer")


def test_dropping_an_entity_is_destructive(engine):
    other = make_entity("other", [make_field("name")])
    old = make_rulebook([_customer(), other])
    migrate(engine, None, old)
    new = make_rulebook([_customer()])
    p = plan(engine, old, new)
    assert _kinds(p) == [("drop_table", None, DESTRUCTIVE)]
    assert p.steps[0].describe("en") == "Remove the table of Other (e_other, 0 records)"
    with pytest.raises(MigrationRefused):
        apply_plan(engine, p)


def test_a_type_change_is_destructive(engine):
    old = make_rulebook([_customer(make_field("size", "integer"))])
    migrate(engine, None, old)
    new = make_rulebook([_customer(make_field("size", "decimal"))])
    p = plan(engine, old, new)
    assert _kinds(p) == [("change_type", "size", DESTRUCTIVE)]
    assert p.steps[0].describe("en") == (
        "Change the type of 'size' of Customer from whole number to decimal number"
        " (0 records hold a value)"
    )


def test_unique_over_duplicates_is_refused_with_a_count(engine):
    old = make_rulebook([_customer()])
    migrate(engine, None, old)
    names = ["Acme", "Acme", "Acme", "Beta", "Beta", "Gamma", None, None]
    insert(engine, old, "customer", *({"company_name": n} for n in names))
    new = make_rulebook([replace_field(_customer(), "company_name", unique=True)])
    p = plan(engine, old, new)
    (step,) = p.refused_steps
    assert step.kind == "add_unique"
    assert step.details["duplicate_values"] == 2 and step.details["rows"] == 5
    assert step.details["examples"][0] == ("Acme", 3)
    assert "2 values are used more than once (5 records)" in step.describe("en")
    assert "2 个值重复出现（共 5 条记录）" in step.describe("zh-CN")
    with pytest.raises(MigrationRefused):
        apply_plan(engine, p, archive=True)  # archiving does not help: clean the data first
    assert "uq_e_customer_company_name" not in indexes(engine, "e_customer")


def test_unique_without_duplicates_is_added(engine):
    old = make_rulebook([_customer()])
    migrate(engine, None, old)
    insert(engine, old, "customer", {"company_name": "Acme"}, {"company_name": "Beta"})
    new = make_rulebook([replace_field(_customer(), "company_name", unique=True)])
    p = migrate(engine, old, new)
    assert _kinds(p) == [("add_unique", "company_name", SAFE)]
    assert indexes(engine, "e_customer")["uq_e_customer_company_name"]["unique"]


def test_choices_added_and_removed(engine):
    level = make_field("level", "choice", choices=["a", "b", "c"])
    old = make_rulebook([_customer(level)])
    migrate(engine, None, old)
    insert(engine, old, "customer", {"level": "c"}, {"level": "a"})
    new_level = make_field("level", "choice", choices=["a", "vip"])
    p = plan(engine, old, make_rulebook([_customer(new_level)]))
    assert _kinds(p) == [
        ("add_choice", "level", SAFE),
        ("remove_choice", "level", SAFE),  # nobody holds 'b'
        ("remove_choice", "level", DESTRUCTIVE),  # one record holds 'c'
    ]
    assert p.steps[0].describe("en") == (
        "Add choice 'vip' (Vip) to 'level' of Customer (no schema change)"
    )
    assert (
        p.steps[2].describe("en")
        == "Remove choice 'c' from 'level' of Customer (1 records hold it)"
    )
    assert p.steps[0].ops == ()


def test_describe_in_both_languages(engine):
    old = make_rulebook([_customer()])
    migrate(engine, None, old)
    new = make_rulebook([without_fields(_customer(make_field("store")), "qq")])
    p = plan(engine, old, new)
    assert p.describe("en").splitlines() == [
        "Database changes (2):",
        "1. [destructive] Remove field 'qq' (QQ number) from Customer (0 records hold a value)",
        "2. [safe] Add field 'store' (Store) to Customer",
        "Steps marked destructive run only with archiving: old values are copied to"
        " archived_values first.",
    ]
    zh = p.describe("zh-CN")
    assert "数据库变更（共 2 项）" in zh
    assert "[会丢失数据] 从「客户」删除字段 'qq'（QQ号）" in zh
    assert "[安全] 为「客户」添加字段 'store'（门店）" in zh
    assert plan(engine, old, old).describe("zh-CN") == "数据库无需变更。"
    assert plan(engine, old, old).describe("en") == "No database changes."


def test_sql_rendering(engine):
    old = make_rulebook([_customer()])
    first = plan(engine, None, old)
    assert "CREATE TABLE e_customer" in first.sql()
    assert "CREATE UNIQUE INDEX uq_users_username" in first.sql()
    apply_plan(engine, first)
    new = make_rulebook(
        [replace_field(_customer(make_field("store")), "company_name", max_length=200)]
    )
    sql = plan(engine, old, new).sql()
    assert "ALTER TABLE e_customer ADD COLUMN store VARCHAR(255)" in sql
    assert "ALTER TABLE e_customer ALTER COLUMN company_name" in sql
    assert "-- [safe] Add field 'store' (Store) to Customer" in sql
    other = "sqlite" if engine.dialect.name == "postgresql" else "postgresql"
    assert "ALTER TABLE" in plan(engine, old, new).sql(other)


def test_steps_carry_alembic_operations(engine):
    from alembic.operations import ops

    first = plan(engine, None, make_rulebook([_customer()]))
    create = next(s for s in first.steps if s.table == "e_customer")
    assert isinstance(create.ops[0], ops.CreateTableOp)
    assert all(isinstance(op, ops.CreateIndexOp) for op in create.ops[1:])
    apply_plan(engine, first)
    old = make_rulebook([_customer()])
    entity = replace_field(_customer(make_field("store")), "company_name", max_length=200)
    new = make_rulebook([without_fields(entity, "qq")])
    by_kind = {s.kind: s.ops for s in plan(engine, old, new).steps}
    assert [type(op) for op in by_kind["add_column"]] == [ops.AddColumnOp]
    assert [type(op) for op in by_kind["widen_column"]] == [ops.AlterColumnOp]
    assert [type(op) for op in by_kind["drop_column"]] == [ops.DropColumnOp]
