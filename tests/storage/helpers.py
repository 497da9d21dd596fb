"""Helpers for storage tests: plan, migrate, look at the live schema and rows."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ruleform.metadata.model import Rulebook
from ruleform.platform.storage import MigrationPlan, apply_plan, build_metadata, plan_migration
from ruleform.platform.storage.system_tables import archived_values_table


def plan(engine: sa.Engine, old: Rulebook | None, new: Rulebook) -> MigrationPlan:
    with engine.connect() as conn:
        return plan_migration(conn, old, new)


def migrate(
    engine: sa.Engine, old: Rulebook | None, new: Rulebook, archive: bool = False
) -> MigrationPlan:
    """Plan and apply; returns the applied plan."""
    p = plan(engine, old, new)
    apply_plan(engine, p, archive=archive)
    return p


def columns(engine: sa.Engine, table: str) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in sa.inspect(engine).get_columns(table)}


def indexes(engine: sa.Engine, table: str) -> dict[str, dict[str, Any]]:
    return {i["name"]: i for i in sa.inspect(engine).get_indexes(table)}


def insert(engine: sa.Engine, rulebook: Rulebook, entity: str, *rows: dict[str, Any]) -> None:
    table = build_metadata(rulebook).tables[f"e_{entity}"]
    with engine.begin() as conn:
        conn.execute(sa.insert(table), list(rows))


def select(engine: sa.Engine, rulebook: Rulebook, entity: str, *names: str) -> list[tuple]:
    table = build_metadata(rulebook).tables[f"e_{entity}"]
    query = sa.select(*(table.c[n] for n in names)).order_by(table.c.id)
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(query)]


def archived(engine: sa.Engine, entity: str, field: str) -> list[tuple]:
    """(record_id, value, restored?) of archived values of ``entity.field``."""
    t = archived_values_table(sa.MetaData())
    query = (
        sa.select(t.c.record_id, t.c.value, t.c.restored_at.is_not(None))
        .where(t.c.entity == entity, t.c.field == field)
        .order_by(t.c.record_id, t.c.id)
    )
    with engine.connect() as conn:
        return [(r[0], r[1], bool(r[2])) for r in conn.execute(query)]
