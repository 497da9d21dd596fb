"""Writing what happened to an outbox row: delivered, deferred, skipped, sandboxed, failed,
retried later, or handed back.

Every update can be guarded by the claim that holds the row (``claim=``): a job whose
lease was taken over changes nothing. Retries back off exponentially with jitter
(``DELIVERY_BACKOFF``: the first after about ``base`` seconds, doubling up to ``cap``);
after ``DELIVERY_MAX_ATTEMPTS`` the row is ``failed`` — shown to administrators on
``/admin/outbox`` with its last error, and retried from there.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ...platform.outbox import DELIVERED, FAILED, PENDING, SANDBOXED, SKIPPED
from .settings import DeliverySettings

__all__ = [
    "delivered",
    "defer",
    "skip",
    "sandbox",
    "fail",
    "retry",
    "release",
    "backoff",
    "retry_now",
]


def _update(conn: Connection, outbox: sa.Table, row_id: int, claim: str | None,
            **values: Any) -> int:  # fmt: skip
    stmt = outbox.update().where(outbox.c.id == row_id, outbox.c.status == PENDING)
    if claim is not None:
        stmt = stmt.where(outbox.c.claimed_by == claim)
    return conn.execute(stmt.values(**values)).rowcount


def _done(status: str, now: datetime, error: str | None = None) -> dict[str, Any]:
    values: dict[str, Any] = {"status": status, "claimed_by": None, "claimed_until": None}
    if status == DELIVERED:
        values["delivered_at"] = now
    if error is not None:
        values["last_error"] = error[:4000]
    return values


def delivered(conn: Connection, outbox: sa.Table, row_id: int, now: datetime,
              claim: str | None = None) -> int:  # fmt: skip
    return _update(conn, outbox, row_id, claim, **_done(DELIVERED, now))


def sandbox(conn: Connection, outbox: sa.Table, row_id: int, now: datetime,
            claim: str | None = None) -> int:  # fmt: skip
    return _update(conn, outbox, row_id, claim, **_done(SANDBOXED, now, "held in the sandbox"))


def skip(conn: Connection, outbox: sa.Table, row_id: int, reason: str, now: datetime,
         claim: str | None = None) -> int:  # fmt: skip
    return _update(conn, outbox, row_id, claim, **_done(SKIPPED, now, reason))


def fail(conn: Connection, outbox: sa.Table, row_id: int, error: str, now: datetime,
         claim: str | None = None) -> int:  # fmt: skip
    return _update(conn, outbox, row_id, claim, **_done(FAILED, now, error))


def defer(conn: Connection, outbox: sa.Table, row_id: int, until: datetime, reason: str,
          claim: str | None = None, attempts: int | None = None) -> int:  # fmt: skip
    """Not now: pending again from ``until`` (quiet hours, frequency cap). Not an attempt:
    a job that counted one when it started gives it back (``attempts``)."""
    values: dict[str, Any] = {"not_before": until, "next_attempt_at": until, "claimed_by": None,
                              "claimed_until": None, "last_error": reason[:4000]}  # fmt: skip
    if attempts is not None:
        values["attempts"] = attempts
    return _update(conn, outbox, row_id, claim, **values)


def release(conn: Connection, outbox: sa.Table, row_id: int, claim: str) -> int:
    """Give a claimed row back untouched (kill switch, Redis unavailable)."""
    return _update(conn, outbox, row_id, claim, claimed_by=None, claimed_until=None)


def backoff(attempts: int, settings: DeliverySettings) -> timedelta:
    """The wait before attempt ``attempts + 1``: exponential, capped, with equal jitter."""
    base, cap = settings.backoff
    delay = min(cap, base * 2 ** max(0, attempts - 1))
    return timedelta(seconds=delay / 2 + random.uniform(0, delay / 2))  # noqa: S311  not crypto


def retry(conn: Connection, outbox: sa.Table, row_id: int, attempts: int, error: str,
          settings: DeliverySettings, now: datetime, claim: str | None = None) -> str:  # fmt: skip
    """Try again later, or fail for good after the last attempt; the new status."""
    if attempts >= int(settings["DELIVERY_MAX_ATTEMPTS"]):
        _update(
            conn,
            outbox,
            row_id,
            claim,
            attempts=attempts,
            **_done(FAILED, now, f"gave up after {attempts} attempts: {error}"),
        )
        return FAILED
    _update(conn, outbox, row_id, claim, attempts=attempts,
            next_attempt_at=now + backoff(attempts, settings),
            claimed_by=None, claimed_until=None, last_error=error[:4000])  # fmt: skip
    return PENDING


def retry_now(conn: Connection, outbox: sa.Table, row_id: int, now: datetime,
              who: str = "an administrator") -> bool:  # fmt: skip
    """A failed (or skipped) row back to pending, due now, with fresh attempts."""
    stmt = (outbox.update().where(outbox.c.id == row_id, outbox.c.status.in_((FAILED, SKIPPED)))
            .values(status=PENDING, attempts=0, next_attempt_at=now, not_before=None,
                    claimed_by=None, claimed_until=None,
                    last_error=sa.func.coalesce(outbox.c.last_error, "")
                    + f" [retried by {who} at {now:%Y-%m-%d %H:%M} UTC]"))  # fmt: skip
    return conn.execute(stmt).rowcount == 1
