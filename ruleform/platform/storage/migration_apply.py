"""Applying a migration plan: all of it in one transaction, or nothing.

PostgreSQL has transactional DDL. SQLite has it too, but Python's ``sqlite3`` module
commits before DDL on its own; ``migration_connection`` switches that off for the one
connection (and turns foreign-key enforcement off while tables are copied in batch
mode), then issues ``BEGIN`` itself, so a failure anywhere rolls back every step.

On SQLite, operations SQLite cannot do in place (``needs_batch``) run in Alembic's batch
mode: the table is copied with the change and renamed. ``ensure_schema`` (startup) plans
and applies under a PostgreSQL advisory lock, so several workers starting together
migrate once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic.operations import Operations
from alembic.operations.ops import AddColumnOp, MigrateOperation
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection, Engine

from ...metadata.model import Rulebook
from .archive import archive_values, rewrite_values
from .migration_plan import plan_migration
from .migration_steps import MigrationPlan, MigrationStep, needs_batch
from .system_tables import schema_state_table

__all__ = ["apply_plan", "ensure_schema", "migration_connection", "run_ops", "LOCK_KEY"]

#: PostgreSQL advisory lock held while a migration is planned and applied.
LOCK_KEY = 0x52554C45  # "RULE"


@contextmanager
def migration_connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside one transaction that also covers DDL; commits on success."""
    with engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            with connection.begin():
                yield connection
            return
        raw: Any = connection.connection.driver_connection
        previous = raw.isolation_level
        fk_enforced = raw.execute("PRAGMA foreign_keys").fetchone()[0]
        raw.isolation_level = None  # no implicit COMMIT before DDL: we say BEGIN ourselves
        raw.execute("PRAGMA foreign_keys=OFF")  # tables are copied in batch mode
        try:
            with connection.begin():
                if not raw.in_transaction:  # an engine event may already have said BEGIN
                    connection.exec_driver_sql("BEGIN")
                yield connection
        finally:
            if fk_enforced:
                raw.execute("PRAGMA foreign_keys=ON")
            raw.isolation_level = previous


def apply_plan(engine: Engine, plan: MigrationPlan, archive: bool = False) -> None:
    """Apply every step of ``plan`` in one transaction (nothing on failure).

    Raises ``MigrationRefused`` before changing anything when a step is refused, or is
    destructive and ``archive`` is false. With ``archive=True`` the values a destructive
    step removes are first copied to ``archived_values``.
    """
    plan.check(archive=archive)
    with migration_connection(engine) as connection:
        _lock(connection)
        apply_steps(connection, plan, archive=archive)


def ensure_schema(engine: Engine, rulebook: Rulebook) -> MigrationPlan:
    """Create or extend the tables of ``rulebook`` at startup; return what was applied.

    Only safe steps are applied. If any step is destructive or refused, nothing is
    applied and ``MigrationRefused`` lists them (publish the change with archiving).
    """
    with migration_connection(engine) as connection:
        _lock(connection)
        plan = plan_migration(connection, None, rulebook)
        plan.check(archive=False)
        apply_steps(connection, plan, archive=False)
    return plan


def apply_steps(connection: Connection, plan: MigrationPlan, archive: bool = False) -> None:
    """Run the steps on ``connection`` (the caller owns the transaction)."""
    operations = Operations(MigrationContext.configure(connection))
    now = datetime.now(UTC)
    for step in plan.steps:
        _apply_step(connection, operations, step, plan, archive, now)
    _record_fingerprints(connection, plan, now)


def _apply_step(
    connection: Connection,
    operations: Operations,
    step: MigrationStep,
    plan: MigrationPlan,
    archive: bool,
    now: datetime,
) -> None:
    kept = []
    if step.archive is not None and archive:
        kept = archive_values(connection, step.archive, now, plan.rulebook_version)
    run_ops(operations, step.ops, step.table)
    if step.archive is not None and archive:
        rewrite_values(connection, step.archive, kept, now)


def run_ops(operations: Operations, ops: Sequence[MigrateOperation], table: str) -> None:
    """Invoke ``ops`` in order; on SQLite, consecutive batch-only ones in one batch."""
    sqlite = operations.migration_context.dialect.name == "sqlite"
    pending: list[MigrateOperation] = []
    for op in ops:
        if sqlite and needs_batch(op):
            pending.append(op)
            continue
        _flush_batch(operations, pending, table)
        pending = []
        operations.invoke(op)
    _flush_batch(operations, pending, table)


def _flush_batch(operations: Operations, ops: list[MigrateOperation], table: str) -> None:
    if not ops:
        return
    # SQLite adds a plain column in place, but a column with a foreign key needs a copy
    recreate = "always" if any(isinstance(op, AddColumnOp) for op in ops) else "auto"
    with operations.batch_alter_table(table, recreate=recreate) as batch:
        for op in ops:
            batch.invoke(op)


def _lock(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(LOCK_KEY)))


def _record_fingerprints(connection: Connection, plan: MigrationPlan, now: datetime) -> None:
    """Replace ``schema_state`` with the fingerprint of every entity table now in place."""
    state = schema_state_table(sa.MetaData())
    if not sa.inspect(connection).has_table(state.name):
        return
    connection.execute(sa.delete(state))
    rows = [
        {"entity": entity, "table_name": f"e_{entity}", "fingerprint": fp, "updated_at": now}
        for entity, fp in plan.fingerprints.items()
    ]
    if rows:
        connection.execute(sa.insert(state), rows)
