"""Keeping values a destructive migration would lose, and putting them back.

Before a destructive step runs with ``archive=True``, ``archive_values`` copies the
affected values into ``archived_values`` — one row per record and field, the value as
JSON, with the SQL type it had. After a change of type, ``rewrite_values`` writes back
what converts without loss and marks those copies restored; the rest stay empty in the
table and unrestored in the archive. ``restore_archived`` puts a field's archived values
back once the field exists again (only into records where it is empty).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ...errors import NotFound
from ...metadata.sqltypes import JSONList
from .live_schema import reflect_live
from .migration_steps import ArchiveSpec
from .system_tables import archived_values_table
from .typesig import TypeSig, signature
from .values import NO_VALUE, convert, to_json

__all__ = ["ArchivedValue", "archive_values", "rewrite_values", "restore_archived"]

_CHUNK = 500


@dataclass(frozen=True, slots=True)
class ArchivedValue:
    record_id: int
    column: str
    value: Any  # as read from the column


def _archive_table() -> sa.Table:
    return archived_values_table(sa.MetaData())


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def archive_values(
    connection: Connection, spec: ArchiveSpec, at: datetime, rulebook_version: int | None
) -> list[ArchivedValue]:
    """Copy the values ``spec`` names into ``archived_values``; return what was copied."""
    table = sa.Table(spec.table, sa.MetaData(), autoload_with=connection)
    kept = [_read(connection, table, column, spec) for column in spec.columns]
    values = [v for per_column in kept for v in per_column]
    types = {c: table.c[c].type.compile(dialect=connection.dialect) for c in spec.columns}
    rows = [
        {
            "entity": spec.entity,
            "record_id": v.record_id,
            "field": v.column,
            "value": to_json(v.value),
            "column_type": types[v.column][:64],
            "archived_at": at,
            "rulebook_version": rulebook_version,
        }
        for v in values
    ]
    archive = _archive_table()
    for chunk in _chunks(rows):
        connection.execute(sa.insert(archive), list(chunk))
    if spec.kind == "choice" and spec.list_valued:
        _remove_list_choices(connection, table, values, spec.choices)
    return values


def _read(
    connection: Connection, table: sa.Table, column: str, spec: ArchiveSpec
) -> list[ArchivedValue]:
    col = table.c[column]
    if spec.list_valued:
        col = sa.type_coerce(col, JSONList()).label(column)
    query = sa.select(table.c.id, col).where(table.c[column].is_not(None)).order_by(table.c.id)
    if spec.kind == "choice" and not spec.list_valued:
        query = query.where(table.c[column].in_(spec.choices))
    rows = [r for r in connection.execute(query) if r[1] is not None]  # JSON null: empty
    if spec.kind == "choice" and spec.list_valued:
        rows = [r for r in rows if set(r[1] or ()) & set(spec.choices)]
    return [ArchivedValue(int(r[0]), column, r[1]) for r in rows]


def _remove_list_choices(
    connection: Connection, table: sa.Table, values: list[ArchivedValue], removed: Sequence[str]
) -> None:
    column = values[0].column if values else None
    if column is None:
        return
    target = sa.table(table.name, sa.column("id"), sa.column(column, JSONList()))
    remaining = [(v.record_id, [x for x in v.value if x not in removed]) for v in values]
    _write(connection, table.name, column, JSONList(), [(r, v) for r, v in remaining if v])
    emptied = [rid for rid, v in remaining if not v]
    for chunk in _chunks(emptied):  # SQL NULL, not a JSON null
        connection.execute(
            sa.update(target).where(target.c.id.in_(chunk)).values({column: sa.null()})
        )


def rewrite_values(
    connection: Connection, spec: ArchiveSpec, values: list[ArchivedValue], at: datetime
) -> int:
    """Write archived values back into the re-created column where they convert; count them."""
    if spec.rewrite_type is None:
        return 0
    sig = signature(spec.rewrite_type, connection.dialect)
    column = spec.columns[0]
    converted = [(v.record_id, convert(v.value, sig)) for v in values]
    kept = [(rid, value) for rid, value in converted if value is not NO_VALUE]
    _write(connection, spec.table, column, spec.rewrite_type, kept)
    _mark_restored(connection, spec.entity, column, [rid for rid, _ in kept], at, at)
    return len(kept)


def _write(
    connection: Connection, table: str, column: str, type_: Any, rows: list[tuple[int, Any]]
) -> None:
    target = sa.table(table, sa.column("id"), sa.column(column, type_))
    update = (
        sa.update(target)
        .where(target.c.id == sa.bindparam("rid"))
        .values({column: sa.bindparam("new_value", type_=type_)})
    )
    params = [{"rid": rid, "new_value": value} for rid, value in rows]
    for chunk in _chunks(params):
        connection.execute(update, list(chunk))


def _mark_restored(
    connection: Connection,
    entity: str,
    field: str,
    record_ids: list[int],
    when: datetime,
    archived_at: datetime | None = None,
) -> None:
    archive = _archive_table()
    for chunk in _chunks(record_ids):
        query = (
            sa.update(archive)
            .where(archive.c.entity == entity, archive.c.field == field)
            .where(archive.c.record_id.in_(chunk), archive.c.restored_at.is_(None))
            .values(restored_at=when)
        )
        if archived_at is not None:
            query = query.where(archive.c.archived_at == archived_at)
        connection.execute(query)


def restore_archived(connection: Connection, entity: str, field: str) -> int:
    """Put the latest unrestored archived value of ``entity.field`` back into each record
    where the field is empty now; returns how many were restored.

    Values that no longer fit the column (another type, too long) stay in the archive.
    Raises ``NotFound`` when the entity's table has no column ``field``.
    """
    table_name = f"e_{entity}"
    live = reflect_live(connection, [table_name]).get(table_name)
    if live is None or field not in live.columns:
        raise NotFound(f"{entity} has no field '{field}' to restore archived values into")
    sig: TypeSig = live.columns[field].sig
    latest = _latest_unrestored(connection, entity, field)
    empty = _empty_records(connection, table_name, field, list(latest), sig.family == "json")
    restore = [(rid, convert(latest[rid], sig)) for rid in empty]
    restore = [(rid, value) for rid, value in restore if value is not NO_VALUE]
    column_type = sa.Table(table_name, sa.MetaData(), autoload_with=connection).c[field].type
    if sig.family == "json":
        column_type = JSONList()
    _write(connection, table_name, field, column_type, restore)
    _mark_restored(connection, entity, field, [rid for rid, _ in restore], datetime.now(UTC))
    return len(restore)


def _latest_unrestored(connection: Connection, entity: str, field: str) -> dict[int, Any]:
    archive = _archive_table()
    query = (
        sa.select(archive.c.record_id, archive.c.value)
        .where(archive.c.entity == entity, archive.c.field == field)
        .where(archive.c.restored_at.is_(None))
        .order_by(archive.c.archived_at, archive.c.id)
    )
    return {int(rid): value for rid, value in connection.execute(query)}  # later rows win


def _empty_records(
    connection: Connection, table: str, field: str, ids: list[int], list_valued: bool
) -> list[int]:
    """Records among ``ids`` whose ``field`` is empty (NULL; for lists also JSON null, [])."""
    target = sa.table(table, sa.column("id"), sa.column(field, JSONList() if list_valued else None))
    found: list[int] = []
    for chunk in _chunks(ids):
        if list_valued:
            query = sa.select(target.c.id, target.c[field]).where(target.c.id.in_(chunk))
            found += [int(r[0]) for r in connection.execute(query) if not r[1]]
        else:
            query = sa.select(target.c.id).where(target.c.id.in_(chunk), target.c[field].is_(None))
            found += [int(r[0]) for r in connection.execute(query)]
    return sorted(found)
