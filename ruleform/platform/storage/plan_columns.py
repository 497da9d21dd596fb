"""Planning the columns of a table that exists: add, widen, narrow, change, drop.

Safe: a new column, a wider type (longer string, string → text, wider number), allowing
empty values, a changed ``on delete`` rule. Destructive (needs archiving): a removed
column, a narrower type, another type, a link to another table. A destructive change of
type drops the column and adds it again; with archiving, the old values are copied out
first and written back where they convert without loss (see ``archive.py``).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic.operations.ops import (
    AddColumnOp,
    AlterColumnOp,
    CreateForeignKeyOp,
    DropColumnOp,
    DropConstraintOp,
    MigrateOperation,
)

from ...metadata.model import frozen_map
from .live_schema import LiveColumn, LiveTable, normalise_rule
from .migration_steps import DESTRUCTIVE, SAFE, ArchiveSpec, MigrationStep
from .migration_text import render, type_words
from .plan_context import PlanContext
from .tables import detached_column, entity_of_table
from .typesig import TypeSig, compare_types

__all__ = ["plan_columns"]


def plan_columns(ctx: PlanContext, table: sa.Table, live: LiveTable) -> list[MigrationStep]:
    """Steps that make the live columns of ``table`` match the target's."""
    steps = [_drop_step(ctx, live, name) for name in live.columns if name not in table.c]
    for column in table.columns:
        if column.name in live.columns:
            steps += _alter_steps(ctx, column, live.columns[column.name], live)
        else:
            steps.append(_add_step(ctx, column))
    return steps


def _words(ctx: PlanContext, table: str, **params: Any) -> dict[str, Any]:
    return {"entity_label": ctx.entity_label(table), **params}


def _size_text(sig: TypeSig) -> Any:
    return type_words(sig.family, sig.sql, sig.length)


def _add_column_op(column: sa.Column) -> AddColumnOp:
    """Add a copy of ``column`` (with its named foreign key)."""
    return AddColumnOp(column.table.name, detached_column(column))


def _add_step(ctx: PlanContext, column: sa.Column) -> MigrationStep:
    table = column.table.name
    op = _add_column_op(column)
    is_field = entity_of_table(table) is not None and ctx.field(table, column.name) is not None
    if is_field:
        text = render(
            "add_column",
            **_words(ctx, table, column=column.name, label=ctx.field_label(table, column.name)),
        )
    else:
        text = render("add_system_column", column=column.name, table=table)
    refused = False
    details: dict[str, Any] = {}
    if not column.nullable and column.server_default is None:
        rows = ctx.count(table)
        if rows:
            refused, details = True, {"rows": rows}
            text = render("refused_not_null", column=column.name, table=table, count=rows)
    return MigrationStep(
        "add_column", table, SAFE, text, (op,), entity_of_table(table), column.name,
        refused=refused, details=frozen_map(details),
    )  # fmt: skip


def _drop_step(ctx: PlanContext, live: LiveTable, name: str) -> MigrationStep:
    table = live.name
    ctx.rebuilt_columns.add((table, name))
    ops: list[MigrateOperation] = [*ctx.drop_indexes_on(table, name), DropColumnOp(table, name)]
    count = ctx.count_values(table, name)
    text = render(
        "drop_column",
        **_words(ctx, table, column=name, label=ctx.field_label(table, name), count=count),
    )
    entity = entity_of_table(table) or table
    archive = ArchiveSpec("column", table, entity, (name,))
    return MigrationStep(
        "drop_column", table, DESTRUCTIVE, text, tuple(ops), entity_of_table(table), name,
        archive=archive, details=frozen_map({"values": count}),
    )  # fmt: skip


def _link_of(column: sa.Column) -> tuple[str, str] | None:
    for key in column.foreign_keys:
        return key.target_fullname.split(".")[0], normalise_rule(key.ondelete)
    return None


