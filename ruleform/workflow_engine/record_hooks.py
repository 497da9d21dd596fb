"""What the workflow engine adds to every write of the record service (``HOOKS``).

``RecordService.create`` / ``update`` call these in their transaction:

* before a create or an update: the duplicate rules — ``block`` refuses, ``warn`` returns
  warnings (shown to the user with the saved record);
* after a create: the duplicate keys, the first status period (``entered_at`` for SLA
  clocks), an ``entered:<initial>`` event, and conflict cases (R17);
* after an update: the duplicate keys of changed fields, and a pending approval request
  whose locked fields changed (values or supplements) is voided;
* after an archive: a pending approval request of the record is voided (nobody may
  approve a change to a record that left the lists).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..metadata.model import Entity
from .duplicates import check_write, open_conflicts, refresh_keys
from .snapshot import Definition

__all__ = ["HOOKS", "WorkflowHooks"]


class WorkflowHooks:
    """The record service calls these; ``service`` is the calling ``RecordService``."""

    def before_create(self, service: Any, entity: Entity, row: Mapping[str, Any]) -> list[str]:
        conflicts: dict[str, Any] = {}
        service.hook_state["conflicts"] = conflicts
        return check_write(service.rt, service.conn, service.actor, entity, row, None, conflicts)

    def after_create(
        self, service: Any, entity: Entity, record: Mapping[str, Any], now: datetime
    ) -> None:
        from .history import Books

        refresh_keys(service.rt, service.conn, entity, record, created=True)
        if entity.statuses is not None:
            books = Books(service.rt, service.conn)
            user = service.actor.user_id
            period = books.enter_status(
                entity.name, record["id"], record["status"], now, user, None, first=True
            )
            books.event(
                "entered",
                record["status"],
                entity.name,
                record["id"],
                period,
                {"to": record["status"], "by": user, "owner": record.get("owner"), "created": True},
                now,
            )
        known = service.hook_state.pop("conflicts", None)
        open_conflicts(service.rt, service.conn, entity, record, now, known)

    def before_update(
        self, service: Any, entity: Entity, record: Mapping[str, Any], changed: set[str]
    ) -> list[str]:
        return check_write(service.rt, service.conn, service.actor, entity, record, changed)

    def after_update(
        self,
        service: Any,
        entity: Entity,
        record: Mapping[str, Any],
        changed: set[str],
        now: datetime,
    ) -> None:
        refresh_keys(service.rt, service.conn, entity, record, changed)
        if entity.statuses is not None and changed:
            _void_pending(service, entity, record, changed)

    def after_archive(
        self, service: Any, entity: Entity, record: Mapping[str, Any], now: datetime
    ) -> None:
        if entity.statuses is not None:
            _void_pending(service, entity, record, None)


def _void_pending(
    service: Any, entity: Entity, record: Mapping[str, Any], changed: set[str] | None
) -> None:
    """Void the record's pending request if ``changed`` touches a locked field (``None``:
    in any case, the record was archived)."""
    from .approval_service import ApprovalService
    from .service import WorkflowService

    workflow = WorkflowService(service.rt, service.conn, service.actor)
    pending = workflow.pending_request(entity.name, record["id"])
    if pending is None:
        return
    if changed is None:
        ApprovalService(workflow).void(pending["id"], ["archived"])
        return
    definition = Definition.from_json(pending["definition"])
    touched = sorted(f for f in changed if definition.locks(f))
    if touched:
        ApprovalService(workflow).void(pending["id"], touched)


#: The hooks the record service runs (see ``RecordService``); others may append theirs.
HOOKS: list[Any] = [WorkflowHooks()]
