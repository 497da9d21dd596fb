"""Fixtures for the API tests: bearer tokens for the standard organisation, a JSON client,
and a statement counter on the app's engine.

Tokens are real ones (``ruleform.platform.auth.tokens.create_token``), sent as
``Authorization: Bearer rf_…``.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from ruleform.app import state
from ruleform.platform.auth.tokens import create_token


class Tokens:
    """Bearer headers per username (one token per user, made on first use)."""

    def __init__(self, app: Any, users: dict[str, int]):
        self.app = app
        self.users = users
        self._cache: dict[str, str] = {}

    def token(self, username: str) -> str:
        if username not in self._cache:
            with state(self.app).engine.begin() as conn:
                self._cache[username] = create_token(conn, self.users[username], "tests").token
        return self._cache[username]

    def headers(self, username: str | None) -> dict[str, str]:
        return {} if username is None else {"Authorization": f"Bearer {self.token(username)}"}


class Api:
    """``api.get("/customer", user="sales1")`` → the test client's response."""

    def __init__(self, client: Any, tokens: Tokens, prefix: str = "/api/v1"):
        self.client = client
        self.tokens = tokens
        self.prefix = prefix

    def call(
        self,
        method: str,
        path: str,
        user: str | None = "sales1",
        json: Any = None,
        headers: dict[str, str] | None = None,
        **kw: Any,
    ) -> Any:
        all_headers = {**self.tokens.headers(user), **(headers or {})}
        if json is not None:
            kw["data"] = jsonlib.dumps(json, ensure_ascii=False)
            kw.setdefault("content_type", "application/json")
        url = path if path.startswith("/api/") else self.prefix + path
        return self.client.open(url, method=method, headers=all_headers, **kw)

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Any:
        return self.call("POST", path, **kw)

    def patch(self, path: str, **kw: Any) -> Any:
        return self.call("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.call("DELETE", path, **kw)


@contextmanager
def copied_database(template: dict[str, Any], folder: Any) -> Iterator[str]:
    """A copy of a template database (``{"url": …, "path": …}`` for SQLite, ``{"url": …}``
    for PostgreSQL); dropped afterwards."""
    import secrets
    import shutil

    from tests.databases import ADMIN_URL

    if "path" in template:
        target = folder / "copy.db"
        shutil.copyfile(template["path"], target)
        yield f"sqlite:///{target}"
        return
    name = "rf_t_" + secrets.token_hex(6)
    source = sa.engine.make_url(template["url"])
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{source.database}"'))
    try:
        yield source.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 "WHERE datname = :n"), {"n": name})  # fmt: skip
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture
def tokens(app, org) -> Tokens:
    return Tokens(app, org.users)


@pytest.fixture
def api(app, tokens) -> Api:
    return Api(app.test_client(), tokens)


class StatementCounter:
    """SQL statements the engine ran while counting (``with counter: ...``)."""

    def __init__(self, engine: sa.engine.Engine):
        self.engine = engine
        self.statements: list[str] = []
        self._on = False
        sa.event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if self._on:
            self.statements.append(statement)

    @contextmanager
    def counting(self) -> Iterator[StatementCounter]:
        self.statements.clear()
        self._on = True
        try:
            yield self
        finally:
            self._on = False

    def __len__(self) -> int:
        return len(self.statements)

    def close(self) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._record)


@pytest.fixture
def statements(app) -> Iterator[StatementCounter]:
    counter = StatementCounter(state(app).engine)
    yield counter
    counter.close()


CUSTOMER = {
    "company_name": "上海恒远精密机械有限公司",
    "contact_name": "张三",
    "mobile": "138 0013 8000",
    "source": "trade_show",
    "company_type_score": 3, "size_score": 4, "brand_score": 2,
    "demand_score": 5, "industry_position_score": 3, "market_share_score": 1,
}  # fmt: skip


@pytest.fixture
def customer(api) -> dict[str, Any]:
    """A customer created by sales1 through the API (the response document)."""
    response = api.post("/customer", json=CUSTOMER)
    assert response.status_code == 201, response.get_json()
    return response.get_json()
