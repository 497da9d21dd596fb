"""Planning the removal of statuses: records must not be left in a status that no longer exists.

Statuses live in the rulebook, not in the schema, so only the old rulebook can tell which
were removed. A removed status that no record holds is a note. One that records hold is
**refused** unless the administrator maps it to a status of the new version
(``status_map={"customer": {"on_hold": "interested"}}``); the mapped step is destructive
(the old values are archived first, then ``UPDATE … SET status = <new>``). A removed
status that a pending approval request starts from or leads to is refused in any case:
decide or withdraw those requests first.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa
from alembic.operations.ops import ExecuteSQLOp

from ...metadata.model import Entity, frozen_map
from .migration_steps import DESTRUCTIVE, SAFE, ArchiveSpec, MigrationStep
from .migration_text import render
from .plan_context import PlanContext

__all__ = ["plan_statuses", "StatusMap"]

StatusMap = Mapping[str, Mapping[str, str]]  # entity → removed status → status it becomes


def plan_statuses(ctx: PlanContext, status_map: StatusMap | None = None) -> list[MigrationStep]:
    """A step per status the new rulebook removes from an entity whose table exists."""
    if ctx.old is None:
        return []
    steps = []
    for name, entity in ctx.new.entities.items():
        old = ctx.old.entities.get(name)
        if old is None or old.statuses is None or entity.table_name not in ctx.live:
            continue
        if "status" not in ctx.live[entity.table_name].columns:
            continue
        mapping = (status_map or {}).get(name, {})
        for status in old.statuses.states:
            if entity.statuses is None or status not in entity.statuses.states:
                steps.append(_step(ctx, entity, status, mapping.get(status)))
    return steps


def _step(ctx: PlanContext, entity: Entity, status: str, target: str | None) -> MigrationStep:
    table = entity.table_name
    held = ctx.count(table, ctx.column(table, "status") == status)
    pending = _pending_requests(ctx, entity.name, status)
    details = frozen_map({"records": held, "pending_requests": pending, "target": target})
    label = ctx.entity_label(table)
    known = entity.statuses is not None and target in entity.statuses.states
    if held == 0 and pending == 0:
        text = render("remove_status", entity_label=label, status=status)
        return MigrationStep(
            "remove_status", table, SAFE, text, (), entity.name, "status", details=details
        )
    if pending or target is None or not known:
        text = render(
            "remove_status_refused",
            entity_label=label,
            status=status,
            count=held,
            pending=pending,
            target=target or "—",
        )
        return MigrationStep(
            "remove_status",
            table,
            SAFE,
            text,
            (),
            entity.name,
            "status",
            refused=True,
            details=details,
        )
    target_table = sa.table(table, sa.column("status", sa.String()))
    update = sa.update(target_table).where(target_table.c.status == status).values(status=target)
    text = render("map_status", entity_label=label, status=status, target=target, count=held)
    archive = ArchiveSpec("choice", table, entity.name, ("status",), choices=(status,))
    return MigrationStep(
        "map_status",
        table,
        DESTRUCTIVE,
        text,
        (ExecuteSQLOp(update),),
        entity.name,
        "status",
        archive=archive,
        details=details,
    )


def _pending_requests(ctx: PlanContext, entity: str, status: str) -> int:
    """Pending approval requests of ``entity`` starting from or leading to ``status``."""
    if "approval_requests" not in ctx.live:
        return 0
    entity_col = ctx.column("approval_requests", "entity")
    state = ctx.column("approval_requests", "status")
    source = ctx.column("approval_requests", "from_status")
    target = ctx.column("approval_requests", "to_status")
    return ctx.count(
        "approval_requests",
        entity_col == entity,
        state == "pending",
        sa.or_(source == status, target == status),
    )