def _alter_steps(
    ctx: PlanContext, column: sa.Column, live_col: LiveColumn, live: LiveTable
) -> list[MigrationStep]:
    change = compare_types(live_col.sig, ctx.sig(column.type))
    wanted = _link_of(column)
    have = live.links.get(column.name)
    same_target = (wanted[0] if wanted else None) == (have.table if have else None)
    if change in ("narrow", "change") or not same_target:
        return [_rebuild_step(ctx, column, live_col, change, keep_values=same_target)]
    steps = []
    if change == "widen":
        steps.append(_widen_step(ctx, column, live_col))
    if column.nullable != live_col.nullable:
        steps.append(_nullable_step(ctx, column, live_col))
    if wanted is not None and (have is None or have.ondelete != wanted[1]):
        steps.append(_relink_step(ctx, column, have.name if have else None, wanted))
    return steps


def _widen_step(ctx: PlanContext, column: sa.Column, live_col: LiveColumn) -> MigrationStep:
    table = column.table.name
    op = AlterColumnOp(
        table,
        column.name,
        modify_type=column.type,
        existing_type=live_col.type,
        existing_nullable=live_col.nullable,
    )
    old, new = _size_text(live_col.sig), _size_text(ctx.sig(column.type))
    text = render("widen_column", **_words(ctx, table, column=column.name, old=old, new=new))
    return MigrationStep(
        "widen_column", table, SAFE, text, (op,), entity_of_table(table), column.name
    )


def _nullable_step(ctx: PlanContext, column: sa.Column, live_col: LiveColumn) -> MigrationStep:
    table = column.table.name
    op = AlterColumnOp(
        table,
        column.name,
        modify_nullable=column.nullable,
        existing_type=live_col.type,
        existing_nullable=live_col.nullable,
    )
    if column.nullable:
        text = render("allow_empty", **_words(ctx, table, column=column.name))
        return MigrationStep(
            "alter_nullable", table, SAFE, text, (op,), entity_of_table(table), column.name
        )
    empty = ctx.count(table, ctx.column(table, column.name).is_(None))
    text = render("require_value", **_words(ctx, table, column=column.name, count=empty))
    return MigrationStep(
        "alter_nullable", table, SAFE, text, (op,), entity_of_table(table), column.name,
        refused=empty > 0, details=frozen_map({"empty": empty}),
    )  # fmt: skip


def _relink_step(
    ctx: PlanContext, column: sa.Column, live_name: str | None, wanted: tuple[str, str]
) -> MigrationStep:
    table = column.table.name
    key = next(iter(column.foreign_keys))
    ops: list[MigrateOperation] = []
    if live_name:
        ops.append(DropConstraintOp(live_name, table, type_="foreignkey"))
    ops.append(
        CreateForeignKeyOp(key.name, table, wanted[0], [column.name], ["id"], ondelete=key.ondelete)
    )
    text = render(
        "alter_link",
        **_words(
            ctx, table, column=column.name, target=ctx.entity_label(wanted[0]), rule=wanted[1]
        ),
    )
    return MigrationStep(
        "alter_link", table, SAFE, text, tuple(ops), entity_of_table(table), column.name
    )


def _rebuild_step(
    ctx: PlanContext, column: sa.Column, live_col: LiveColumn, change: str, keep_values: bool
) -> MigrationStep:
    """Drop the column and add it again with the new type (destructive)."""
    table = column.table.name
    ctx.rebuilt_columns.add((table, column.name))
    ops: list[MigrateOperation] = [
        *ctx.drop_indexes_on(table, column.name),
        DropColumnOp(table, column.name),
        _add_column_op(column),
    ]
    new_sig = ctx.sig(column.type)
    old, new = _size_text(live_col.sig), _size_text(new_sig)
    values = ctx.count_values(table, column.name)
    if change == "narrow" and new_sig.family == "string":
        too_long = sa.func.length(ctx.column(table, column.name)) > (new_sig.length or 0)
        kind, count = "narrow_column", ctx.count(table, too_long)
    else:
        kind, count = "change_type", values
    text = render(kind, **_words(ctx, table, column=column.name, old=old, new=new, count=count))
    archive = ArchiveSpec(
        "column",
        table,
        entity_of_table(table) or table,
        (column.name,),
        rewrite_type=column.type if keep_values else None,
    )
    return MigrationStep(
        kind, table, DESTRUCTIVE, text, tuple(ops), entity_of_table(table), column.name,
        archive=archive, details=frozen_map({"values": values, "affected": count}),
    )  # fmt: skip
