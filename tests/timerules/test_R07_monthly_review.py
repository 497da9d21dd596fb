"""R07 (004 §4.5): leaders review top customers monthly (点评督导) — the general manager the
company's top 15 by importance, the marketing VP the top 30, each department manager the
department's top 50. ``schedule`` with ``top`` / ``order_by`` / ``per`` ranks in SQL with
``ROW_NUMBER() OVER (PARTITION BY …)``; each review is a task for the reviewer."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.app

GM = "customer.monthly_review_general_manager"
VP = "customer.monthly_review_marketing_vp"
DEPT = "customer.monthly_review_department"
ONLY = [GM, VP, DEPT]


def _customers(rules) -> dict[int, float]:
    """18 customers (12 of sales1 in Sales, 6 of sales3 in Sales East), distinct scores."""
    scores = {}
    for i in range(18):
        owner = "sales1" if i < 12 else "sales3"
        a, b, c = 1 + i % 5, 1 + (i // 5) % 5, 1 + (i * 2) % 5
        record = rules.customer("2026-01-05 10:00", owner, company_type_score=a, size_score=b,
                                brand_score=c, demand_score=3, industry_position_score=3,
                                market_share_score=3 if i != 17 else 5)  # fmt: skip
        scores[record] = float(rules.record("customer", record)["importance_score"])
    table = rules.rt.table("customer")
    with rules.engine.begin() as conn:
        conn.execute(table.update().values(status="interested"))
    return scores


def test_R07_top_customers_are_reviewed_monthly_by_rank_and_scope(rules):
    from ruleform.platform.auth.users import create_user

    with rules.engine.begin() as conn:
        vp = create_user(
            conn,
            "vp",
            "demo",
            display_name="营销副总",
            department_id=rules.org.departments["company"],
            roles=["marketing_vp"],
        )
    scores = _customers(rules)
    rules.tick("2026-01-31 09:00", only=ONLY)
    rules.tick("2026-02-01 08:59", only=ONLY)
    assert rules.tasks() == []
    rules.tick("2026-02-01 09:00", only=ONLY)

    ranked = sorted(scores, key=lambda r: (-scores[r], r))
    gm = rules.tasks(GM)
    assert {t["user_id"] for t in gm} == {rules.uid("gm")}
    assert sorted(t["record_id"] for t in gm) == sorted(ranked[:15])  # the top 15 only
    assert len(rules.tasks(VP)) == 18 and {t["user_id"] for t in rules.tasks(VP)} == {vp}
    dept = rules.tasks(DEPT)
    assert len(dept) == 18 and {t["user_id"] for t in dept} == {rules.uid("manager")}
    # ranks restart in each department (PARTITION BY department)
    ranks = {}
    for message in rules.outbox("monthly_review_department"):
        ranks.setdefault(rules.record("customer", message["record_id"])["department"], []).append(
            message["payload"]["detail"]["rank"]
        )
    assert sorted(len(r) for r in ranks.values()) == [6, 12]
    assert all(sorted(r) == list(range(1, len(r) + 1)) for r in ranks.values())
    # due in 10 working days, in the assignee's language
    assert all(t["title"].startswith("点评督导：") for t in gm)

    rules.tick("2026-02-01 09:00:30", only=ONLY)  # a second tick that month: nothing new
    rules.tick("2026-02-20 09:00", only=ONLY)
    assert len(rules.tasks()) == 51
    rules.tick("2026-03-01 09:00", only=ONLY)  # next month: a new review
    assert len(rules.tasks(GM)) == 30
    occurrences = {t["occurrence"] for t in rules.tasks(GM)}
    assert occurrences == {"schedule:2026-02-01T01:00:00Z", "schedule:2026-03-01T01:00:00Z"}


def test_R07_the_ranking_query_is_one_statement_with_a_window_function(rules):
    from ruleform.workflow_engine.timerules.calendars import CalendarMap
    from ruleform.workflow_engine.timerules.catalog import find_rule
    from ruleform.workflow_engine.timerules.recipients import Directory
    from ruleform.workflow_engine.timerules.sweep import Window
    from ruleform.workflow_engine.timerules.timings import build_sweep
    from tests.timerules.conftest import local

    with rules.engine.connect() as conn:
        directory = Directory.load(conn, rules.rt)
    rule = find_rule(rules.rt.rulebook, DEPT)
    window = Window(rules.rt, rule, local("2026-02-01 09:00"), local("2026-02-01 08:59"),
                    CalendarMap(rules.rt, directory), directory)  # fmt: skip
    sql = str(build_sweep(window).statement().compile(rules.engine))
    assert "row_number() OVER (PARTITION BY e_customer.department" in sql
    assert sql.count("SELECT") == 2  # the ranked subquery and the outer filter
    assert isinstance(build_sweep(window).statement(), sa.Select)
