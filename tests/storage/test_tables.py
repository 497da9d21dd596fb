"""Entity and system tables: keys, unique rules, indexes, names, and a very wide entity."""

from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from ruleform.platform.storage import build_metadata, ensure_schema
from ruleform.platform.storage.live_schema import reflect_live
from ruleform.platform.storage.naming import MAX_IDENTIFIER, make_name

from .factories import make_entity, make_field, make_rulebook, make_view
from .helpers import columns, indexes


def _crm():
    contact = make_entity(
        "contact", [make_field("name"), make_field("customer", "reference", target="customer")]
    )
    customer = make_entity(
        "customer",
        [
            make_field("company_name", max_length=200, unique=True, unique_scope=("department",)),
            make_field("tax_no", unique=True),
            make_field("level", "choice", choices=["a", "b"]),
            make_field("source", "choice", choices=["x", "y"], index=True),
            make_field("tags", "tags"),
            make_field("notes", "text"),
            make_field("importance", "decimal"),
            make_field("primary_contact", "reference", target="contact", on_delete="set_null"),
            make_field("reviewer", "user"),
        ],
        statuses=["prospect", "won"],
        views=[make_view("all", filters=["level", "tags", "notes", "owner"], sort=["-importance"])],
    )
    return make_rulebook([customer, contact])


def test_system_columns(engine):
    ensure_schema(engine, _crm())
    cols = columns(engine, "e_customer")
    for name in ("id", "created_at", "updated_at", "row_version", "archived"):
        assert cols[name]["nullable"] is False, name
    for name in ("created_by", "updated_by", "owner", "department", "status", "archived_at"):
        assert cols[name]["nullable"] is True, name
    assert "status" not in columns(engine, "e_contact")  # no statuses, no status column
    pk = sa.inspect(engine).get_pk_constraint("e_customer")
    assert pk["constrained_columns"] == ["id"]


def test_entity_without_owner_or_department(engine):
    thing = make_entity("thing", [make_field("name")], owner=False, department=False)
    ensure_schema(engine, make_rulebook([thing]))
    assert {"owner", "department"}.isdisjoint(columns(engine, "e_thing"))


def test_unique_rules_and_indexes(engine):
    ensure_schema(engine, _crm())
    found = {
        name: (tuple(i["column_names"]), bool(i["unique"]))
        for name, i in indexes(engine, "e_customer").items()
    }
    assert found == {
        "uq_e_customer_company_name_department": (("company_name", "department"), True),
        "uq_e_customer_tax_no": (("tax_no",), True),
        "ix_e_customer_owner": (("owner",), False),
        "ix_e_customer_department": (("department",), False),
        "ix_e_customer_status": (("status",), False),
        "ix_e_customer_updated_at": (("updated_at",), False),
        "ix_e_customer_source": (("source",), False),  # index: true
        "ix_e_customer_primary_contact": (("primary_contact",), False),  # reference
        "ix_e_customer_level": (("level",), False),  # view filter
        "ix_e_customer_tags": (("tags",), False),  # view filter (GIN on PostgreSQL)
        "ix_e_customer_importance": (("importance",), False),  # view sort
        # 'notes' is text: filtered but never B-tree indexed
    }


def test_unique_is_enforced_but_empty_values_never_conflict(engine):
    rulebook = _crm()
    ensure_schema(engine, rulebook)
    table = build_metadata(rulebook).tables["e_customer"]
    with engine.begin() as conn:
        conn.execute(sa.insert(table), [{"tax_no": None}, {"tax_no": None}, {"tax_no": "T1"}])
    try:
        with engine.begin() as conn:
            conn.execute(sa.insert(table), [{"tax_no": "T1"}])
    except sa.exc.IntegrityError:
        pass
    else:
        raise AssertionError("a second T1 was accepted")


def test_foreign_keys_and_delete_rules(engine):
    ensure_schema(engine, _crm())
    keys = {
        fk["constrained_columns"][0]: (
            fk["referred_table"],
            fk["options"].get("ondelete"),
            fk["name"],
        )
        for fk in sa.inspect(engine).get_foreign_keys("e_customer")
    }
    assert keys["primary_contact"] == ("e_contact", "SET NULL", "fk_e_customer_primary_contact")
    assert keys["reviewer"][:2] == ("users", "RESTRICT")
    assert keys["owner"][:2] == ("users", "RESTRICT")
    assert keys["department"][:2] == ("departments", "RESTRICT")
    contact_keys = sa.inspect(engine).get_foreign_keys("e_contact")
    assert [
        (k["referred_table"], k["options"].get("ondelete"))
        for k in contact_keys
        if k["constrained_columns"] == ["customer"]
    ] == [("e_customer", "RESTRICT")]


