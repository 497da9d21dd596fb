"""Planning whole tables: create the new ones (with their indexes), drop removed entities.

New tables are created in foreign-key order. Where tables refer to each other in a
cycle (departments ↔ users, or two entities linking to each other), PostgreSQL gets the
key that closes the cycle as a separate step once both tables exist; SQLite accepts a
key to a table that does not exist yet, so there every key stays in ``CREATE TABLE``.
"""

from __future__ import annotations

import graphlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic.operations.ops import (
    CreateForeignKeyOp,
    CreateIndexOp,
    CreateTableOp,
    DropConstraintOp,
    DropTableOp,
    MigrateOperation,
)

from .migration_steps import DESTRUCTIVE, SAFE, ArchiveSpec, MigrationStep
from .migration_text import render
from .plan_context import PlanContext
from .tables import detached_column, entity_of_table

__all__ = ["plan_new_tables", "plan_dropped_tables"]

Deferred = dict[str, list[sa.ForeignKeyConstraint]]


def plan_new_tables(ctx: PlanContext) -> tuple[list[MigrationStep], list[MigrationStep]]:
    """(create-table steps, steps adding deferred keys — to run after everything else)."""
    new = [t for t in ctx.target.tables.values() if t.name not in ctx.live]
    order, deferred = _creation_order(new)
    if ctx.dialect != "postgresql":
        deferred = {}
    creates = [_create_step(ctx, t, deferred.get(t.name, [])) for t in order]
    links = [_link_step(ctx, fkc) for t in order for fkc in deferred.get(t.name, [])]
    return creates, links


def _creation_order(tables: Sequence[sa.Table]) -> tuple[list[sa.Table], Deferred]:
    """Tables in dependency order, and the keys left out to break cycles (by table)."""
    by_name = {t.name: t for t in tables}
    edges = {
        t.name: {_target(fkc) for fkc in t.foreign_key_constraints} & by_name.keys() - {t.name}
        for t in tables
    }
    deferred: Deferred = {}
    while True:
        try:
            names = list(graphlib.TopologicalSorter(edges).static_order())
            return [by_name[n] for n in names], deferred
        except graphlib.CycleError as error:
            cycle = error.args[1]  # cycle[i + 1] refers to cycle[i]
            source, target = cycle[1], cycle[0]
            edges[source].discard(target)
            keys = [k for k in by_name[source].foreign_key_constraints if _target(k) == target]
            deferred.setdefault(source, []).extend(keys)


def _target(fkc: sa.ForeignKeyConstraint) -> str:
    return fkc.elements[0].target_fullname.split(".")[0]


def _create_step(
    ctx: PlanContext, table: sa.Table, skip: list[sa.ForeignKeyConstraint]
) -> MigrationStep:
    ops: list[MigrateOperation] = [_create_table_op(table, skip)]
    ops += [CreateIndexOp.from_index(index) for index in sorted(table.indexes, key=_index_name)]
    entity = ctx.entity(table.name) if entity_of_table(table.name) else None
    if entity is not None:
        text = render(
            "create_table", entity_label=entity.label, table=table.name, count=len(entity.fields)
        )
    else:
        text = render("create_system_table", table=table.name)
    return MigrationStep(
        "create_table",
        table.name,
        SAFE,
        text,
        tuple(ops),
        entity=entity.name if entity else None,
    )


def _index_name(index: sa.Index) -> str:
    return str(index.name)


def _create_table_op(table: sa.Table, skip: list[sa.ForeignKeyConstraint]) -> CreateTableOp:
    """``CREATE TABLE`` with named keys, leaving out the keys in ``skip``."""
    items: list[sa.schema.SchemaItem] = [detached_column(c, keys=False) for c in table.columns]
    pk = table.primary_key
    items.append(sa.PrimaryKeyConstraint(*(c.name for c in pk.columns), name=pk.name))
    for fkc in sorted(table.foreign_key_constraints, key=lambda k: str(k.name)):
        if fkc not in skip:
            items.append(
                sa.ForeignKeyConstraint(
                    [c.name for c in fkc.columns],
                    [e.target_fullname for e in fkc.elements],
                    name=fkc.name,
                    ondelete=fkc.ondelete,
                )
            )
    return CreateTableOp(table.name, items)


def _link_step(ctx: PlanContext, fkc: sa.ForeignKeyConstraint) -> MigrationStep:
    table = fkc.table.name
    column = fkc.columns[0].name if len(fkc.columns) else ""
    op = CreateForeignKeyOp.from_constraint(fkc)
    text = render(
        "add_link",
        column=column,
        entity_label=ctx.entity_label(table),
        target=ctx.entity_label(_target(fkc)),
    )
    return MigrationStep("add_foreign_key", table, SAFE, text, (op,), column=column)


def plan_dropped_tables(ctx: PlanContext) -> list[MigrationStep]:
    """Drop every live entity table the new rulebook no longer has (destructive)."""
    dropped = [
        live for name, live in ctx.live.items()
        if entity_of_table(name) and name not in ctx.target.tables
    ]  # fmt: skip
    names = {live.name for live in dropped}
    steps = []
    for n, live in enumerate(dropped):
        ops: list[MigrateOperation] = []
        if n == 0 and ctx.dialect == "postgresql":  # keys between dropped tables go first
            ops += [
                DropConstraintOp(link.name, other.name, type_="foreignkey")
                for other in dropped
                for link in other.links.values()
                if link.table in names and link.table != other.name and link.name
            ]
        ops.append(DropTableOp(live.name))
        entity = entity_of_table(live.name) or live.name
        columns = tuple(c for c in live.columns if c != "id")
        text = render(
            "drop_table",
            entity_label=ctx.entity_label(live.name),
            table=live.name,
            count=ctx.count(live.name),
        )
        archive = ArchiveSpec("table", live.name, entity, columns)
        steps.append(
            MigrationStep(
                "drop_table", live.name, DESTRUCTIVE, text, tuple(ops), entity, archive=archive
            )
        )
    return steps
