"""The pure approval state machine: modes, segregation of duties, withdraw policies,
退回 / 加签 / 转交, delegation and escalation — no database."""

from __future__ import annotations

import pytest

from ruleform.metadata.model import Duration, Party
from ruleform.workflow_engine import approvals as ap
from ruleform.workflow_engine.approvals import Facts, Refusal, RequestState
from ruleform.workflow_engine.snapshot import Definition, StepDef

SUBMITTER, OWNER, EDITOR = 1, 2, 3
A, B, C, D = 10, 11, 12, 13


def definition(
    *modes: tuple[str, int],
    withdraw: str = "before_first_decision",
    allow: frozenset[str] = frozenset(),
) -> Definition:
    steps = tuple(
        StepDef(f"s{i}", {"en": f"Step {i}"}, (Party("role", role="r"),), mode, n)
        for i, (mode, n) in enumerate(modes)
    )
    return Definition("submit", "draft", "approved", steps, "draft", withdraw, None, allow)


def new_request(d: Definition, applies: list[bool] | None = None) -> RequestState:
    steps = ap.initial_steps(applies or [True] * len(d.steps))
    return RequestState(1, ap.PENDING, d, SUBMITTER, OWNER, None, steps)


FACTS = Facts(SUBMITTER, OWNER, frozenset({EDITOR}))


def start(
    state: RequestState,
    index: int,
    people: list[int],
    delegates: dict | None = None,
    facts: Facts = FACTS,
) -> RequestState:
    denied, relaxed = ap.excluded(state, facts, index)
    chosen = ap.choose([[people]], denied)
    return ap.start_step(state, index, chosen, delegates or {}, denied, relaxed).state


def follow(result: ap.Result, people: dict[int, list[int]]) -> RequestState:
    """Apply a command's result; start the next step with ``people[index]`` if it asks."""
    state = result.state
    for effect in result.effects:
        if isinstance(effect, ap.StartStep):
            state = start(state, effect.index, people[effect.index])
    return state


def decided(
    state: RequestState,
    user: int,
    decision: str = ap.APPROVED,
    people: dict[int, list[int]] | None = None,
) -> RequestState:
    return follow(ap.decide(state, user, decision, FACTS), people or {})


# --- modes ----------------------------------------------------------------------------------


def test_any_mode_first_approval_decides_and_closes_the_others():
    state = start(new_request(definition(("any", 1))), 0, [A, B])
    state = decided(state, A)
    assert state.status == ap.APPROVED
    assert {t.approver: t.decision for t in state.tasks} == {A: ap.APPROVED, B: ap.SUPERSEDED}


def test_all_mode_needs_everyone_and_one_rejection_rejects():
    state = start(new_request(definition(("all", 1))), 0, [A, B, C])
    state = decided(state, A)
    assert state.status == ap.PENDING
    state = decided(state, B, ap.REJECTED)
    assert state.status == ap.REJECTED
    assert [t.decision for t in state.tasks] == [ap.APPROVED, ap.REJECTED, ap.SUPERSEDED]


def test_at_least_mode_approves_at_n_and_rejects_when_n_is_out_of_reach():
    state = start(new_request(definition(("at_least", 2))), 0, [A, B, C])
    assert decided(decided(state, A), B).status == ap.APPROVED
    state = decided(state, A, ap.REJECTED)
    assert state.status == ap.PENDING  # B and C may still approve
    assert decided(state, B, ap.REJECTED).status == ap.REJECTED


def test_steps_run_in_order_and_skipped_steps_are_passed():
    d = definition(("any", 1), ("any", 1), ("any", 1))
    state = start(new_request(d, [True, False, True]), 0, [A])
    state = decided(state, A, people={2: [B]})
    assert [s.status for s in state.steps] == [ap.APPROVED, ap.SKIPPED, ap.ACTIVE]
    assert decided(state, B).status == ap.APPROVED


