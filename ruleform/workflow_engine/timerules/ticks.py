"""One tick: every time rule evaluated once, at one ``now``.

``tick(runtime, engine, now)`` is the core entry point (the scheduler, the RQ job and the
tests call it). For each rule, per its rollout state (``rollout.py``):

1. one sweep query selects the due records (``timings/``), the candidates are finished in
   Python (exact calendar checks), fired occurrences are dropped (ledger markers) and the
   late policy is applied (``occurrences.py``);
2. the items are planned (recipients, canary) and the messages counted; crossing a cap
   pauses the rule and alerts the administrators instead (nothing is sent);
3. firings are written in batches, one transaction per batch: the batch's records are
   re-checked with the same query restricted to their ids inside the writing
   transaction (a record updated meanwhile is no longer due: a stale reminder becomes a
   no-op), then ledger, outbox, tasks and record changes are written (``actions.py``);
4. the run is recorded in ``rule_runs`` and the rule's watermark moves to ``now``.

A failing rule records its error and the others still run. While the delivery kill switch
is on, no tick runs (and no watermark moves, so switching it off catches up once, by each
rule's late policy).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ...metadata.model import TimeRule
from ...platform.runtime import utcnow
from ..delivery.flags import kill_switch_on
from ..escalations import escalate_due
from .actions import Writer
from .calendars import CalendarMap
from .catalog import all_rules, rule_key
from .changes import Loads
from .connections import reading
from .ledger import drop_fired, sent_since
from .occurrences import Due, apply_late_policy
from .plan import Canary, Firing, plan_firing
from .recipients import Directory
from .rollout import RuleState, alert_admins, check_caps, load_states, pause
from .scheduler import DEFAULT_INTERVAL, active_number, hold, runtime_for
from .sweep import Window
from .timings import build_sweep

__all__ = [
    "tick",
    "run_rule",
    "due_now",
    "TickReport",
    "RuleReport",
    "kill_switch",
    "BATCH",
    "MAX_ROWS",
]

log = logging.getLogger("ruleform.timerules")

BATCH = 200  # firings per writing transaction
MAX_ROWS = 50_000  # due rows one run takes on; the rest are due again next tick
RUNS_KEPT = timedelta(days=90)


@dataclass
class RuleReport:
    rule: str
    mode: str
    status: str  # ok error paused draft skipped interrupted
    run_id: int | None = None
    scanned: int = 0
    matched: int = 0
    sent: int = 0
    skipped_by_cap: int = 0
    skipped_late: int = 0
    dry_run: int = 0
    errors: int = 0
    message: str | None = None
    seconds: float = 0.0
    since: datetime | None = None  # the watermark the run caught up from

    @property
    def idle(self) -> bool:
        """Nothing due, nothing written, no error: no run row is kept."""
        return self.status == "ok" and not (self.matched or self.skipped_late or self.errors
                                            or self.dry_run or self.skipped_by_cap)  # fmt: skip


@dataclass
class TickReport:
    now: datetime
    rules: list[RuleReport] = field(default_factory=list)
    skipped: str | None = None  # why the tick did not run (kill switch, locked, slot done)
    escalated: int = 0

    @property
    def sent(self) -> int:
        return sum(r.sent for r in self.rules)

    def of(self, key: str) -> RuleReport | None:
        return next((r for r in self.rules if r.rule == key), None)


def kill_switch(conn: Connection) -> bool:
    """The delivery engine's global kill switch (``runtime_flags``): stops ticks too."""
    try:
        with conn.begin_nested():
            return kill_switch_on(conn)
    except sa.exc.DBAPIError:  # the flags table does not exist yet
        return False


def tick(runtime: Any = None, engine: Engine | None = None, now: datetime | None = None, *,
         lock: bool = True, interval: float | None = None, only: Iterable[str] | None = None,
         base_url: str | None = None) -> TickReport:  # fmt: skip
    """Evaluate every time rule once at ``now`` (default: the current time).

    With ``lock`` (the default) the tick first takes the scheduler lock and claims the
    tick slot (``now // interval``): a second scheduler, or a second call for the same
    slot, returns a report with ``skipped`` set and does nothing — so any number of
    workers may call it on their own timers. ``runtime`` may be omitted (or be a Flask app
    whose engine is used); the active rulebook version of the database is then run, and a
    given runtime older than the active version is replaced by it. ``only`` limits the
    tick to some rule keys (``customer.stale_customer``).
    """
    if engine is None:
        if runtime is None or not hasattr(runtime, "extensions"):
            raise TypeError("tick() needs an engine (and a runtime, or a Flask app)")
        engine = runtime.extensions["ruleform"].engine
        base_url = base_url or runtime.config.get("BASE_URL")
        runtime = None
    now = now or utcnow()
    if lock:
        with hold(engine, now, interval or DEFAULT_INTERVAL) as held:
            if not held:
                return TickReport(now, skipped=held.reason)
            return _tick(_current(runtime, engine, runtime_for), engine, now, only, base_url)
    return _tick(_current(runtime, engine, runtime_for), engine, now, only, base_url)


