"""Checking a username and password, with rate limiting (shared by the login page and
``POST /api/v1/tokens``; no Flask here).

The throttle is asked first, so a throttled client costs no password hash. Unknown
usernames are checked against a dummy hash, so timing does not tell which names exist.
The password is verified outside any transaction (Argon2 takes tens of milliseconds; on
SQLite a write transaction would hold the database's write lock meanwhile).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.engine import Connection, Engine

from .passwords import hash_password, needs_rehash, verify_password
from .throttle import forget_failures, record_failure, retry_after
from .users import find_user, users_table

__all__ = ["LoginResult", "attempt_login", "MAX_PASSWORD_LENGTH"]

#: Longer passwords are refused without hashing them.
MAX_PASSWORD_LENGTH = 1024


@dataclass(frozen=True)
class LoginResult:
    """``outcome``: ``ok``, ``failed`` (wrong name or password), ``inactive`` or ``throttled``."""

    outcome: str
    user: dict | None = None
    retry_after: int = 0

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


@contextmanager
def _reading(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        conn.info["write"] = False  # SQLite: a deferred transaction, no write lock
        try:
            with conn.begin():
                yield conn
        finally:
            conn.info["write"] = True


def attempt_login(engine: Engine, username: str, password: str, address: str | None,
                  limit: tuple[int, int], now: datetime | None = None,
                  record_login: bool = True) -> LoginResult:  # fmt: skip
    """Check ``username``/``password`` from ``address``; record the outcome.

    ``record_login=False`` (re-checking the password of someone already logged in) leaves
    ``last_login_at`` alone.
    """
    now = now or datetime.now(UTC)
    with _reading(engine) as conn:
        wait = retry_after(conn, username, address, limit, now)
        user = None if wait else find_user(conn, username)
    if wait:
        return LoginResult("throttled", retry_after=wait)
    stored = user["password_hash"] if user else None
    valid = len(password) <= MAX_PASSWORD_LENGTH and verify_password(stored, password)
    with engine.begin() as conn:
        if not valid or user is None or not user["active"]:
            record_failure(conn, username, address, limit, now)
            return LoginResult("inactive" if valid else "failed")
        forget_failures(conn, username)
        values: dict = {"last_login_at": now} if record_login else {}
        if needs_rehash(stored or ""):
            values["password_hash"] = hash_password(password)
        if values:
            users = users_table()
            conn.execute(users.update().where(users.c.id == user["id"]).values(**values))
    return LoginResult("ok", user)
