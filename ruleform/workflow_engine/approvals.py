"""The approval state machine, as pure rules: request → steps → tasks.

Functions take a ``RequestState`` (plain data loaded by the service; the data classes are
in ``approval_state.py``) and a command, and return a ``Result``: the effects to persist,
in order, and the state after them. Nothing here touches a database; the service
(``approval_service.py``) locks, loads, calls these, and writes the effects, the history
and the outbox in one transaction.

Rules:

* A step is decided by its mode: ``any`` (the first decision decides, 或签), ``all`` (every
  approver approves, one rejection rejects, 会签), ``at_least`` N (N approvals approve; it
  is rejected once N can no longer be reached). An escalated task decides its step alone.
* Approvers are resolved when a step starts (``start_step``) and snapshotted as tasks; a
  delegate active at that moment becomes the task's acting approver.
* Segregation of duties (``excluded``), denied by default: not the requester, not the
  record's owner, not whoever edited the fields under approval, not a decider of the
  previous step — unless the definition's ``allow`` relaxes the rule (then the task
  carries ``relaxed`` so the history shows it).
* 退回 ``return_to`` an earlier step restarts it (a new round); 加签 ``add_approver``;
  转交 ``transfer``; 撤回 ``withdraw`` by the requester per the declared policy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from .approval_state import (
    ACTIVE,
    APPROVED,
    CLOSED,
    DECISIONS,
    PENDING,
    REJECTED,
    RETURNED,
    SKIPPED,
    SOD,
    SUPERSEDED,
    TRANSFERRED,
    VOID,
    WAITING,
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
)  # fmt: skip

__all__ = [
    "PENDING", "APPROVED", "REJECTED", "WITHDRAWN", "VOID", "WAITING", "ACTIVE", "SKIPPED",
    "RETURNED", "TRANSFERRED", "SUPERSEDED", "CLOSED", "DECISIONS", "SOD", "Refusal",
    "TaskState", "StepState", "RequestState", "Facts", "Result", "SetTask", "SetStep",
    "AddTask", "StartStep", "CloseRequest", "initial_steps", "next_step", "excluded", "choose",
    "start_step", "open_task", "decide", "withdraw", "return_to", "add_approver", "transfer",
    "void", "escalate",
]  # fmt: skip


# --- starting -------------------------------------------------------------------------------


def initial_steps(applies: Sequence[bool]) -> tuple[StepState, ...]:
    """Steps of a new request: each waits, or is skipped when its ``when`` is false."""
    return tuple(StepState(i, WAITING if ok else SKIPPED) for i, ok in enumerate(applies))


def next_step(state: RequestState, after: int | None) -> int | None:
    """The first waiting step after ``after`` (None: from the start)."""
    start = -1 if after is None else after
    return next((s.index for s in state.steps if s.index > start and s.status == WAITING), None)


def excluded(
    state: RequestState, facts: Facts, index: int
) -> tuple[dict[int, str], dict[int, tuple[str, ...]]]:
    """Who may not approve step ``index`` (user → text code), and whom ``allow`` lets through."""
    reasons: dict[int, list[str]] = {}

    def add(user: int | None, rule: str) -> None:
        if user is not None:
            reasons.setdefault(user, []).append(rule)

    add(facts.submitter, "submitter")
    add(facts.owner, "owner")
    for user in facts.editors:
        add(user, "editor")
    for user in _previous_deciders(state, index):
        add(user, "same_approver_consecutive")
    allow = state.definition.allow
    denied = {
        u: SOD[next(r for r in rules if r not in allow)]
        for u, rules in reasons.items()
        if any(r not in allow for r in rules)
    }
    relaxed = {u: tuple(rules) for u, rules in reasons.items() if u not in denied}
    return denied, relaxed


def _previous_deciders(state: RequestState, index: int) -> set[int]:
    previous = [s for s in state.steps if s.index < index and s.status == APPROVED]
    if not previous:
        return set()
    last = previous[-1]
    return {
        t.decided_by
        for t in state.tasks
        if t.step == last.index
        and t.round == last.round
        and t.decision == APPROVED
        and t.decided_by is not None
    }


def choose(
    levels_per_party: Iterable[Sequence[Sequence[int]]], denied: Mapping[int, str]
) -> list[int]:
    """Per party, the first level (department, manager) with someone allowed; their union."""
    chosen: list[int] = []
    for levels in levels_per_party:
        for level in levels:
            allowed = [u for u in level if u not in denied]
            if allowed:
                chosen += [u for u in allowed if u not in chosen]
                break
    return chosen


def start_step(
    state: RequestState,
    index: int,
    approvers: Sequence[int],
    delegates: Mapping[int, int],
    denied: Mapping[int, str],
    relaxed: Mapping[int, tuple[str, ...]],
) -> Result:
    """Activate step ``index`` with its resolved ``approvers`` (delegates: user → delegate)."""
    step_def = state.definition.steps[index]
    if len(approvers) < step_def.needed:
        raise Refusal("no_approver", step=step_def.name)
    result = Result(state)
    rnd = max((t.round + 1 for t in state.tasks if t.step == index), default=0)  # a new round
    result.emit(SetStep(index, ACTIVE, rnd))
    for user in approvers:
        acting = delegates.get(user)
        if acting is not None and (acting in denied or acting == user):
            acting = None
        result.emit(AddTask(TaskState(None, index, user, rnd, acting), None, relaxed.get(user, ())))
    return result


# --- acting on a task --------------------------------------------------------------------------


def open_task(state: RequestState, actor: int, delegators: Iterable[int] = ()) -> TaskState:
    """The actor's open task on the current step: their own, or one delegated to them."""
    if state.status != PENDING or state.current_step is None:
        raise Refusal("not_pending")
    tasks = [t for t in state.round_tasks(state.current_step) if t.open]
    mine = [t for t in tasks if t.approver == actor]
    mine += [t for t in tasks if t.acting == actor or t.approver in set(delegators)]
    if not mine:
        raise Refusal("not_your_task")
    return mine[0]


