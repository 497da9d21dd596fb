"""The platform's own tables: people, organisation, rulebook versions, history and audit.

Each table is built by a function registered with ``@system_table``; ``add_system_tables``
adds every registered table to a ``MetaData``, so later work (outbox, ledger, approvals)
adds a table by registering one more builder — the migration planner then creates it.

Conventions shared with entity tables: ``id`` primary keys (``ID_TYPE``), times in
``UTCDateTime``, every constraint and index named with ``make_name``, uniqueness as named
unique indexes. Users are deactivated, not deleted: links to ``users`` are ``RESTRICT``
(or ``SET NULL`` where losing the link is harmless).
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from ...metadata.sqltypes import UTCDateTime
from .columns import ID_TYPE
from .naming import make_name

__all__ = [
    "SYSTEM_TABLES",
    "JSON_DOCUMENT",
    "system_table",
    "add_system_tables",
    "id_column",
    "link_column",
    "created_at_column",
    "add_index",
]

TableBuilder = Callable[[sa.MetaData], sa.Table]

#: Registered builders by table name, in registration order.
SYSTEM_TABLES: dict[str, TableBuilder] = {}

#: A JSON document column: JSONB on PostgreSQL (queryable), JSON elsewhere.
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def system_table(name: str) -> Callable[[TableBuilder], TableBuilder]:
    """Register a builder for the system table ``name``."""

    def register(builder: TableBuilder) -> TableBuilder:
        SYSTEM_TABLES[name] = builder
        return builder

    return register


def add_system_tables(metadata: sa.MetaData) -> None:
    """Add every registered system table to ``metadata``."""
    for builder in SYSTEM_TABLES.values():
        builder(metadata)


# --- helpers shared with entity tables ---------------------------------------------------


def id_column() -> sa.Column:
    return sa.Column("id", ID_TYPE, primary_key=True, autoincrement=True)


def primary_key(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(*columns, name=make_name("pk", table))


def link_column(
    table: str,
    name: str,
    target: str,
    *,
    ondelete: str = "RESTRICT",
    nullable: bool = True,
    use_alter: bool = False,
) -> sa.Column:
    """A BIGINT column referring to ``target.id`` with a named foreign key."""
    key = sa.ForeignKey(
        f"{target}.id", name=make_name("fk", table, name), ondelete=ondelete, use_alter=use_alter
    )
    return sa.Column(name, sa.BigInteger, key, nullable=nullable)


def created_at_column(name: str = "created_at") -> sa.Column:
    return sa.Column(name, UTCDateTime, nullable=False, server_default=sa.func.current_timestamp())


def add_index(table: sa.Table, *columns: str, unique: bool = False, **kw: object) -> sa.Index:
    """A named index (``ix_``/``uq_`` + table + columns) on ``table``."""
    name = make_name("uq" if unique else "ix", table.name, *columns)
    return sa.Index(name, *(table.c[c] for c in columns), unique=unique, **kw)


def _true_flag(name: str, default: bool) -> sa.Column:
    return sa.Column(
        name, sa.Boolean, nullable=False, server_default=sa.true() if default else sa.false()
    )


# --- people and organisation ---------------------------------------------------------------


@system_table("departments")
def departments_table(metadata: sa.MetaData) -> sa.Table:
    t = sa.Table(
        "departments",
        metadata,
        id_column(),
        sa.Column("name", sa.String(64), nullable=False),  # identifier, e.g. calendars
        sa.Column("label_zh", sa.String(200)),
        sa.Column("label_en", sa.String(200)),
        link_column("departments", "parent_id", "departments"),
        # departments ↔ users is a cycle: this key is added after both tables exist
        link_column("departments", "manager_id", "users", ondelete="SET NULL", use_alter=True),
        _true_flag("active", True),
        created_at_column(),
        primary_key("departments", "id"),
    )
    add_index(t, "name", unique=True)
    add_index(t, "parent_id")
    return t


@system_table("users")
def users_table(metadata: sa.MetaData) -> sa.Table:
    t = sa.Table(
        "users",
        metadata,
        id_column(),
        sa.Column("username", sa.String(150), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254)),
        sa.Column("password_hash", sa.String(255)),  # NULL: cannot log in with a password
        sa.Column("locale", sa.String(16)),  # NULL: the rulebook's default locale
        sa.Column("timezone", sa.String(64)),  # NULL: the rulebook's time zone
        _true_flag("active", True),
        _true_flag("is_admin", False),  # bootstrap superuser, besides rulebook roles
        link_column("users", "department_id", "departments", ondelete="SET NULL"),
        link_column("users", "manager_id", "users", ondelete="SET NULL"),
        created_at_column(),
        sa.Column("last_login_at", UTCDateTime),
        sa.Column("deactivated_at", UTCDateTime),
        # raising the epoch invalidates every session issued before (logout everywhere)
        sa.Column("session_epoch", sa.Integer, nullable=False, server_default=sa.text("0")),
        primary_key("users", "id"),
    )
    # usernames are case-insensitive (R02: one person, one account), enforced by the index
    sa.Index(make_name("uq", "users", "username"), sa.func.lower(t.c.username), unique=True)
    add_index(t, "email")
    add_index(t, "department_id")
    add_index(t, "manager_id")
    return t


@system_table("user_roles")
def user_roles_table(metadata: sa.MetaData) -> sa.Table:
    t = sa.Table(
        "user_roles",
        metadata,
        link_column("user_roles", "user_id", "users", ondelete="CASCADE", nullable=False),
        sa.Column("role", sa.String(64), nullable=False),
        primary_key("user_roles", "user_id", "role"),
    )
    add_index(t, "role")
    return t


@system_table("api_tokens")
def api_tokens_table(metadata: sa.MetaData) -> sa.Table:
    t = sa.Table(
        "api_tokens",
        metadata,
        id_column(),
        link_column("api_tokens", "user_id", "users", ondelete="CASCADE", nullable=False),
        sa.Column("token_hash", sa.String(128), nullable=False),  # never the token itself
        sa.Column("name", sa.String(200), nullable=False),
        created_at_column(),
        sa.Column("last_used_at", UTCDateTime),
        sa.Column("expires_at", UTCDateTime),
        sa.Column("revoked_at", UTCDateTime),
        primary_key("api_tokens", "id"),
    )
    add_index(t, "token_hash", unique=True)
    add_index(t, "user_id")
    return t


# --- rulebooks and schema -----------------------------------------------------------------


@system_table("rulebook_versions")
def rulebook_versions_table(metadata: sa.MetaData) -> sa.Table:
    t = sa.Table(
        "rulebook_versions",
        metadata,
        id_column(),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("version_label", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.String(128), nullable=False),
        sa.Column("source", sa.JSON, nullable=False),  # JSON keeps the source's key order
        link_column("rulebook_versions", "author_id", "users", ondelete="SET NULL"),
        sa.Column("comment", sa.Text),
        created_at_column(),
        sa.Column("published_at", UTCDateTime),
        _true_flag("is_active", False),
        primary_key("rulebook_versions", "id"),
    )
    add_index(t, "number", unique=True)
    # at most one active version
    active = sa.text("is_active")
    add_index(t, "is_active", unique=True, postgresql_where=active, sqlite_where=active)
    return t


@system_table("schema_state")
def schema_state_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "schema_state",
        metadata,
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),  # of the table definition
        created_at_column("updated_at"),
        primary_key("schema_state", "entity"),
    )


# --- history, audit, archive -----------------------------------------------------------------


@system_table("record_history")
def record_history_table(metadata: sa.MetaData) -> sa.Table:
    t = sa.Table(
        "record_history",
        metadata,
        id_column(),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("record_id", sa.BigInteger, nullable=False),
        sa.Column("action", sa.String(32), nullable=False),  # create, update, transition, …
        sa.Column("changes", JSON_DOCUMENT),  # {field: [old, new]}
        link_column("record_history", "user_id", "users", ondelete="SET NULL"),  # NULL: system
        created_at_column("at"),
        sa.Column("rulebook_version", sa.Integer),
        primary_key("record_history", "id"),
    )
    add_index(t, "entity", "record_id")
    add_index(t, "user_id")
    return t


@system_table("read_audit")
def read_audit_table(metadata: sa.MetaData) -> sa.Table:
    t = sa.Table(
        "read_audit",
        metadata,
        id_column(),
        link_column("read_audit", "user_id", "users", ondelete="SET NULL"),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("record_id", sa.BigInteger, nullable=False),
        sa.Column("fields", JSON_DOCUMENT),  # the fields shown (sensitive ones revealed)
        created_at_column("at"),
        # how it was seen: view | reveal | list | export (null in rows written before it)
        sa.Column("via", sa.String(16), nullable=True),
        primary_key("read_audit", "id"),
    )
    add_index(t, "entity", "record_id")
    add_index(t, "user_id", "at")
    add_index(t, "at")
    return t


@system_table("archived_values")
def archived_values_table(metadata: sa.MetaData) -> sa.Table:
    t = sa.Table(
        "archived_values",
        metadata,
        id_column(),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("record_id", sa.BigInteger, nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("value", JSON_DOCUMENT, nullable=False),
        sa.Column("column_type", sa.String(64)),  # SQL type the value was stored as
        sa.Column("archived_at", UTCDateTime, nullable=False),
        sa.Column("rulebook_version", sa.Integer),
        sa.Column("restored_at", UTCDateTime),
        primary_key("archived_values", "id"),
    )
    add_index(t, "entity", "field", "record_id")
    return t
