"""Fixtures for the time-rule scenarios: the CRM app at a chosen moment, ticks, and what they
wrote (ledger, outbox, tasks, dry runs, records).

Time is moved with ``time_machine.travel(moment, tick=False)``: records are created "then"
(their ``created_at``, status periods and history say so) and a tick runs "now".
Moments are written in Shanghai time, the rulebook's zone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine

from ruleform.app import state
from ruleform.platform.actors import SYSTEM, load_actor
from ruleform.platform.records import RecordService
from ruleform.workflow_engine.service import WorkflowService
from ruleform.workflow_engine.timerules.ticks import tick

SHANGHAI = ZoneInfo("Asia/Shanghai")

CUSTOMER = {
    "company_name": "上海恒远精密机械有限公司",
    "contact_name": "张三",
    "contact_department": "采购部",
    "mobile": "13800138000",
    "source": "trade_show",
}


def local(text: str) -> datetime:
    """``'2026-03-02 09:00'`` in Shanghai time."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def as_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


class Rules:
    """The CRM app, acting as its users at chosen moments, and ticking the time rules."""

    def __init__(self, app: Any, org: Any):
        self.app, self.org = app, org
        self.st = state(app)
        self._companies = 0

    @property
    def rt(self) -> Any:
        return self.st.runtime

    @property
    def engine(self) -> Any:
        return self.st.engine

    def uid(self, username: str) -> int:
        return self.org.user(username)

    @contextmanager
    def at(self, when: str | datetime) -> Iterator[datetime]:
        moment = local(when) if isinstance(when, str) else when
        with time_machine.travel(moment, tick=False):
            yield moment

    # --- acting ---------------------------------------------------------------------------

    def run(self, username: str | None, when: str, fn: Any) -> Any:
        with self.at(when), self.engine.begin() as conn:
            actor = SYSTEM if username is None else load_actor(conn, self.uid(username))
            return fn(RecordService(self.rt, conn, actor), WorkflowService(self.rt, conn, actor))

    def create(self, username: str, entity: str, values: dict[str, Any], when: str) -> int:
        return self.run(username, when, lambda r, w: r.create(entity, values)).id

    def customer(self, when: str, username: str = "sales1", **values: Any) -> int:
        self._companies += 1
        base = {**CUSTOMER, "company_name": f"客户{self._companies}号有限公司",
                "mobile": f"1380013{self._companies:04d}"}  # fmt: skip
        return self.create(username, "customer", {**base, **values}, when)

    def update(self, username: str | None, entity: str, record_id: int, values: dict[str, Any],
               when: str) -> None:  # fmt: skip
        version = self.record(entity, record_id)["row_version"]
        self.run(username, when, lambda r, w: r.update(entity, record_id, values, version))

    def take(self, username: str, entity: str, record_id: int, name: str, when: str,
             fields: dict[str, Any] | None = None) -> Any:  # fmt: skip
        version = self.record(entity, record_id)["row_version"]
        return self.run(
            username, when, lambda r, w: w.apply(entity, record_id, name, fields or {}, version)
        )

    def set_status(self, entity: str, record_id: int, status: str, when: str) -> None:
        """Put a record in ``status`` directly (with its status period), as the engine would."""
        from ruleform.workflow_engine.history import Books

        with self.at(when) as moment, self.engine.begin() as conn:
            table = self.rt.table(entity)
            conn.execute(table.update().where(table.c.id == record_id).values(status=status))
            Books(self.rt, conn).enter_status(entity, record_id, status, moment, None, None)

    # --- ticking ----------------------------------------------------------------------------

    def tick(self, when: str | datetime, **options: Any) -> Any:
        options.setdefault("lock", False)
        with self.at(when) as moment:
            return tick(self.rt, self.engine, moment, **options)

    def set_rollout(self, rule: str, rollout: str | None, **extra: Any) -> None:
        from ruleform.workflow_engine.timerules.catalog import find_rule
        from ruleform.workflow_engine.timerules.rollout import set_rollout

        with self.engine.begin() as conn:
            set_rollout(conn, self.rt.system_table("rule_states"),
                        find_rule(self.rt.rulebook, rule), rollout, local("2026-01-01 00:00"),
                        **extra)  # fmt: skip

    # --- what was written ---------------------------------------------------------------------

    @contextmanager
    def reading(self) -> Iterator[Any]:
        """A read connection (on SQLite a deferred transaction: it never waits for writers)."""
        with self.engine.connect() as conn:
            conn.info["write"] = False
            try:
                yield conn
            finally:
                conn.rollback()
                conn.info["write"] = True

    def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        with self.reading() as conn:
            return [dict(r) for r in conn.execute(sa.text(sql), params).mappings()]

    def record(self, entity: str, record_id: int) -> dict[str, Any]:
        with self.reading() as conn:
            table = self.rt.table(entity)
            return dict(
                conn.execute(sa.select(table).where(table.c.id == record_id)).mappings().one()
            )

    def outbox(self, rule: str | None = None, record_id: int | None = None) -> list[dict[str, Any]]:
        """Time-rule outbox rows (not workflow events, not cap alerts), oldest first, payload parsed."""
        sql = "select * from outbox where kind not in ('event', 'alert')"
        params: dict[str, Any] = {}
        if rule is not None:
            sql += " and rule = :rule"
            params["rule"] = rule
        if record_id is not None:
            sql += " and record_id = :rid"
            params["rid"] = record_id
        rows = self.rows(sql + " order by id", **params)
        for row in rows:
            row["payload"] = as_json(row["payload"])
        return rows

    def sent_to(self, rule: str, record_id: int | None = None) -> list[tuple[str, str]]:
        """(channel, recipient username or address) of the rule's messages."""
        names = {str(v): k for k, v in self.org.users.items()}
        return sorted((r["channel"], names.get(r["recipient"], r["recipient"]))
                      for r in self.outbox(rule, record_id))  # fmt: skip

    def ledger(self, rule: str, record_id: int | None = None) -> list[dict[str, Any]]:
        sql = "select * from rule_firings where rule = :rule"
        if record_id is not None:
            sql += f" and record_id = {int(record_id)}"
        return self.rows(sql + " order by id", rule=rule)

    def occurrences(self, rule: str, record_id: int | None = None) -> list[str]:
        return [r["occurrence"] for r in self.ledger(rule, record_id)
                if r["channel"] == "*" and r["status"] == "sent"]  # fmt: skip

    def tasks(self, rule: str | None = None) -> list[dict[str, Any]]:
        sql = "select * from tasks" + (" where rule = :rule" if rule else "") + " order by id"
        return self.rows(sql, rule=rule) if rule else self.rows(sql)

    def history(self, entity: str, record_id: int) -> list[dict[str, Any]]:
        rows = self.rows("select action, changes, user_id from record_history where entity = :e "
                         "and record_id = :r order by id", e=entity, r=record_id)  # fmt: skip
        for row in rows:
            row["changes"] = as_json(row["changes"]) or {}
        return rows


@pytest.fixture
def rules(app, org) -> Rules:
    return Rules(app, org)
