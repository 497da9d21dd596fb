"""Loading approval requests and writing the effects of an approval command: tasks, steps,
the request, the status change when the last step approves (or the move to ``on_reject``),
and the outbox events.

``ApprovalStore`` is a part of ``ApprovalService`` (a mixin): it uses the service's
connection, tables, actor and refusal mapping. ``StartStep`` resolves the next step's approvers
against the organisation (``parties.py``), applying segregation of duties and delegations,
and asks the pure core to start it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ..errors import NotFound, VersionConflict
from ..metadata.model import Entity
from .approval_state import (
    ACTIVE,
    APPROVED,
    REJECTED,
    VOID,
    WITHDRAWN,
    AddTask,
    CloseRequest,
    Facts,
    Refusal,
    RequestState,
    Result,
    SetStep,
    SetTask,
    StartStep,
    StepState,
    TaskState,
)
from .approvals import choose, excluded, start_step
from .history import current_period
from .snapshot import Definition
from .texts import wf_text

__all__ = ["ApprovalStore"]

_EVENTS = {APPROVED: "approved", REJECTED: "rejected", WITHDRAWN: "withdrawn", VOID: "voided"}


class ApprovalStore:
    """Loading and persisting (mixed into ``ApprovalService``, whose attributes it uses)."""

    wf: Any
    rt: Any
    conn: Any
    actor: Any
    requests: Any
    steps: Any
    tasks: Any

    # --- loading -------------------------------------------------------------------------------

    def _request(self, request_id: Any, lock: bool = False) -> Mapping[str, Any]:
        try:
            request_id = int(request_id)
        except (TypeError, ValueError):
            raise NotFound("approval") from None
        query = sa.select(self.requests).where(self.requests.c.id == request_id)
        if lock and self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = self.conn.execute(query).mappings().first()
        if row is None:
            raise NotFound("approval")
        return row

    def _state(self, row: Mapping[str, Any]) -> RequestState:
        steps = (
            self.conn.execute(
                sa.select(self.steps)
                .where(self.steps.c.request_id == row["id"])
                .order_by(self.steps.c.step_index)
            )
            .mappings()
            .all()
        )
        tasks = (
            self.conn.execute(
                sa.select(self.tasks)
                .where(self.tasks.c.request_id == row["id"])
                .order_by(self.tasks.c.id)
            )
            .mappings()
            .all()
        )
        return RequestState(
            id=row["id"],
            status=row["status"],
            definition=Definition.from_json(row["definition"]),
            requested_by=row["requested_by"],
            owner=row["owner_id"],
            current_step=row["current_step"],
            steps=tuple(StepState(s["step_index"], s["status"], s["round"]) for s in steps),
            tasks=tuple(
                TaskState(
                    t["id"],
                    t["step_index"],
                    t["approver_id"],
                    t["round"],
                    t["acting_approver_id"],
                    t["decision"],
                    t["decided_by"],
                    t["source"],
                )
                for t in tasks
            ),
        )

    def _facts(self, entity: Entity, record: Mapping[str, Any], state: RequestState) -> Facts:
        return Facts(
            state.requested_by, record.get("owner"), self._editors(entity, record, state.definition)
        )

    def _editors(
        self, entity: Entity, record: Mapping[str, Any], definition: Definition
    ) -> frozenset[int]:
        """Who changed a field under approval since the record entered its current status."""
        period = current_period(
            self.conn, self.rt.system_table("status_periods"), entity.name, record["id"]
        )
        since = period["entered_at"] if period else record.get("created_at")
        h = self.rt.system_table("record_history")
        query = sa.select(h.c.user_id, h.c.changes).where(
            h.c.entity == entity.name,
            h.c.record_id == record["id"],
            h.c.action.in_(["create", "update"]),
            h.c.user_id.is_not(None),
        )
        if since is not None:
            query = query.where(h.c.at >= since)
        editors = set()
        for user_id, changes in self.conn.execute(query):
            if any(
                definition.locks(k.rstrip("+")) for k in (changes or {}) if not k.startswith("_")
            ):
                editors.add(user_id)
        return frozenset(editors)

    # --- writing -------------------------------------------------------------------------

    def _persist(
        self,
        entity: Entity,
        record: dict[str, Any],
        result: Result,
        now: datetime,
        comment: str | None = None,
    ) -> dict[str, Any]:
        state = result.state
        for effect in result.effects:
            if isinstance(effect, SetTask):
                self._set_task(effect, now, comment)
            elif isinstance(effect, SetStep):
                self._set_step(state, effect, now)
            elif isinstance(effect, AddTask):
                self._add_task(entity, record, state, effect, now)
            elif isinstance(effect, StartStep):
                record = self._persist(
                    entity, record, self._start(entity, record, state, effect.index, now), now
                )
                state = self._state(self._request(state.id))
            elif isinstance(effect, CloseRequest):
                record = self._close(entity, record, state, effect, now, comment)
        self.conn.execute(
            self.requests.update()
            .where(self.requests.c.id == state.id)
            .values(current_step=state.current_step)
        )
        return record

    def _start(
        self,
        entity: Entity,
        record: Mapping[str, Any],
        state: RequestState,
        index: int,
        now: datetime,
    ) -> Result:
        step = state.definition.steps[index]
        denied, relaxed = excluded(state, self._facts(entity, record, state), index)
        chosen = choose([self.wf.org.levels(p, record) for p in step.approvers], denied)
        if len(chosen) < step.needed and step.escalate_to:
            chosen = choose([self.wf.org.levels(p, record) for p in step.escalate_to], denied)
        delegates = self.wf.org.delegates(chosen, now)
        try:
            return start_step(state, index, chosen, delegates, denied, relaxed)
        except Refusal as refusal:
            raise self._refused(refusal, state) from None

    def _set_task(self, e: SetTask, now: datetime, comment: str | None) -> None:
        values: dict[str, Any] = {
            "decision": e.decision,
            "decided_at": now,
            "decided_by": e.decided_by,
        }
        if e.decided_by is not None and e.decided_by == self.actor.user_id:
            values["comment"] = comment
            if e.decided_by != e.task.approver:
                values["acting_approver_id"] = e.decided_by
        result = self.conn.execute(
            self.tasks.update()
            .where(self.tasks.c.id == e.task.id, self.tasks.c.decision.is_(None))
            .values(**values)
        )
        if result.rowcount != 1:
            raise VersionConflict(wf_text("already_decided", self.wf.locale))

    def _set_step(self, state: RequestState, e: SetStep, now: datetime) -> None:
        values: dict[str, Any] = {"status": e.status, "round": e.round}
        if e.status == ACTIVE:
            step = state.definition.steps[e.index]
            values.update(
                started_at=now,
                decided_at=None,
                escalated_at=None,
                escalate_at=(
                    self.rt.calendar.add(now, step.escalate_after) if step.escalate_after else None
                ),
            )
        elif e.status in (APPROVED, REJECTED):
            values["decided_at"] = now
        self.conn.execute(
            self.steps.update()
            .where(self.steps.c.request_id == state.id, self.steps.c.step_index == e.index)
            .values(**values)
        )

    def _add_task(
        self,
        entity: Entity,
        record: Mapping[str, Any],
        state: RequestState,
        e: AddTask,
        now: datetime,
    ) -> None:
        t = e.task
        task_id = self.conn.execute(
            self.tasks.insert()
            .values(
                request_id=state.id,
                step_index=t.step,
                round=t.round,
                approver_id=t.approver,
                acting_approver_id=t.acting,
                source=t.source,
                added_by=e.added_by,
                relaxed=list(e.relaxed) or None,
                decision=None,
                created_at=now,
            )
            .returning(self.tasks.c.id)
        ).scalar_one()
        recipient = t.acting or t.approver
        self._event(
            "task",
            entity,
            record,
            state,
            task_id,
            now,
            recipient=recipient,
            step=state.definition.steps[t.step].name,
            approver=t.approver,
        )

    def _close(
        self,
        entity: Entity,
        record: dict[str, Any],
        state: RequestState,
        e: CloseRequest,
        now: datetime,
        comment: str | None,
    ) -> dict[str, Any]:
        self.conn.execute(
            self.requests.update()
            .where(self.requests.c.id == state.id)
            .values(status=e.status, decided_at=now, decided_by=self.actor.user_id)
        )
        d = state.definition
        if e.status == APPROVED:
            record = self._complete(entity, record, state, now, comment)
        elif e.status == REJECTED:
            self.wf.books.history(
                entity.name,
                record["id"],
                "approval_rejected",
                {},
                self.actor.user_id,
                now,
                transition=d.transition,
                request=state.id,
                comment=comment,
            )
            if d.on_reject != record.get("status") and self._known_status(entity, d.on_reject):
                record = self.wf.change_status(
                    entity,
                    record,
                    f"{d.transition}:rejected"[:64],
                    d.on_reject,
                    {},
                    now=now,
                    by=self.actor.user_id,
                    comment=comment,
                    request_id=state.id,
                )
            else:
                record = self.wf.write_row(entity, record, {}, now)
        elif e.status == WITHDRAWN:
            record = self.wf.write_row(entity, record, {}, now)
        self._event(_EVENTS[e.status], entity, record, state, state.id, now, comment=comment)
        return record

    def _complete(
        self,
        entity: Entity,
        record: dict[str, Any],
        state: RequestState,
        now: datetime,
        comment: str | None,
    ) -> dict[str, Any]:
        """The last step approved: take the pinned transition (its ``set`` as the requester)."""
        d = state.definition
        t = entity.transitions.get(d.transition)
        requester = self.wf.actor_for(state.requested_by)
        ctx = self.wf.eval_context(actor=requester, previous=record, now=now)
        if t is not None and t.target == d.target:
            final = self.wf.target_record(entity, t, record, ctx)
        else:  # the new rulebook version changed the transition: the pinned target counts
            final = {**record, "status": d.target}
        self.wf.validate(entity, final, ctx)
        updates = {k: final.get(k) for k in entity.fields if final.get(k) != record.get(k)}
        reason = self._request(state.id)["reason"]
        return self.wf.change_status(
            entity,
            record,
            d.transition,
            d.target,
            updates,
            now=now,
            by=self.actor.user_id,
            comment=comment,
            reason=reason,
            exception=d.exception,
            request_id=state.id,
        )

    def _known_status(self, entity: Entity, status: str) -> bool:
        return entity.statuses is not None and status in entity.statuses.states

    def _event(
        self,
        event: str,
        entity: Entity,
        record: Mapping[str, Any],
        state: RequestState,
        key: Any,
        now: datetime,
        recipient: Any = None,
        **payload: Any,
    ) -> None:
        body = {
            "request_id": state.id,
            "transition": state.definition.transition,
            "from": state.definition.source,
            "to": state.definition.target,
            "by": self.actor.user_id,
            "requested_by": state.requested_by,
            "owner": record.get("owner"),
            "exception": state.definition.exception,
            **payload,
        }
        self.wf.books.event(
            event, state.definition.transition, entity.name, record["id"], key, body, now, recipient
        )
