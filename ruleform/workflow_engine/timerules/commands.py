"""``ruleform rules …``: time rules from the command line.

    ruleform rules why RULE RECORD      why did / didn't RULE fire for RECORD; its ledger; next due
    ruleform rules preview RULE         the dry run of RULE now: audience and rendered messages
    ruleform rules runs [--rule RULE]   the latest runs (scanned, matched, sent, capped, errors)
    ruleform rules health               rules whose last success is overdue (exit 1 if any)
    ruleform rules tick                 one tick now (takes the scheduler lock like any other)
    ruleform rules pause|resume|approve RULE   rollout overrides, as on the admin page

``RULE`` is ``entity.rule`` (or just ``rule`` when only one entity declares it). Every
command takes ``--database`` / ``--instance`` like the others, and ``--json``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import click
from sqlalchemy.engine import Engine

from ...errors import UsageError
from ...platform.cli_support import DatabaseOptions, database_options
from ...platform.runtime import utcnow
from . import rollout
from .catalog import find_rule, rule_key
from .health import recent_runs, rule_health
from .scheduler import runtime_for
from .ticks import tick as run_tick
from .why import explain
from .why import preview as run_preview

__all__ = ["rules"]


@click.group()
def rules() -> None:
    """Time rules: why, preview, runs, health, tick, pause / resume / approve."""


@contextmanager
def _opened(db: DatabaseOptions) -> Iterator[tuple[Engine, Any]]:
    engine = db.engine()
    try:
        yield engine, runtime_for(engine)
    finally:
        engine.dispose()


def _rule(runtime: Any, name: str) -> Any:
    try:
        return find_rule(runtime.rulebook, name)
    except UsageError as exc:
        raise click.UsageError(str(exc)) from None


def _at(text: str | None) -> datetime:
    if not text:
        return utcnow()
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise click.UsageError("--at needs a time zone, e.g. 2026-03-02T09:00:00+08:00")
    return moment


def _emit(data: Any, as_json: bool, lines: list[str]) -> None:
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        click.echo("\n".join(lines))


_AT = click.option("--at", "at", metavar="ISO", help="Evaluate at this moment (with offset).")
_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@rules.command()
@database_options(rulebook=False)
@click.argument("rule")
@click.argument("record", type=int)
@_AT
@_JSON
def why(db: DatabaseOptions, rule: str, record: int, at: str | None, as_json: bool) -> None:
    """Why RULE did or did not fire for RECORD (an id; a user id for thresholds)."""
    with _opened(db) as (engine, runtime):
        data = explain(runtime, engine, _rule(runtime, rule), record, _at(at))
    lines = [f"{data['rule']} for record {record} at {data['now']} — rollout {data['rollout']}",
             f"  verdict: {data['verdict']}"]  # fmt: skip
    if "where" in data:
        where = data["where"]
        lines.append(f"  where: {where['condition'] or '(none)'} → "
                     f"{'holds' if where['matches'] else 'does not hold'}")  # fmt: skip
    for key, value in (data.get("timing_detail") or {}).items():
        lines.append(f"  {key}: {value}")
    for due in data["due_now"]:
        lines.append(f"  due now: {due['occurrence']} (due {due['due_at']}, {due['status']})")
    lines.append(f"  ledger ({len(data['ledger'])} rows):")
    lines += [f"    {r['fired_at']}  {r['occurrence']}  {r['channel']}  {r['recipient']}  "
              f"{r['status']}" for r in data["ledger"]]  # fmt: skip
    _emit(data, as_json, lines)


@rules.command()
@database_options(rulebook=False)
@click.argument("rule")
@click.option("--limit", default=20, show_default=True, help="Messages shown.")
@_AT
@_JSON
def preview(db: DatabaseOptions, rule: str, limit: int, at: str | None, as_json: bool) -> None:
    """The dry run of RULE now: who it would reach, and what it would say. Writes nothing."""
    import os

    base = os.environ.get("RULEFORM_BASE_URL") or "http://127.0.0.1:5000"
    with _opened(db) as (engine, runtime):
        data = run_preview(runtime, engine, _rule(runtime, rule), _at(at), base, limit)
    counts = ", ".join(f"{n} {channel}" for channel, n in sorted(data["by_channel"].items()))
    lines = [
        f"{data['rule']} ({data['rollout']}) would send {counts or 'nothing'} "
        f"to {data['recipients']} recipient(s) for {data['records']} record(s) now"
    ]
    lines += [f"  #{m['record_id']} {m['channel']} → {m['recipient']} [{m['locale']}] "
              f"{m['subject']} | {m['body'][:120]}" for m in data["messages"]]  # fmt: skip
    _emit(data, as_json, lines)


@rules.command()
@database_options(rulebook=False)
@click.option("--rule", "rule", default=None, help="Only this rule.")
@click.option("--limit", default=30, show_default=True)
@_JSON
def runs(db: DatabaseOptions, rule: str | None, limit: int, as_json: bool) -> None:
    """The latest runs that did something (idle runs are not recorded)."""
    with _opened(db) as (engine, runtime):
        key = rule_key(_rule(runtime, rule)) if rule else None
        with engine.connect() as conn:
            data = recent_runs(runtime, conn, key, limit)
    lines = [f"{r['started_at']}  {r['rule']:<48} {r['mode']:<8} {r['status']:<8} "
             f"scanned {r['scanned']} matched {r['matched']} sent {r['sent']} "
             f"capped {r['skipped_by_cap']} late {r['skipped_late']} dry {r['dry_run']} "
             f"errors {r['errors']}" for r in data] or ["no runs recorded yet"]  # fmt: skip
    _emit(data, as_json, lines)


@rules.command()
@database_options(rulebook=False)
@_AT
@_JSON
def health(db: DatabaseOptions, at: str | None, as_json: bool) -> None:
    """Every rule's state and last success; exit 1 when a running rule is overdue."""
    with _opened(db) as (engine, runtime), engine.connect() as conn:
        data = rule_health(runtime, conn, _at(at), "en")
    lines = [
        f"last tick: {data['last_tick_at'] or 'never'}"
        + ("   KILL SWITCH ON" if data["kill_switch"] else "")
    ]
    for r in data["rules"]:
        flag = "OVERDUE" if r["overdue"] else "ok" if r["rollout"] != "paused" else "paused"
        lines.append(f"  {flag:<8} {r['rule']:<48} {r['rollout']:<8} last success "
                     f"{r['last_success_at'] or 'never'}"
                     + (f"  error: {r['last_error']}" if r["last_error"] else ""))  # fmt: skip
    _emit(data, as_json, lines)
    sys.exit(1 if data["overdue"] else 0)