def test_a_step_without_enough_allowed_approvers_is_refused():
    state = new_request(definition(("at_least", 2)))
    with pytest.raises(Refusal) as err:
        start(state, 0, [A, SUBMITTER])
    assert err.value.code == "no_approver"


def test_choose_walks_up_to_the_first_level_with_someone_allowed():
    denied = {OWNER: "sod_owner"}
    assert ap.choose([[[OWNER], [A, B]], [[C]]], denied) == [A, B, C]
    assert ap.choose([[[OWNER]]], denied) == []


# --- segregation of duties ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "rule, who",
    [
        ("submitter", SUBMITTER),
        ("owner", OWNER),
        ("editor", EDITOR),
    ],
)
@pytest.mark.parametrize("relaxed", [False, True])
def test_segregation_of_duties_matrix(rule, who, relaxed):
    allow = frozenset({rule}) if relaxed else frozenset()
    state = new_request(definition(("any", 1), allow=allow))
    denied, relaxed_map = ap.excluded(state, FACTS, 0)
    if relaxed:
        assert who not in denied and relaxed_map[who] == (rule,)
        state = start(state, 0, [who])
        assert state.tasks[0].approver == who
    else:
        assert denied[who] == ap.SOD[rule]
        with pytest.raises(Refusal):
            start(state, 0, [who])


@pytest.mark.parametrize("relaxed", [False, True])
def test_the_same_person_may_not_approve_two_consecutive_steps(relaxed):
    allow = frozenset({"same_approver_consecutive"}) if relaxed else frozenset()
    state = start(new_request(definition(("any", 1), ("any", 1), allow=allow)), 0, [A])
    state = decided(state, A, people={1: [A, B]})
    approvers = [t.approver for t in state.tasks if t.step == 1]
    assert approvers == ([A, B] if relaxed else [B])


def test_someone_holding_two_exclusions_needs_both_relaxed():
    facts = Facts(SUBMITTER, SUBMITTER)
    state = new_request(definition(("any", 1), allow=frozenset({"owner"})))
    denied, _ = ap.excluded(state, facts, 0)
    assert denied[SUBMITTER] == "sod_submitter"


def test_an_excluded_actor_cannot_decide_even_with_a_task():
    state = start(new_request(definition(("any", 1))), 0, [A])
    late_editor = Facts(SUBMITTER, OWNER, frozenset({A}))
    with pytest.raises(Refusal) as err:
        ap.decide(state, A, ap.APPROVED, late_editor)
    assert err.value.code == "sod_editor"


# --- withdraw (撤回) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "policy, before, after",
    [
        ("never", False, False),
        ("before_first_decision", True, False),
        ("any_time", True, True),
    ],
)
def test_withdraw_policies(policy, before, after):
    state = start(new_request(definition(("all", 1), withdraw=policy)), 0, [A, B])
    for current, allowed in ((state, before), (decided(state, A), after)):
        if allowed:
            assert ap.withdraw(current, SUBMITTER).state.status == ap.WITHDRAWN
        else:
            with pytest.raises(Refusal):
                ap.withdraw(current, SUBMITTER)


def test_only_the_requester_may_withdraw():
    state = start(new_request(definition(("any", 1), withdraw="any_time")), 0, [A])
    with pytest.raises(Refusal) as err:
        ap.withdraw(state, A)
    assert err.value.code == "withdraw_not_requester"


# --- 退回 / 加签 / 转交 ---------------------------------------------------------------------


def test_return_sends_the_request_back_to_an_earlier_step_in_a_new_round():
    state = start(new_request(definition(("any", 1), ("any", 1))), 0, [A])
    state = decided(state, A, people={1: [B]})
    result = ap.return_to(state, B, 0)
    state = follow(result, {0: [C]})
    assert state.current_step == 0
    step0 = [t for t in state.tasks if t.step == 0]
    assert [(t.approver, t.round, t.decision) for t in step0] == [(A, 0, ap.APPROVED), (C, 1, None)]
    assert [t.decision for t in state.tasks if t.step == 1] == [ap.RETURNED]
    state = decided(state, C, people={1: [D]})
    assert state.steps[1].status == ap.ACTIVE and state.steps[1].round == 1
    assert decided(state, D).status == ap.APPROVED


