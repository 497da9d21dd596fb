"""Approval requests, the I/O shell around ``approvals`` (pure): submit, decide, withdraw,
return (退回), add an approver (加签), transfer (转交), void and escalate.

Every command locks the record row first, then the request row, reloads the request and
asks the pure core; the effects it returns are written with history rows and outbox events
in the caller's transaction. When the last step approves, the status changes through
``WorkflowService.change_status`` (the same path as a transition without approval); a
rejection moves the record to the pinned ``on_reject`` status. A second decision racing
the first finds the task or the request already closed and gets a ``VersionConflict``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ..errors import NotFound, PermissionDenied, TransitionNotAllowed, VersionConflict
from ..metadata.conditions import EvalContext
from ..metadata.model import Entity, Transition
from ..platform.runtime import utcnow
from .approvals import (
    ACTIVE, APPROVED, PENDING, REJECTED, VOID, WITHDRAWN, AddTask, CloseRequest,
    Facts, Refusal, RequestState, Result, SetStep, SetTask, StartStep, StepState, TaskState,
    add_approver, choose, decide, escalate, excluded, initial_steps, next_step, return_to,
    start_step, transfer, void, withdraw,
)  # fmt: skip
from .history import current_period
from .snapshot import Definition
from .texts import wf_text

if TYPE_CHECKING:
    from .service import TransitionResult, WorkflowService

__all__ = ["ApprovalService", "escalate_due"]

_CONFLICTS = ("not_pending", "already_decided")


class ApprovalService:
    """Approval commands for the workflow service's actor and connection."""

    def __init__(self, wf: WorkflowService):
        self.wf = wf
        self.rt, self.conn, self.actor = wf.rt, wf.conn, wf.actor
        self.requests = self.rt.system_table("approval_requests")
        self.steps = self.rt.system_table("approval_steps")
        self.tasks = self.rt.system_table("approval_tasks")

    # --- submitting ---------------------------------------------------------------------------

    def submit(self, entity: Entity, t: Transition, stored: Mapping[str, Any],
               values: Mapping[str, Any], comment: str | None, reason: str | None,
               ctx: EvalContext) -> TransitionResult:  # fmt: skip
        """Open a request for ``t``: the given values are written, the status stays."""
        from .service import TransitionResult

        assert t.approval is not None
        definition = Definition.of(t, stored["status"])
        record = {**stored, **values}
        self.wf.validate(entity, self.wf.target_record(entity, t, record, ctx), ctx)
        applies = [s.when is None or bool(s.when.evaluate(record, ctx)) for s in t.approval.steps]
        now = utcnow()
        record = self.wf.write_row(entity, stored, {**values, "updated_by": self.actor.user_id}, now)
        request_id = self._insert(entity, record, definition, values, comment, reason, now)
        state = RequestState(request_id, PENDING, definition, self.actor.user_id,
                             record.get("owner"), None, initial_steps(applies))  # fmt: skip
        self.conn.execute(self.steps.insert(), [
            {"request_id": request_id, "step_index": s.index, "name": d.name, "mode": d.mode,
             "at_least": d.at_least, "status": s.status, "round": 0}
            for s, d in zip(state.steps, definition.steps, strict=True)])  # fmt: skip
        self.wf.books.history(entity.name, record["id"], "approval_requested",
                              {k: (stored.get(k), v) for k, v in values.items()},
                              self.actor.user_id, now, transition=t.name, request=request_id,
                              comment=comment, reason=reason, exception=t.exception or None)  # fmt: skip
        self._event("requested", entity, record, state, request_id, now)
        first = next_step(state, None)
        # every step skipped (their `when` is false): approved at once
        result = Result(state, [StartStep(first)] if first is not None else [CloseRequest(APPROVED)])
        record = self._persist(entity, record, result, now)
        return TransitionResult("pending" if first is not None else "done", entity.name,
                                record["id"], record["status"], record["row_version"],
                                request_id)  # fmt: skip

    def _insert(self, entity: Entity, record: Mapping[str, Any], definition: Definition,
                values: Mapping[str, Any], comment: str | None, reason: str | None,
                now: datetime) -> int:  # fmt: skip
        from ..platform.records.values import to_json

        try:
            with self.conn.begin_nested():
                return self.conn.execute(self.requests.insert().values(
                    entity=entity.name, record_id=record["id"], transition=definition.transition,
                    from_status=definition.source, to_status=definition.target,
                    rulebook_version=self.rt.version, definition=definition.to_json(),
                    requested_by=self.actor.user_id, owner_id=record.get("owner"),
                    status=PENDING, exception=definition.exception, reason=reason,
                    comment=comment, payload=to_json(dict(values)), current_step=None,
                    created_at=now).returning(self.requests.c.id)).scalar_one()  # fmt: skip
        except sa.exc.IntegrityError:  # another request got there first
            raise VersionConflict(wf_text("approval_pending", self.wf.locale)) from None

    # --- commands on a request ------------------------------------------------------------------

    def decide(self, request_id: Any, decision: str, comment: str | None = None) -> dict[str, Any]:
        """Approve (``approved``) or reject (``rejected``) the actor's task, with a comment."""
        return self._command(request_id, comment, lambda s, f, d: decide(
            s, self._uid(), decision, f, d), "approval_decision", decision=decision)  # fmt: skip

    def withdraw(self, request_id: Any, comment: str | None = None) -> dict[str, Any]:
        """撤回: the requester recalls the request (per its withdraw policy)."""
        return self._command(request_id, comment, lambda s, f, d: withdraw(s, self._uid()),
                             "approval_withdrawn")  # fmt: skip

    def return_to(self, request_id: Any, step: Any, comment: str | None = None) -> dict[str, Any]:
        """退回: send the request back to an earlier step (index or name)."""

        def run(s: RequestState, f: Facts, d: set[int]) -> Result:
            return return_to(s, self._uid(), _step_index(s, step), d)

        return self._command(request_id, comment, run, "approval_returned", to_step=step)

    def add_approver(self, request_id: Any, user_id: Any, comment: str | None = None) -> dict[str, Any]:
        """加签: add a further approver to the current step."""
        user = self._active_user(user_id)
        return self._command(request_id, comment, lambda s, f, d: add_approver(
            s, self._uid(), user, f, d), "approval_added", user=user)  # fmt: skip

    def transfer(self, request_id: Any, user_id: Any, comment: str | None = None) -> dict[str, Any]:
        """转交: hand the actor's task to someone else."""
        user = self._active_user(user_id)
        return self._command(request_id, comment, lambda s, f, d: transfer(
            s, self._uid(), user, f, d), "approval_transferred", to=user)  # fmt: skip

    def void(self, request_id: int, fields: list[str]) -> None:
        """An edit of a locked field voids the request (called from the record hook)."""
        self._command(request_id, None, lambda s, f, d: void(s), "approval_voided",
                      lock=False, fields=fields)  # fmt: skip

    def escalate(self, request_id: Any) -> dict[str, Any]:
        """The current step waited too long: its ``escalate_to`` people get tasks too."""

        def run(s: RequestState, f: Facts, d: set[int]) -> Result:
            step = s.definition.steps[s.current_step or 0]
            record = self._record
            levels = [self.wf.org.levels(p, record) for p in step.escalate_to]
            denied, _ = excluded(s, f, s.current_step or 0)
            return escalate(s, choose(levels, denied), f)

        return self._command(request_id, None, run, "approval_escalated", escalation=True)

    def _uid(self) -> int:
        if self.actor.user_id is None:
            raise PermissionDenied("system")
        return self.actor.user_id

    def _active_user(self, user_id: Any) -> int:
        try:
            found = self.wf.org.active([int(user_id)])
        except (TypeError, ValueError):
            found = []
        if not found:
            raise TransitionNotAllowed(wf_text("unknown_user", self.wf.locale),
                                       [wf_text("unknown_user", self.wf.locale)])  # fmt: skip
        return found[0]

    def _command(self, request_id: Any, comment: str | None, run: Any, action: str,
                 lock: bool = True, escalation: bool = False, **details: Any) -> dict[str, Any]:  # fmt: skip
        row = self._request(request_id)
        entity = self.rt.rulebook.entities.get(row["entity"])
        if entity is None:
            raise NotFound(row["entity"])
        record = self.wf.load(entity, row["record_id"], lock=lock, scoped=False)
        row = self._request(request_id, lock=lock)
        state = self._state(row)
        now = utcnow()
        self._record = record
        delegators = self.wf.org.delegators(self.actor.user_id, now)
        facts = self._facts(entity, record, state)
        try:
            result = run(state, facts, delegators)
        except Refusal as refusal:
            raise self._refused(refusal, state) from None
        on_behalf = self._on_behalf(result)
        if escalation:
            self.conn.execute(self.steps.update().where(
                self.steps.c.request_id == state.id,
                self.steps.c.step_index == state.current_step).values(escalated_at=now))  # fmt: skip
            index = state.current_step or 0
            self._event("escalated", entity, record, state,
                        f"{state.id}:{index}:{state.steps[index].round}", now,
                        step=state.definition.steps[index].name)  # fmt: skip
        step = state.definition.steps[state.current_step] if state.current_step is not None else None
        self.wf.books.history(entity.name, record["id"], action, {}, self.actor.user_id, now,
                              transition=state.definition.transition, request=state.id,
                              step=step.name if step else None, comment=comment,
                              on_behalf_of=on_behalf, relaxed=self._relaxed(result), **details)  # fmt: skip
        record = self._persist(entity, record, result, now, comment)
        return {"request_id": state.id, "status": self._request(state.id)["status"],
                "record_status": record["status"], "row_version": record["row_version"]}  # fmt: skip

    def _on_behalf(self, result: Result) -> int | None:
        for e in result.effects:
            if isinstance(e, SetTask) and e.decided_by == self.actor.user_id:
                return e.task.approver if e.task.approver != self.actor.user_id else None
        return None

    def _relaxed(self, result: Result) -> list[str]:
        for e in result.effects:
            if isinstance(e, SetTask) and e.decided_by == self.actor.user_id:
                row = self.conn.execute(sa.select(self.tasks.c.relaxed).where(
                    self.tasks.c.id == e.task.id)).scalar()  # fmt: skip
                return list(row or [])
        return []

    def _refused(self, refusal: Refusal, state: RequestState) -> Exception:
        text = wf_text(refusal.code, self.wf.locale, **refusal.params)
        if refusal.code in _CONFLICTS:
            return VersionConflict(wf_text("already_decided", self.wf.locale))
        if refusal.code == "not_your_task":
            if any(t.approver == self.actor.user_id or t.decided_by == self.actor.user_id
                   or t.acting == self.actor.user_id for t in state.tasks):  # fmt: skip
                return VersionConflict(wf_text("already_decided", self.wf.locale))
            return PermissionDenied(text)
        if refusal.code == "withdraw_not_requester":
            return PermissionDenied(text)
        return TransitionNotAllowed(text, [text])

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
        steps = self.conn.execute(sa.select(self.steps).where(self.steps.c.request_id == row["id"])
                                  .order_by(self.steps.c.step_index)).mappings().all()  # fmt: skip
        tasks = self.conn.execute(sa.select(self.tasks).where(self.tasks.c.request_id == row["id"])
                                  .order_by(self.tasks.c.id)).mappings().all()  # fmt: skip
        return RequestState(
            id=row["id"], status=row["status"], definition=Definition.from_json(row["definition"]),
            requested_by=row["requested_by"], owner=row["owner_id"],
            current_step=row["current_step"],
            steps=tuple(StepState(s["step_index"], s["status"], s["round"]) for s in steps),
            tasks=tuple(TaskState(t["id"], t["step_index"], t["approver_id"], t["round"],
                                  t["acting_approver_id"], t["decision"], t["decided_by"],
                                  t["source"]) for t in tasks),
        )  # fmt: skip

    def _facts(self, entity: Entity, record: Mapping[str, Any], state: RequestState) -> Facts:
        return Facts(state.requested_by, record.get("owner"),
                     self._editors(entity, record, state.definition))  # fmt: skip

    def _editors(self, entity: Entity, record: Mapping[str, Any], definition: Definition) -> frozenset[int]:
        """Who changed a field under approval since the record entered its current status."""
        period = current_period(self.conn, self.rt.system_table("status_periods"), entity.name,
                                record["id"])  # fmt: skip
        since = period["entered_at"] if period else record.get("created_at")
        h = self.rt.system_table("record_history")
        query = sa.select(h.c.user_id, h.c.changes).where(
            h.c.entity == entity.name, h.c.record_id == record["id"],
            h.c.action.in_(["create", "update"]), h.c.user_id.is_not(None))
        if since is not None:
            query = query.where(h.c.at >= since)
        editors = set()
        for user_id, changes in self.conn.execute(query):
            if any(definition.locks(k.rstrip("+")) for k in (changes or {}) if not k.startswith("_")):
                editors.add(user_id)
        return frozenset(editors)

    # --- writing ---------------------------------------------------------------------------------

    def _persist(self, entity: Entity, record: dict[str, Any], result: Result, now: datetime,
                 comment: str | None = None) -> dict[str, Any]:  # fmt: skip
        state = result.state
        for effect in result.effects:
            if isinstance(effect, SetTask):
                self._set_task(effect, now, comment)
            elif isinstance(effect, SetStep):
                self._set_step(state, effect, now)
            elif isinstance(effect, AddTask):
                self._add_task(entity, record, state, effect, now)
            elif isinstance(effect, StartStep):
                record = self._persist(entity, record, self._start(entity, record, state,
                                                                   effect.index, now), now)  # fmt: skip
                state = self._state(self._request(state.id))
            elif isinstance(effect, CloseRequest):
                record = self._close(entity, record, state, effect, now, comment)
        self.conn.execute(self.requests.update().where(self.requests.c.id == state.id)
                          .values(current_step=state.current_step))  # fmt: skip
        return record

    def _start(self, entity: Entity, record: Mapping[str, Any], state: RequestState, index: int,
               now: datetime) -> Result:  # fmt: skip
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
        values: dict[str, Any] = {"decision": e.decision, "decided_at": now, "decided_by": e.decided_by}
        if e.decided_by is not None and e.decided_by == self.actor.user_id:
            values["comment"] = comment
            if e.decided_by != e.task.approver:
                values["acting_approver_id"] = e.decided_by
        result = self.conn.execute(self.tasks.update().where(
            self.tasks.c.id == e.task.id, self.tasks.c.decision.is_(None)).values(**values))  # fmt: skip
        if result.rowcount != 1:
            raise VersionConflict(wf_text("already_decided", self.wf.locale))

    def _set_step(self, state: RequestState, e: SetStep, now: datetime) -> None:
        values: dict[str, Any] = {"status": e.status, "round": e.round}
        if e.status == ACTIVE:
            step = state.definition.steps[e.index]
            values.update(started_at=now, decided_at=None, escalated_at=None, escalate_at=(
                self.rt.calendar.add(now, step.escalate_after) if step.escalate_after else None))
        elif e.status in (APPROVED, REJECTED):
            values["decided_at"] = now
        self.conn.execute(self.steps.update().where(
            self.steps.c.request_id == state.id, self.steps.c.step_index == e.index).values(**values))

    def _add_task(self, entity: Entity, record: Mapping[str, Any], state: RequestState,
                  e: AddTask, now: datetime) -> None:  # fmt: skip
        t = e.task
        task_id = self.conn.execute(self.tasks.insert().values(
            request_id=state.id, step_index=t.step, round=t.round, approver_id=t.approver,
            acting_approver_id=t.acting, source=t.source, added_by=e.added_by,
            relaxed=list(e.relaxed) or None, decision=None, created_at=now,
        ).returning(self.tasks.c.id)).scalar_one()  # fmt: skip
        recipient = t.acting or t.approver
        self._event("task", entity, record, state, task_id, now, recipient=recipient,
                    step=state.definition.steps[t.step].name, approver=t.approver)  # fmt: skip

    def _close(self, entity: Entity, record: dict[str, Any], state: RequestState,
               e: CloseRequest, now: datetime, comment: str | None) -> dict[str, Any]:  # fmt: skip
        self.conn.execute(self.requests.update().where(self.requests.c.id == state.id).values(
            status=e.status, decided_at=now, decided_by=self.actor.user_id))  # fmt: skip
        d = state.definition
        if e.status == APPROVED:
            record = self._complete(entity, record, state, now, comment)
        elif e.status == REJECTED:
            self.wf.books.history(entity.name, record["id"], "approval_rejected", {},
                                  self.actor.user_id, now, transition=d.transition,
                                  request=state.id, comment=comment)  # fmt: skip
            if d.on_reject != record.get("status") and self._known_status(entity, d.on_reject):
                record = self.wf.change_status(
                    entity, record, f"{d.transition}:rejected"[:64], d.on_reject, {}, now=now,
                    by=self.actor.user_id, comment=comment, request_id=state.id)  # fmt: skip
            else:
                record = self.wf.write_row(entity, record, {}, now)
        elif e.status == WITHDRAWN:
            record = self.wf.write_row(entity, record, {}, now)
        event = {APPROVED: "approved", REJECTED: "rejected", WITHDRAWN: "withdrawn",
                 VOID: "voided"}[e.status]  # fmt: skip
        self._event(event, entity, record, state, state.id, now, comment=comment)
        return record

    def _complete(self, entity: Entity, record: dict[str, Any], state: RequestState,
                  now: datetime, comment: str | None) -> dict[str, Any]:  # fmt: skip
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
        return self.wf.change_status(entity, record, d.transition, d.target, updates, now=now,
                                     by=self.actor.user_id, comment=comment, reason=reason,
                                     exception=d.exception, request_id=state.id)  # fmt: skip

    def _known_status(self, entity: Entity, status: str) -> bool:
        return entity.statuses is not None and status in entity.statuses.states

    def _event(self, event: str, entity: Entity, record: Mapping[str, Any], state: RequestState,
               key: Any, now: datetime, recipient: Any = None, **payload: Any) -> None:  # fmt: skip
        body = {"request_id": state.id, "transition": state.definition.transition,
                "from": state.definition.source, "to": state.definition.target,
                "by": self.actor.user_id, "requested_by": state.requested_by,
                "owner": record.get("owner"), "exception": state.definition.exception, **payload}  # fmt: skip
        self.wf.books.event(event, state.definition.transition, entity.name, record["id"], key,
                            body, now, recipient)  # fmt: skip


