"""The decision for one outbox row, at delivery time: send (what, to whom), or not now.

In order: resolve the recipient (a deactivated user or a bad address fails the row for
good), find the webhook target, render the message for that recipient, then ask the
policies — sandbox, quiet hours, frequency cap. The kill switch is checked by the callers
once per batch / job, before any of this.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from . import deliveries, outcomes, policy
from .channels import CHANNELS, Outgoing
from .recipients import Recipient, RecipientError, UserCache, resolve_recipient
from .render import Renderer, RenderError
from .settings import DeliverySettings
from .targets import find_target

__all__ = ["Decision", "Preparer", "apply_decision", "delivery_values"]


@dataclass(frozen=True)
class Decision:
    action: str  # send | sandbox | defer | skip | fail
    reason: str = ""
    until: datetime | None = None
    outgoing: Outgoing | None = None
    recipient: Recipient | None = None


def _message_id(key: str, channel: str, settings: DeliverySettings) -> str:
    return CHANNELS[channel].message_id(key, settings)


class Preparer:
    """Decides for the rows of one transaction (users, records and targets cached)."""

    def __init__(self, runtime: Any, conn: Connection, settings: DeliverySettings):
        self.rt = runtime
        self.conn = conn
        self.settings = settings
        self.users = UserCache(conn)
        self.renderer = Renderer(runtime, conn, settings)
        self.decided: Counter[str] = Counter()  # sends decided here, per recipient key

    def decide(self, row: dict[str, Any], now: datetime) -> Decision:
        channel = row["channel"]
        try:
            recipient = resolve_recipient(row, self.users)
            target = self.target(channel, recipient)
            rendered = self.renderer.render(row, recipient, now)
        except (RecipientError, RenderError) as exc:
            return Decision("fail", str(exc))
        outgoing = Outgoing(
            key=row["idempotency_key"], channel=channel, address=recipient.address,
            subject=rendered.subject, body=rendered.body, link=rendered.link,
            message_id=_message_id(row["idempotency_key"], channel, self.settings),
            target=target, meta={"rule": row.get("rule"), "entity": row.get("entity"),
                                 "record_id": row.get("record_id")},
        )  # fmt: skip
        return self._policies(row, channel, recipient, outgoing, now)

    def _policies(self, row: dict, channel: str, recipient: Recipient, outgoing: Outgoing,
                  now: datetime) -> Decision:  # fmt: skip
        if policy.sandboxed(self.settings, channel, recipient):
            return Decision("sandbox", "sandbox mode", outgoing=outgoing, recipient=recipient)
        until = policy.quiet_until(now, self._timezone(row, recipient),
                                   self.settings.quiet_hours(channel))  # fmt: skip
        if until is not None:
            return Decision("defer", f"quiet hours ({channel}) until {until.isoformat()}", until)
        until = policy.frequency_limited(self.conn, recipient, channel, self.settings, now,
                                         self.decided[recipient.key])  # fmt: skip
        if until is not None:
            limit, seconds = self.settings.frequency_cap or (0, 0)
            reason = f"frequency cap: {limit} per {seconds} s for {recipient.key}"
            if self.settings["DELIVERY_FREQUENCY_CAP_ACTION"] == "skip":
                return Decision("skip", reason)
            return Decision("defer", f"{reason}; deferred to {until.isoformat()}", until)
        self.decided[recipient.key] += 1
        return Decision("send", outgoing=outgoing, recipient=recipient)

    def _timezone(self, row: dict, recipient: Recipient) -> str:
        for name in (recipient.timezone, (row.get("payload") or {}).get("timezone")):
            if name:
                try:
                    ZoneInfo(str(name))
                    return str(name)
                except (ZoneInfoNotFoundError, ValueError):
                    continue
        return self.rt.rulebook.timezone

    def target(self, channel: str, recipient: Recipient) -> dict[str, Any]:
        """The webhook target a message goes out through (table first, then settings): the
        recipient's own (webhook) or the one the channel's setting names (SMS_GATEWAY)."""
        on = CHANNELS[channel]
        if not on.needs_target:
            return {}
        name = (
            recipient.address if on.address_kind == "target" else self.settings[on.target_setting]
        )
        if not name:
            raise RecipientError(f"no {channel} gateway configured ({on.target_setting})")
        found = find_target(self.conn, str(name), self.settings["WEBHOOK_TARGETS"])
        if found is None or not found.active:
            raise RecipientError(f"no active webhook target {name!r}")
        return {"name": found.name, "url": found.url, "kind": found.kind,
                "secret": found.secret, "allow_private": found.allow_private}  # fmt: skip


def delivery_values(row: dict, decision: Decision, status: str, now: datetime,
                    claim: str | None = None) -> dict[str, Any]:  # fmt: skip
    """The ``deliveries`` row for a decision that produced a message."""
    out, who = decision.outgoing, decision.recipient
    assert out is not None and who is not None
    return {"idempotency_key": row["idempotency_key"], "outbox_id": row["id"],
            "channel": row["channel"], "recipient_key": who.key, "address": out.address,
            "status": status, "message_id": out.message_id, "subject": out.subject,
            "body": out.body, "link": out.link, "locale": None, "claim": claim,
            "started_at": now, "finished_at": None if status == deliveries.SENDING else now,
            "response": None}  # fmt: skip


def apply_decision(conn: Connection, outbox: sa.Table, row: dict, decision: Decision,
                   now: datetime, claim: str | None = None,
                   counted: bool = False) -> str:  # fmt: skip
    """Write a decision other than ``send``; the outbox status it leaves. ``counted``: the
    caller counted an attempt in ``row['attempts']`` (a deferral gives it back)."""
    row_id = row["id"]
    if decision.action == "sandbox":
        deliveries.record(conn, delivery_values(row, decision, deliveries.SANDBOXED, now))
        outcomes.sandbox(conn, outbox, row_id, now, claim)
    elif decision.action == "defer":
        assert decision.until is not None
        attempts = row["attempts"] - 1 if counted else None
        outcomes.defer(conn, outbox, row_id, decision.until, decision.reason, claim, attempts)
    elif decision.action == "skip":
        outcomes.skip(conn, outbox, row_id, decision.reason, now, claim)
    elif decision.action == "fail":
        outcomes.fail(conn, outbox, row_id, decision.reason, now, claim)
    else:  # pragma: no cover - send is the caller's
        raise ValueError(decision.action)
    return decision.action
