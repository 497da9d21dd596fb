"""A real database outage: requests get 503 with Retry-After and no stack trace (JSON under
/api, a page elsewhere), and the app recovers by itself when the database is back.

The test starts its own throwaway PostgreSQL cluster (``initdb`` + ``pg_ctl``) on a spare
loopback port, so it can stop and start it without touching any shared server. PostgreSQL
refuses to run as root: as root the cluster runs as the ``postgres`` user via ``runuser``.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.conftest import CRM

pytestmark = pytest.mark.slow


def _binaries() -> Path | None:
    found = shutil.which("pg_ctl")
    candidates = [Path(found).resolve().parent] if found else []
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for folder in candidates:
        if (folder / "pg_ctl").exists() and (folder / "initdb").exists():
            return folder
    return None


def _runner() -> list[str] | None:
    """How to run the server's programs: directly, or as ``postgres`` when we are root."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return None
    runuser = shutil.which("runuser")
    return [runuser, "-u", "postgres", "--"] if runuser else None


class Cluster:
    """A PostgreSQL cluster in a temporary folder, on 127.0.0.1:<port>."""

    def __init__(self, bin_dir: Path, runner: list[str]):
        self.bin, self.runner = bin_dir, runner
        self.root = Path(tempfile.mkdtemp(prefix="rf-pg-"))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        if runner:
            shutil.chown(self.root, "postgres")
        self.data = self.root / "data"
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *args: str) -> None:
        subprocess.run([*self.runner, str(self.bin / program), *args], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)  # fmt: skip

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync",
                  "-E", "UTF8", "--no-locale")  # fmt: skip

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c full_page_writes=off -c synchronous_commit=off")  # fmt: skip
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"),
                  "-w", "-t", "30", "start")  # fmt: skip

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            except subprocess.CalledProcessError:
                pass
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def cluster():
    bin_dir, runner = _binaries(), _runner()
    if bin_dir is None:
        pytest.skip("PostgreSQL server programs (initdb, pg_ctl) not found")
    if runner is None:
        pytest.skip("running as root, but there is no 'postgres' user or no runuser to start "
                    "PostgreSQL as (it refuses to run as root)")  # fmt: skip
    cluster = Cluster(bin_dir, runner)
    try:
        cluster.init()
        cluster.start()
    except subprocess.CalledProcessError as exc:
        cluster.remove()
        pytest.skip(f"could not start a PostgreSQL cluster: {exc.stderr.decode(errors='replace')}")
    yield cluster
    cluster.remove()


@pytest.fixture
def outage_app(cluster, tmp_path):
    from ruleform.app import create_app, state
    from ruleform.demo.organisation import seed_organisation
    from ruleform.platform.auth.tokens import create_token

    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": cluster.url,
                      "RULEBOOK": CRM, "TESTING": True, "WTF_CSRF_ENABLED": False,
                      "SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False})  # fmt: skip
    engine = state(app).engine
    org = seed_organisation(engine, set(state(app).runtime.rulebook.roles))
    with engine.begin() as conn:
        token = create_token(conn, org.user("sales1"), "outage test").token
    yield app, {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    engine.dispose()


def _no_internals(body: str) -> None:
    for leak in ("Traceback", "psycopg", "sqlalchemy", "OperationalError", "127.0.0.1"):
        assert leak not in body, f"{leak!r} leaked into the response"


def test_database_outage_is_503_with_retry_after_and_the_app_recovers(cluster, outage_app):
    app, api = outage_app
    client = app.test_client()
    login = client.post("/login", data={"username": "sales1", "password": "demo"})
    assert login.status_code == 302
    assert client.get("/customer").status_code == 200
    assert client.get("/api/v1/customer", headers=api).status_code == 200

    cluster.stop()
    page = client.get("/customer")
    assert page.status_code == 503
    assert page.headers["Retry-After"].isdigit()
    # a page, not JSON: the error page, or its plain-text fallback when the page frame
    # itself needs the database (the navigation is read from it)
    assert page.mimetype in ("text/html", "text/plain")
    assert "服务暂时不可用" in page.get_data(as_text=True)
    _no_internals(page.get_data(as_text=True))
    answer = client.get("/api/v1/customer", headers=api)
    assert answer.status_code == 503 and answer.headers["Retry-After"].isdigit()
    assert answer.is_json and answer.get_json()["code"] == "unavailable"
    assert answer.get_json()["status"] == 503
    _no_internals(answer.get_data(as_text=True))

    cluster.start()  # no restart of the app: the pool's pre-ping reconnects
    assert client.get("/customer").status_code == 200
    assert client.get("/api/v1/customer", headers=api).status_code == 200