def test_return_needs_an_earlier_approved_step():
    state = start(new_request(definition(("any", 1))), 0, [A])
    with pytest.raises(Refusal) as err:
        ap.return_to(state, A, 0)
    assert err.value.code == "return_no_earlier"


def test_add_approver_makes_an_all_step_wait_for_them_too():
    state = start(new_request(definition(("all", 1))), 0, [A])
    state = ap.add_approver(state, A, B, FACTS).state
    state = decided(state, A)
    assert state.status == ap.PENDING
    assert decided(state, B).status == ap.APPROVED
    added = [t for t in state.tasks if t.approver == B][0]
    assert added.source == "added"


def test_add_and_transfer_respect_segregation_of_duties():
    state = start(new_request(definition(("any", 1))), 0, [A])
    for command in (ap.add_approver, ap.transfer):
        with pytest.raises(Refusal) as err:
            command(state, A, OWNER, FACTS)
        assert err.value.code == "sod_owner"
    with pytest.raises(Refusal) as err:
        ap.add_approver(state, A, A, FACTS)
    assert err.value.code == "already_approver"


def test_transfer_hands_the_task_to_someone_else():
    state = start(new_request(definition(("any", 1))), 0, [A])
    state = ap.transfer(state, A, B, FACTS).state
    with pytest.raises(Refusal):
        ap.decide(state, A, ap.APPROVED, FACTS)
    assert decided(state, B).status == ap.APPROVED
    assert [(t.approver, t.decision, t.source) for t in state.tasks] == [
        (A, ap.TRANSFERRED, "resolved"),
        (B, None, "transferred"),
    ]


# --- delegation and escalation --------------------------------------------------------------------


def test_a_delegate_active_when_the_step_starts_acts_for_the_approver():
    state = start(new_request(definition(("any", 1))), 0, [A], delegates={A: D})
    (task,) = state.tasks
    assert (task.approver, task.acting) == (A, D)
    result = ap.decide(state, D, ap.APPROVED, FACTS)
    assert result.state.status == ap.APPROVED
    assert result.effects[0].decided_by == D


def test_a_delegate_named_later_acts_through_the_delegators():
    state = start(new_request(definition(("any", 1))), 0, [A])
    with pytest.raises(Refusal):
        ap.decide(state, D, ap.APPROVED, FACTS)
    assert ap.decide(state, D, ap.APPROVED, FACTS, delegators={A}).state.status == ap.APPROVED


def test_a_delegate_who_may_not_approve_is_ignored():
    state = start(new_request(definition(("any", 1))), 0, [A], delegates={A: OWNER})
    assert state.tasks[0].acting is None


def test_an_escalated_task_decides_the_step_alone():
    state = start(new_request(definition(("all", 1))), 0, [A, B])
    state = ap.escalate(state, [C, OWNER], FACTS).state
    assert [(t.approver, t.source) for t in state.tasks][-1] == (C, "escalated")
    assert decided(state, C).status == ap.APPROVED


def test_the_definition_survives_json():
    d = definition(("any", 1), ("at_least", 2), allow=frozenset({"owner"}))
    d = Definition(
        d.transition,
        d.source,
        d.target,
        (
            StepDef(
                "x",
                {"zh-CN": "审核", "en": "Review"},
                (Party("role", role="sales_manager", in_owner_department=True),),
                "any",
                1,
                Duration(8, "working_hours", "8 working hours"),
                (Party("owner_manager"),),
            ),
            *d.steps,
        ),
        "draft",
        "never",
        ("amount",),
        d.allow,
        True,
    )
    assert Definition.from_json(d.to_json()) == d
    assert d.locks("amount") and not d.locks("note")
