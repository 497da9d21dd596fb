"""A running web process follows the active rulebook version.

``ruleform migrate`` (or any publication) activates a new version in the database. Each
server process looks for it at most once every ``RULEBOOK_CHECK_SECONDS`` (one small
query at the start of a request; 0 turns it off) and, when the active number changed,
builds the new runtime and swaps it in. Requests already running finish with the version
they started with; the next ones see the new one. RQ workers do the same on every job
(``timerules.scheduler.runtime_for``).
"""

from __future__ import annotations

import threading
import time

from flask import Flask

from .app_state import RuleformState, state
from .bootstrap import load_runtime
from .storage.versions import active_number

__all__ = ["VersionFollower", "init_app"]


class VersionFollower:
    """Checks for a newly activated version at most once per ``interval`` seconds."""

    def __init__(self, app_state: RuleformState, interval: float) -> None:
        self.state = app_state
        self.interval = interval
        self.next_check = time.monotonic() + interval
        self._busy = threading.Lock()

    def check(self) -> bool:
        """Swap in the active version if it changed; True when it did."""
        now = time.monotonic()
        if now < self.next_check or not self._busy.acquire(blocking=False):
            return False
        try:
            self.next_check = now + self.interval
            with self.state.engine.connect() as conn:
                conn.info["write"] = False  # a read: on SQLite no write lock for the check
                try:
                    with conn.begin():
                        number = active_number(conn)
                finally:
                    conn.info["write"] = True
            if number is None or number == self.state.runtime.version:
                return False
            self.state.swap_runtime(load_runtime(self.state.engine, None))
            return True
        finally:
            self._busy.release()


def init_app(app: Flask) -> None:
    """Install the follower unless ``RULEBOOK_CHECK_SECONDS`` is 0."""
    interval = float(app.config.get("RULEBOOK_CHECK_SECONDS") or 0)
    if interval <= 0:
        return
    follower = VersionFollower(state(app), interval)
    state(app).extras["version_follower"] = follower

    @app.before_request
    def _follow_active_version() -> None:
        follower.check()
