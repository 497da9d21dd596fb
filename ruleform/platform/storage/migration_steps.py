"""A migration plan: plain steps, each with its words, its safety and its Alembic operations.

The planner (``migration_plan.py``) produces a ``MigrationPlan``; nothing is changed until
``apply_plan`` runs it. A plan can be read (``describe``), rendered as SQL (``sql``) and
checked (``check``): destructive steps need ``archive=True``, refused steps never run.

``sql()`` renders the Alembic operations with an offline ``MigrationContext``. On SQLite
some operations (alter or drop a column, add a foreign key) are applied in Alembic's
*batch mode* — copy the table, then rename it — which cannot be rendered without the live
table; for those the rendered statement is the plain ``ALTER`` (approximate, marked with
a comment) or a comment alone.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from alembic.operations import Operations
from alembic.operations.ops import (
    AddColumnOp,
    AlterColumnOp,
    CreateForeignKeyOp,
    DropColumnOp,
    DropConstraintOp,
    MigrateOperation,
)
from alembic.runtime.migration import MigrationContext
from sqlalchemy.types import TypeEngine

from ...errors import MigrationRefused
from ...metadata.model import frozen_map
from .migration_text import PLAN_WORDS, SAFETY_WORDS, pick

__all__ = [
    "SAFE",
    "DESTRUCTIVE",
    "Safety",
    "ArchiveSpec",
    "MigrationStep",
    "MigrationPlan",
    "needs_batch",
    "render_sql",
]

SAFE: Literal["safe"] = "safe"
DESTRUCTIVE: Literal["destructive"] = "destructive"
Safety = Literal["safe", "destructive"]


@dataclass(frozen=True, slots=True)
class ArchiveSpec:
    """Values a destructive step copies into ``archived_values`` before it runs.

    ``kind``: ``column`` (every value of ``columns``), ``table`` (every column of every
    record) or ``choice`` (values of one column equal to, or a list containing, one of
    ``choices``; those are then removed). With ``rewrite_type`` the values are written
    back after the step, converted to that type where they convert without loss.
    """

    kind: Literal["column", "table", "choice"]
    table: str
    entity: str
    columns: tuple[str, ...]
    choices: tuple[str, ...] = ()
    list_valued: bool = False
    rewrite_type: TypeEngine[Any] | None = None


@dataclass(frozen=True, slots=True)
class MigrationStep:
    """One change to the database, in plain words, with the operations that make it."""

    kind: str
    table: str
    safety: Safety
    text: Mapping[str, str]  # locale → description
    ops: tuple[MigrateOperation, ...] = ()
    entity: str | None = None
    column: str | None = None
    archive: ArchiveSpec | None = None
    refused: bool = False  # cannot run at all (e.g. unique over duplicate values)
    details: Mapping[str, Any] = field(default_factory=frozen_map)

    def describe(self, locale: str = "en") -> str:
        return pick(self.text, locale)

    @property
    def destructive(self) -> bool:
        return self.safety == DESTRUCTIVE

    def label(self, locale: str = "en") -> str:
        """``[safe] Add field …`` — the step with its safety in words."""
        word = "refused" if self.refused else self.safety
        return f"[{pick(SAFETY_WORDS[word], locale)}] {self.describe(locale)}"


@dataclass(frozen=True, slots=True)
class MigrationPlan:
    """The steps that make a live database match a rulebook's tables, in order."""

    steps: tuple[MigrationStep, ...]
    dialect: str
    # entity → fingerprint of its table definition once the plan is applied
    fingerprints: Mapping[str, str] = field(default_factory=frozen_map)
    rulebook_version: int | None = None

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self) -> Iterator[MigrationStep]:
        return iter(self.steps)

    @property
    def safe_steps(self) -> list[MigrationStep]:
        return [s for s in self.steps if s.safety == SAFE and not s.refused]

    @property
    def destructive_steps(self) -> list[MigrationStep]:
        return [s for s in self.steps if s.destructive and not s.refused]

    @property
    def refused_steps(self) -> list[MigrationStep]:
        return [s for s in self.steps if s.refused]

    def check(self, archive: bool = False) -> None:
        """Raise ``MigrationRefused`` unless every step may run (destructive: with archive)."""
        if self.refused_steps:
            steps = [s.describe() for s in self.refused_steps]
            raise MigrationRefused(
                "the schema change cannot be applied: " + "; ".join(steps), steps
            )
        if self.destructive_steps and not archive:
            steps = [s.describe() for s in self.destructive_steps]
            raise MigrationRefused(
                "the schema change would lose stored data; apply it with archive=True to keep"
                " a copy of the old values first: " + "; ".join(steps),
                steps,
            )

    def describe(self, locale: str = "en") -> str:
        """The plan in plain words, one numbered line a step."""
        if not self.steps:
            return pick(PLAN_WORDS["empty"], locale)
        lines = [pick(PLAN_WORDS["header"], locale).format(count=len(self.steps))]
        lines += [f"{n}. {step.label(locale)}" for n, step in enumerate(self.steps, 1)]
        if self.destructive_steps:
            lines.append(pick(PLAN_WORDS["archive_hint"], locale))
        return "\n".join(lines)

    def sql(self, dialect: str | None = None) -> str:
        """The SQL of the plan's operations for ``dialect`` (default: the planned one)."""
        return render_sql(self.steps, dialect or self.dialect)


def render_sql(steps: Sequence[MigrationStep], dialect: str) -> str:
    """Render ``steps`` with an offline (``as_sql``) Alembic context."""
    buffer = io.StringIO()
    context = MigrationContext.configure(
        dialect_name=dialect,
        opts={"as_sql": True, "output_buffer": buffer, "literal_binds": True},
    )
    operations = Operations(context)
    for step in steps:
        buffer.write(f"-- {step.label('en')}\n")
        for op in step.ops:
            _render_op(operations, op, buffer, dialect)
        if step.archive is not None:
            buffer.write("-- (with archive=True: old values are copied to archived_values first)\n")
        buffer.write("\n")
    return buffer.getvalue()


def needs_batch(op: MigrateOperation) -> bool:
    """Whether SQLite must apply ``op`` in batch mode (it cannot ALTER it in place)."""
    if isinstance(op, AddColumnOp):
        return bool(op.column.foreign_keys)
    return isinstance(op, AlterColumnOp | DropColumnOp | CreateForeignKeyOp | DropConstraintOp)


def _render_op(
    operations: Operations, op: MigrateOperation, buffer: io.StringIO, dialect: str
) -> None:
    if dialect == "sqlite" and needs_batch(op):
        buffer.write("-- SQLite: applied in batch mode (copy and rename the table); approximate:\n")
    try:
        operations.invoke(op)
    except NotImplementedError:
        buffer.write(f"-- {type(op).__name__} on {getattr(op, 'table_name', '?')}\n")
