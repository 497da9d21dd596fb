"""Typed storage and schema migrations, built from the compiled rulebook model.

- ``build_metadata(rulebook)``: SQLAlchemy Core tables — one ``e_<entity>`` table per
  entity (columns from the ``COLUMN_TYPES`` registry) plus the system tables.
- ``plan_migration(connection, old, new)`` → ``MigrationPlan``: compare the live database
  with the model; steps in plain words (zh-CN, en), each safe or destructive, each with
  its Alembic operations. ``describe(locale)``, ``sql(dialect)``.
- ``apply_plan(engine, plan, archive=False)``: one transaction; destructive steps only
  with ``archive=True`` (old values copied to ``archived_values`` first).
- ``restore_archived(connection, entity, field)``; ``ensure_schema(engine, rulebook)``.
- ``save_version`` / ``activate`` / ``active_version`` / ``list_versions``: rulebook
  versions kept in the database.

Layering: this package imports the metadata model and ``platform.sqltypes`` only; no
Flask. Decisions are written in each module's docstring.
"""

from . import record_tables as _record_tables  # noqa: F401  registers supplements
from .archive import restore_archived
from .columns import COLUMN_TYPES, ColumnType, column_type_for, register_column_type
from .migration_apply import apply_plan, ensure_schema
from .migration_plan import plan_migration
from .migration_steps import DESTRUCTIVE, SAFE, ArchiveSpec, MigrationPlan, MigrationStep
from .system_tables import SYSTEM_TABLES, add_system_tables, system_table
from .tables import build_entity_table, build_metadata, table_fingerprint
from .versions import (
    RulebookVersion,
    activate,
    active_number,
    active_version,
    list_versions,
    load_version,
    save_version,
)

__all__ = [
    "COLUMN_TYPES",
    "ColumnType",
    "column_type_for",
    "register_column_type",
    "SYSTEM_TABLES",
    "system_table",
    "add_system_tables",
    "build_metadata",
    "build_entity_table",
    "table_fingerprint",
    "plan_migration",
    "MigrationPlan",
    "MigrationStep",
    "ArchiveSpec",
    "SAFE",
    "DESTRUCTIVE",
    "apply_plan",
    "ensure_schema",
    "restore_archived",
    "RulebookVersion",
    "save_version",
    "load_version",
    "active_number",
    "active_version",
    "list_versions",
    "activate",
]
