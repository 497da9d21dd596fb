"""The administrators' time-rules page (state, dry-run results, pause / resume / approve with
CSRF), "my tasks" and ``/api/v1/tasks``."""

from __future__ import annotations

import re

import pytest

from ruleform.app import create_app, state
from ruleform.platform.auth.tokens import create_token
from tests.auth import sign_in

pytestmark = pytest.mark.app


def _orders(rules, count: int) -> None:
    customer = rules.customer("2026-01-05 10:00", consent_given=True,
                              consent_on="2026-01-02", consent_purposes=["service"],
                              retention_until="2029-01-01")  # fmt: skip
    for i in range(count):
        rules.create("admin", "sales_order", {
            "order_no": f"SO-{i}", "source_system": "manual", "customer": customer,
            "buyer_mobile": f"1390000000{i}", "ordered_at": "2026-03-02T10:00:00+08:00",
            "amount": "10"}, "2026-03-02 10:00")  # fmt: skip


def test_admin_page_shows_dry_run_results_and_changes_the_rollout(rules, client):
    _orders(rules, 3)
    rules.tick("2026-03-05 10:00")
    sign_in(client, "sales1")
    assert client.get("/admin/time-rules").status_code == 403
    client.post("/logout")
    sign_in(client, "admin")
    page = client.get("/admin/time-rules").get_data(as_text=True)
    assert 'data-rule="sales_order.satisfaction_survey" data-rollout="dry_run"' in page
    detail = client.get("/admin/time-rules/sales_order.satisfaction_survey").get_data(as_text=True)
    assert 'data-dry-summary="sms"' in detail
    assert "将向 3 个接收人发送 3 条sms消息" in detail  # the admin reads Chinese
    assert "SO-0" in detail  # the rendered message
    response = client.post("/admin/time-rules/sales_order.satisfaction_survey/approve")
    assert response.status_code == 302
    (row,) = rules.rows("select rollout, updated_by from rule_states where rule = :r",
                        r="sales_order.satisfaction_survey")  # fmt: skip
    assert row == {"rollout": "active", "updated_by": rules.uid("admin")}
    client.post(
        "/admin/time-rules/sales_order.satisfaction_survey/caps",
        data={"cap_per_run": "5", "cap_per_day": "", "canary": "13900000000\nsales"},
    )
    (row,) = rules.rows("select cap_per_run, canary from rule_states where rule = :r",
                        r="sales_order.satisfaction_survey")  # fmt: skip
    assert row["cap_per_run"] == 5 and "13900000000" in str(row["canary"])
    client.post("/admin/time-rules/sales_order.satisfaction_survey/pause")
    assert 'data-rollout="paused"' in client.get(
        "/admin/time-rules/sales_order.satisfaction_survey"
    ).get_data(as_text=True)
    assert client.get("/admin/time-rules/no.such_rule").status_code == 404
    api = client.get("/api/v1/time-rules").get_json()
    rollouts = {r["rule"]: r["rollout"] for r in api["rules"]}
    assert rollouts["sales_order.satisfaction_survey"] == "paused"


def test_admin_actions_need_the_csrf_token(database_url, tmp_path, rules):
    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path / "csrf"),
            "DATABASE_URL": database_url,
            "TESTING": True,
            "WTF_CSRF_ENABLED": True,
            "SESSION_COOKIE_SECURE": False,
        }
    )
    try:
        client = app.test_client()
        login = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
        client.post("/login", data={"username": "admin", "password": "demo", "csrf_token": token})
        refused = client.post("/admin/time-rules/customer.stale_customer/pause")
        assert refused.status_code in (400, 403)
        assert rules.rows("select * from rule_states where rollout = 'paused'") == []
        page = client.get("/admin/time-rules/customer.stale_customer").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        done = client.post(
            "/admin/time-rules/customer.stale_customer/pause", data={"csrf_token": token}
        )
        assert done.status_code == 302
        assert len(rules.rows("select * from rule_states where rollout = 'paused'")) == 1
    finally:
        state(app).engine.dispose()


def test_my_tasks_page_and_api(rules, client):
    customer = rules.customer("2026-03-02 10:00", last_contact_at="2026-03-02T10:00:00+08:00")
    rules.set_status("customer", customer, "prospect", "2026-03-02 10:00")
    rules.tick("2026-04-16 10:00")
    (task,) = rules.tasks("customer.stale_customer")
    sign_in(client, "manager")
    page = client.get("/tasks").get_data(as_text=True)
    assert f'data-task="{task["id"]}"' in page and task["title"] in page
    with rules.engine.begin() as conn:
        token = create_token(conn, rules.uid("manager"), "tests").token
        other = create_token(conn, rules.uid("sales1"), "tests").token
    api = client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}).get_json()
    (item,) = api["data"]
    assert item["id"] == task["id"] and item["link"] == f"/customer/{customer}"
    assert item["status"] == "open" and item["due_at"].startswith("2026-04-21T02:00:00")
    assert client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {other}"}
                      ).get_json()["data"] == []  # fmt: skip
    denied = client.post(
        f"/api/v1/tasks/{task['id']}/done", headers={"Authorization": f"Bearer {other}"}
    )  # not theirs
    assert denied.status_code == 404
    done = client.post(f"/api/v1/tasks/{task['id']}/done", json={},
                       headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert done.get_json()["data"]["status"] == "done"
    client.post(f"/tasks/{task['id']}/done", data={"state": "open"})
    assert rules.tasks("customer.stale_customer")[0]["status"] == "open"


ADMIN_PAGES = {"/admin/time-rules": "时间规则与运行状况", "/admin/outbox": "发件箱",
               "/admin/sandbox": "沙箱", "/admin/webhooks": "Webhook 目标"}  # fmt: skip
WORK_PAGES = {"/tasks": "我的任务", "/inbox": "站内信"}


def test_navigation_links_to_the_time_rule_and_delivery_pages(client):
    """Everyone reaches my tasks and the inbox from the sidebar; only administrators see
    the time rules (their health page), outbox and sandbox in the user menu."""
    sign_in(client, "admin")
    page = client.get("/tasks").get_data(as_text=True)
    for path, text in {**ADMIN_PAGES, **WORK_PAGES}.items():
        assert f'href="{path}"' in page and text in page, path
        assert client.get(path).status_code == 200, path
    client.post("/logout")
    sign_in(client, "sales1")
    page = client.get("/tasks").get_data(as_text=True)
    for path, text in WORK_PAGES.items():
        assert f'href="{path}"' in page and text in page, path
        assert client.get(path).status_code == 200, path
    for path, text in ADMIN_PAGES.items():
        assert f'href="{path}"' not in page and text not in page, path
        assert client.get(path).status_code == 403, path
