"""What the workflow engine adds to every write of an entity row (``HOOKS``, a ``RecordHooks``).

``RecordService`` runs the ``before_*`` checks, the row writer the ``after_*`` hooks, in the
writing transaction (registered by the wiring list, ``ruleform/wiring.py``):

* before a create or an update: the duplicate rules — ``block`` refuses, ``warn`` returns
  warnings (shown to the user with the saved record);
* after a create: the duplicate keys, the first status period (``entered_at`` for SLA
  clocks), an ``entered:<initial>`` event, and conflict cases (R17);
* after an update: the duplicate keys of changed fields, and a pending approval request
  whose locked fields changed (values or supplements) is voided (not by the transition
  that decides it);
* after an archive: a pending approval request of the record is voided (nobody may
  approve a change to a record that left the lists).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..metadata.model import Entity
from ..platform.records.hooks import Write
from .approval_service import ApprovalService
from .duplicates import check_write, open_conflicts, refresh_keys
from .history import Books
from .service import WorkflowService
from .snapshot import Definition

__all__ = ["HOOKS", "WorkflowHooks"]


class WorkflowHooks:
    """Duplicate rules, status periods and approval locks on every write (``write``: who
    writes, in which transaction)."""

    def before_create(self, write: Write, entity: Entity, row: Mapping[str, Any]) -> list[str]:
        conflicts: dict[str, Any] = {}
        write.hook_state["conflicts"] = conflicts
        return check_write(write.rt, write.conn, write.actor, entity, row, None, conflicts)

    def after_create(
        self, write: Write, entity: Entity, record: Mapping[str, Any], now: datetime
    ) -> None:
        refresh_keys(write.rt, write.conn, entity, record, created=True)
        if entity.statuses is not None:
            books = Books(write.rt, write.conn)
            user = write.actor.user_id
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
        known = write.hook_state.pop("conflicts", None)
        open_conflicts(write.rt, write.conn, entity, record, now, known)

    def before_update(
        self, write: Write, entity: Entity, record: Mapping[str, Any], changed: set[str]
    ) -> list[str]:
        return check_write(write.rt, write.conn, write.actor, entity, record, changed)

    def after_update(
        self,
        write: Write,
        entity: Entity,
        record: Mapping[str, Any],
        changed: set[str],
        now: datetime,
        action: str = "update",
    ) -> None:
        if action != "update":  # a transition, an approval request: the engine's own writes
            changed = changed - {"status"}
            if changed:
                refresh_keys(write.rt, write.conn, entity, record, changed)
            return
        refresh_keys(write.rt, write.conn, entity, record, changed)
        if entity.statuses is not None and changed:
            _void_pending(write, entity, record, changed)

    def after_archive(
        self, write: Write, entity: Entity, record: Mapping[str, Any], now: datetime
    ) -> None:
        if entity.statuses is not None:
            _void_pending(write, entity, record, None)


def _void_pending(
    write: Write, entity: Entity, record: Mapping[str, Any], changed: set[str] | None
) -> None:
    """Void the record's pending request if ``changed`` touches a locked field (``None``:
    in any case, the record was archived)."""
    workflow = WorkflowService(write.rt, write.conn, write.actor)
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


#: The workflow engine's hooks; the wiring list registers them (``register_record_hooks``).
HOOKS = WorkflowHooks()
