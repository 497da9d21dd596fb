"""Requests between people, with deadlines — rules reacting to workflow events (``on``), to
dates (``after``), to working-time clocks (``deadline``) and to schedules:

* R09 (004 §4.7): a request to another department is answered within the time it asks for,
  or within 24 hours when it names none;
* R10 (§4.8): items on the issue control list (问题管制表) are handled the same day, or the
  person reports to their supervisor and IT by email the same day;
* R11 (§4.9): improvement suggestions go to IT and the supervisor; IT answers within 24
  (working) hours.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.app


def test_R09_request_received_then_overdue_at_the_asked_time_or_after_24_hours(rules):
    base = {
        "subject": "请协助报价",
        "details": "客户需要技术参数",
        "target_department": rules.org.departments["service"],
        "responder": rules.uid("service"),
    }
    plain = rules.create("sales1", "collaboration_request", base, "2026-03-02 10:00")
    asked = rules.create(
        "sales1",
        "collaboration_request",
        {**base, "reply_by": "2026-03-02T15:00:00+08:00"},
        "2026-03-02 10:00",
    )
    for record in (plain, asked):
        rules.take("sales1", "collaboration_request", record, "send", "2026-03-02 10:00")
    only = ["collaboration_request.request_received", "collaboration_request.reply_overdue_default",
            "collaboration_request.reply_overdue_requested"]  # fmt: skip
    rules.tick("2026-03-02 10:01", only=only)
    assert rules.sent_to("request_received", plain) == [("email", "service"), ("inbox", "service")]
    assert rules.ledger("collaboration_request.request_received", plain)[0][
        "occurrence"
    ].startswith("event:")

    rules.tick("2026-03-02 15:00", only=only)  # the asked time passed
    assert rules.sent_to("reply_overdue_requested") == [
        ("email", "sales1"),
        ("email", "service"),
        ("inbox", "sales1"),
        ("inbox", "service"),
    ]
    assert rules.outbox("reply_overdue_default") == []
    rules.tick("2026-03-03 09:59", only=only)
    assert rules.outbox("reply_overdue_default") == []
    rules.tick("2026-03-03 10:00", only=only)  # 24 hours after it was sent
    assert {m["record_id"] for m in rules.outbox("reply_overdue_default")} == {plain}
    rules.tick("2026-03-03 10:01", only=only)  # events and overdue notices, each once
    assert len(rules.outbox()) == 12


def test_R10_issue_items_are_handled_the_same_day_or_reported_by_email(rules):
    items = [rules.create("it", "issue_control_item", {
        "subject": f"报表导出失败 {i}", "description": "导出Excel时报错", "category": "system_incident",
        "assignee": rules.uid("sales1")}, "2026-03-02 09:00") for i in range(2)]  # fmt: skip
    for item in items:
        rules.take("it", "issue_control_item", item, "publish", "2026-03-02 09:30")
    only = [
        f"issue_control_item.{n}"
        for n in (
            "assign_to_person",
            "reported_by_email",
            "end_of_day_reminder",
            "same_day_escalation",
        )
    ]
    rules.tick("2026-03-02 09:31", only=only)
    for item in items:  # handed to the person named on it (reassign through the record service)
        assert rules.record("issue_control_item", item)["owner"] == rules.uid("sales1")
        assert rules.sent_to("assign_to_person", item) == [("email", "sales1"), ("inbox", "sales1")]
        history = rules.history("issue_control_item", item)[-1]
        assert history["changes"]["owner"] == [rules.uid("it"), rules.uid("sales1")]
        assert history["changes"]["_workflow"]["rule"] == "issue_control_item.assign_to_person"

    rules.take(
        "sales1",
        "issue_control_item",
        items[0],
        "report_unable",
        "2026-03-02 14:00",
        {"cannot_handle_reason": "需要IT部协助"},
    )
    rules.tick("2026-03-02 16:00", only=only)
    assert rules.sent_to("reported_by_email", items[0]) == [("email", "it"), ("email", "manager")]
    assert rules.sent_to("end_of_day_reminder") == [("inbox", "sales1")]  # only the pending one
    rules.tick("2026-03-02 17:30", only=only)
    assert rules.sent_to("same_day_escalation") == [("email", "it"), ("email", "manager")]
    assert {m["record_id"] for m in rules.outbox("same_day_escalation")} == {items[1]}


def test_R11_suggestions_reach_it_and_the_supervisor_and_it_answers_in_24_working_hours(rules):
    answered, ignored = (rules.create("sales1", "improvement_suggestion", {
        "subject": subject, "content": "希望支持批量导入联系人", "needs_technical_support": True},
        "2026-03-06 16:00") for subject in ("批量导入", "批量导出"))  # fmt: skip
    for suggestion in (answered, ignored):
        rules.take("sales1", "improvement_suggestion", suggestion, "submit", "2026-03-06 16:00")
    only = [
        "improvement_suggestion.sent_to_it_and_supervisor",
        "improvement_suggestion.it_reply_sla",
    ]
    rules.tick("2026-03-06 16:01", only=only)
    assert rules.sent_to("sent_to_it_and_supervisor", answered) == [
        ("email", "it"),
        ("email", "manager"),
        ("inbox", "it"),
        ("inbox", "manager"),
    ]
    rules.take(
        "it",
        "improvement_suggestion",
        answered,
        "answer",
        "2026-03-10 10:00",
        {"it_reply": "下个版本支持"},
    )
    # Friday 16:00 + 24 working hours (8 a day) = Wednesday 16:00
    rules.tick("2026-03-11 15:59", only=only)
    assert rules.outbox("it_reply_sla") == []
    rules.tick("2026-03-11 16:00", only=only)
    assert rules.sent_to("it_reply_sla") == [
        ("email", "it"),
        ("email", "sales1"),
        ("inbox", "it"),
        ("inbox", "sales1"),
    ]
    assert {m["record_id"] for m in rules.outbox("it_reply_sla")} == {ignored}


def test_R10_same_day_reminders_follow_working_days_not_weekdays(rules):
    """No reminder during the National Day holiday (1–7 October 2026, Thursday to
    Wednesday); one on the adjusted working Saturday (调休, 10 October) — the schedule says
    ``working_days_only``, not ``1-5``."""
    only = ["issue_control_item.end_of_day_reminder"]
    item = rules.create("it", "issue_control_item", {
        "subject": "打印机故障", "description": "三楼打印机卡纸", "category": "system_incident",
        "assignee": rules.uid("sales1")}, "2026-09-30 18:00")  # fmt: skip
    rules.take("it", "issue_control_item", item, "publish", "2026-09-30 18:05")
    rules.tick("2026-09-30 18:06", only=only)
    reminded_on = []
    for day in range(1, 12):
        before = len(rules.sent_to("end_of_day_reminder", item))
        rules.tick(f"2026-10-{day:02d} 16:00", only=only)
        if len(rules.sent_to("end_of_day_reminder", item)) > before:
            reminded_on.append(day)
    assert reminded_on == [8, 9, 10]  # Thu, Fri and the working Saturday; not Sun the 11th
