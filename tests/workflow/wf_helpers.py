"""Helpers for the workflow tests: act as a user through the services or the API.

Import the fixtures into a test module with ``from tests.workflow.wf_helpers import wf``.
API calls authenticate with real API tokens (``Authorization: Bearer``), created once per
user and test.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa

from ruleform.app import state
from ruleform.platform.actors import load_actor
from ruleform.platform.auth.tokens import create_token
from ruleform.platform.records import RecordService
from ruleform.workflow_engine.approval_service import ApprovalService
from ruleform.workflow_engine.service import WorkflowService

CUSTOMER = {
    "company_name": "上海恒远精密机械有限公司",
    "contact_name": "张三",
    "contact_department": "采购部",
    "mobile": "13800138000",
    "source": "trade_show",
}

QUOTE = {
    "quote_no": "BJ-202603001",
    "valid_until": "2099-12-31",
    "items": "数控机床 ×2",
    "list_amount": "50000",
    "discount": "10",
}


def as_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


class Workflow:
    """Acting as the standard organisation's users, in the app's database."""

    def __init__(self, app: Any, org: Any):
        self.app = app
        self.st = state(app)
        self.org = org
        self.client = app.test_client()
        self._tokens: dict[str, str] = {}

    @property
    def rt(self) -> Any:
        return self.st.runtime

    def uid(self, username: str) -> int:
        return self.org.user(username)

    # --- services ----------------------------------------------------------------------------

    def run(self, username: str, fn: Any) -> Any:
        """``fn(records, workflow, approvals)`` as ``username`` in one transaction."""
        with self.st.engine.begin() as conn:
            actor = load_actor(conn, self.uid(username))
            wf = WorkflowService(self.rt, conn, actor)
            return fn(RecordService(self.rt, conn, actor), wf, ApprovalService(wf))

    def create(self, username: str, entity: str, values: dict[str, Any]) -> Any:
        return self.run(username, lambda r, w, a: r.create(entity, values))

    def record(self, entity: str, record_id: int) -> dict[str, Any]:
        with self.st.engine.connect() as conn:
            table = self.rt.table(entity)
            return dict(
                conn.execute(sa.select(table).where(table.c.id == record_id)).mappings().one()
            )

    def customer(self, username: str = "sales1", **extra: Any) -> Any:
        return self.create(username, "customer", {**CUSTOMER, **extra})

    def quote(self, username: str = "sales1", **extra: Any) -> Any:
        customer = self.customer(
            username,
            company_name=f"报价客户{extra.pop('tag', '')}",
            mobile=extra.pop("mobile", "13700137000"),
        )
        return self.create(username, "quote", {**QUOTE, "customer": customer.id, **extra})

    def take(
        self,
        username: str,
        entity: str,
        record_id: int,
        name: str,
        payload: dict | None = None,
        version: int | None = None,
        **kw: Any,
    ) -> Any:
        if version is None:
            version = self.record(entity, record_id)["row_version"]
        return self.run(
            username, lambda r, w, a: w.apply(entity, record_id, name, payload or {}, version, **kw)
        )

    def decide(
        self, username: str, request_id: int, decision: str = "approved", comment: str | None = None
    ) -> Any:
        return self.run(username, lambda r, w, a: a.decide(request_id, decision, comment))

    # --- HTTP ---------------------------------------------------------------------------------

    def token(self, username: str) -> str:
        if username not in self._tokens:
            with self.st.engine.begin() as conn:
                self._tokens[username] = create_token(conn, self.uid(username), "tests").token
        return self._tokens[username]

    def headers(self, username: str, version: int | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token(username)}"}
        if version is not None:
            headers["If-Match"] = f'W/"{version}"'
        return headers

    def get(self, username: str, path: str) -> Any:
        return self.client.get(path, headers=self.headers(username))

    def post(
        self, username: str, path: str, body: dict | None = None, version: int | None = None
    ) -> Any:
        return self.client.post(path, json=body or {}, headers=self.headers(username, version))

    def api_create(self, username: str, entity: str, values: dict[str, Any]) -> dict[str, Any]:
        """Create a record through the API (201); its ``data``."""
        response = self.post(username, f"/api/v1/{entity}", values)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["data"]

    def api_take(
        self,
        username: str,
        entity: str,
        record_id: int,
        name: str,
        body: dict | None = None,
        version: int | None = None,
    ) -> Any:
        if version is None:
            version = self.record(entity, record_id)["row_version"]
        return self.post(
            username, f"/api/v1/{entity}/{record_id}/transitions/{name}", body, version
        )

    def api_act(self, username: str, request_id: int, action: str, body: dict | None = None) -> Any:
        return self.post(username, f"/api/v1/approvals/{request_id}/{action}", body)

    # --- what was written ------------------------------------------------------------------

    def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        with self.st.engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.text(sql), params).mappings()]

    def events(self, entity: str, record_id: int) -> list[str]:
        rows = self.rows(
            "select rule from outbox where entity = :e and record_id = :r "
            "and kind = 'event' order by id",
            e=entity,
            r=record_id,
        )
        return [r["rule"] for r in rows]

    def history(self, entity: str, record_id: int) -> list[dict[str, Any]]:
        rows = self.rows(
            "select action, changes, user_id from record_history where entity = :e "
            "and record_id = :r order by id",
            e=entity,
            r=record_id,
        )
        for row in rows:
            row["changes"] = as_json(row["changes"]) or {}
        return rows

    def transitions_log(self, entity: str, record_id: int) -> list[dict[str, Any]]:
        return self.rows(
            "select * from transition_log where entity = :e and record_id = :r order by id",
            e=entity,
            r=record_id,
        )

    def request(self, request_id: int) -> dict[str, Any]:
        (row,) = self.rows("select * from approval_requests where id = :i", i=request_id)
        return row

    def tasks(self, request_id: int) -> list[dict[str, Any]]:
        return self.rows(
            "select * from approval_tasks where request_id = :i order by id", i=request_id
        )

    def add_user(
        self,
        username: str,
        roles: list[str],
        department: str = "service",
        manager: str | None = None,
    ) -> int:
        from ruleform.platform.auth.users import create_user

        with self.st.engine.begin() as conn:
            user_id = create_user(
                conn,
                username,
                "demo",
                display_name=username,
                department_id=self.org.departments[department],
                manager_id=self.org.users.get(manager) if manager else None,
                roles=roles,
                locale="en",
            )
        self.org.users[username] = user_id
        return user_id


@pytest.fixture
def wf(app, org) -> Workflow:
    return Workflow(app, org)
