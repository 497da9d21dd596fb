"""Planning the indexes of tables that exist: drop stale ones, create missing ones.

An index is compared by name (names encode table and columns, see ``naming.py``), then
by columns and uniqueness. A new unique index over values that are already duplicated
would fail; the planner counts the duplicates first and marks the step *refused* with
the count and a few examples, so the plan says what to clean up.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic.operations.ops import CreateIndexOp, DropIndexOp

from ...metadata.model import frozen_map
from .live_schema import LiveTable
from .migration_steps import SAFE, MigrationStep
from .migration_text import render
from .plan_context import PlanContext
from .tables import entity_of_table

__all__ = ["plan_indexes", "count_duplicates"]

_EXAMPLES = 3


def plan_indexes(ctx: PlanContext, table: sa.Table, live: LiveTable) -> list[MigrationStep]:
    """Index steps for ``table``, which exists (its other steps are already planned)."""
    wanted = {str(index.name): index for index in table.indexes}
    steps = []
    for name, index in sorted(live.indexes.items()):
        if (live.name, name) in ctx.dropped_indexes:
            continue
        target = wanted.get(name)
        columns = plain_columns(target) if target is not None else ()
        if target is None or columns != index.columns or bool(target.unique) != index.unique:
            ctx.dropped_indexes.add((live.name, name))
            steps.append(_drop_step(ctx, live.name, name))
    for name, index in sorted(wanted.items()):
        if name in live.indexes and (live.name, name) not in ctx.dropped_indexes:
            continue
        steps.append(_create_step(ctx, index))
    return steps


def plain_columns(index: sa.Index) -> tuple[str, ...]:
    """The index's columns as reflection reports them: none for an expression index
    (``lower(username)``), which is then compared by name and uniqueness only."""
    if any(not isinstance(e, sa.Column) for e in index.expressions):
        return ()
    return tuple(c.name for c in index.columns)


def _drop_step(ctx: PlanContext, table: str, name: str) -> MigrationStep:
    text = render("drop_index", entity_label=ctx.entity_label(table), index=name)
    op = DropIndexOp(name, table_name=table)
    return MigrationStep("drop_index", table, SAFE, text, (op,), entity_of_table(table))


def _create_step(ctx: PlanContext, index: sa.Index) -> MigrationStep:
    table = index.table.name  # type: ignore[union-attr]
    columns = tuple(c.name for c in index.columns)
    label = ", ".join(f"'{c}'" for c in columns)
    words: dict[str, Any] = {"entity_label": ctx.entity_label(table), "columns": label}
    op = CreateIndexOp.from_index(index)
    kind = "add_unique" if index.unique else "add_index"
    details: dict[str, Any] = {}
    fresh = any((table, c) in ctx.rebuilt_columns for c in columns)
    existing = all(c in ctx.live[table].columns for c in columns)
    if index.unique and existing and not fresh:
        groups, rows, examples = count_duplicates(ctx, table, columns)
        if groups:
            details = {"duplicate_values": groups, "rows": rows, "examples": examples}
            shown = ", ".join(f"{value!r} ×{n}" for value, n in examples)
            text = render("add_unique_refused", **words, groups=groups, rows=rows, examples=shown)
            return MigrationStep(
                kind, table, SAFE, text, (op,), entity_of_table(table), columns[0],
                refused=True, details=frozen_map(details),
            )  # fmt: skip
    text = render(kind, **words)
    return MigrationStep(kind, table, SAFE, text, (op,), entity_of_table(table), columns[0])


def count_duplicates(
    ctx: PlanContext, table: str, columns: tuple[str, ...]
) -> tuple[int, int, list[tuple[Any, int]]]:
    """(values used more than once, records holding them, a few examples with counts)."""
    cols = [ctx.column(table, c) for c in columns]
    n = sa.func.count().label("n")
    grouped = (
        sa.select(*cols, n)
        .where(*(c.is_not(None) for c in cols))
        .group_by(*cols)
        .having(sa.func.count() > 1)
    )
    sub = grouped.subquery()
    total = sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(sub.c.n), 0))
    groups, rows = ctx.connection.execute(total).one()
    examples = ctx.connection.execute(grouped.order_by(sa.desc("n")).limit(_EXAMPLES)).all()
    shown = [
        (row[0] if len(columns) == 1 else tuple(row[: len(columns)]), row[-1]) for row in examples
    ]
    return int(groups), int(rows), shown