def _current(runtime: Any, engine: Engine, runtime_for: Any) -> Any:
    """``runtime``, unless a newer rulebook version is active in the database."""
    if runtime is not None:
        with engine.connect() as conn:
            number = active_number(conn)
        if number is None or number == runtime.version:
            return runtime
    return runtime_for(engine)


def _tick(runtime: Any, engine: Engine, now: datetime, only: Iterable[str] | None,
          base_url: str | None) -> TickReport:  # fmt: skip
    report = TickReport(now)
    wanted = set(only) if only is not None else None
    rules = [r for r in all_rules(runtime.rulebook) if wanted is None or rule_key(r) in wanted]
    with engine.begin() as conn:
        if kill_switch(conn):
            report.skipped = "kill switch on"
            return report
        directory = Directory.load(conn, runtime)
        states = load_states(conn, runtime.system_table("rule_states"), rules)
    report.escalated = _escalate(runtime, engine, now) if wanted is None else 0
    calendars = CalendarMap(runtime, directory)
    base = base_url or _base_url()
    for rule in rules:
        report.rules.append(run_rule(runtime, engine, rule, states[rule_key(rule)], now,
                                     directory, calendars, base, record_idle=False))  # fmt: skip
    _record_success(runtime, engine, [r for r in report.rules if r.idle], now)
    _prune(runtime, engine, now)
    return report


def run_rule(runtime: Any, engine: Engine, rule: TimeRule, state: RuleState, now: datetime,
             directory: Directory, calendars: CalendarMap, base_url: str, *,
             record_idle: bool = True) -> RuleReport:  # fmt: skip
    """One rule at ``now``. An idle run (nothing due) leaves no ``rule_runs`` row; it only
    moves the rule's watermark and last success (``record_idle``: now, else the caller
    does it for all idle rules in one transaction)."""
    key = rule_key(rule)
    if state.rollout in ("draft", "paused"):
        return RuleReport(key, state.rollout, state.rollout)
    report = RuleReport(key, state.rollout, "ok")
    report.since = state.watermark
    started = time.monotonic()
    try:
        _evaluate(runtime, engine, rule, state, now, directory, calendars, base_url, report)
    except Exception as exc:
        log.exception("time rule %s failed", key)
        report.status, report.errors = "error", report.errors + 1
        report.message = f"{type(exc).__name__}: {exc}"[:2000]
    report.seconds = time.monotonic() - started
    if not report.idle:
        _finish_run(runtime, engine, rule, report, now)
    elif record_idle:
        _record_success(runtime, engine, [report], now)
    return report


def _evaluate(runtime: Any, engine: Engine, rule: TimeRule, state: RuleState, now: datetime,
              directory: Directory, calendars: CalendarMap, base_url: str,
              report: RuleReport) -> None:  # fmt: skip
    key, ledger = rule_key(rule), runtime.system_table("rule_firings")
    sweep = build_sweep(Window(runtime, rule, now, state.watermark, calendars, directory))
    with reading(engine) as conn:
        report.scanned, dues = due_now(conn, sweep, ledger, key)
        sent_today = sent_since(conn, ledger, key, _day_start(now, calendars))
    dues = apply_late_policy(rule, dues, now)
    report.matched = sum(1 for d in dues if d.status == "fire")
    report.skipped_late = sum(1 for d in dues if d.status != "fire")
    if not dues:
        return
    report.run_id = _start_run(runtime, engine, key, state, now)
    canary = Canary.of(state.rollout, state.canary, state.canary_share, key)
    firings = [plan_firing(d, directory, canary) for d in dues]
    writer = Writer(runtime, rule, key, state.rollout, report.run_id or 0, now, directory,
                    calendars, canary, base_url, Loads(runtime))  # fmt: skip
    if state.rollout == "dry_run":
        for batch in _batches(firings):
            with engine.begin() as conn:
                writer.preview(conn, batch)
        report.dry_run = writer.dry
        return
    cap = check_caps(state, sum(f.messages for f in firings), sent_today)
    if cap.crossed:
        _trip(runtime, engine, rule, state, directory, cap.crossed, report, now)
        report.skipped_by_cap = cap.planned
        return
    for batch in _batches(firings):
        with engine.begin() as conn:
            if kill_switch(conn):
                report.status, report.message = "interrupted", "kill switch on"
                break
            writer.write(conn, _recheck(sweep, conn, batch))
    report.sent, report.dry_run, report.errors = writer.sent, writer.dry, writer.errors
    if writer.problems:
        report.message = "; ".join(writer.problems)[:2000]


def due_now(conn: Connection, sweep: Any, ledger: sa.Table, key: str) -> tuple[int, list[Due]]:
    """The sweep's one query (at most ``MAX_ROWS``), the exact checks of its candidates, and
    the occurrences already in the ledger dropped: (rows the query returned, dues)."""
    statement = sweep.statement()
    rows = [] if statement is None else conn.execute(statement.limit(MAX_ROWS)).mappings().all()
    return len(rows), drop_fired(conn, ledger, key, sweep.finish(conn, rows))