def decide(
    state: RequestState, actor: int, decision: str, facts: Facts, delegators: Iterable[int] = ()
) -> Result:
    """Approve or reject the actor's task; close the step (and the request) when decided."""
    if decision not in (APPROVED, REJECTED):
        raise ValueError(decision)
    task = open_task(state, actor, delegators)
    index = task.step
    denied, _relaxed = excluded(state, facts, index)
    if actor in denied:
        raise Refusal(denied[actor])
    result = Result(state)
    result.emit(SetTask(task, decision, actor))
    outcome = _step_outcome(result.state, index, task.source == "escalated")
    if outcome is None:
        return result
    _close_open_tasks(result, index)
    result.emit(SetStep(index, outcome, result.state.steps[index].round))
    if outcome == REJECTED:
        result.emit(CloseRequest(REJECTED, index))
        return result
    following = next_step(result.state, index)
    if following is None:
        result.emit(CloseRequest(APPROVED, index))
    else:
        result.emit(StartStep(following))
    return result


def _step_outcome(state: RequestState, index: int, by_escalation: bool) -> str | None:
    tasks = [t for t in state.round_tasks(index) if t.decision in (None, APPROVED, REJECTED)]
    escalated = [t for t in tasks if t.source == "escalated" and not t.open]
    if escalated:
        return escalated[-1].decision
    approvals = sum(t.decision == APPROVED for t in tasks)
    rejections = sum(t.decision == REJECTED for t in tasks)
    still_open = sum(t.open for t in tasks)
    mode, need = state.definition.steps[index].mode, state.definition.steps[index].at_least
    if mode == "all":
        if rejections:
            return REJECTED
        return APPROVED if not still_open and approvals else None
    if mode == "at_least":
        if approvals >= need:
            return APPROVED
        return REJECTED if approvals + still_open < need else None
    if approvals:
        return APPROVED
    return REJECTED if rejections else None


def _close_open_tasks(result: Result, index: int, decision: str = SUPERSEDED) -> None:
    for t in result.state.round_tasks(index):
        if t.open:
            result.emit(SetTask(t, decision))


