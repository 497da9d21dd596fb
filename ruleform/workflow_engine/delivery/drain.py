"""The drain: due outbox rows → inbox messages (inline) and RQ jobs (everything else).

A row is *due* when it is ``pending`` on a channel this package delivers, its
``next_attempt_at`` and ``not_before`` have passed and no unexpired lease holds it.

* **Inbox rows** are delivered in the drain's own transaction, a batch at a time: select
  ``FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite has one writer at a time), decide, write
  the ``inbox_messages`` row (unique outbox key) and mark the row delivered — commit. A
  crash anywhere rolls all of it back; nothing is half-done. A row that raises is retried
  later on its own (savepoint per row), so one bad row never blocks the batch.
* **External rows** are claimed (``claimed_by`` = the job id, ``claimed_until`` = now +
  ``DELIVERY_LEASE``) and committed, then one RQ job per row is enqueued under that
  deterministic id with ``unique=True``: draining again cannot double-enqueue. A job id
  already in Redis is left alone while it is queued or running within its lease, and
  replaced when it is finished, failed or vanished (Redis restarted empty).
* **Redis down**: the claims not enqueued are handed back and ``RedisUnavailable`` tells the
  loop to back off; producing requests never touch Redis, so nothing is lost — the rows
  simply wait. Inbox rows keep flowing, since they need no Redis.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ...platform.runtime import utcnow
from . import outcomes
from .channels import external_channels
from .context import DeliveryContext
from .flags import kill_switch_on
from .inline import deliver_inbox_batch, due_rows, select_due
from .jobs import deliver

__all__ = ["drain_once", "due_rows", "job_id", "DrainReport", "RedisUnavailable",
           "deliver_inbox_batch", "claim_external", "enqueue_claimed"]  # fmt: skip

log = logging.getLogger("ruleform.delivery")


class RedisUnavailable(RuntimeError):
    """Redis did not answer; the claims were handed back."""


@dataclass
class DrainReport:
    inline: int = 0  # inbox rows decided (delivered, deferred, sandboxed …)
    enqueued: int = 0
    held: bool = False  # the kill switch is on
    redis_error: str | None = None

    @property
    def worked(self) -> bool:
        return bool(self.inline or self.enqueued)


def job_id(queue: str, outbox_id: int, attempts: int) -> str:
    """The RQ job id of a row's next attempt — the same for every drain of that attempt."""
    return f"rf-{re.sub(r'[^A-Za-z0-9_-]', '_', queue)}-outbox-{outbox_id}-{attempts}"


# --- external: claim, then enqueue ---------------------------------------------------------


def claim_external(ctx: DeliveryContext, now: datetime) -> list[str]:
    """Claim a batch of due external rows under their job ids; the ids claimed."""
    outbox, queue = ctx.outbox, ctx.settings["DELIVERY_QUEUE"]
    until = now + timedelta(seconds=float(ctx.settings["DELIVERY_LEASE"]))
    with ctx.engine.begin() as conn:
        if kill_switch_on(conn):
            return []
        query = select_due(outbox, now, external_channels(), int(ctx.settings["DELIVERY_BATCH"]))
        found = [(r.id, r.attempts) for r in conn.execute(query)]
        claims = [{"rid": rid, "token": job_id(queue, rid, attempts)} for rid, attempts in found]
        if claims:
            stmt = outbox.update().where(outbox.c.id == sa.bindparam("rid"))
            conn.execute(stmt.values(claimed_by=sa.bindparam("token"), claimed_until=until),
                         claims)  # fmt: skip
    return [c["token"] for c in claims]


def _outbox_id(token: str) -> int:
    return int(token.rsplit("-", 2)[-2])


def enqueue_claimed(ctx: DeliveryContext, tokens: list[str], now: datetime) -> int:
    """One RQ job per claim; on a Redis failure hand the rest back and raise."""
    from redis.exceptions import RedisError

    done = 0
    try:
        queue = ctx.queue()
        for token in tokens:
            _enqueue(ctx, queue, token, now)
            done += 1
    except (RedisError, OSError) as exc:
        with ctx.engine.begin() as conn:
            for token in tokens[done:]:
                outcomes.release(conn, ctx.outbox, _outbox_id(token), token)
        raise RedisUnavailable(str(exc)) from exc
    return done


def _enqueue(ctx: DeliveryContext, queue: Any, token: str, now: datetime) -> None:
    from rq.exceptions import DuplicateJobError

    lease = float(ctx.settings["DELIVERY_LEASE"])
    options = {"job_id": token, "unique": True, "result_ttl": 0, "failure_ttl": 7 * 86400,
               "job_timeout": max(10, int(lease * 0.8)),
               "description": f"deliver outbox row {_outbox_id(token)}"}  # fmt: skip
    try:
        queue.enqueue(deliver, _outbox_id(token), token, **options)
    except DuplicateJobError:
        if _still_coming(queue, token, now, lease):
            return
        queue.enqueue(deliver, _outbox_id(token), token, **options)


def _still_coming(queue: Any, token: str, now: datetime, lease: float) -> bool:
    """Will the job already stored under ``token`` run (or is it running)? If not, drop it."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus

    try:
        job = Job.fetch(token, connection=queue.connection)
    except NoSuchJobError:
        return False
    status = job.get_status(refresh=False)
    waiting = (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED, JobStatus.CREATED)
    if status in waiting:
        return True
    if status == JobStatus.STARTED and job.started_at is not None:
        started = job.started_at
        started = started if started.tzinfo else started.replace(tzinfo=now.tzinfo)
        if (now - started).total_seconds() < lease:
            return True
    job.delete()
    return False


# --- one drain -------------------------------------------------------------------------------


def drain_once(ctx: DeliveryContext, now: datetime | None = None, *,
               budget: float = 2.0) -> DrainReport:  # fmt: skip
    """Deliver the due inbox rows (for up to ``budget`` seconds) and enqueue the external ones."""
    report = DrainReport()
    now = now or utcnow()
    with ctx.engine.connect() as conn:
        conn.info["write"] = False  # SQLite: a read, no write lock (see platform/database.py)
        try:
            report.held = kill_switch_on(conn)
        finally:
            conn.info["write"] = True
    if report.held:
        return report
    deadline = time.monotonic() + budget
    batch = int(ctx.settings["DELIVERY_BATCH"])
    while time.monotonic() < deadline:
        count = deliver_inbox_batch(ctx, now)
        report.inline += count
        if count < batch:
            break
    while time.monotonic() < deadline:
        tokens = claim_external(ctx, now)
        if not tokens:
            break
        try:
            report.enqueued += enqueue_claimed(ctx, tokens, now)
        except RedisUnavailable as exc:
            report.redis_error = str(exc)
            break
        if len(tokens) < batch:
            break
    return report
