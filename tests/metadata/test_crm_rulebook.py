"""The shipped CRM rulebook, compiled: what a process owner would check rule by rule.

Each test is named after the rule of ``shared/spec/crm-rules.md`` it proves (R01–R50);
``metadata/crm/README.md`` says where each rule lives. The retail overlay
(``metadata/examples/retail-overlay``) is checked at the end.
"""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from ruleform.metadata.compiler import check_rulebook, compile_rulebook
from ruleform.metadata.conditions import EvalContext
from ruleform.metadata.model import Party, Rulebook

ROOT = Path(__file__).resolve().parents[2]
CRM = ROOT / "metadata" / "crm"
RETAIL = ROOT / "metadata" / "examples" / "retail-overlay"

ENTITIES = {
    "customer", "contact", "lead", "opportunity", "quote", "contract", "activity",
    "communication", "ticket", "improvement_suggestion", "collaboration_request",
    "issue_control_item", "conflict_case", "access_request", "campaign", "sales_order",
}  # fmt: skip


@pytest.fixture(scope="module")
def crm() -> Rulebook:
    return compile_rulebook(CRM)


@pytest.fixture(scope="module")
def retail() -> Rulebook:
    return compile_rulebook(RETAIL)


def _labels(rb: Rulebook, entity: str, locale: str) -> list[str]:
    states = rb.entities[entity].statuses
    assert states is not None
    return [s.label.get(locale) for s in states.states.values()]


# --- the rulebook as a whole -----------------------------------------------------------------


def test_the_crm_rulebook_checks_without_errors_or_warnings():
    result = check_rulebook(CRM)
    assert result.ok, "\n".join(p.format() for p in result.problems)
    assert result.problems == []


def test_every_entity_of_the_catalogue_is_present(crm):
    assert set(crm.entities) == ENTITIES
    assert crm.name == "crm" and crm.default_locale == "zh-CN"
    assert crm.locales == ("zh-CN", "en")
    assert crm.timezone == "Asia/Shanghai"


def test_R18_effective_from_and_trial_period(crm):
    assert crm.effective_from.isoformat() == "2026-01-01"
    assert crm.trial_until.isoformat() == "2026-03-31"


def test_every_text_for_people_has_both_locales(crm):
    for entity in crm.entities.values():
        for f in entity.fields.values():
            assert set(f.label.translations) == {"zh-CN", "en"}, (entity.name, f.name)


# --- customer lifecycle and record rules -----------------------------------------------------


def test_R26_customer_statuses_in_zh_CN_and_en(crm):
    customer = crm.entities["customer"]
    assert customer.statuses is not None
    assert list(customer.statuses.states) == [
        "pending_review", "prospect", "interested", "won", "lost",
    ]  # fmt: skip
    assert _labels(crm, "customer", "zh-CN")[1:] == ["潜在客户", "意向客户", "成交客户", "流失客户"]
    assert _labels(crm, "customer", "en")[1:] == ["Prospect", "Interested", "Won", "Lost"]
    assert customer.statuses.states["lost"].final
    assert customer.transitions["qualify"].sources == ("prospect",)
    assert customer.transitions["win"].target == "won"
    assert set(customer.transitions["lose"].sources) == {"prospect", "interested", "won"}


def test_R19_new_customers_start_awaiting_review(crm):
    customer = crm.entities["customer"]
    assert customer.statuses.initial == "pending_review"
    step = customer.transitions["submit_review"].approval.steps[0]
    assert step.approvers == (Party("role", role="customer_service"),)


def test_R12_customer_information_is_append_only(crm):
    customer = crm.entities["customer"]
    append_only = {f.name for f in customer.fields.values() if f.append_only}
    assert {"company_name", "contact_name", "products_needed", "remarks"} <= append_only
    assert all(customer.fields[name].type in ("string", "text") for name in append_only)
    archivers = {role for role, perm in customer.permissions.items() if "archive" in perm.actions}
    assert archivers == {"admin"}


