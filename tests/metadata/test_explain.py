"""`ruleform explain`: the rulebook read back in plain words, fully in the reader's locale."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ruleform.metadata.compiler import compile_rulebook
from ruleform.metadata.explain import (
    duration_text,
    explain_entity,
    explain_rulebook,
    sort_text,
)
from ruleform.metadata.explain_conditions import condition_alternatives, condition_words
from ruleform.metadata.explain_permissions import display_width, wrap
from ruleform.metadata.model import Duration, SortKey

ROOT = Path(__file__).resolve().parents[2]
CRM = ROOT / "metadata" / "crm"

EVENTS = """\
language: ruleform/v1
name: events
version: "1"
locales: [zh-CN, en]
default_locale: zh-CN
timezone: Asia/Shanghai
roles:
  manager: {label: {zh-CN: 经理, en: Manager}}
entities:
  ticket:
    label: {zh-CN: 工单, en: Ticket}
    fields:
      subject: {type: string, label: {zh-CN: 主题, en: Subject}}
      due_on: {type: date, label: {zh-CN: 到期日, en: Due on}}
    statuses:
      initial: open
      states:
        open: {label: {zh-CN: 待处理, en: Open}}
        done: {label: {zh-CN: 已完成, en: Done}, final: true}
    transitions:
      finish:
        from: open
        to: done
        label: {zh-CN: 完成, en: Finish}
        approval:
          steps:
            check: {label: {zh-CN: 经理审核, en: Manager check}, approvers: {role: manager}}
    time_rules:
      entered_done:
        label: {zh-CN: 完成提醒, en: Done}
        on: {entered: done}
        actions: [{notify: [owner], channels: [inbox, sms]}]
      approved:
        label: {zh-CN: 审批通过, en: Approved}
        on: {approved: finish}
        actions: [{notify: [creator]}]
      rejected:
        label: {zh-CN: 审批驳回, en: Rejected}
        on: {rejected: finish}
        actions: [{notify: [creator]}]
      soon_due:
        label: {zh-CN: 即将到期, en: Due soon}
        after: {field: due_on, offset: 2 weeks}
        rollout: canary
        canary: [east_region]
        actions: [{task: {assignee: owner, due: 30 minutes}}]
      since_created:
        label: {zh-CN: 创建后, en: After creation}
        after: {field: created_at, offset: 1 hours}
        actions: [{notify: [owner]}]
