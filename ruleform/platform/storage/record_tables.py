"""Tables the record service keeps beside entity tables: supplements to append-only fields."""

from __future__ import annotations

import sqlalchemy as sa

from ...metadata.sqltypes import UTCDateTime
from .system_tables import add_index, id_column, link_column, primary_key, system_table

__all__: list[str] = []


@system_table("supplements")
def _supplements(metadata: sa.MetaData) -> sa.Table:
    table = sa.Table(
        "supplements",
        metadata,
        id_column(),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("record_id", sa.BigInteger, nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        link_column("supplements", "user_id", "users", ondelete="SET NULL"),
        sa.Column("at", UTCDateTime, nullable=False),
        primary_key("supplements", "id"),
    )
    add_index(table, "entity", "record_id")
    return table
