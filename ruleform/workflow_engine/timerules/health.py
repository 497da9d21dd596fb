"""Health: which rules have not succeeded recently, and the last runs.

A rule that runs (``dry_run``, ``canary``, ``active``) succeeds on every tick; one whose
last success is older than ``overdue_after`` (default 5 minutes, ten 30-second ticks) is
**overdue** — the scheduler is down, the kill switch is on, or the rule keeps failing
(``last_error`` says which). Draft and paused rules are listed, never overdue.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .catalog import all_rules, rule_key
from .occurrences import iso
from .rollout import load_states
from .scheduler import lock_status
from .ticks import kill_switch

__all__ = ["rule_health", "recent_runs", "OVERDUE_AFTER"]

OVERDUE_AFTER = timedelta(minutes=5)


def rule_health(runtime: Any, conn: Connection, now: datetime, locale: str | None = None,
                overdue_after: timedelta = OVERDUE_AFTER) -> dict[str, Any]:  # fmt: skip
    """Per rule: state, last success, overdue; plus the scheduler's last tick."""
    rules = all_rules(runtime.rulebook)
    states = load_states(conn, runtime.system_table("rule_states"), rules)
    locale = locale or runtime.rulebook.default_locale
    items = []
    for rule in rules:
        state = states[rule_key(rule)]
        last = state.row.get("last_success_at")
        running = state.rollout in ("dry_run", "canary", "active")
        overdue = running and (last is None or last < now - overdue_after)
        items.append({
            "rule": rule_key(rule), "label": rule.label.get(locale, rule.name),
            "entity": rule.entity, "timing": rule.timing.kind, "rollout": state.rollout,
            "declared_rollout": state.declared, "overridden": state.overridden,
            "paused_reason": state.row.get("paused_reason"),
            "cap_per_run": state.cap_per_run, "cap_per_day": state.cap_per_day,
            "audience": rule.audience, "canary": list(state.canary),
            "last_success_at": iso(last) if last else None,
            "watermark": iso(state.watermark) if state.watermark else None,
            "last_error_at": iso(state.row["last_error_at"]) if state.row.get("last_error_at") else None,
            "last_error": state.row.get("last_error"), "overdue": overdue,
        })  # fmt: skip
    lock = lock_status(conn) or {}
    return {
        "now": iso(now), "rules": items, "overdue": [i["rule"] for i in items if i["overdue"]],
        "kill_switch": kill_switch(conn),
        "last_tick_at": iso(lock["last_tick_at"]) if lock.get("last_tick_at") else None,
        "scheduler": lock.get("holder"),
    }  # fmt: skip


def recent_runs(runtime: Any, conn: Connection, rule: str | None = None,
                limit: int = 50) -> list[dict[str, Any]]:  # fmt: skip
    """The latest recorded runs (idle runs are not kept), newest first."""
    runs = runtime.system_table("rule_runs")
    query = sa.select(runs).order_by(runs.c.id.desc()).limit(limit)
    if rule is not None:
        query = query.where(runs.c.rule == rule)
    return [{k: iso(v) if isinstance(v, datetime) else v for k, v in row.items()}
            for row in conn.execute(query).mappings()]  # fmt: skip