def _step_index(state: RequestState, step: Any) -> int:
    if isinstance(step, int) or (isinstance(step, str) and step.isdigit()):
        return int(step)
    for i, s in enumerate(state.definition.steps):
        if s.name == step:
            return i
    raise Refusal("return_no_earlier")



def escalate_due(runtime: Any, conn: Any, now: datetime | None = None) -> list[int]:
    """Escalate every active step whose ``escalate_at`` has passed; the ids of the requests.

    The time rules' clock calls this (as the system) on each tick; a step escalates once
    (``escalated_at``), and each escalation is one outbox event ``escalated:<transition>``.
    """
    from ..platform.actors import SYSTEM
    from .service import WorkflowService

    now = now or utcnow()
    steps, requests = runtime.system_table("approval_steps"), runtime.system_table("approval_requests")
    due = conn.execute(
        sa.select(steps.c.request_id).join(requests, requests.c.id == steps.c.request_id).where(
            steps.c.status == ACTIVE, steps.c.escalate_at <= now, steps.c.escalated_at.is_(None),
            requests.c.status == PENDING).order_by(steps.c.escalate_at)
    ).scalars().all()  # fmt: skip
    service = ApprovalService(WorkflowService(runtime, conn, SYSTEM))
    for request_id in due:
        service.escalate(request_id)
    return list(due)