@rules.command()
@database_options(rulebook=False)
@click.option("--only", "only", multiple=True, help="Only these rules (repeatable).")
@_AT
@_JSON
def tick(db: DatabaseOptions, only: tuple[str, ...], at: str | None, as_json: bool) -> None:
    """Run one tick now (skipped if another scheduler is ticking this slot)."""
    with _opened(db) as (engine, runtime):
        keys = [rule_key(_rule(runtime, n)) for n in only] or None
        report = run_tick(runtime, engine, _at(at), only=keys)
    data = {"now": report.now.isoformat(), "skipped": report.skipped,
            "rules": [r.__dict__ for r in report.rules]}  # fmt: skip
    lines = [f"tick at {data['now']}: {report.skipped or 'done'}"]
    lines += [f"  {r.rule:<48} {r.status:<8} matched {r.matched} sent {r.sent}"
              for r in report.rules if r.matched or r.status not in ("ok", "draft")]  # fmt: skip
    _emit(data, as_json, lines)


def _set_state(db: DatabaseOptions, name: str, action: str) -> None:
    with _opened(db) as (engine, runtime):
        rule = _rule(runtime, name)
        table = runtime.system_table("rule_states")
        with engine.begin() as conn:
            state = rollout.load_states(conn, table, [rule])[rule_key(rule)]
            now = utcnow()
            if action == "pause":
                rollout.pause(conn, table, rule, state, "paused from the command line", now)
            elif action == "resume":
                rollout.resume(conn, table, rule, state, now)
            else:
                rollout.approve(conn, table, rule, now)
            after = rollout.load_states(conn, table, [rule])[rule_key(rule)]
    click.echo(f"{rule_key(rule)}: {state.rollout} → {after.rollout}")


@rules.command()
@database_options(rulebook=False)
@click.argument("rule")
def pause(db: DatabaseOptions, rule: str) -> None:
    """Pause RULE (its watermark stays: resuming catches up by its late policy)."""
    _set_state(db, rule, "pause")


@rules.command()
@database_options(rulebook=False)
@click.argument("rule")
def resume(db: DatabaseOptions, rule: str) -> None:
    """Resume RULE in the rollout it had before it was paused."""
    _set_state(db, rule, "resume")


@rules.command()
@database_options(rulebook=False)
@click.argument("rule")
def approve(db: DatabaseOptions, rule: str) -> None:
    """The human OK after a canary (or a dry run): RULE goes active."""
    _set_state(db, rule, "approve")
