"""Safe rollout (R35): draft → dry run → canary → active → paused, and the blast-radius caps.

The rulebook's ``rollout`` is the default; administrators override it per rule in
``rule_states`` (the admin page, ``ruleform rules …``) — the rulebook never has to be
republished to pause a rule. What each state does in a tick:

=========  ===========================================================================
draft      nothing (not evaluated; no watermark)
dry_run    evaluated; the audience and every rendered message go to ``rule_dry_runs``
           ("this rule would send 312 SMS to these customers"); nothing else
canary     only allow-listed recipients / records in the canary share get anything; the
           rest is recorded like a dry run; a human OK (``approve``) makes it active
active     fires
paused     nothing; the watermark stays, so resuming catches up by the late policy
=========  ===========================================================================

**Caps** (``caps: {per_run, per_day}``, overridable per rule): before anything is written
the run counts the messages it would send. If that crosses a cap, *nothing* is sent, the
rule is **paused** with the reason, and its administrators get an alert — a circuit
breaker, never a silent truncation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ...metadata.model import TimeRule
from ...platform.outbox import OutboxMessage, enqueue
from .catalog import rule_key
from .occurrences import iso
from .recipients import Directory

__all__ = ["RuleState", "load_states", "set_rollout", "pause", "resume", "approve",
           "STATES", "CapCheck", "check_caps", "alert_admins"]  # fmt: skip

STATES = ("draft", "dry_run", "canary", "active", "paused")


@dataclass(frozen=True)
class RuleState:
    """A rule's effective rollout and caps, and its bookkeeping."""

    key: str
    rollout: str
    declared: str  # the rulebook's rollout
    cap_per_run: int | None
    cap_per_day: int | None
    canary_share: int
    row: Mapping[str, Any]
    canary: tuple[str, ...] = ()

    @property
    def overridden(self) -> bool:
        return self.row.get("rollout") is not None

    @property
    def watermark(self) -> datetime | None:
        return self.row.get("watermark")


def load_states(conn: Connection, table: sa.Table, rules: list[TimeRule]) -> dict[str, RuleState]:
    rows = {r["rule"]: dict(r) for r in conn.execute(sa.select(table)).mappings()}
    return {rule_key(rule): state_of(rule, rows.get(rule_key(rule), {})) for rule in rules}


def state_of(rule: TimeRule, row: Mapping[str, Any]) -> RuleState:
    def pick(name: str, default: Any) -> Any:
        return row.get(name) if row.get(name) is not None else default

    listed = row.get("canary")
    return RuleState(rule_key(rule), pick("rollout", rule.rollout), rule.rollout,
                     pick("cap_per_run", rule.cap_per_run), pick("cap_per_day", rule.cap_per_day),
                     int(row.get("canary_share") or 0), row,
                     tuple(listed) if isinstance(listed, list) else tuple(rule.canary))  # fmt: skip


def _upsert(conn: Connection, table: sa.Table, key: str, values: Mapping[str, Any]) -> None:
    changed = conn.execute(table.update().where(table.c.rule == key).values(**values))
    if changed.rowcount == 0:
        conn.execute(table.insert().values(rule=key, **values))


def set_rollout(conn: Connection, table: sa.Table, rule: TimeRule, rollout: str, now: datetime,
                user_id: int | None = None, **extra: Any) -> None:  # fmt: skip
    """Override the rule's rollout (``None``: back to the rulebook's)."""
    if rollout is not None and rollout not in STATES:
        raise ValueError(f"unknown rollout {rollout!r}; one of {', '.join(STATES)}")
    _upsert(conn, table, rule_key(rule), {"rollout": rollout, "updated_by": user_id,
                                          "updated_at": now, **extra})  # fmt: skip


def pause(conn: Connection, table: sa.Table, rule: TimeRule, state: RuleState, reason: str,
          now: datetime, user_id: int | None = None) -> None:  # fmt: skip
    previous = state.rollout if state.rollout != "paused" else state.row.get("previous_rollout")
    set_rollout(conn, table, rule, "paused", now, user_id, previous_rollout=previous,
                paused_reason=reason)  # fmt: skip


def resume(conn: Connection, table: sa.Table, rule: TimeRule, state: RuleState, now: datetime,
           user_id: int | None = None) -> str:  # fmt: skip
    """Back to the rollout before the pause (the rulebook's, if it was not overridden)."""
    previous = state.row.get("previous_rollout")
    target = previous if previous and previous != "paused" else None
    if target is None and rule.rollout == "paused":
        target = "active"
    set_rollout(conn, table, rule, target, now, user_id, previous_rollout=None,
                paused_reason=None)  # fmt: skip
    return target or rule.rollout


def approve(conn: Connection, table: sa.Table, rule: TimeRule, now: datetime,
            user_id: int | None = None) -> None:  # fmt: skip
    """The human OK after a canary (or a dry run): the rule goes active."""
    set_rollout(conn, table, rule, "active", now, user_id, previous_rollout=None,
                paused_reason=None)  # fmt: skip


@dataclass(frozen=True)
class CapCheck:
    planned: int
    sent_today: int
    crossed: str | None  # a human reason, or None


def check_caps(state: RuleState, planned: int, sent_today: int) -> CapCheck:
    if state.cap_per_run is not None and planned > state.cap_per_run:
        reason = f"would send {planned} messages in one run; the cap per run is {state.cap_per_run}"
        return CapCheck(planned, sent_today, reason)
    if state.cap_per_day is not None and sent_today + planned > state.cap_per_day:
        reason = (f"would send {planned} more messages today after {sent_today}; "
                  f"the cap per day is {state.cap_per_day}")  # fmt: skip
        return CapCheck(planned, sent_today, reason)
    return CapCheck(planned, sent_today, None)


def alert_admins(conn: Connection, runtime: Any, rule: TimeRule, directory: Directory,
                 reason: str, run_id: int, now: datetime) -> int:  # fmt: skip
    """Tell every administrator (inbox and email) that the rule was paused; how many rows."""
    admin_roles = [n for n, r in runtime.rulebook.roles.items() if r.admin]
    outbox = runtime.system_table("outbox")
    subject = {
        "zh-CN": "时间规则已暂停：{{ rule.label }}",
        "en": "Time rule paused: {{ rule.label }}",
    }
    body = {"zh-CN": f"超出发送上限，规则已自动暂停，未发送任何消息：{reason}。请在时间规则页面检查后恢复。",
            "en": f"The rule crossed its cap and was paused; nothing was sent: {reason}. "
                  "Review it on the time rules page, then resume it."}  # fmt: skip
    written = 0
    for user_id in directory.admins(admin_roles):
        user = directory.users[user_id]
        for channel in ("inbox", "email"):
            payload = {"rule": rule.name, "rule_key": rule_key(rule),
                       "rule_label": dict(rule.label.translations), "entity": rule.entity,
                       "record_id": None, "action": "alert", "recipient": {"user_id": user_id},
                       "locale": user.locale or runtime.rulebook.default_locale,
                       "message": {"subject": subject, "body": body}, "audience": "internal",
                       "path": "/admin/time-rules", "fired_at": iso(now), "reason": reason}  # fmt: skip
            message = OutboxMessage(key=f"tr-alert:{rule_key(rule)}:{run_id}:{channel}:user:{user_id}",
                                    kind="alert", channel=channel, payload=payload,
                                    recipient=str(user_id), rule=rule.name)  # fmt: skip
            enqueue(conn, outbox, message, now)
            written += 1
    return written