def test_system_tables(engine):
    ensure_schema(engine, _crm())
    inspector = sa.inspect(engine)
    expected = {
        "users", "departments", "user_roles", "api_tokens", "rulebook_versions",
        "record_history", "read_audit", "archived_values", "schema_state",
    }  # fmt: skip
    assert expected <= set(inspector.get_table_names())
    assert "session_epoch" in columns(engine, "users")
    with engine.connect() as conn:  # lower(username): an expression index, read by name
        assert reflect_live(conn, ["users"])["users"].indexes["uq_users_username"].unique
    assert indexes(engine, "api_tokens")["uq_api_tokens_token_hash"]["unique"]
    assert tuple(
        indexes(engine, "record_history")["ix_record_history_entity_record_id"]["column_names"]
    ) == ("entity", "record_id")
    assert inspector.get_pk_constraint("user_roles")["constrained_columns"] == ["user_id", "role"]


def test_long_names_are_shortened_with_a_hash():
    name = make_name("uq", "e_" + "a" * 48, "b" * 48, "department")
    assert len(name) <= MAX_IDENTIFIER
    assert name == make_name("uq", "e_" + "a" * 48, "b" * 48, "department")
    assert name != make_name("uq", "e_" + "a" * 48, "b" * 48, "owner")
    assert make_name("ix", "e_customer", "owner") == "ix_e_customer_owner"


def test_every_name_fits_postgresql():
    long = make_entity(
        "a" * 48,
        [make_field("b" * 48, unique=True, unique_scope=("department", "owner"), index=True)],
    )
    metadata = build_metadata(make_rulebook([long]))
    names = [i.name for t in metadata.tables.values() for i in t.indexes]
    names += [c.name for t in metadata.tables.values() for c in t.constraints]
    assert names and all(n and len(n) <= MAX_IDENTIFIER for n in names)


def test_metadata_works_with_create_all_and_drop_all(engine):
    metadata = build_metadata(_crm())  # entities refer to each other: a cycle
    metadata.create_all(engine)
    metadata.drop_all(engine)
    assert sa.inspect(engine).get_table_names() == []


def _wide_entity():
    fields = []
    for n in range(300):
        kind = ("string", "text", "decimal", "integer", "date")[n % 5]
        fields.append(make_field(f"f{n:03d}", kind, scale=4 if kind == "decimal" else None))
    return make_entity("wide", fields)


def test_entity_with_300_fields_takes_a_full_row(engine):
    rulebook = make_rulebook([_wide_entity()])
    ensure_schema(engine, rulebook)
    table = build_metadata(rulebook).tables["e_wide"]
    row = {}
    for field in rulebook.entities["wide"].fields.values():
        row[field.name] = {
            "string": secrets.token_hex(127) + "x",  # 255 characters that do not compress
            "text": secrets.token_hex(2000),
            "decimal": Decimal("1234567890.1234"),  # SQLite stores REAL: ~15 digits
            "integer": 2**62,
            "date": date(2026, 1, 31),
        }[field.type]
    with engine.begin() as conn:
        conn.execute(sa.insert(table).values(row))
        stored = conn.execute(sa.select(table)).mappings().one()
    assert {k: stored[k] for k in row} == row
    assert len(columns(engine, "e_wide")) == 300 + 11  # system columns, no status


def test_a_nullable_system_column_of_a_later_release_is_added_to_an_older_database(engine):
    """A database made before ``read_audit.via`` existed gets the column at startup, with
    its rows kept."""
    from ruleform.platform.bootstrap import ensure_system_tables

    ensure_system_tables(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE read_audit DROP COLUMN via"))
        conn.execute(sa.text("INSERT INTO read_audit (entity, record_id, fields, at)"
                             " VALUES ('customer', 1, '[]', CURRENT_TIMESTAMP)"))  # fmt: skip
    assert "via" not in columns(engine, "read_audit")
    ensure_system_tables(engine)
    assert "via" in columns(engine, "read_audit")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM read_audit")).scalar() == 1