"""


@pytest.fixture(scope="module")
def crm():
    return compile_rulebook(CRM)


@pytest.fixture(scope="module")
def events(tmp_path_factory):
    path = tmp_path_factory.mktemp("explain") / "events.yaml"
    path.write_text(EVENTS, "utf-8")
    return compile_rulebook(path)


@pytest.mark.parametrize(
    ("amount", "unit", "zh", "en"),
    [
        (45, "days", "45 天", "45 days"),
        (1, "days", "1 天", "1 day"),
        (2, "working_days", "2 个工作日", "2 working days"),
        (24, "working_hours", "24 个工作小时", "24 working hours"),
        (1, "working_hours", "1 个工作小时", "1 working hour"),
        (30, "minutes", "30 分钟", "30 minutes"),
        (2, "weeks", "2 周", "2 weeks"),
        (1.5, "hours", "1.5 小时", "1.5 hours"),
    ],
)
def test_durations_in_words(amount, unit, zh, en):
    duration = Duration(amount, unit, "as written")
    assert duration_text(duration, "zh-CN") == zh
    assert duration_text(duration, "en") == en
    assert duration_text(duration, "en-GB") == en
    assert duration_text(None, "zh-CN") == ""


def test_sort_orders_in_words(crm):
    customer = crm.entities["customer"]
    keys = (SortKey("importance_score", True), SortKey("company_name"))
    assert sort_text(keys, customer, "zh-CN") == "重要程度得分 降序、客户公司全称 升序"
    assert sort_text(keys, customer, "en") == (
        "Importance score, descending, Company full name, ascending"
    )
    assert sort_text([SortKey("created_at")], customer, "zh-CN") == "创建时间 升序"


def test_crm_in_zh_CN_has_durations_and_sort_orders_in_words(crm):
    text = explain_rulebook(crm, "zh-CN")
    assert "最近沟通时间 超过 45 天 未更新" in text
    assert "期限 2 个工作日" in text
    assert "24 个工作小时 后：" in text
    assert "全公司取前 15 名（按 重要程度得分 降序）" in text
    assert "每个部门取前 50 名（按 重要程度得分 降序）" in text
    assert "方案提交提醒主管：执行流转“提交方案”时" in text
    assert "-重要程度得分" not in text


def _outside_conditions(text: str) -> str:
    """The text without conditions (written in the rulebook's language) and identifiers."""
    kept = []
    written = ""  # the indent of a scope condition as written, whose wrapped lines follow
    for line in text.splitlines():
        if written and line.startswith(written + " "):
            continue
        written = line[: line.index("条件原文：")] if "条件原文：" in line else ""
        line = re.sub(r"\([a-z_]+\)|（[a-z_]+）|（cron：[^）]*）", "", line)
        line = re.sub(r"^ *[^ ]+ [a-z_]+( +[✓·])+$", "", line)  # a role's row of the table
        for marker in ("适用记录：", "条件：", "计算：", "条件原文：", "当 "):
            line = line.split(marker)[0]
        kept.append(line)
    return "\n".join(kept)


def test_crm_in_zh_CN_has_no_english_words_outside_conditions(crm):
    words = set(re.findall(r"[A-Za-z]{2,}", _outside_conditions(explain_rulebook(crm, "zh-CN"))))
    # the time zone, the locales, the holiday country, the rulebook's name, brand names
    assert words <= {"Asia", "Shanghai", "zh", "CN", "en", "crm", "QQ", "IT", "ERP", "Webhook"}


def test_events_are_in_words(events):
    ticket = events.entities["ticket"]
    zh = explain_entity(events, ticket, "zh-CN")
    assert "完成提醒：进入状态“已完成”时" in zh
    assert "审批通过：流转“完成”审批通过时" in zh
    assert "审批驳回：流转“完成”审批被驳回时" in zh
    assert "→ 通知 负责人（站内信、短信）" in zh
    assert "即将到期：到期日 之后 2 周" in zh
    assert "给 负责人 建任务，期限 30 分钟" in zh
    assert "创建后：创建时间 之后 1 小时" in zh
    assert "发布阶段：试点" in zh
    en = explain_entity(events, ticket, "en")
    assert "Done: when a record enters 'Done'" in en
    assert "Approved: when 'Finish' is approved" in en
    assert "Rejected: when 'Finish' is rejected" in en
    assert "notify the owner (inbox, SMS)" in en
    assert "Due soon: 2 weeks after Due on" in en
    assert "After creation: 1 hour after Created at" in en
    assert "rollout: canary (pilot group only)" in en


def test_headings_use_the_locale_punctuation(crm):
    zh = explain_entity(crm, crm.entities["customer"], "zh-CN")
    assert "\n状态：待审核、潜在客户" in zh and "\n时间规则：\n" in zh and "\n字段：\n" in zh
    en = explain_entity(crm, crm.entities["customer"], "en")
    assert "\nStatuses: Awaiting review, Prospect" in en and "\nTime rules:\n" in en


def test_customer_facing_rules_show_their_rollout_and_caps(crm):
    zh = explain_entity(crm, crm.entities["sales_order"], "zh-CN")
    assert "通知 客户（收货人手机）（短信）" in zh
    assert "发布阶段：演练（只记录，不发送）；每次最多 200，每天最多 500" in zh
    en = explain_entity(crm, crm.entities["sales_order"], "en")
    assert "rollout: dry run (logged, not sent); at most 200 per run, 500 per day" in en


def test_field_updates_and_duplicate_outcomes_are_named_by_label(crm):
    zh = explain_entity(crm, crm.entities["customer"], "zh-CN")
    assert "同时设置：成交日期" in zh
    assert "同一公司同一部门：客户公司全称、部门 → 提交客户冲突处理" in zh
    assert "→ 设置 流失风险、风险标记日期" in zh


SCOPES = EVENTS.replace(
    "    time_rules:\n      entered_done:",
    """    permissions:
      manager:
        actions: [read]
        scope:
          where: "not (subject is empty) and due_on < today() + 3 days and status in ['open']
            and subject contains 'VIP' and current_user has role 'manager'"
    time_rules:
      entered_done:""",
)


def test_a_scope_condition_reads_in_words(tmp_path):
    path = tmp_path / "scopes.yaml"
    path.write_text(SCOPES, "utf-8")
    rb = compile_rulebook(path)
    ticket = rb.entities["ticket"]
    where = ticket.permissions["manager"].scope.where.ast
    assert condition_words(rb, ticket, where, "zh-CN") == (
        "并非（主题为空），且到期日早于今天 + 3 天，且状态是“待处理”之一，且主题包含“VIP”，"
        "且本人有角色“经理”"
    )
    assert condition_words(rb, ticket, where, "en") == (
        "not (Subject is empty), and Due on is before today + 3 days, and Status is one of "
        "“Open”, and Subject contains “VIP”, and the user has the role “Manager”"
    )
    assert condition_alternatives(where) == [where]


def test_wrap_keeps_lines_short_and_labels_whole():
    labels = "、".join(["客户公司全称", "开票抬头", "纳税人识别号", "银行账号*"] * 6)
    lines = wrap("只能查看：" + labels, "    ", "    ", width=60)
    assert len(lines) > 1 and all(display_width(line) <= 60 for line in lines)
    assert all(line.startswith("        ") for line in lines[1:])
    assert "".join(line.strip() for line in lines) == "只能查看：" + labels
    assert all(line.rstrip().endswith("、") for line in lines[:-1])  # broken between labels
    en = wrap("reads only: " + ", ".join(["Company full name", "Taxpayer ID"] * 8), "", width=50)
    assert all(len(line) <= 50 for line in en)
    assert " ".join(line.strip() for line in en).count("Taxpayer ID") == 8
