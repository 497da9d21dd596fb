"""What every part of the planner shares: the two models, the target tables, the live
database, and what earlier steps already did (indexes dropped, columns re-created)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from alembic.operations.ops import DropIndexOp
from sqlalchemy.engine import Connection

from ...metadata.model import Entity, Field, Rulebook, Text
from .live_schema import LiveTable
from .tables import entity_of_table
from .typesig import TypeSig, signature

__all__ = ["PlanContext"]


@dataclass(slots=True)
class PlanContext:
    """The inputs of a plan and the bookkeeping between its phases."""

    connection: Connection
    old: Rulebook | None
    new: Rulebook
    target: sa.MetaData
    live: dict[str, LiveTable]
    dropped_indexes: set[tuple[str, str]] = field(default_factory=set)
    rebuilt_columns: set[tuple[str, str]] = field(default_factory=set)  # dropped or re-added
    _clauses: dict[str, sa.TableClause] = field(default_factory=dict)

    @property
    def dialect(self) -> str:
        return self.connection.dialect.name

    def sig(self, type_: Any) -> TypeSig:
        return signature(type_, self.connection.dialect)

    # --- labels ---------------------------------------------------------------------

    def entity(self, table: str) -> Entity | None:
        """The entity of ``table`` in the new rulebook, else in the old one."""
        name = entity_of_table(table)
        for rulebook in (self.new, self.old):
            if rulebook is not None and name in rulebook.entities:
                return rulebook.entities[name]
        return None

    def entity_label(self, table: str) -> Text | str:
        entity = self.entity(table)
        return entity.label if entity is not None and entity.label else table

    def field(self, table: str, column: str) -> Field | None:
        name = entity_of_table(table)
        for rulebook in (self.new, self.old):
            if rulebook is None or name not in rulebook.entities:
                continue
            found = rulebook.entities[name].fields.get(column)
            if found is not None:
                return found
        return None

    def field_label(self, table: str, column: str) -> Text | str:
        found = self.field(table, column)
        return found.label if found is not None and found.label else column

    # --- the live data ------------------------------------------------------------------

    def table_clause(self, table: str) -> sa.TableClause:
        """One ``TableClause`` per table name, so a query's columns share their FROM."""
        return self._clauses.setdefault(table, sa.table(table))

    def column(self, table: str, name: str) -> sa.ColumnClause[Any]:
        """Column ``name`` of ``table``, known only by name."""
        clause = self.table_clause(table)
        if name not in clause.c:
            clause.append_column(sa.column(name))
        return clause.c[name]

    def count(self, table: str, *where: Any) -> int:
        """How many rows of ``table`` match ``where``."""
        query = sa.select(sa.func.count()).select_from(self.table_clause(table))
        if where:
            query = query.where(*where)
        return int(self.connection.execute(query).scalar_one())

    def count_values(self, table: str, column: str) -> int:
        return self.count(table, self.column(table, column).is_not(None))

    # --- indexes already handled --------------------------------------------------------

    def drop_indexes_on(self, table: str, column: str) -> list[DropIndexOp]:
        """Drop operations for live indexes of ``table`` that use ``column`` (once each)."""
        live = self.live.get(table)
        ops = []
        for index in live.indexes.values() if live else ():
            if column in index.columns and (table, index.name) not in self.dropped_indexes:
                self.dropped_indexes.add((table, index.name))
                ops.append(DropIndexOp(index.name, table_name=table))
        return ops