def test_R03_importance_score_is_the_weighted_sum(crm):
    score = crm.entities["customer"].fields["importance_score"]
    assert score.type == "computed" and score.returns == "decimal" and score.read_only
    ctx = EvalContext(now=datetime(2026, 3, 2, 2, 0, tzinfo=UTC), timezone="Asia/Shanghai")
    sample = {
        "company_type_score": 3, "size_score": 4, "brand_score": 2, "demand_score": 5,
        "industry_position_score": 1, "market_share_score": 3,
    }  # fmt: skip
    # 3×15 + 4×20 + 2×15 + 5×20 + 1×15 + 3×15 = 315, over 5
    assert score.expression.evaluate(sample, ctx) == Decimal(63)
    assert score.expression.evaluate(dict.fromkeys(sample, 5), ctx) == 100
    assert score.expression.evaluate(dict.fromkeys(sample, 1), ctx) == 20
    assert score.expression.evaluate({**sample, "size_score": None}, ctx) is None
    view = crm.entities["customer"].views["by_importance"]
    assert view.sort[0].field == "importance_score" and view.sort[0].descending


def test_R17_duplicate_rule_opens_a_conflict_case(crm):
    (rule, *others) = crm.entities["customer"].duplicates
    assert rule.name == "same_company_department"
    assert [(k.field, k.normalize) for k in rule.match] == [
        ("company_name", "company_name"), ("contact_department", "text"),
    ]  # fmt: skip
    assert rule.on_match == "conflict"
    assert {r.on_match for r in others} == {"warn"}
    assert "conflict_case" in crm.entities


def test_R01_validation_examples_ran_and_contact_is_reachable(crm):
    rules = {v.name: v for v in crm.entities["customer"].validations}
    reachable = rules["contact_reachable"]
    assert reachable.kind == "forbid"
    assert {"mobile", "email"} <= reachable.condition.fields_used
    assert any(not e.expect_pass for e in reachable.examples)
    assert crm.entities["customer"].fields["mobile"].type == "phone"
    assert crm.entities["customer"].fields["email"].type == "email"


# --- permissions and audit -------------------------------------------------------------------


def test_R39_finance_reads_only_payment_fields_of_a_customer(crm):
    customer = crm.entities["customer"]
    finance = customer.permissions["finance"]
    payment = next(s for s in customer.sections if s.name == "payment")
    assert finance.read.mode == "only"
    assert finance.read.names == set(payment.fields) | {"company_name", "short_name"}
    for private in ("mobile", "email", "contact_name", "wechat", "contact_birthday"):
        assert not finance.read.allows(private)
    assert finance.write.names == {"credit_limit"}
    assert finance.actions == {"read", "update"}


def test_R40_reads_of_customers_are_audited(crm):
    assert crm.entities["customer"].audit_reads
    assert {n for n, e in crm.entities.items() if e.audit_reads} >= {"customer", "contact"}


def test_R28_sales_see_their_own_customers_managers_their_department_tree(crm):
    perms = crm.entities["customer"].permissions
    assert perms["sales"].scope.kind == "where"
    assert "owner" in perms["sales"].scope.where.fields_used
    assert perms["sales_manager"].scope.kind == "department_tree"
    assert perms["general_manager"].scope.kind == "all"


# --- workflow: approvals, notifications, exceptions ---------------------------------------------


def test_R20_quote_approval_steps(crm):
    approval = crm.entities["quote"].transitions["submit"].approval
    assert approval is not None
    manager, finance = approval.steps
    assert manager.approvers == (Party("role", role="sales_manager", in_owner_department=True),)
    assert str(manager.escalate_after) == "8 working hours"
    assert finance.approvers == (Party("role", role="finance"),)
    assert finance.when is not None and finance.when.text == "amount > 100000"
    assert approval.on_reject == "draft"
    assert approval.withdraw == "before_first_decision"
    assert "discount" in approval.locked_fields


