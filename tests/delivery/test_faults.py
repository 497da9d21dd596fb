"""Fault tests on real processes. Each starts its own ``redis-server`` (and, for the database
fault, its own PostgreSQL cluster) on spare loopback ports — the machine's shared services
are never touched.

* Redis stopped while requests are served, then restarted: every request committed its
  record with its outbox rows (or nothing, when it failed); in-app messages kept flowing;
  every email is delivered exactly once when Redis is back.
* A worker SIGKILLed while the SMTP server holds the message (accepted, not yet answered):
  the next worker finds it *in doubt*, asks the server, and does not send it again.
* The database restarted between the tick and the delivery: delivered exactly once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from ruleform.errors import FieldErrors
from ruleform.platform.actors import load_actor
from ruleform.platform.records import RecordService
from tests.delivery.conftest import wait_until
from tests.delivery.sink import SmtpSink, free_port

pytestmark = [pytest.mark.app, pytest.mark.slow]


def _request(dl, n: int, valid: bool = True) -> None:
    """A request that creates a customer and, in the same transaction, its notifications."""
    with dl.st.engine.begin() as conn:
        dl.notify("email", dl.user("manager"), subject=f"new customer {n}", conn=conn,
                  key=f"fault:{n}:email")  # fmt: skip
        dl.notify("inbox", dl.user("manager"), subject=f"new customer {n}", conn=conn,
                  key=f"fault:{n}:inbox")  # fmt: skip
        actor = load_actor(conn, dl.org.user("sales1"))
        values = {"company_name": f"故障测试客户{n}", "contact_name": "李四",
                  "source": "trade_show", "contact_department": "采购部",
                  "mobile": f"1390000{n:04d}"}  # fmt: skip
        if not valid:
            values.pop("company_name")
        RecordService(dl.st.runtime, conn, actor).create("customer", values)


def _statuses(dl, channel: str) -> list[str]:
    return [r["status"] for r in dl.rows(
        "select status from outbox where channel = :c and idempotency_key like 'fault:%'",
        c=channel)]  # fmt: skip


def test_redis_stopped_while_requests_are_served_then_restarted(
        dl, database_url, own_redis, worker_process, client):  # fmt: skip
    with SmtpSink() as smtp:
        worker = worker_process(database_url, own_redis.url, SMTP_HOST="127.0.0.1",
                                SMTP_PORT=smtp.port, DELIVERY_LEASE=5)  # fmt: skip
        _request(dl, 0)
        assert wait_until(lambda: len(smtp.messages) == 1, 30), worker.output()[-3000:]
        own_redis.stop()
        for n in range(1, 11):
            _request(dl, n)
        with pytest.raises(FieldErrors):
            _request(dl, 99, valid=False)  # failed whole: no record, no outbox row
        assert dl.rows("select id from outbox where idempotency_key like 'fault:99:%'") == []
        # in-app messages need no Redis; the emails wait in the outbox
        assert wait_until(lambda: _statuses(dl, "inbox").count("delivered") == 11, 20)
        time.sleep(1.5)
        assert _statuses(dl, "email").count("pending") == 10 and len(smtp.messages) == 1
        own_redis.start()
        done = wait_until(lambda: _statuses(dl, "email").count("delivered") == 11, 45)
        assert done, worker.output()[-4000:]
        time.sleep(1)  # nothing more arrives late
    assert len(smtp.messages) == 11 and not smtp.duplicates()
    assert sorted(m["Subject"] for m in smtp.messages) == sorted(
        f"new customer {n}" for n in range(11))  # fmt: skip
    assert len(dl.inbox("manager")) == 11


def test_a_worker_killed_mid_delivery_does_not_duplicate_the_message(
        dl, database_url, own_redis, worker_process, tmp_path, monkeypatch):  # fmt: skip
    received = tmp_path / "received.txt"
    settings = {"SMTP_HOST": "127.0.0.1", "DELIVERY_LEASE": 3,
                "DELIVERY_EMAIL_IN_DOUBT": "confirm",
                "DELIVERY_EMAIL_CONFIRM": "tests.delivery.sink:confirm",
                "env": {"RF_TEST_SINK_FILE": str(received)}}  # fmt: skip
    with SmtpSink(file=received, delay=6) as smtp:  # accepts, then waits before answering 250
        first = worker_process(database_url, own_redis.url, SMTP_PORT=smtp.port, **settings)
        row_id = dl.notify("email", dl.user("sales2"), subject="exactly once")
        assert smtp.received.wait(30), first.output()[-3000:]
        first.kill()  # SIGKILL, mid-send
        assert dl.delivery(row_id)["status"] == "sending"
        assert dl.row(row_id)["status"] == "pending"
        second = worker_process(database_url, own_redis.url, SMTP_PORT=smtp.port, **settings)
        done = wait_until(lambda: dl.row(row_id)["status"] == "delivered", 40)
        assert done, second.output()[-4000:]
    assert smtp.message_ids == [dl.delivery(row_id)["message_id"]]
    assert "confirmed" in dl.delivery(row_id)["response"]
    assert dl.row(row_id)["attempts"] == 2


# --- the database restarted --------------------------------------------------------------------


class PostgresCluster:
    """A throwaway PostgreSQL cluster (initdb / pg_ctl), run as the postgres user when root."""

    def __init__(self) -> None:
        self.bin = _pg_bin()
        self.dir = Path(tempfile.mkdtemp(prefix="rf-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.dir / "log"),
                  "-w", "start")  # fmt: skip

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"


def _pg_bin() -> Path | None:
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / "pg_ctl").exists() and (folder / "initdb").exists():
            return folder
    found = shutil.which("pg_ctl")
    return Path(found).resolve().parent if found else None


@pytest.fixture
def cluster():
    if _pg_bin() is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: cannot start PostgreSQL as postgres")
    pg = PostgresCluster()
    try:
        pg.init()
    except (subprocess.CalledProcessError, OSError, LookupError) as exc:
        pg.destroy()
        pytest.skip(f"cannot start a private PostgreSQL cluster: {exc}")
    yield pg
    pg.destroy()


def test_the_database_restarted_between_tick_and_delivery(cluster, own_redis, worker_process,
                                                          tmp_path, org):  # fmt: skip
    from ruleform.app import create_app, state
    from ruleform.demo.organisation import seed_organisation
    from tests.conftest import CRM
    from tests.delivery.conftest import Delivery

    admin = sa.create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text("CREATE DATABASE ruleform"))
    admin.dispose()
    url = cluster.url("ruleform")
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": url,
                      "RULEBOOK": CRM, "TESTING": True})  # fmt: skip
    dl = Delivery(app, seed_organisation(state(app).engine, set(state(app).runtime.rulebook.roles)))
    received = tmp_path / "received.txt"
    with SmtpSink(file=received, delay=3) as smtp:
        worker = worker_process(url, own_redis.url, SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port,
                                DELIVERY_EMAIL_IN_DOUBT="confirm",
                                env={"RF_TEST_SINK_FILE": str(received)},
                                DELIVERY_EMAIL_CONFIRM="tests.delivery.sink:confirm",
                                DELIVERY_LEASE=4)  # fmt: skip
        row_id = dl.notify("email", dl.user("gm"), subject="after the tick")  # the tick's row
        state(app).engine.dispose()
        assert smtp.received.wait(30), worker.output()[-3000:]
        cluster.stop()  # the database goes away while the message is being sent …
        time.sleep(3.5)  # … the server answers 250 meanwhile; the job cannot record it
        cluster.start()
        done = wait_until(lambda: _status(dl, row_id) == "delivered", 45)
        assert done, worker.output()[-4000:]
        later = dl.notify("inbox", dl.user("gm"), subject="the drain recovered")
        assert wait_until(lambda: _status(dl, later) == "delivered", 20), worker.output()[-3000:]
    assert len(smtp.messages) == 1 and not smtp.duplicates()
    state(app).engine.dispose()


def _status(dl, row_id: int) -> str | None:
    try:
        return dl.row(row_id)["status"]
    except sa.exc.OperationalError:
        return None
