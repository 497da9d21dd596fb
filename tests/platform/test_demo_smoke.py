"""``ruleform demo`` for real: a fresh data folder, the login page answering, and Ctrl-C
stopping the web server, the worker (and its scheduler) and Redis — nothing left behind."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ruleform.demo.processes import ruleform_command

pytestmark = pytest.mark.slow

STARTUP_SECONDS = 90  # first start: import the rulebook, seed ~2,000 records, boot gunicorn


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in state


def processes_using(path: Path) -> set[int]:
    """Processes whose command line mentions ``path`` (redis-server, worker, scheduler)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if str(path) in cmdline and alive(int(entry.name)):
                found.add(int(entry.name))
    return found


def status_of(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to find the child processes")
def test_demo_serves_the_login_page_and_ctrl_c_stops_everything(tmp_path):
    port, data = free_port(), tmp_path / "demo-data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RULEFORM_")}
    log = open(tmp_path / "demo.log", "wb")  # noqa: SIM115
    command = [*ruleform_command(), "demo", "--port", str(port), "--data-dir", str(data)]
    demo = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)  # fmt: skip
    helpers: set[int] = set()
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        status = None
        while time.monotonic() < deadline and demo.poll() is None:
            status = status_of(f"http://127.0.0.1:{port}/login")
            if status == 200:
                break
            time.sleep(0.5)
        output = (tmp_path / "demo.log").read_text(errors="replace")
        assert status == 200, f"no login page within {STARTUP_SECONDS} s:\n{output[-3000:]}"
        assert f"http://127.0.0.1:{port}" in output and "sales1" in output and "'demo'" in output
        assert str(data) in output
        redis_pid = int((data / "redis.pid").read_text())
        worker_pid = int((data / "worker.pid").read_text())
        helpers = processes_using(data) | {redis_pid, worker_pid}
        assert alive(redis_pid) and alive(worker_pid)
        assert (data / "ruleform.db").exists() and (data / "redis.sock").exists()
    finally:
        stopping = time.monotonic()
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's group
        try:
            code = demo.wait(30)
            stopped_in = time.monotonic() - stopping
        except subprocess.TimeoutExpired:
            os.killpg(demo.pid, signal.SIGKILL)
            code, stopped_in = demo.wait(), float("inf")
        log.close()
    output = (tmp_path / "demo.log").read_text(errors="replace")
    assert code == 0, output[-3000:]
    assert "Demo stopped" in output
    # Known issue: under heavy load the RQ worker sometimes waits out its 10 s stop timeout
    # and is killed (the demo says "worker did not stop within 10 s: killed"); the demo
    # still stops, and nothing is lost (the outbox holds undelivered messages).
    assert stopped_in < 25, f"Ctrl-C took {stopped_in:.1f} s"
    assert "SIGKILL" not in output
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(pid) for pid in helpers):
        time.sleep(0.2)
    assert not [pid for pid in helpers if alive(pid)]
    assert processes_using(data) == set()
    assert not (data / "redis.pid").exists() and not (data / "worker.pid").exists()
    assert status_of(f"http://127.0.0.1:{port}/login") is None
