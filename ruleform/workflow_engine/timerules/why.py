"""Why did — or didn't — a rule fire for a record? And what would it send right now?

``explain`` replays the rule against one record with the code a tick runs: the rule's
``where`` (its SQL, restricted to the record), the timing (when the record is or will be
due, from its own fields and the rule's calendar), the sweep itself (is an occurrence due
now and not fired yet?), the late policy and the rollout state — and shows the ledger.

``preview`` is the dry run of a whole rule *now*, writing nothing: the audience and every
rendered message (``ruleform rules preview RULE``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ...metadata.conditions import SqlContext
from ...metadata.model import TimeRule
from .calendars import CalendarMap
from .catalog import rule_key
from .connections import reading
from .ledger import drop_fired, firings_of
from .messages import render_preview
from .occurrences import apply_late_policy, iso, moment_of
from .plan import Canary, plan_firing
from .recipients import Directory
from .rollout import load_states
from .sweep import Window, field_kind
from .timings import build_sweep
from .timings.deadline import level_due_at, pause_statuses
from .timings.schedule import next_tick

__all__ = ["explain", "preview"]


def _setup(runtime: Any, engine: Engine, rule: TimeRule) -> tuple[Directory, CalendarMap, Any]:
    with reading(engine) as conn:
        directory = Directory.load(conn, runtime)
        state = load_states(conn, runtime.system_table("rule_states"), [rule])[rule_key(rule)]
    return directory, CalendarMap(runtime, directory), state


def explain(runtime: Any, engine: Engine, rule: TimeRule, record_id: int,
            now: datetime) -> dict[str, Any]:  # fmt: skip
    """A plain-data account of the rule for one record (see the module docstring)."""
    directory, calendars, state = _setup(runtime, engine, rule)
    window = Window(runtime, rule, now, state.watermark, calendars, directory)
    key, table = rule_key(rule), runtime.table(rule.entity)
    result: dict[str, Any] = {
        "rule": key, "timing": rule.timing.kind, "rollout": state.rollout,
        "declared_rollout": state.declared, "paused_reason": state.row.get("paused_reason"),
        "watermark": iso(state.watermark) if state.watermark else None,
        "late_policy": rule.late_policy, "record_id": record_id, "now": iso(now),
    }  # fmt: skip
    with reading(engine) as conn:
        record = conn.execute(sa.select(table).where(table.c.id == record_id)).mappings().first()
        owner_based = rule.timing.kind == "threshold"
        result["ledger"] = [_ledger_row(r) for r in firings_of(
            conn, runtime.system_table("rule_firings"), key, record_id,
            ["users", "departments"] if owner_based else [rule.entity])]  # fmt: skip
        if record is None and not owner_based:
            result["verdict"] = f"there is no {rule.entity} {record_id}"
            return result
        if record is not None:
            result["record"] = {"status": record.get("status"), "owner": record.get("owner"),
                                "archived": bool(record.get("archived"))}  # fmt: skip
            result["where"] = _where(runtime, conn, rule, record_id, now, calendars)
            result["timing_detail"] = _timing(runtime, conn, rule, dict(record), now, calendars)
        sweep = build_sweep(window)
        statement = None if owner_based else sweep.statement([record_id])
        rows = [] if statement is None else conn.execute(statement).mappings().all()
        found = sweep.finish(conn, rows)
        due = drop_fired(conn, runtime.system_table("rule_firings"), key, found)
        due = apply_late_policy(rule, due, now)
    result["due_now"] = [{"occurrence": d.occurrence, "due_at": iso(d.due_at), "status": d.status}
                         for d in due]  # fmt: skip
    result["verdict"] = _verdict(result, state.rollout, owner_based)
    return result


def _ledger_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: iso(row[k]) if isinstance(row[k], datetime) else row[k]
            for k in ("occurrence", "channel", "recipient", "action", "status", "fired_at",
                      "due_at", "run_id")}  # fmt: skip


def _where(runtime: Any, conn: Any, rule: TimeRule, record_id: int, now: datetime,
           calendars: CalendarMap) -> dict[str, Any]:  # fmt: skip
    if rule.where is None:
        return {"condition": None, "matches": True}
    table = runtime.table(rule.entity)
    ctx = SqlContext(runtime.tables, rule.entity, now, runtime.rulebook.timezone, calendars.default)
    hit = conn.execute(sa.select(table.c.id).where(table.c.id == record_id,
                                                   rule.where.to_sql(ctx))).first()  # fmt: skip
    return {"condition": rule.where.text, "matches": hit is not None}


def _timing(runtime: Any, conn: Any, rule: TimeRule, record: dict[str, Any], now: datetime,
            calendars: CalendarMap) -> dict[str, Any]:  # fmt: skip
    timing, tz = rule.timing, runtime.rulebook.timezone
    cal = calendars.for_record(rule, record)
    entity = runtime.entity(rule.entity)
    if timing.kind in ("after", "inactive") and (timing.field or timing.since):
        name = timing.field or timing.since or ""
        value = record.get(name) if record.get(name) is not None or timing.kind == "after" \
            else record.get("created_at")  # fmt: skip
        start = moment_of(value, tz)
        span = timing.offset if timing.kind == "after" else timing.duration
        due = cal.add(start, span) if start is not None and span is not None else None
        return {"field": name, "value": iso(value) if value is not None else None,
                "kind": field_kind(entity, name), "after": str(span),
                "due_at": iso(due) if due else None, "due": bool(due and due <= now)}  # fmt: skip
    if timing.kind == "yearly":
        born = record.get(timing.field or "")
        return {"field": timing.field, "value": iso(born) if born else None,
                "before": str(timing.before) if timing.before else None}  # fmt: skip
    if timing.kind == "deadline":
        return _clock(runtime, conn, rule, record, now, cal)
    if timing.kind in ("schedule", "threshold"):
        cron = timing.cron or "0 9 * * *"
        return {"cron": cron, "next_tick": iso(next_tick(cron, now, calendars.default.zone))}
    return {"event": f"{timing.event}:{timing.event_name}"}


def _clock(runtime: Any, conn: Any, rule: TimeRule, record: dict[str, Any], now: datetime,
           cal: Any) -> dict[str, Any]:  # fmt: skip
    timing, p = rule.timing, runtime.system_table("status_periods")
    periods = conn.execute(sa.select(p.c.id, p.c.status, p.c.entered_at, p.c.left_at).where(
        p.c.entity == rule.entity, p.c.record_id == record["id"]).order_by(p.c.id)).all()  # fmt: skip
    clocks = [r for r in periods if r.status == timing.entered]
    if not clocks:
        return {"clock": None, "note": f"the record never entered '{timing.entered}'"}
    clock = clocks[-1]
    later = [r for r in periods if r.id > clock.id]
    stopped = next((r for r in later if r.status in timing.stop_in), None)
    pauses = [
        (r.entered_at, r.left_at)
        for r in later
        if r.status in pause_statuses(runtime.entity(rule.entity), timing.pause_in)
    ]
    levels = []
    for n, level in enumerate(timing.levels, start=1):
        due = level_due_at(cal, clock.entered_at, level, pauses)
        levels.append({"level": n, "after": str(level.after), "due_at": iso(due) if due else None})
    return {"clock": clock.id, "started_at": iso(clock.entered_at),
            "stopped_at": iso(stopped.entered_at) if stopped else None,
            "stopped_by": stopped.status if stopped else None,
            "paused_now": bool(pauses and pauses[-1][1] is None), "levels": levels}  # fmt: skip


def _verdict(result: dict[str, Any], rollout: str, owner_based: bool) -> str:
    due = [d for d in result["due_now"] if d["status"] == "fire"]
    fired = sorted({r["occurrence"] for r in result["ledger"] if r["channel"] == "*"})
    if owner_based:
        return "threshold rules fire per owner: the ledger above is this user's or department's"
    if result.get("record", {}).get("archived"):
        return "the record is archived: rules ignore it"
    if not result.get("where", {}).get("matches", True):
        return "the rule's condition does not hold for this record, so it is not due"
    if due:
        word = {"draft": "would not run (draft)", "paused": "would not run (paused)",
                "dry_run": "would be recorded as a dry run", "canary": "would fire for the canary",
                "active": "will fire at the next tick"}[rollout]  # fmt: skip
        return f"due now ({', '.join(d['occurrence'] for d in due)}): {word}"
    skipped = [d for d in result["due_now"] if d["status"] != "fire"]
    if skipped:
        return f"due, but the late policy {skipped[0]['status']} it ({skipped[0]['occurrence']})"
    detail = result.get("timing_detail") or {}
    if fired:
        return f"already fired ({fired[-1]}); it fires again only for a new occurrence"
    if detail.get("due_at") and not detail.get("due"):
        return f"not due yet: due at {detail['due_at']}"
    return "not due now"


def preview(runtime: Any, engine: Engine, rule: TimeRule, now: datetime, base_url: str,
            limit: int = 50) -> dict[str, Any]:  # fmt: skip
    """The audience and messages the rule would produce now (nothing is written)."""
    directory, calendars, state = _setup(runtime, engine, rule)
    window = Window(runtime, rule, now, state.watermark, calendars, directory)
    sweep = build_sweep(window)
    with reading(engine) as conn:
        statement = sweep.statement()
        rows = [] if statement is None else conn.execute(statement).mappings().all()
        dues = drop_fired(conn, runtime.system_table("rule_firings"), rule_key(rule),
                          sweep.finish(conn, rows))  # fmt: skip
        dues = [d for d in apply_late_policy(rule, dues, now) if d.status == "fire"]
        firings = [plan_firing(d, directory, Canary("dry_run")) for d in dues]
        samples, counts = [], {}
        for firing in firings:
            for item in firing.items:
                counts[item.channel] = counts.get(item.channel, 0) + 1
                if len(samples) < limit:
                    stored = conn.execute(sa.select(runtime.table(rule.entity)).where(
                        runtime.table(rule.entity).c.id == firing.due.record_id)).mappings().first() \
                        if firing.due.entity == rule.entity else None  # fmt: skip
                    locale, subject, body = render_preview(runtime, rule, item, firing.due,
                                                           stored, directory, base_url,
                                                           conn)  # fmt: skip
                    samples.append({"record_id": firing.due.record_id, "channel": item.channel,
                                    "recipient": item.recipient, "locale": locale,
                                    "subject": subject, "body": body})  # fmt: skip
    return {"rule": rule_key(rule), "rollout": state.rollout, "now": iso(now),
            "records": len(firings), "by_channel": counts, "messages": samples,
            "recipients": len({i.recipient for f in firings for i in f.items})}  # fmt: skip