def test_R27_submitting_a_proposal_notifies_the_sales_manager(crm):
    opportunity = crm.entities["opportunity"]
    transition = opportunity.transitions["submit_proposal"]
    assert (transition.sources, transition.target) == (("initial_contact",), "proposal")
    rule = opportunity.time_rules["proposal_submitted"]
    assert (rule.timing.kind, rule.timing.event, rule.timing.event_name) == (
        "on", "transition", "submit_proposal",
    )  # fmt: skip
    (action,) = rule.actions
    assert action.kind == "notify"
    assert action.recipients == (Party("role", role="sales_manager", in_owner_department=True),)


def test_R48_every_exception_transition_needs_an_approval(crm):
    exceptions = [
        (entity.name, t) for entity in crm.entities.values() for t in entity.transitions.values()
        if t.exception
    ]  # fmt: skip
    assert {(e, t.name) for e, t in exceptions} >= {
        ("customer", "reopen"), ("lead", "revive"), ("opportunity", "skip_to_negotiation"),
        ("opportunity", "reopen"), ("quote", "send_unapproved"), ("ticket", "reopen_closed"),
        ("conflict_case", "appeal"),
    }  # fmt: skip
    for _entity, transition in exceptions:
        assert transition.approval is not None and transition.approval.steps
        assert transition.approval.steps[0].approvers == (Party("owner_manager"),)


# --- time rules ----------------------------------------------------------------------------


def test_R08_stale_customer_after_45_days_notifies_owner_and_manager(crm):
    rule = crm.entities["customer"].time_rules["stale_customer"]
    assert rule.timing.kind == "inactive" and rule.timing.since == "last_contact_at"
    assert (rule.timing.duration.amount, rule.timing.duration.unit) == (45, "days")
    notify = next(a for a in rule.actions if a.kind == "notify")
    assert notify.recipients == (Party("owner"), Party("owner_manager"))
    assert rule.late_policy == "coalesce"
    assert any(a.kind == "task" for a in rule.actions)  # the supervisor decides on a transfer


def test_R07_monthly_reviews_of_the_top_customers(crm):
    rules = crm.entities["customer"].time_rules
    tops = {rules[n].timing.top for n in rules if n.startswith("monthly_review")}
    assert tops == {15, 30, 50}
    for name in ("monthly_review_general_manager", "monthly_review_department"):
        (key,) = rules[name].timing.order_by
        assert key.field == "importance_score" and key.descending


def test_R38_after_purchase_touches_reach_customers_safely(crm):
    rules = crm.entities["sales_order"].time_rules
    offsets = {}
    for name in ("satisfaction_survey", "usage_tutorial", "maintenance_reminder"):
        rule = rules[name]
        assert rule.audience == "customers"
        assert rule.rollout != "active"  # R35: never straight to customers
        assert rule.cap_per_run and rule.cap_per_day
        assert all(p.kind == "record_field" for a in rule.actions for p in a.recipients)
        offsets[name] = rule.timing.offset.amount
    assert offsets == {"satisfaction_survey": 3, "usage_tutorial": 7, "maintenance_reminder": 30}


def test_R45_complaint_resolution_levels_in_working_hours(crm):
    rule = crm.entities["ticket"].time_rules["complaint_resolution_sla"]
    assert rule.timing.kind == "deadline"
    assert [str(level.after) for level in rule.timing.levels] == [
        "24 working hours", "48 working hours",
    ]  # fmt: skip
    assert rule.timing.pause_in


def test_R44_weekly_follow_up_threshold(crm):
    timing = crm.entities["customer"].time_rules["weekly_follow_ups"].timing
    assert (timing.kind, timing.count_entity, timing.per, timing.below) == (
        "threshold", "communication", "owner", 5,
    )  # fmt: skip
    assert timing.cron == "0 17 * * 5"


# --- the README's rule table ---------------------------------------------------------------


