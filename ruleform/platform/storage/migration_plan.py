"""Planning a migration: compare the live database with the new rulebook's tables.

``plan_migration(connection, old_rulebook, new_rulebook)`` follows Alembic's shape —
compare, then produce operation objects — but yields ``MigrationStep``s that also say,
in plain words, what changes and whether stored data could be lost. The live database
(reflected) is the truth; the old rulebook only adds what a database cannot tell: labels
of removed things and which choices were removed.

Step order: create tables → change columns → choices → drop tables → indexes → keys that
close cycles between new tables. Nothing is changed here; see ``apply_plan``.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from ...metadata.model import Rulebook, frozen_map
from .live_schema import reflect_live
from .migration_steps import MigrationPlan, MigrationStep
from .plan_choices import plan_choices
from .plan_columns import plan_columns
from .plan_context import PlanContext
from .plan_indexes import plan_indexes
from .plan_statuses import StatusMap, plan_statuses
from .plan_tables import plan_dropped_tables, plan_new_tables
from .tables import build_metadata, table_fingerprint

__all__ = ["plan_migration"]


def plan_migration(
    connection: Connection,
    old_rulebook: Rulebook | None,
    new_rulebook: Rulebook,
    *,
    rulebook_version: int | None = None,
    status_map: StatusMap | None = None,
) -> MigrationPlan:
    """The steps that make the database on ``connection`` hold ``new_rulebook``'s tables.

    ``rulebook_version`` (the number of the version being published) is recorded with
    archived values. ``status_map`` (entity → removed status → new status) moves records out
    of statuses the new version removes; without it such a removal is refused.
    """
    target = build_metadata(new_rulebook)
    live = reflect_live(connection, target.tables.keys())
    ctx = PlanContext(connection, old_rulebook, new_rulebook, target, live)
    creates, links = plan_new_tables(ctx)
    existing = [(t, live[t.name]) for t in target.tables.values() if t.name in live]
    steps: list[MigrationStep] = [*creates]
    for table, live_table in existing:
        steps += plan_columns(ctx, table, live_table)
    steps += plan_choices(ctx)
    steps += plan_statuses(ctx, status_map)
    steps += plan_dropped_tables(ctx)
    for table, live_table in existing:
        steps += plan_indexes(ctx, table, live_table)
    steps += links
    fingerprints = {
        e.name: table_fingerprint(target.tables[e.table_name])
        for e in new_rulebook.entities.values()
    }
    return MigrationPlan(
        tuple(steps), connection.dialect.name, frozen_map(fingerprints), rulebook_version
    )
