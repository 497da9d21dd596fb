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
from ..platform.records.values import to_json
from ..platform.runtime import utcnow
from .approval_store import ApprovalStore
from .approvals import (
    APPROVED,
    PENDING,
    CloseRequest,
    Facts,
    Refusal,
    RequestState,
    Result,
    SetTask,
    StartStep,
    add_approver,
    choose,
    decide,
    escalate,
    excluded,
    initial_steps,
    next_step,
    return_to,
    transfer,
    void,
    withdraw,
)
from .results import TransitionResult
from .snapshot import Definition
from .texts import wf_text

if TYPE_CHECKING:
    from .service import WorkflowService

__all__ = ["ApprovalService"]

_CONFLICTS = ("not_pending", "already_decided")


class ApprovalService(ApprovalStore):
    """Approval commands for the workflow service's actor and connection."""

    def __init__(self, wf: WorkflowService):
        self.wf = wf
        self.rt, self.conn, self.actor = wf.rt, wf.conn, wf.actor
        self.requests = self.rt.system_table("approval_requests")
        self.steps = self.rt.system_table("approval_steps")
        self.tasks = self.rt.system_table("approval_tasks")

    # --- submitting ---------------------------------------------------------------------------

    def submit(
        self,
        entity: Entity,
        t: Transition,
        stored: Mapping[str, Any],
        values: Mapping[str, Any],
        comment: str | None,
        reason: str | None,
        ctx: EvalContext,
    ) -> TransitionResult:
        """Open a request for ``t``: the given values are written, the status stays."""
        assert t.approval is not None
        definition = Definition.of(t, stored["status"])
        record = {**stored, **values}
        self.wf.validate(entity, self.wf.target_record(entity, t, record, ctx), ctx)
        applies = [s.when is None or bool(s.when.evaluate(record, ctx)) for s in t.approval.steps]
        now = utcnow()
        request_id = self._insert(entity, record, definition, values, comment, reason, now)
        record = self.wf.write_row(entity, stored, values, now, action="approval_requested",
                                   note={"transition": t.name, "request": request_id,
                                         "comment": comment, "reason": reason,
                                         "exception": t.exception or None})  # fmt: skip
        state = RequestState(
            request_id,
            PENDING,
            definition,
            self.actor.user_id,
            record.get("owner"),
            None,
            initial_steps(applies),
        )
        self.conn.execute(
            self.steps.insert(),
            [
                {
                    "request_id": request_id,
                    "step_index": s.index,
                    "name": d.name,
                    "mode": d.mode,
                    "at_least": d.at_least,
                    "status": s.status,
                    "round": 0,
                }
                for s, d in zip(state.steps, definition.steps, strict=True)
            ],
        )
        self._event("requested", entity, record, state, request_id, now)
        first = next_step(state, None)
        # every step skipped (their `when` is false): approved at once
        result = Result(
            state, [StartStep(first)] if first is not None else [CloseRequest(APPROVED)]
        )
        record = self._persist(entity, record, result, now)
        return TransitionResult(
            "pending" if first is not None else "done",
            entity.name,
            record["id"],
            record["status"],
            record["row_version"],
            request_id,
        )

    def _insert(
        self,
        entity: Entity,
        record: Mapping[str, Any],
        definition: Definition,
        values: Mapping[str, Any],
        comment: str | None,
        reason: str | None,
        now: datetime,
    ) -> int:
        try:
            with self.conn.begin_nested():
                return self.conn.execute(
                    self.requests.insert()
                    .values(
                        entity=entity.name,
                        record_id=record["id"],
                        transition=definition.transition,
                        from_status=definition.source,
                        to_status=definition.target,
                        rulebook_version=self.rt.version,
                        definition=definition.to_json(),
                        requested_by=self.actor.user_id,
                        owner_id=record.get("owner"),
                        status=PENDING,
                        exception=definition.exception,
                        reason=reason,
                        comment=comment,
                        payload=to_json(dict(values)),
                        current_step=None,
                        created_at=now,
                    )
                    .returning(self.requests.c.id)
                ).scalar_one()
        except sa.exc.IntegrityError:  # another request got there first
            raise VersionConflict(wf_text("approval_pending", self.wf.locale)) from None

    # --- commands on a request ------------------------------------------------------------------

    def decide(self, request_id: Any, decision: str, comment: str | None = None) -> dict[str, Any]:
        """Approve (``approved``) or reject (``rejected``) the actor's task, with a comment."""
        return self._command(
            request_id,
            comment,
            lambda s, f, d, r: decide(s, self._uid(), decision, f, d),
            "approval_decision",
            decision=decision,
        )

    def withdraw(self, request_id: Any, comment: str | None = None) -> dict[str, Any]:
        """撤回: the requester recalls the request (per its withdraw policy)."""
        return self._command(
            request_id, comment, lambda s, f, d, r: withdraw(s, self._uid()), "approval_withdrawn"
        )

    def return_to(self, request_id: Any, step: Any, comment: str | None = None) -> dict[str, Any]:
        """退回: send the request back to an earlier step (index or name)."""

        def run(s: RequestState, f: Facts, d: set[int], r: Mapping[str, Any]) -> Result:
            return return_to(s, self._uid(), _step_index(s, step), d)

        return self._command(request_id, comment, run, "approval_returned", to_step=step)

    def add_approver(
        self, request_id: Any, user_id: Any, comment: str | None = None
    ) -> dict[str, Any]:
        """加签: add a further approver to the current step."""
        user = self._active_user(user_id)
        return self._command(
            request_id,
            comment,
            lambda s, f, d, r: add_approver(s, self._uid(), user, f, d),
            "approval_added",
            user=user,
        )

    def transfer(self, request_id: Any, user_id: Any, comment: str | None = None) -> dict[str, Any]:
        """转交: hand the actor's task to someone else."""
        user = self._active_user(user_id)
        return self._command(
            request_id,
            comment,
            lambda s, f, d, r: transfer(s, self._uid(), user, f, d),
            "approval_transferred",
            to=user,
        )

    def void(self, request_id: int, fields: list[str]) -> None:
        """An edit of a locked field voids the request (called from the record hook)."""
        self._command(
            request_id,
            None,
            lambda s, f, d, r: void(s),
            "approval_voided",
            lock=False,
            fields=fields,
        )

    def escalate(self, request_id: Any) -> dict[str, Any]:
        """The current step waited too long: its ``escalate_to`` people get tasks too."""

        def run(s: RequestState, f: Facts, d: set[int], r: Mapping[str, Any]) -> Result:
            step = s.definition.steps[s.current_step or 0]
            levels = [self.wf.org.levels(p, r) for p in step.escalate_to]
            denied, _ = excluded(s, f, s.current_step or 0)
            return escalate(s, choose(levels, denied), f)

        return self._command(request_id, None, run, "approval_escalated", escalation=True)

    def _mark_escalated(
        self, entity: Entity, record: Mapping[str, Any], state: RequestState, now: datetime
    ) -> None:
        index = state.current_step or 0
        steps = self.steps
        self.conn.execute(
            steps.update()
            .where(steps.c.request_id == state.id, steps.c.step_index == index)
            .values(escalated_at=now)
        )
        key = f"{state.id}:{index}:{state.steps[index].round}"
        step = state.definition.steps[index].name
        self._event("escalated", entity, record, state, key, now, step=step)

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
            raise TransitionNotAllowed(
                wf_text("unknown_user", self.wf.locale), [wf_text("unknown_user", self.wf.locale)]
            )
        return found[0]

    def _command(
        self,
        request_id: Any,
        comment: str | None,
        run: Any,
        action: str,
        lock: bool = True,
        escalation: bool = False,
        **details: Any,
    ) -> dict[str, Any]:
        row = self._request(request_id)
        entity = self.rt.rulebook.entities.get(row["entity"])
        if entity is None:
            raise NotFound(row["entity"])
        record = self.wf.load(entity, row["record_id"], lock=lock, scoped=False)
        row = self._request(request_id, lock=lock)
        state = self._state(row)
        now = utcnow()
        delegators = self.wf.org.delegators(self.actor.user_id, now)
        facts = self._facts(entity, record, state)
        try:
            result = run(state, facts, delegators, record)
        except Refusal as refusal:
            raise self._refused(refusal, state) from None
        on_behalf = self._on_behalf(result)
        if escalation:
            self._mark_escalated(entity, record, state, now)
        step = (
            state.definition.steps[state.current_step] if state.current_step is not None else None
        )
        self.wf.books.history(
            entity.name,
            record["id"],
            action,
            {},
            self.actor.user_id,
            now,
            transition=state.definition.transition,
            request=state.id,
            step=step.name if step else None,
            comment=comment,
            on_behalf_of=on_behalf,
            relaxed=self._relaxed(result),
            **details,
        )
        record = self._persist(entity, record, result, now, comment)
        return {
            "request_id": state.id,
            "status": self._request(state.id)["status"],
            "record_status": record["status"],
            "row_version": record["row_version"],
        }

    def _on_behalf(self, result: Result) -> int | None:
        for e in result.effects:
            if isinstance(e, SetTask) and e.decided_by == self.actor.user_id:
                return e.task.approver if e.task.approver != self.actor.user_id else None
        return None

    def _relaxed(self, result: Result) -> list[str]:
        for e in result.effects:
            if isinstance(e, SetTask) and e.decided_by == self.actor.user_id:
                row = self.conn.execute(
                    sa.select(self.tasks.c.relaxed).where(self.tasks.c.id == e.task.id)
                ).scalar()
                return list(row or [])
        return []

    def _refused(self, refusal: Refusal, state: RequestState) -> Exception:
        text = wf_text(refusal.code, self.wf.locale, **refusal.params)
        if refusal.code in _CONFLICTS:
            return VersionConflict(wf_text("already_decided", self.wf.locale))
        if refusal.code == "not_your_task":
            if any(
                t.approver == self.actor.user_id
                or t.decided_by == self.actor.user_id
                or t.acting == self.actor.user_id
                for t in state.tasks
            ):
                return VersionConflict(wf_text("already_decided", self.wf.locale))
            return PermissionDenied(text)
        if refusal.code == "withdraw_not_requester":
            return PermissionDenied(text)
        return TransitionNotAllowed(text, [text])


def _step_index(state: RequestState, step: Any) -> int:
    if isinstance(step, int) or (isinstance(step, str) and step.isdigit()):
        return int(step)
    for i, s in enumerate(state.definition.steps):
        if s.name == step:
            return i
    raise Refusal("return_no_earlier")