def test_every_rule_R01_to_R50_has_a_row_in_the_readme():
    text = (CRM / "README.md").read_text("utf-8")
    rows = re.findall(r"^\| (R\d\d) ", text, flags=re.MULTILINE)
    assert rows == [f"R{n:02d}" for n in range(1, 51)]


# --- the retail overlay ----------------------------------------------------------------------


def test_retail_overlay_checks_cleanly():
    result = check_rulebook(RETAIL)
    assert result.ok, "\n".join(p.format() for p in result.problems)


def test_retail_overlay_adds_store_and_removes_qq(retail, crm):
    fields = retail.entities["customer"].fields
    assert "store" in fields and fields["store"].type == "choice"
    assert "qq" not in fields and "qq" in crm.entities["customer"].fields
    assert fields["company_name"].label.get("zh-CN") == "客户名称"
    assert "store_manager" in retail.roles


def test_retail_overlay_shortens_R08_to_30_days(retail):
    rule = retail.entities["customer"].time_rules["stale_customer"]
    assert rule.timing.duration.amount == 30
    assert rule.label.get("zh-CN") == "30天未更新"
    notify = next(a for a in rule.actions if a.kind == "notify")  # actions come from the base
    assert notify.recipients == (Party("owner"), Party("owner_manager"))


def test_retail_overlay_renames_status_labels_only(retail, crm):
    renamed = ["潜在顾客", "意向顾客", "成交会员", "流失会员"]
    assert _labels(retail, "customer", "zh-CN")[1:] == renamed
    mine, base = retail.entities["customer"], crm.entities["customer"]
    assert list(mine.statuses.states) == list(base.statuses.states)
    assert mine.transitions.keys() == base.transitions.keys()


def _broken_overlay(tmp_path: Path, replacements: dict[str, str]) -> Path:
    folder = tmp_path / "overlay"
    folder.mkdir()
    text = (RETAIL / "rulebook.yaml").read_text("utf-8")
    text = text.replace("extends: ../../crm", f"extends: {CRM.as_posix()}")
    for old, new in replacements.items():
        assert old in text
        text = text.replace(old, new)
    (folder / "rulebook.yaml").write_text(text, "utf-8")
    shutil.copy(RETAIL / "README.md", folder / "README.md")
    return folder


def _line_of(path: Path, fragment: str) -> int:
    lines = path.read_text("utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if fragment in line)


def test_an_overlay_removing_a_missing_field_is_reported_at_its_line(tmp_path):
    folder = _broken_overlay(tmp_path, {"qq: {remove: true}": "qqq: {remove: true}"})
    result = check_rulebook(folder)
    (problem,) = result.errors  # the merge stops: nothing is compiled from a wrong overlay
    assert problem.file.endswith("overlay/rulebook.yaml")
    assert problem.line == _line_of(folder / "rulebook.yaml", "qqq: {remove: true}")
    assert problem.path == "entities.customer.fields.qqq"
    assert "did you mean 'qq'?" in problem.format()


def test_a_shape_error_in_an_overlay_is_blamed_on_the_overlay_only(tmp_path):
    folder = _broken_overlay(tmp_path, {"for: 30 days}": "for: 30 dayz}"})
    result = check_rulebook(folder)
    (problem,) = result.errors  # other entities' rules that name customer are not blamed
    assert problem.file.endswith("overlay/rulebook.yaml")
    assert problem.line == _line_of(folder / "rulebook.yaml", "30 dayz")
    assert problem.path == "entities.customer.time_rules.stale_customer.inactive.for"


def test_a_semantic_error_in_an_overlay_points_at_its_line(tmp_path):
    folder = _broken_overlay(tmp_path, {"fields: [store]": "fields: [stor]"})
    result = check_rulebook(folder)
    (problem,) = result.errors
    assert problem.file.endswith("overlay/rulebook.yaml")
    assert problem.line == _line_of(folder / "rulebook.yaml", "fields: [stor]")
    assert problem.path == "entities.customer.layout.store_info.fields[0]"
    assert "did you mean 'store'?" in problem.format()
