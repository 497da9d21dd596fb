"""The live database, reflected: the truth a migration plan starts from.

``reflect_live(connection, names)`` reads the tables a plan manages (the target's tables
and every ``e_*`` table) with ``sqlalchemy.inspect``: columns with their ``TypeSig``,
indexes, and foreign keys by column. Other tables (Alembic's, the platform's later
additions) are never looked at, so never touched.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .typesig import TypeSig, signature

__all__ = ["LiveColumn", "LiveIndex", "LiveLink", "LiveTable", "reflect_live", "normalise_rule"]


@dataclass(frozen=True, slots=True)
class LiveColumn:
    name: str
    type: Any  # the reflected SQLAlchemy type
    sig: TypeSig
    nullable: bool


@dataclass(frozen=True, slots=True)
class LiveIndex:
    name: str
    columns: tuple[str, ...]
    unique: bool


@dataclass(frozen=True, slots=True)
class LiveLink:
    """A single-column foreign key: where it points and what deleting the target does."""

    name: str | None
    column: str
    table: str
    ondelete: str


@dataclass(slots=True)
class LiveTable:
    name: str
    columns: dict[str, LiveColumn] = field(default_factory=dict)
    indexes: dict[str, LiveIndex] = field(default_factory=dict)
    links: dict[str, LiveLink] = field(default_factory=dict)  # by column


def normalise_rule(rule: str | None) -> str:
    """``None``/``NO ACTION`` are the same rule; compare words in upper case."""
    return (rule or "NO ACTION").upper()


def reflect_live(connection: Connection, names: Iterable[str]) -> dict[str, LiveTable]:
    """The live tables named in ``names`` plus every ``e_*`` table, by name.

    Columns, indexes and foreign keys of all of them are read with the inspector's batched
    ``get_multi_*`` calls: a handful of catalogue queries on PostgreSQL, not three per table.
    """
    inspector = sa.inspect(connection)
    wanted = set(names)
    existing = sorted(t for t in inspector.get_table_names() if t in wanted or t.startswith("e_"))
    if not existing:
        return {}
    columns = _by_table(inspector.get_multi_columns(filter_names=existing))
    with quiet_expression_indexes():
        indexes = _by_table(inspector.get_multi_indexes(filter_names=existing))
    links = _by_table(inspector.get_multi_foreign_keys(filter_names=existing))
    return {name: _live_table(connection, name, columns.get(name, []), indexes.get(name, []),
                              links.get(name, []))
            for name in existing}  # fmt: skip


def _by_table(multi: Mapping[tuple[str | None, str], list[Any]]) -> dict[str, list[Any]]:
    return {table: items for (_schema, table), items in multi.items()}


def _live_table(connection: Connection, name: str, columns: list[Any], indexes: list[Any],
                links: list[Any]) -> LiveTable:  # fmt: skip
    dialect = connection.dialect
    table = LiveTable(name)
    for col in columns:
        sig = signature(col["type"], dialect)
        table.columns[col["name"]] = LiveColumn(col["name"], col["type"], sig, col["nullable"])
    reflected = {index.get("name") for index in indexes}
    expression_indexes = [index for index in _sqlite_expression_indexes(connection, name)
                          if index["name"] not in reflected]  # fmt: skip
    for index in [*indexes, *expression_indexes]:
        # an expression index (lower(username)) has no plain columns: compared by name only
        names = tuple(c for c in index["column_names"] if c is not None)
        if index.get("name"):
            table.indexes[index["name"]] = LiveIndex(index["name"], names, bool(index["unique"]))
    for key in links:
        if len(key["constrained_columns"]) != 1:
            continue
        column = key["constrained_columns"][0]
        rule = normalise_rule(key.get("options", {}).get("ondelete"))
        table.links[column] = LiveLink(key.get("name"), column, key["referred_table"], rule)
    return table


@contextlib.contextmanager
def quiet_expression_indexes() -> Iterator[None]:
    """SQLite reflection warns about expression indexes (``lower(username)`` on users); they
    are read by name instead (``_sqlite_expression_indexes``), so the warning is noise."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression",
                                sa.exc.SAWarning)  # fmt: skip
        yield


def _sqlite_expression_indexes(connection: Connection, table: str) -> list[dict[str, Any]]:
    """SQLite's inspector skips expression indexes; read their names from the catalogue."""
    if connection.dialect.name != "sqlite":
        return []
    rows = connection.execute(
        sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :t"
                " AND sql IS NOT NULL"), {"t": table})  # fmt: skip
    return [{"name": name, "column_names": [], "unique": sql.upper().startswith("CREATE UNIQUE")}
            for name, sql in rows]  # fmt: skip
