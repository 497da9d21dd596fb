"""`make test`: the whole suite on SQLite + embedded Redis and, at the same time, the
app-level tests again on PostgreSQL + Redis when they answer on 127.0.0.1 (as in CI); the
second pass's output is printed after the first's.

Pass 1 also runs every engine-level test on PostgreSQL (the ``any_engine`` fixture) when it
is reachable. Pass 2 sets ``RULEFORM_TEST_BACKEND=postgres`` so the app fixtures use a
throwaway PostgreSQL database and the machine's Redis. Browser tests run where Chromium is
installed and are reported as skipped (with the reason) where it is not.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from typing import Any


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _pytest(args: list[str], env: dict[str, str], log: Any = None) -> subprocess.Popen:
    command = [sys.executable, "-m", "pytest", *args]
    print("+", " ".join(command), flush=True)
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT if log else None)


def _parallel() -> list[str]:
    """``-n N`` for pytest-xdist: one worker per core, at most 4 (``RULEFORM_TEST_WORKERS``
    overrides; 0 runs in one process). Each worker has its own databases and Redis queues."""
    wanted = os.environ.get("RULEFORM_TEST_WORKERS")
    workers = int(wanted) if wanted else min(4, len(os.sched_getaffinity(0)))
    return ["-n", str(workers)] if workers > 1 else []


def main() -> int:
    env = dict(os.environ)
    parallel = _parallel()
    postgres, redis = _answers(5432), _answers(6379)
    if postgres:
        env.setdefault("RULEFORM_REQUIRE_POSTGRES", "1")
    print(
        f"test backends: SQLite + embedded Redis; PostgreSQL {'yes' if postgres else 'no'}; "
        f"Redis server {'yes' if redis else 'no'}",
        flush=True,
    )
    second = None
    log = tempfile.TemporaryFile(mode="w+b")
    if postgres and redis:  # waits on PostgreSQL more than on the CPU: run it alongside
        second = _pytest(["-p", "no:cacheprovider", *parallel, "-m", "app", *sys.argv[1:]],
                         {**env, "RULEFORM_TEST_BACKEND": "postgres"}, log)  # fmt: skip
    else:
        print("note: PostgreSQL or Redis not reachable on 127.0.0.1; the second pass was skipped")
    first = _pytest(["-p", "no:cacheprovider", *parallel, *sys.argv[1:]],
                    {**env, "RULEFORM_TEST_BACKEND": "sqlite"}).wait()  # fmt: skip
    status = first
    if second is not None:
        code = second.wait()
        log.seek(0)
        print("\n=== second pass: app-level tests on PostgreSQL + Redis ===", flush=True)
        sys.stdout.buffer.write(log.read())
        sys.stdout.flush()
        status = first or (0 if code == 5 else code)  # 5: no app tests selected
    return status


if __name__ == "__main__":
    sys.exit(main())
