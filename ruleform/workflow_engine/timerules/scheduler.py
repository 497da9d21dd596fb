"""One clock for all time rules: the scheduler lock, tick slots, the worker's runtime.

**Never two ticks at once, never the same slot twice.** A tick first takes the scheduler
lock — on PostgreSQL a session advisory lock (``pg_try_advisory_lock``, released when the
tick ends or its connection dies), on SQLite a lease row in ``scheduler_lock`` (holder,
expiry; an expired lease is taken over) — then claims its *slot* (``now // interval``) in
the same row: a slot already done is skipped. So any number of schedulers (two workers,
a restarted one, a retried RQ job) produce exactly one tick per slot, and even if that
guard were bypassed, the ledger would make a second tick fire nothing.

**Where it runs.** In the worker process, never in a web worker: ``ruleform worker`` calls
``ticks.tick`` from a thread of its own every ``TIMERULES_TICK_INTERVAL`` seconds
(``delivery/worker.py``); any number of workers may, the lock makes it safe. Each process builds the runtime of the active rulebook version and rebuilds it when a new
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
from ...platform.bootstrap import compile_stored
from ...platform.runtime import build_runtime
from ...platform.storage import active_version
from ...platform.storage.versions import active_number as number

__all__ = ["hold", "Held", "runtime_for", "active_number", "lock_status", "DEFAULT_INTERVAL",
           "LOCK_NAME"]  # fmt: skip

log = logging.getLogger("ruleform.timerules.scheduler")

DEFAULT_INTERVAL = 30.0  # seconds between ticks
LOCK_NAME = "timerules"
LEASE = timedelta(minutes=15)  # a SQLite lease outlives any sane tick
_ADVISORY = (7302, 1)  # (class, key) of the PostgreSQL advisory lock
_lock_table = sa.table(
    "scheduler_lock",
    sa.column("name"),
    sa.column("holder"),
    sa.column("last_slot"),
    *(
        sa.column(n, UTCDateTime)
        for n in ("acquired_at", "heartbeat_at", "expires_at", "last_tick_at")
    ),
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
    return number(conn)
