"""R14 (004 §5.1) / R15 (§5.2): when an employee leaves, the supervisor transfers their
customers; the new owner contacts each customer within 2 working days, customer service
contacts them too, and the new owner tells the departments concerned
(``customer.handover_follow_up``: three tasks due in 2 working days;
``handover_contact_overdue``: a reminder when no contact was logged in time)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.app

FOLLOW_UP = "customer.handover_follow_up"
OVERDUE = "customer.handover_contact_overdue"
ONLY = [FOLLOW_UP, OVERDUE]


def _hand_over(rules, customers: list[int], when: str) -> None:
    """The supervisor's bulk transfer: sales1 left, sales2 takes over."""
    for customer in customers:
        rules.update(
            "manager",
            "customer",
            customer,
            {
                "owner": rules.uid("sales2"),
                "handover_at": f"{when.replace(' ', 'T')}:00+08:00",
                "handover_reason": "employee_left",
                "previous_owner": rules.uid("sales1"),
            },
            when,
        )


def test_R14_handover_gives_the_new_owner_and_customer_service_tasks_due_in_2_working_days(rules):
    customers = [
        rules.customer("2026-01-05 10:00", last_contact_at="2026-01-05T10:00:00+08:00")
        for _ in range(3)
    ]
    for customer in customers:
        rules.set_status("customer", customer, "interested", "2026-01-05 10:00")
    _hand_over(rules, customers, "2026-04-03 16:00")  # Friday before Qingming (4-6 April off)
    rules.tick("2026-04-03 16:01", only=ONLY)
    tasks = rules.tasks(FOLLOW_UP)
    assert len(tasks) == 9
    by_user = {}
    for task in tasks:
        by_user.setdefault(task["user_id"], []).append(task)
    assert sorted(len(v) for v in by_user.values()) == [3, 6]
    assert len(by_user[rules.uid("sales2")]) == 6 and len(by_user[rules.uid("service")]) == 3
    # 2 working days after Friday 16:00, over the weekend and the Qingming holiday (Mon 6 Apr)
    assert {str(t["due_at"])[:16] for t in tasks} == {"2026-04-08 08:00"}
    # R15, in the new owner's language (sales2 reads English)
    assert any(t["title"].startswith("Tell the departments") for t in by_user[rules.uid("sales2")])
    assert all(t["title"].startswith("回访交接客户") for t in by_user[rules.uid("service")])
    inbox = [m for m in rules.outbox("handover_follow_up") if m["kind"] == "task"]
    assert len(inbox) == 9 and {m["channel"] for m in inbox} == {"inbox"}

    # one customer is contacted in time; the other two are overdue after 2 working days
    rules.update(
        "sales2",
        "customer",
        customers[0],
        {"last_contact_at": "2026-04-07T11:00:00+08:00"},
        "2026-04-07 11:00",
    )
    rules.tick("2026-04-08 15:59", only=ONLY)
    assert rules.outbox("handover_contact_overdue") == []
    rules.tick("2026-04-08 16:00", only=ONLY)
    overdue = rules.outbox("handover_contact_overdue")
    assert {m["record_id"] for m in overdue} == set(customers[1:])
    assert {m["recipient"] for m in overdue} == {
        str(rules.uid("sales2")),
        str(rules.uid("manager")),
    }
    rules.tick("2026-04-10 16:00", only=ONLY)
    assert len(rules.tasks(FOLLOW_UP)) == 9 and len(rules.outbox("handover_contact_overdue")) == 8
