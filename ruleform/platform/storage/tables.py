"""Tables from the compiled model: one table per entity plus the system tables.

``build_metadata(rulebook)`` is the *target* every migration plan compares the live
database with. Entity tables are SQLAlchemy Core tables (no ORM classes): ``e_<entity>``
with the system columns, one column per field (see ``columns.py``), named unique indexes
for ``unique`` fields and indexes for what lists filter and sort by.

Indexes: ``owner``, ``department``, ``status`` and ``updated_at``; every ``index: true``
field, every reference field and every field a list view filters or sorts by. Long
strings and text are not B-tree indexed (see ``LONGEST_INDEXED_STRING``); JSON lists get a
GIN index on PostgreSQL. Uniqueness is a unique *index* rather than a table constraint,
so it can be added to an existing SQLite table without copying it; several empty values
never conflict.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import sqlalchemy as sa

from ...metadata.model import Entity, Rulebook
from ...metadata.sqltypes import UTCDateTime
from .columns import build_field_column, column_type_for
from .naming import make_name
from .system_tables import add_system_tables, created_at_column, id_column, link_column

__all__ = [
    "SYSTEM_COLUMNS",
    "build_metadata",
    "build_entity_table",
    "table_fingerprint",
    "entity_of_table",
    "detached_column",
]

#: Columns every entity table may have besides its fields (``status`` only with statuses,
#: ``owner``/``department`` only when the entity has them).
SYSTEM_COLUMNS = (
    "id", "created_at", "created_by", "updated_at", "updated_by", "owner", "department",
    "status", "row_version", "rulebook_version", "archived", "archived_at",
)  # fmt: skip

_ALWAYS_INDEXED = ("owner", "department", "status", "updated_at")


def build_metadata(rulebook: Rulebook) -> sa.MetaData:
    """The system tables and one table per entity of ``rulebook``."""
    metadata = sa.MetaData()
    add_system_tables(metadata)
    for entity in rulebook.entities.values():
        build_entity_table(metadata, entity)
    return metadata


def entity_of_table(table_name: str) -> str | None:
    """``e_customer`` → ``customer``; None for a table that is not an entity table."""
    return table_name[2:] if table_name.startswith("e_") else None


def build_entity_table(metadata: sa.MetaData, entity: Entity) -> sa.Table:
    """Add the table of ``entity`` (columns, keys, indexes) to ``metadata``."""
    name = entity.table_name
    table = sa.Table(
        name,
        metadata,
        id_column(),
        *(build_field_column(f, name) for f in entity.fields.values()),
        *_system_columns(entity),
        sa.PrimaryKeyConstraint("id", name=make_name("pk", name)),
    )
    for columns, unique in _index_specs(entity, table):
        _add_index(entity, table, columns, unique)
    return table


def _system_columns(entity: Entity) -> Iterator[sa.Column]:
    name = entity.table_name
    yield created_at_column()
    yield link_column(name, "created_by", "users")
    yield created_at_column("updated_at")
    yield link_column(name, "updated_by", "users")
    if entity.owner:
        yield link_column(name, "owner", "users")
    if entity.department:
        yield link_column(name, "department", "departments")
    if entity.statuses is not None:
        yield sa.Column("status", sa.String(64))
    yield sa.Column("row_version", sa.Integer, nullable=False, server_default=sa.text("1"))
    yield sa.Column("rulebook_version", sa.Integer)
    yield sa.Column("archived", sa.Boolean, nullable=False, server_default=sa.false())
    yield sa.Column("archived_at", UTCDateTime)


def _index_specs(entity: Entity, table: sa.Table) -> Iterator[tuple[tuple[str, ...], bool]]:
    """(columns, unique) of every index the entity's table should have, without repeats."""
    seen: set[str] = set()
    wanted = [*_ALWAYS_INDEXED]
    for f in entity.fields.values():
        if f.index or column_type_for(f).always_indexed:
            wanted.append(f.name)
    for view in entity.views.values():
        wanted.extend(view.filters)
        wanted.extend(key.field for key in view.sort)
    for column in wanted:
        if column in seen or column not in table.c or not _indexable(entity, column):
            continue
        seen.add(column)
        yield (column,), False
    for f in entity.fields.values():
        if f.unique:
            scope = tuple(c for c in f.unique_scope if c in table.c and c != f.name)
            yield (f.name, *scope), True


def _indexable(entity: Entity, column: str) -> bool:
    if column == "id":
        return False  # the primary key is indexed already
    field = entity.fields.get(column)
    return field is None or column_type_for(field).indexable(field)


def _add_index(entity: Entity, table: sa.Table, columns: tuple[str, ...], unique: bool) -> sa.Index:
    name = make_name("uq" if unique else "ix", table.name, *columns)
    kw: dict[str, str] = {}
    field = entity.fields.get(columns[0])
    if not unique and field is not None and column_type_for(field).list_valued:
        kw["postgresql_using"] = "gin"  # containment (tags contains 'vip') on JSONB
    return sa.Index(name, *(table.c[c] for c in columns), unique=unique, **kw)


def detached_column(column: sa.Column, keys: bool = True) -> sa.Column:
    """A copy of a table's column for a migration operation, with its foreign keys
    (``Column._copy`` leaves out keys whose constraint belongs to the table)."""
    default = column.server_default.arg if column.server_default is not None else None  # type: ignore[attr-defined]
    links = [
        sa.ForeignKey(fk.target_fullname, name=fk.name, ondelete=fk.ondelete)
        for fk in sorted(column.foreign_keys, key=lambda fk: fk.target_fullname)
        if keys
    ]
    return sa.Column(
        column.name,
        column.type,
        *links,
        nullable=column.nullable,
        autoincrement=column.autoincrement,
        server_default=default,
    )


def table_fingerprint(table: sa.Table) -> str:
    """A stable hash of a table's definition: columns, types, keys and indexes."""
    data = {
        "columns": [
            [c.name, c.type.compile(), c.nullable, _fk(c)] for c in sorted(table.c, key=_name)
        ],
        "indexes": sorted(
            [i.name, [c.name for c in i.columns], bool(i.unique)] for i in table.indexes
        ),
    }
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _name(column: sa.Column) -> str:
    return column.name


def _fk(column: sa.Column) -> list[str]:
    return sorted(f"{fk.target_fullname}:{fk.ondelete or ''}" for fk in column.foreign_keys)
