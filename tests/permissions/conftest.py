"""Fixtures for the permission tests: API clients per user, page clients per user, records
made by their owners, and a snapshot of everything a write could change."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
import sqlalchemy as sa

from ruleform.app import state
from ruleform.platform.actors import SYSTEM, load_actor
from ruleform.platform.records import RecordService
from tests.api.conftest import CUSTOMER, Api, Tokens
from tests.pages.conftest import Pages

#: System tables a refused write must leave as they were (plus the entity's own table).
WATCHED = (
    "record_history",
    "read_audit",
    "outbox",
    "supplements",
    "approval_requests",
    "approval_tasks",
    "transition_log",
    "status_periods",
    "duplicate_keys",
    "tasks",
    "inbox_messages",
)


@pytest.fixture
def tokens(app, org) -> Tokens:
    return Tokens(app, org.users)


@pytest.fixture
def api(app, tokens) -> Api:
    return Api(app.test_client(), tokens)


@pytest.fixture
def pages(app):
    return Pages(app)


@pytest.fixture
def service(app, org):
    """``service("sales1", fn)``: run ``fn(RecordService)`` as that user in one transaction."""
    st = state(app)

    def run(username: str | None, fn: Any) -> Any:
        with st.engine.begin() as conn:
            actor = SYSTEM if username is None else load_actor(conn, org.user(username))
            return fn(RecordService(st.runtime, conn, actor))

    return run


@pytest.fixture
def make_customer(api):
    """A customer created through the API by ``user`` (the response's ``data``)."""
    made = {"n": 0}

    def make(user: str = "sales1", **extra: Any) -> dict[str, Any]:
        made["n"] += 1
        n = made["n"]
        body = {**CUSTOMER, "company_name": f"{user}测试客户{n}有限公司",
                "mobile": f"139{n:04d}{abs(hash(user)) % 10000:04d}", **extra}  # fmt: skip
        response = api.post("/customer", user=user, json=body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["data"]

    return make


class Snapshot:
    """Row counts of the watched tables and a digest of one record: equal before/after
    means a refused write changed nothing (EspoCRM CVE-2026-41160: saved, then refused)."""

    def __init__(self, app: Any):
        self.engine = state(app).engine

    def take(self, entity: str | None = None, record_id: int | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        with self.engine.connect() as conn:
            names = set(sa.inspect(conn).get_table_names())
            for table in WATCHED:
                if table in names:
                    out[table] = conn.execute(sa.text(f'SELECT count(*) FROM "{table}"')).scalar()
            if entity is not None:
                table = f"e_{entity}"
                out[table] = conn.execute(sa.text(f'SELECT count(*) FROM "{table}"')).scalar()
                if record_id is not None:
                    row = conn.execute(sa.text(f'SELECT * FROM "{table}" WHERE id = :i'),
                                       {"i": record_id}).mappings().first()  # fmt: skip
                    text = json.dumps(dict(row) if row else None, default=str, sort_keys=True)
                    out["row"] = hashlib.sha256(text.encode()).hexdigest()
        return out


@pytest.fixture
def snapshot(app) -> Snapshot:
    return Snapshot(app)


def form_data(values: dict[str, Any]) -> dict[str, Any]:
    """A submitted page form: the values plus the ``_fields`` markers the page renders."""
    return {**values, "_fields": list(values)}


def insert_row(
    app: Any, entity: str, owner: int | None, department: int | None, **values: Any
) -> int:
    """A row written straight into the entity's table (scope tests need rows in given hands,
    not valid business records); the status is the initial one unless given."""
    from ruleform.platform.runtime import utcnow

    st = state(app)
    model = st.runtime.entity(entity)
    now = utcnow()
    row = {"created_at": now, "updated_at": now, "row_version": 1, "archived": False,
           "rulebook_version": st.runtime.version, **values}  # fmt: skip
    if model.owner:
        row["owner"] = owner
    if model.department:
        row["department"] = department
    if model.statuses is not None:
        row.setdefault("status", model.statuses.initial)
    table = st.runtime.table(model)
    with st.engine.begin() as conn:
        return conn.execute(table.insert().values(**row).returning(table.c.id)).scalar_one()


@pytest.fixture
def row(app, org):
    """``row("ticket", "sales1", status="received")``: a row owned by that user (in their
    department)."""
    from ruleform.platform.auth.users import users_table

    def make(entity: str, username: str | None, **values: Any) -> int:
        owner = org.user(username) if username else None
        department = None
        if owner is not None:
            users = users_table()
            with state(app).engine.connect() as conn:
                department = conn.execute(sa.select(users.c.department_id)
                                          .where(users.c.id == owner)).scalar()  # fmt: skip
        return insert_row(app, entity, owner, department, **values)

    return make