def _recheck(sweep: Any, conn: Connection, batch: list[Firing]) -> list[Firing]:
    """The batch as it stands inside the writing transaction (still due, fresh values)."""
    firing = [f for f in batch if f.due.status == "fire"]
    if not firing or not sweep.rechecks():
        return batch
    statement = sweep.statement(sorted({f.due.record_id for f in firing}))
    rows = [] if statement is None else conn.execute(statement).mappings().all()
    fresh: dict[tuple[int, str], Due] = {(d.record_id, d.occurrence): d
                                         for d in sweep.finish(conn, rows)}  # fmt: skip
    kept = []
    for f in batch:
        if f.due.status != "fire":
            kept.append(f)
        elif (now := fresh.get((f.due.record_id, f.due.occurrence))) is not None:
            f.due = _with_record(f.due, now)
            kept.append(f)
    return kept


def _with_record(old: Due, new: Due) -> Due:
    from dataclasses import replace

    return replace(old, record=new.record)


def _trip(runtime: Any, engine: Engine, rule: TimeRule, state: RuleState, directory: Directory,
          reason: str, report: RuleReport, now: datetime) -> None:  # fmt: skip
    with engine.begin() as conn:
        pause(conn, runtime.system_table("rule_states"), rule, state, reason, now)
        alert_admins(conn, runtime, rule, directory, reason, report.run_id or 0, now)
    report.status, report.message = "paused", reason


def _batches(firings: list[Firing]) -> Iterator[list[Firing]]:
    for i in range(0, len(firings), BATCH):
        yield firings[i : i + BATCH]


def _day_start(now: datetime, calendars: CalendarMap) -> datetime:
    from datetime import UTC, time

    local = now.astimezone(calendars.default.zone)
    return datetime.combine(local.date(), time(), tzinfo=calendars.default.zone).astimezone(UTC)


# --- bookkeeping ------------------------------------------------------------------------------


def _start_run(runtime: Any, engine: Engine, key: str, state: RuleState, now: datetime) -> int:
    runs = runtime.system_table("rule_runs")
    with engine.begin() as conn:
        return int(conn.execute(runs.insert().values(
            rule=key, mode=state.rollout, status="running", started_at=now,
            since=state.watermark).returning(runs.c.id)).scalar_one())  # fmt: skip


def _finish_run(runtime: Any, engine: Engine, rule: TimeRule, report: RuleReport,
                now: datetime) -> None:  # fmt: skip
    """Record the run (inserting it if it failed before it was started) and the rule state."""
    runs = runtime.system_table("rule_runs")
    ok = report.status == "ok"
    values = {k: getattr(report, k) for k in ("status", "scanned", "matched", "sent",
              "skipped_by_cap", "skipped_late", "dry_run", "errors", "message")}  # fmt: skip
    values.update(finished_at=now + timedelta(seconds=report.seconds),
                  watermark=now if ok else None)  # fmt: skip
    with engine.begin() as conn:
        if report.run_id is None:
            report.run_id = int(conn.execute(runs.insert().values(
                rule=report.rule, mode=report.mode, started_at=now, since=report.since,
                **values).returning(runs.c.id)).scalar_one())  # fmt: skip
        else:
            conn.execute(runs.update().where(runs.c.id == report.run_id).values(**values))
        state: dict[str, Any] = {"watermark": now, "last_success_at": now} if ok else \
            {"last_error_at": now, "last_error": report.message}  # fmt: skip
        if ok and report.errors:
            state.update(last_error_at=now, last_error=report.message)
        _set_state(conn, runtime, rule_key(rule), state)


def _record_success(runtime: Any, engine: Engine, reports: list[RuleReport], now: datetime) -> None:
    """Idle runs: only the watermark and the last success move (one transaction)."""
    if not reports:
        return
    with engine.begin() as conn:
        for report in reports:
            _set_state(conn, runtime, report.rule, {"watermark": now, "last_success_at": now})


def _set_state(conn: Connection, runtime: Any, key: str, values: dict[str, Any]) -> None:
    states = runtime.system_table("rule_states")
    if conn.execute(states.update().where(states.c.rule == key).values(**values)).rowcount == 0:
        conn.execute(states.insert().values(rule=key, **values))


def _escalate(runtime: Any, engine: Engine, now: datetime) -> int:
    """The workflow engine's approval escalations ride on the same clock."""
    try:
        with engine.begin() as conn:
            return len(escalate_due(runtime, conn, now))
    except Exception:
        log.exception("approval escalations failed")
        return 0


def _prune(runtime: Any, engine: Engine, now: datetime) -> None:
    """Runs are kept 90 days (idle runs are not kept at all: see ``_finish_run``)."""
    runs = runtime.system_table("rule_runs")
    with engine.begin() as conn:
        conn.execute(runs.delete().where(runs.c.started_at < now - RUNS_KEPT))


def _base_url() -> str:
    import os

    return os.environ.get("RULEFORM_BASE_URL") or "http://127.0.0.1:5000"
