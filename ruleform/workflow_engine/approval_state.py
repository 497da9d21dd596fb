"""The data of the approval state machine: request, step and task states, the effects a
command returns (``SetTask``, ``SetStep``, ``AddTask``, ``StartStep``, ``CloseRequest``) and
``Result``, which applies each effect to the state as it is emitted. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .snapshot import Definition

__all__ = [
    "PENDING", "APPROVED", "REJECTED", "WITHDRAWN", "VOID", "WAITING", "ACTIVE", "SKIPPED",
    "RETURNED", "TRANSFERRED", "SUPERSEDED", "CLOSED", "DECISIONS", "SOD", "Refusal",
    "TaskState", "StepState", "RequestState", "Facts", "SetTask", "SetStep", "AddTask",
    "StartStep", "CloseRequest", "Effect", "Result",
]  # fmt: skip

# request statuses
PENDING, APPROVED, REJECTED, WITHDRAWN, VOID = (
    "pending",
    "approved",
    "rejected",
    "withdrawn",
    "void",
)
# step statuses (besides APPROVED / REJECTED)
WAITING, ACTIVE, SKIPPED, RETURNED = "waiting", "active", "skipped", "returned"
# task decisions besides APPROVED / REJECTED / RETURNED (None: open)
TRANSFERRED, SUPERSEDED, CLOSED = "transferred", "superseded", "closed"
DECISIONS = (APPROVED, REJECTED, RETURNED)

SOD = {
    "submitter": "sod_submitter",
    "owner": "sod_owner",
    "editor": "sod_editor",
    "same_approver_consecutive": "sod_consecutive",
}


class Refusal(Exception):
    """A command the rules refuse; ``code`` keys a text in ``texts.py``."""

    def __init__(self, code: str, **params: object):
        self.code = code
        self.params = params
        super().__init__(code)


@dataclass(frozen=True, slots=True)
class TaskState:
    id: int | None
    step: int
    approver: int
    round: int = 0
    acting: int | None = None
    decision: str | None = None
    decided_by: int | None = None
    source: str = "resolved"  # resolved | added | transferred | escalated

    @property
    def open(self) -> bool:
        return self.decision is None


@dataclass(frozen=True, slots=True)
class StepState:
    index: int
    status: str
    round: int = 0


@dataclass(frozen=True, slots=True)
class RequestState:
    id: int | None
    status: str
    definition: Definition
    requested_by: int | None
    owner: int | None
    current_step: int | None = None
    steps: tuple[StepState, ...] = ()
    tasks: tuple[TaskState, ...] = ()

    def step(self, index: int) -> StepState:
        return self.steps[index]

    def round_tasks(self, index: int) -> list[TaskState]:
        """Tasks of the step's current round."""
        rnd = self.steps[index].round
        return [t for t in self.tasks if t.step == index and t.round == rnd]


@dataclass(frozen=True, slots=True)
class Facts:
    """Who is who for segregation of duties."""

    submitter: int | None
    owner: int | None
    editors: frozenset[int] = frozenset()


# --- effects --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SetTask:
    task: TaskState  # identifies the task (id, or step/approver/round when new)
    decision: str
    decided_by: int | None = None


@dataclass(frozen=True, slots=True)
class SetStep:
    index: int
    status: str
    round: int = 0


@dataclass(frozen=True, slots=True)
class AddTask:
    task: TaskState
    added_by: int | None = None
    relaxed: tuple[str, ...] = ()  # segregation-of-duties rules relaxed for this approver


@dataclass(frozen=True, slots=True)
class StartStep:
    index: int  # the service resolves its approvers and calls start_step


@dataclass(frozen=True, slots=True)
class CloseRequest:
    status: str
    current_step: int | None = None


Effect = SetTask | SetStep | AddTask | StartStep | CloseRequest


@dataclass
class Result:
    state: RequestState
    effects: list[Effect] = field(default_factory=list)

    def emit(self, effect: Effect) -> None:
        self.effects.append(effect)
        self.state = _apply(self.state, effect)


def _apply(state: RequestState, e: Effect) -> RequestState:
    if isinstance(e, SetTask):
        tasks = tuple(
            replace(t, decision=e.decision, decided_by=e.decided_by) if _same(t, e.task) else t
            for t in state.tasks
        )
        return replace(state, tasks=tasks)
    if isinstance(e, SetStep):
        steps = tuple(
            replace(s, status=e.status, round=e.round) if s.index == e.index else s
            for s in state.steps
        )
        current = e.index if e.status == ACTIVE else state.current_step
        return replace(state, steps=steps, current_step=current)
    if isinstance(e, AddTask):
        return replace(state, tasks=(*state.tasks, e.task))
    if isinstance(e, CloseRequest):
        return replace(state, status=e.status, current_step=e.current_step)
    return state


def _same(a: TaskState, b: TaskState) -> bool:
    if a.id is not None or b.id is not None:
        return a.id == b.id
    return (a.step, a.approver, a.round, a.source) == (b.step, b.approver, b.round, b.source)
