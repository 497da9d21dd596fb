"""One clock: two (or five) schedulers at once never tick the same slot twice — threads and
processes, on SQLite (a lease row) and PostgreSQL (an advisory lock)."""

from __future__ import annotations

import multiprocessing
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from ruleform.platform.database import create_engine
from ruleform.workflow_engine.timerules.scheduler import hold
from tests.timerules.lockers import try_hold

NOW = datetime(2026, 3, 2, 1, 0, 5, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
def lock_url(request, tmp_path):
    """A database holding only the scheduler's lock table."""
    from ruleform.workflow_engine.timerules.tables import scheduler_lock_table

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'lock.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    metadata = sa.MetaData()
    scheduler_lock_table(metadata)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    engine.dispose()
    return url


def test_threads_racing_for_one_slot_tick_once(lock_url):
    engine = create_engine(lock_url)
    barrier = threading.Barrier(5)

    def attempt(_: int) -> bool:
        barrier.wait()
        with hold(engine, NOW, 30.0) as held:
            if held:
                time.sleep(0.3)  # a tick in progress
            return bool(held)

    with ThreadPoolExecutor(5) as pool:
        results = list(pool.map(attempt, range(5)))
    assert results.count(True) == 1
    with hold(engine, NOW + timedelta(seconds=10), 30.0) as again:  # same slot, later
        assert not again and again.reason == "this tick slot is done already"
    with hold(engine, NOW + timedelta(seconds=30), 30.0) as later:  # the next slot
        assert later
    engine.dispose()


def test_a_held_lock_refuses_other_slots_too(lock_url):
    engine = create_engine(lock_url)
    with hold(engine, NOW, 30.0) as first:
        assert first
        with hold(engine, NOW + timedelta(minutes=5), 30.0) as second:
            assert not second and "another scheduler" in (second.reason or "")
    with hold(engine, NOW + timedelta(minutes=5), 30.0) as third:
        assert third
    engine.dispose()


@pytest.mark.slow
def test_processes_racing_for_one_slot_tick_once(lock_url):
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(3, mp_context=context) as pool:
        list(pool.map(int, range(3)))  # start the workers first: imports are slow
        start = time.time() + 0.3
        futures = [pool.submit(try_hold, lock_url, start, NOW.isoformat(), 0.3) for _ in range(3)]
        results = [f.result(timeout=60) for f in futures]
    assert results.count(True) == 1
