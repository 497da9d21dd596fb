"""Planning changes to the choices of choice and multi-choice fields.

Choices live in the rulebook, not in the schema, so only the old rulebook can tell what
changed. An added choice is a note (no schema change). A removed choice that no record
holds is a note too; one that records still hold is destructive: with archiving, the
values are copied to ``archived_values`` and then cleared (a choice) or taken out of the
list (a multi-choice). Tags are free text: their choices are only suggestions.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic.operations.ops import ExecuteSQLOp, MigrateOperation

from ...metadata.field_types import FIELD_TYPES
from ...metadata.model import Field, frozen_map
from ...metadata.sqltypes import JSONList
from .migration_steps import DESTRUCTIVE, SAFE, ArchiveSpec, MigrationStep
from .migration_text import render
from .plan_context import PlanContext

__all__ = ["plan_choices"]


def plan_choices(ctx: PlanContext) -> list[MigrationStep]:
    """Choice steps for every field whose choices changed between the two rulebooks."""
    if ctx.old is None:
        return []
    steps = []
    for name, entity in ctx.new.entities.items():
        old_entity = ctx.old.entities.get(name)
        if old_entity is None or entity.table_name not in ctx.live:
            continue
        for field in entity.fields.values():
            old_field = old_entity.fields.get(field.name)
            if _comparable(ctx, entity.table_name, field, old_field):
                steps += _field_steps(ctx, entity.table_name, old_field, field)  # type: ignore[arg-type]
    return steps


def _comparable(ctx: PlanContext, table: str, field: Field, old: Field | None) -> bool:
    return (
        old is not None
        and field.type in FIELD_TYPES
        and FIELD_TYPES[field.type].choices == "closed"  # tags' choices are suggestions
        and old.type == field.type
        and field.name in ctx.live[table].columns
        and (table, field.name) not in ctx.rebuilt_columns
    )


def _field_steps(ctx: PlanContext, table: str, old: Field, new: Field) -> list[MigrationStep]:
    entity = table[2:]
    before = [c.value for c in old.choices]
    after = {c.value for c in new.choices}
    steps = []
    for choice in new.choices:
        if choice.value not in before:
            text = render(
                "add_choice",
                entity_label=ctx.entity_label(table),
                column=new.name,
                value=choice.value,
                label=choice.label,
            )
            steps.append(MigrationStep("add_choice", table, SAFE, text, (), entity, new.name))
    for value in before:
        if value not in after:
            steps.append(_removal_step(ctx, table, new, value))
    return steps


def _removal_step(ctx: PlanContext, table: str, field: Field, value: str) -> MigrationStep:
    list_valued = FIELD_TYPES[field.type].list_valued
    count = _holders(ctx, table, field.name, value, list_valued)
    text = render(
        "remove_choice",
        entity_label=ctx.entity_label(table),
        column=field.name,
        value=value,
        count=count,
    )
    details = frozen_map({"values": count})
    if count == 0:
        return MigrationStep(
            "remove_choice", table, SAFE, text, (), table[2:], field.name, details=details
        )
    ops: tuple[MigrateOperation, ...] = ()
    if not list_valued:  # list values are taken out one record at a time (archive.py)
        target = sa.table(table, sa.column(field.name))
        column = target.c[field.name]
        update = sa.update(target).where(column == value).values({field.name: sa.null()})
        ops = (ExecuteSQLOp(update),)
    archive = ArchiveSpec(
        "choice", table, table[2:], (field.name,), choices=(value,), list_valued=list_valued
    )
    return MigrationStep(
        "remove_choice", table, DESTRUCTIVE, text, ops, table[2:], field.name,
        archive=archive, details=details,
    )  # fmt: skip


def _holders(ctx: PlanContext, table: str, column: str, value: str, list_valued: bool) -> int:
    """How many records hold ``value`` (for lists: contain it)."""
    if not list_valued:
        return ctx.count(table, ctx.column(table, column) == value)
    col = sa.table(table, sa.column(column, JSONList())).c[column]
    rows = ctx.connection.execute(sa.select(col).where(col.is_not(None)))
    return sum(1 for (values,) in rows if values and value in values)
