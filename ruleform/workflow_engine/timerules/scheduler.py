"""One clock for all time rules: the scheduler lock, tick slots, the loop and the RQ job.

**Never two ticks at once, never the same slot twice.** A tick first takes the scheduler
lock — on PostgreSQL a session advisory lock (``pg_try_advisory_lock``, released when the
tick ends or its connection dies), on SQLite a lease row in ``scheduler_lock`` (holder,
expiry; an expired lease is taken over) — then claims its *slot* (``now // interval``) in
the same row: a slot already done is skipped. So any number of schedulers (two workers,
a restarted one, a retried RQ job) produce exactly one tick per slot, and even if that
guard were bypassed, the ledger would make a second tick fire nothing.

**Where it runs.** In the RQ worker process, never in a web worker:

* ``run_scheduler_forever(app_or_engine, interval)`` — a loop (``ruleform worker`` runs it
  in a thread beside the RQ worker, or the delivery worker calls ``tick`` on its own
  timer — the lock makes either safe);
* ``tick_job()`` — a top-level RQ job taking no arguments (it opens the database from
  ``RULEFORM_DATABASE_URL`` / ``RULEFORM_INSTANCE_PATH`` like every job) and enqueues the
  next tick at the next slot boundary with ``enqueue_at`` (timezone-aware UTC) under a
  deterministic job id ``ruleform-tick-<slot>``.

Each process builds the runtime of the active rulebook version and rebuilds it when a new
version is published.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ...metadata.sqltypes import UTCDateTime

__all__ = ["hold", "Held", "run_scheduler_forever", "tick_job", "enqueue_next_tick",
           "runtime_for", "active_number", "lock_status", "DEFAULT_INTERVAL", "LOCK_NAME"]  # fmt: skip

log = logging.getLogger("ruleform.timerules.scheduler")

DEFAULT_INTERVAL = 30.0  # seconds between ticks
LOCK_NAME = "timerules"
LEASE = timedelta(minutes=15)  # a SQLite lease outlives any sane tick
_ADVISORY = (7302, 1)  # (class, key) of the PostgreSQL advisory lock
_lock_table = sa.table(
    "scheduler_lock", sa.column("name"), sa.column("holder"), sa.column("last_slot"),
    *(sa.column(n, UTCDateTime) for n in ("acquired_at", "heartbeat_at", "expires_at", "last_tick_at")),
)  # the columns of ``tables.scheduler_lock`` (this module must stay light to import)


@dataclass(frozen=True)
class Held:
    ok: bool
    reason: str | None = None
    slot: int | None = None

    def __bool__(self) -> bool:
        return self.ok


def utcnow() -> datetime:
    """Wall-clock time, aware UTC (leases are real time; time-machine moves it in tests)."""
    return datetime.now(UTC)


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}:{uuid.uuid4().hex[:8]}"


def slot_of(now: datetime, interval: float) -> int:
    return int(now.timestamp() // interval)


@contextmanager
def hold(engine: Engine, now: datetime, interval: float = DEFAULT_INTERVAL) -> Iterator[Held]:
    """Take the scheduler lock and claim the slot of ``now``; yields a truthy ``Held``."""
    slot, holder = slot_of(now, interval), _holder()
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            got = conn.execute(sa.select(sa.func.pg_try_advisory_lock(*_ADVISORY))).scalar()
            conn.commit()
            if not got:
                yield Held(False, "another scheduler holds the lock", slot)
                return
            try:
                yield _claim(engine, slot, now, holder, lease=False)
            finally:
                conn.execute(sa.select(sa.func.pg_advisory_unlock(*_ADVISORY)))
                conn.commit()
        return
    held = _claim(engine, slot, now, holder, lease=True)
    try:
        yield held
    finally:
        if held.ok:
            _release(engine, holder)


def _claim(engine: Engine, slot: int, now: datetime, holder: str, lease: bool) -> Held:
    """In one write transaction: take (or check) the lease, then claim the slot."""
    wall = utcnow()
    t = _lock_table
    with engine.begin() as conn:
        row = _row(conn)
        if row is None:
            conn.execute(t.insert().values(name=LOCK_NAME, last_slot=None))
            row = {"holder": None, "expires_at": None, "last_slot": None}
        expires = _aware(row["expires_at"])
        if lease and row["holder"] and expires is not None and expires > wall:
            return Held(False, f"another scheduler holds the lease ({row['holder']})", slot)
        if row["last_slot"] is not None and int(row["last_slot"]) >= slot:
            return Held(False, "this tick slot is done already", slot)
        values: dict[str, Any] = {"last_slot": slot, "last_tick_at": now}
        if lease:
            values.update(holder=holder, acquired_at=wall, heartbeat_at=wall,
                          expires_at=wall + LEASE)  # fmt: skip
        conn.execute(t.update().where(t.c.name == LOCK_NAME).values(**values))
    return Held(True, None, slot)


def _release(engine: Engine, holder: str) -> None:
    t = _lock_table
    with engine.begin() as conn:
        conn.execute(t.update().where(t.c.name == LOCK_NAME, t.c.holder == holder)
                     .values(holder=None, expires_at=None))  # fmt: skip


def _row(conn: Connection) -> dict[str, Any] | None:
    query = sa.select(_lock_table).where(_lock_table.c.name == LOCK_NAME)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    found = conn.execute(query).mappings().first()
    return dict(found) if found else None


def _aware(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def lock_status(conn: Connection) -> dict[str, Any] | None:
    """The lock row (holder, last tick) for the health page."""
    found = _row(conn) if conn.dialect.name != "postgresql" else conn.execute(
        sa.select(_lock_table).where(_lock_table.c.name == LOCK_NAME)).mappings().first()  # fmt: skip
    return dict(found) if found else None


# --- the runtime of a worker process ----------------------------------------------------------

_RUNTIMES: dict[tuple[str, int], Any] = {}
_ENGINES: dict[str, Engine] = {}
_PROCESS_LOCK = threading.Lock()


def runtime_for(engine: Engine) -> Any:
    """The runtime of the active rulebook version (rebuilt when a new one is published)."""
    from ...platform.bootstrap import compile_stored
    from ...platform.runtime import build_runtime
    from ...platform.storage import active_version

    with engine.connect() as conn:
        number = active_number(conn)
        if number is None:
            raise RuntimeError("no rulebook version is active in this database")
        key = (str(engine.url), number)
        with _PROCESS_LOCK:
            if key not in _RUNTIMES:
                version = active_version(conn)
                assert version is not None
                _RUNTIMES[key] = build_runtime(compile_stored(version.source, version.number),
                                               version.number)  # fmt: skip
            return _RUNTIMES[key]


def active_number(conn: Connection) -> int | None:
    """The number of the active rulebook version (one small query)."""
    from ...platform.storage.versions import active_number as number

    return number(conn)


def _process_engine() -> Engine:
    from ...platform.cli_support import open_engine

    url = os.environ.get("RULEFORM_DATABASE_URL")
    with _PROCESS_LOCK:
        key = url or f"instance:{os.environ.get('RULEFORM_INSTANCE_PATH')}"
        if key not in _ENGINES:
            _ENGINES[key] = open_engine(url, os.environ.get("RULEFORM_INSTANCE_PATH"))
        return _ENGINES[key]


# --- entry points -----------------------------------------------------------------------------


def tick_job(reschedule: bool = True) -> dict[str, Any]:
    """RQ job: one tick (if this slot is not done), then the next tick is scheduled.

    Takes no ORM objects; returns a JSON-able summary (stored as the job's result).
    """
    from .ticks import tick

    engine = _process_engine()
    interval = float(os.environ.get("RULEFORM_TIMERULES_TICK_INTERVAL") or DEFAULT_INTERVAL)
    report = tick(runtime_for(engine), engine, interval=interval)
    if reschedule:
        try:
            enqueue_next_tick(interval=interval)
        except Exception:  # Redis away: the next worker start (or loop) schedules again
            log.exception("could not schedule the next tick")
    return {"now": report.now.isoformat(), "skipped": report.skipped, "sent": report.sent,
            "rules": [{"rule": r.rule, "status": r.status, "matched": r.matched,
                       "sent": r.sent} for r in report.rules if r.matched or r.status != "ok"]}  # fmt: skip


def enqueue_next_tick(connection: Any = None, queue: str = "default",
                      interval: float = DEFAULT_INTERVAL, now: datetime | None = None) -> Any:  # fmt: skip
    """Schedule ``tick_job`` at the next slot boundary (aware UTC) under a fixed job id."""
    from redis import Redis
    from rq import Queue

    if connection is None:
        connection = Redis.from_url(os.environ.get("RULEFORM_REDIS_URL") or "redis://127.0.0.1:6379/0")
    now = now or datetime.now(UTC)
    slot = slot_of(now, interval) + 1
    when = datetime.fromtimestamp(slot * interval, tz=UTC)
    return Queue(queue, connection=connection).enqueue_at(
        when, tick_job, job_id=f"ruleform-tick-{slot}", result_ttl=3600, failure_ttl=86400)  # fmt: skip


def run_scheduler_forever(app_or_engine: Any, interval: float = DEFAULT_INTERVAL,
                          stop: threading.Event | None = None, base_url: str | None = None) -> None:  # fmt: skip
    """Tick every ``interval`` seconds until ``stop`` is set (a thread of the worker)."""
    from .ticks import tick

    engine, app = _engine_of(app_or_engine)
    stop = stop or threading.Event()
    base = base_url or (app.config.get("BASE_URL") if app is not None else None)
    while not stop.is_set():
        try:
            tick(runtime_for(engine), engine, interval=interval, base_url=base)
        except Exception:  # the database restarting, …: try again at the next slot
            log.exception("time-rule tick failed")
        now = utcnow().timestamp()
        stop.wait(max(0.5, interval - now % interval))


def _engine_of(app_or_engine: Any) -> tuple[Engine, Any]:
    if isinstance(app_or_engine, Engine):
        return app_or_engine, None
    state = app_or_engine.extensions["ruleform"]
    return state.engine, app_or_engine