def withdraw(state: RequestState, actor: int) -> Result:
    """The requester recalls the request (撤回), as far as the withdraw policy allows."""
    if state.status != PENDING:
        raise Refusal("not_pending")
    if actor != state.requested_by:
        raise Refusal("withdraw_not_requester")
    policy = state.definition.withdraw
    if policy == "never":
        raise Refusal("withdraw_never")
    if policy == "before_first_decision" and any(t.decision in DECISIONS for t in state.tasks):
        raise Refusal("withdraw_after_decision")
    result = Result(state)
    for t in state.tasks:
        if t.open:
            result.emit(SetTask(t, CLOSED))
    result.emit(CloseRequest(WITHDRAWN, state.current_step))
    return result


def return_to(
    state: RequestState, actor: int, index: int, delegators: Iterable[int] = ()
) -> Result:
    """退回: send the request back to the earlier step ``index``, which starts again."""
    task = open_task(state, actor, delegators)
    current = task.step
    earlier = [s.index for s in state.steps if s.index < current and s.status == APPROVED]
    if index not in earlier:
        raise Refusal("return_no_earlier")
    result = Result(state)
    result.emit(SetTask(task, RETURNED, actor))
    _close_open_tasks(result, current)
    for s in result.state.steps:
        if index <= s.index <= current and s.status != SKIPPED:
            result.emit(SetStep(s.index, WAITING, s.round))
    result.emit(StartStep(index))
    return result


def add_approver(
    state: RequestState, actor: int, user: int, facts: Facts, delegators: Iterable[int] = ()
) -> Result:
    """加签: add ``user`` as a further approver of the current step."""
    task = open_task(state, actor, delegators)
    _check_newcomer(state, task.step, user, facts)
    result = Result(state)
    result.emit(
        AddTask(
            TaskState(None, task.step, user, task.round, None, source="added"),
            actor,
            _relaxed_for(state, facts, task.step, user),
        )
    )
    return result


def transfer(
    state: RequestState, actor: int, user: int, facts: Facts, delegators: Iterable[int] = ()
) -> Result:
    """转交: hand the actor's task to ``user``."""
    task = open_task(state, actor, delegators)
    _check_newcomer(state, task.step, user, facts)
    result = Result(state)
    result.emit(SetTask(task, TRANSFERRED, actor))
    source = "escalated" if task.source == "escalated" else "transferred"
    result.emit(
        AddTask(
            TaskState(None, task.step, user, task.round, None, source=source),
            actor,
            _relaxed_for(state, facts, task.step, user),
        )
    )
    return result


def _check_newcomer(state: RequestState, index: int, user: int, facts: Facts) -> None:
    denied, _ = excluded(state, facts, index)
    if user in denied:
        raise Refusal(denied[user])
    if any(t.open and user in (t.approver, t.acting) for t in state.round_tasks(index)):
        raise Refusal("already_approver")


def _relaxed_for(state: RequestState, facts: Facts, index: int, user: int) -> tuple[str, ...]:
    return excluded(state, facts, index)[1].get(user, ())


def void(state: RequestState) -> Result:
    """An edit of a locked field voids the request: open tasks close, nothing is decided."""
    if state.status != PENDING:
        raise Refusal("not_pending")
    result = Result(state)
    for t in state.tasks:
        if t.open:
            result.emit(SetTask(t, CLOSED))
    result.emit(CloseRequest(VOID, state.current_step))
    return result


def escalate(state: RequestState, users: Sequence[int], facts: Facts) -> Result:
    """The current step waited too long: ``users`` get tasks that decide the step alone."""
    if state.status != PENDING or state.current_step is None:
        raise Refusal("not_pending")
    index = state.current_step
    denied, relaxed = excluded(state, facts, index)
    result = Result(state)
    present = {t.approver for t in state.round_tasks(index) if t.open}
    rnd = state.steps[index].round
    for user in users:
        if user not in denied and user not in present:
            result.emit(
                AddTask(
                    TaskState(None, index, user, rnd, None, source="escalated"),
                    None,
                    relaxed.get(user, ()),
                )
            )
    return result
