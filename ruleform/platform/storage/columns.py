"""The column registry: how each storage kind is stored.

One ``ColumnType`` per storage kind (``FieldType.storage`` of
``ruleform.metadata.field_types``: string, text, integer, decimal, boolean, date, datetime,
json_list, reference, user, department) knows the SQL type of its column, the table a link
column points to, and whether an ordinary B-tree index on it is sensible. Field types name
their kind, so a new type stored like an existing one needs nothing here. Other layers add
kinds with ``register_column_type``; ``column_type_for`` finds a field's entry (a computed
field is stored as the type it ``returns``).

**No NOT NULL on field columns.** ``required`` is enforced by validation (forms, API,
imports), never by the database: a field made required later, or added as required to a
table that already holds records, must not make the migration fail or old records
unreadable. Only system columns the platform always writes are NOT NULL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.types import TypeEngine

from ...metadata.field_types import FIELD_TYPES
from ...metadata.model import Field
from ...metadata.sqltypes import ExactDecimal, JSONList, UTCDateTime
from .naming import make_name

__all__ = [
    "ColumnType",
    "COLUMN_TYPES",
    "ID_TYPE",
    "LONGEST_INDEXED_STRING",
    "register_column_type",
    "column_type_for",
    "field_sql_type",
    "build_field_column",
    "ondelete_rule",
]

#: Primary keys: BIGINT, but INTEGER on SQLite where only ``INTEGER PRIMARY KEY`` autoincrements.
ID_TYPE: TypeEngine = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

#: A B-tree index entry is limited to about 2,700 bytes on PostgreSQL; with up to four
#: bytes a character, longer strings are not indexed (a long value would fail to insert).
LONGEST_INDEXED_STRING = 600


@dataclass(frozen=True, slots=True)
class ColumnType:
    """How fields of one storage kind are stored."""

    name: str  # the storage kind
    sql_type: Callable[[Field], TypeEngine]
    references: Callable[[Field], str] | None = None  # table a link column points to
    indexable: Callable[[Field], bool] = lambda field: True
    list_valued: bool = False  # a JSON list: GIN index on PostgreSQL
    always_indexed: bool = False  # links to records: the target's related lists read them
    on_delete_option: bool = False  # the field's ``on_delete`` applies (else restrict)

    def target_table(self, field: Field) -> str | None:
        """The table this field's column refers to, or None for a plain value."""
        return self.references(field) if self.references else None


COLUMN_TYPES: dict[str, ColumnType] = {}


def register_column_type(column_type: ColumnType) -> ColumnType:
    """Add (or replace) a storage kind; returns it for decorator-style use."""
    COLUMN_TYPES[column_type.name] = column_type
    return column_type


def column_type_for(field: Field) -> ColumnType:
    """The registry entry storing ``field``; a computed field uses its ``returns`` type."""
    name = field.value_type
    if field.type == "computed" and not field.returns:
        raise ValueError(f"computed field '{field.name}' does not say what it returns")
    field_type = FIELD_TYPES.get(name)
    if field_type is None:
        raise ValueError(f"unknown field type '{name}' of field '{field.name}'")
    try:
        return COLUMN_TYPES[field_type.storage or ""]
    except KeyError:
        known = ", ".join(sorted(COLUMN_TYPES))
        raise ValueError(f"no column type for storage kind {field_type.storage!r} of field "
                         f"type '{name}'; known: {known}") from None  # fmt: skip


def field_sql_type(field: Field) -> TypeEngine:
    """The SQL type of the column storing ``field``."""
    return column_type_for(field).sql_type(field)


def ondelete_rule(on_delete: str | None) -> str:
    """``restrict`` / ``set_null`` / ``cascade`` → the SQL words (``SET NULL``)."""
    return (on_delete or "restrict").replace("_", " ").upper()


def build_field_column(field: Field, table_name: str) -> sa.Column:
    """The (always nullable) column of ``field`` in ``table_name``, with its foreign key."""
    column_type = column_type_for(field)
    target = column_type.target_table(field)
    args: list[sa.ForeignKey] = []
    if target is not None:
        on_delete = field.on_delete if column_type.on_delete_option else "restrict"
        name = make_name("fk", table_name, field.name)
        # links between entities may form cycles: mark them so create_all/drop_all can order
        use_alter = target.startswith("e_")
        key = sa.ForeignKey(
            f"{target}.id", name=name, ondelete=ondelete_rule(on_delete), use_alter=use_alter
        )
        args.append(key)
    return sa.Column(field.name, column_type.sql_type(field), *args, nullable=True)


# --- the built-in storage kinds ----------------------------------------------------------


def _string_length(field: Field) -> int:
    """A type's fixed width (an email: 254), else the field's ``max_length`` (default 255)."""
    return FIELD_TYPES[field.value_type].width or field.max_length or 255


def _string(field: Field) -> TypeEngine:
    return sa.String(_string_length(field))


def _decimal(field: Field) -> TypeEngine:
    precision = field.precision or 18
    scale = field.scale if field.scale is not None else 2
    return ExactDecimal(precision, scale)


def _short_string(field: Field) -> bool:
    return _string_length(field) <= LONGEST_INDEXED_STRING


def _fixed(type_: Callable[[], TypeEngine]) -> Callable[[Field], TypeEngine]:
    return lambda field: type_()


def _link(table: str) -> Callable[[Field], str]:
    return lambda field: table


def _reference_target(field: Field) -> str:
    if not field.target:
        raise ValueError(f"reference field '{field.name}' names no target entity")
    return f"e_{field.target}"


for _entry in (
    ColumnType("string", _string, indexable=_short_string),
    ColumnType("text", _fixed(sa.Text), indexable=lambda field: False),
    ColumnType("integer", _fixed(sa.BigInteger)),
    ColumnType("decimal", _decimal),
    ColumnType("boolean", _fixed(sa.Boolean)),
    ColumnType("date", _fixed(sa.Date)),
    ColumnType("datetime", _fixed(UTCDateTime)),
    ColumnType("json_list", _fixed(JSONList), list_valued=True),
    ColumnType(
        "reference",
        _fixed(sa.BigInteger),
        references=_reference_target,
        always_indexed=True,
        on_delete_option=True,
    ),
    ColumnType("user", _fixed(sa.BigInteger), references=_link("users")),
    ColumnType("department", _fixed(sa.BigInteger), references=_link("departments")),
):
    register_column_type(_entry)
