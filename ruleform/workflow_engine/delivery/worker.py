"""``ruleform worker``: one process that runs the RQ worker (with RQ's scheduler), the outbox
drain and the time-rule tick.

* The **RQ worker** runs in the main thread. It is a ``SimpleWorker`` — jobs run in this
  process, without a fork per job (delivery jobs are short and I/O bound, and a forked
  child would inherit the drain thread's locks). When Redis goes away the worker is
  rebuilt with exponential backoff until it answers again.
* The **drain loop** runs in a thread every ``DELIVERY_DRAIN_INTERVAL`` seconds: inbox rows
  are delivered inline, other rows enqueued (see ``drain.py``). It needs only the
  database for the inbox, so in-app messages keep flowing while Redis is down; database
  outages are waited out the same way.
* The **tick** of the time rules (``timerules.ticks.tick``; ``TIMERULES_TICK`` empty or
  false turns it off) is called from a third thread every ``TIMERULES_TICK_INTERVAL``
  seconds; it takes the single-scheduler lock and claims its slot itself, so any number
  of workers may call it.

``--burst`` drains, runs the queued jobs and repeats until nothing is due — for tests and
cron-style deployments. SIGINT/SIGTERM stop after the current job.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from ...platform.database import is_unavailable
from ...platform.runtime import utcnow
from ...platform.settings import instance_path, resolve
from ..timerules.ticks import tick
from .context import DeliveryContext, from_settings, install
from .drain import drain_once

__all__ = ["run_worker", "run_tick", "tick_loop", "background_loop", "DEFAULT_QUEUES"]

log = logging.getLogger("ruleform.delivery")

DEFAULT_QUEUES = ("default", "notifications")
#: Seconds the drain and tick threads get to finish after a stop request (then the process
#: exits: an unfinished transaction is rolled back by the database, nothing is half-done).
SHUTDOWN_GRACE = 3.0
#: Seconds a running job may take to finish after SIGTERM/SIGINT before it is cut short.
STOP_TIMEOUT = 4.0


def run_tick(ctx: DeliveryContext) -> Any:
    """Tick the time rules (it takes its own lock), unless ``TIMERULES_TICK`` is off."""
    if str(ctx.settings["TIMERULES_TICK"]).strip().lower() in ("", "0", "false", "no", "off"):
        return None
    return tick(runtime=ctx.runtime, engine=ctx.engine, now=utcnow(),
                interval=float(ctx.settings["TIMERULES_TICK_INTERVAL"]),
                base_url=ctx.settings.base_url)  # fmt: skip


def tick_loop(ctx: DeliveryContext, stop: threading.Event) -> None:
    """Tick every ``TIMERULES_TICK_INTERVAL`` seconds (its own thread: a long tick never
    delays delivery)."""
    every = float(ctx.settings["TIMERULES_TICK_INTERVAL"])
    while not stop.is_set():
        try:
            run_tick(ctx)
        except Exception:
            log.exception("the time-rule tick failed; trying again at the next interval")
        stop.wait(max(0.5, every - time.time() % every))


def background_loop(ctx: DeliveryContext, stop: threading.Event) -> None:
    """Drain until ``stop`` is set; errors back off, never end the loop."""
    interval = float(ctx.settings["DELIVERY_DRAIN_INTERVAL"])
    ceiling = max(interval, min(30.0, interval * 10))
    pause = interval
    while not stop.is_set():
        try:
            report = drain_once(ctx)
            if report.redis_error:
                log.warning("Redis unavailable (%s); the outbox holds", report.redis_error)
                pause = min(ceiling, max(pause * 2, interval))
            else:
                pause = interval
        except sa.exc.DBAPIError as exc:
            if not is_unavailable(exc):
                log.exception("the drain failed; retrying")
            else:
                log.warning("the database is unavailable (%s); retrying", exc.orig or exc)
            pause = min(ceiling, max(pause * 2, interval))
        except Exception:
            log.exception("the drain failed; retrying")
            pause = min(ceiling, max(pause * 2, interval))
        stop.wait(pause)


def _worker_class() -> type:
    from rq.worker import SimpleWorker

    class DeliveryWorker(SimpleWorker):  # type: ignore[misc]
        """A SimpleWorker that also tells the drain loop when it is asked to stop."""

        stop_event: threading.Event
        max_connection_wait_time = 10.0  # back from a Redis outage within seconds

        def request_stop(self, signum: Any, frame: Any) -> None:
            self.stop_event.set()
            # a job still running after STOP_TIMEOUT (blocked on a lock, a slow server) is
            # cut short by a second signal — RQ's cold shutdown; delivery jobs survive that
            # like a crash (leases, the ``sending`` record)
            timer = threading.Timer(STOP_TIMEOUT, os.kill, (os.getpid(), signal.SIGTERM))
            timer.daemon = True
            timer.start()
            super().request_stop(signum, frame)

    return DeliveryWorker


def _rq_until_stopped(ctx: DeliveryContext, queues: Sequence[str], stop: threading.Event,
                      burst: bool = False) -> bool:  # fmt: skip
    from redis import Redis
    from redis.exceptions import RedisError
    from rq import Queue

    worked, pause = False, 1.0
    while not stop.is_set():
        connection = Redis.from_url(ctx.redis_url or "", socket_connect_timeout=2,
                                    health_check_interval=15)  # fmt: skip
        try:
            worker = _worker_class()([Queue(q, connection=connection) for q in queues],
                                     connection=connection)  # fmt: skip
            worker.stop_event = stop
            worked = bool(worker.work(burst=burst, with_scheduler=not burst,
                                      logging_level="INFO")) or worked  # fmt: skip
            pause = 1.0
            if burst:
                return worked
        except (RedisError, OSError) as exc:
            log.warning("Redis unavailable (%s); the RQ worker retries in %.0f s", exc, pause)
            if burst:
                raise
        finally:
            _stop_on_signals(stop)  # RQ's handlers point at a worker that is gone
        stop.wait(pause)
        pause = min(pause * 2, 30.0)
    return worked


def _stop_on_signals(stop: threading.Event) -> None:
    def handler(_signum: int, _frame: Any) -> None:
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, handler)
        signal.signal(signal.SIGTERM, handler)


def _burst(ctx: DeliveryContext, queues: Sequence[str], rounds: int = 50) -> bool:
    """Drain and run jobs until a round finds nothing to do (deferred rows stay pending)."""
    worked = False
    for _ in range(rounds):
        report = drain_once(ctx, budget=30.0)
        ran = _rq_until_stopped(ctx, queues, threading.Event(), burst=True) if report.enqueued \
            else False  # fmt: skip
        worked = worked or report.worked or ran
        if not report.worked:
            break
    return worked


def run_worker(app_config: dict[str, Any], redis_url: str, *, burst: bool = False,
               exit_with_parent: bool = False,
               queues: Sequence[str] = DEFAULT_QUEUES) -> bool:  # fmt: skip
    """Build the delivery context (no Flask app), then run the RQ worker, the drain and the
    tick until stopped."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s",
                            datefmt="%H:%M:%S")  # fmt: skip
    config = resolve(instance_path(app_config), {**app_config, "REDIS_URL": redis_url})
    ctx = from_settings(config, redis_url)
    install(ctx)
    queues = tuple(dict.fromkeys((*queues, ctx.settings["DELIVERY_QUEUE"])))
    if burst:
        return _burst(ctx, queues)
    stop = threading.Event()
    _stop_on_signals(stop)
    if exit_with_parent:
        _watch_parent(os.getppid(), stop)
    loops = [threading.Thread(target=background_loop, args=(ctx, stop), name="ruleform-drain",
                              daemon=True),
             threading.Thread(target=tick_loop, args=(ctx, stop), name="ruleform-tick",
                              daemon=True)]  # fmt: skip
    for loop in loops:
        loop.start()
    try:
        return _rq_until_stopped(ctx, queues, stop)
    finally:
        stop.set()
        deadline = time.monotonic() + SHUTDOWN_GRACE
        for loop in loops:  # a drain batch ends within its budget; a long tick is abandoned
            loop.join(timeout=max(0.1, deadline - time.monotonic()))


def _watch_parent(parent: int, stop: threading.Event) -> None:
    def watch() -> None:
        while not stop.is_set():
            if os.getppid() != parent:
                os.kill(os.getpid(), signal.SIGTERM)
                return
            time.sleep(1)

    threading.Thread(target=watch, name="ruleform-parent-watch", daemon=True).start()
