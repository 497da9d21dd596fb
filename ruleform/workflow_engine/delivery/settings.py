"""Delivery settings: read from the app's config (``instance/config.py``, ``RULEFORM_*``
environment variables, the test config), with the defaults below.

Every key is documented in docs/delivery.md. Values given as environment variables are
parsed as JSON by Flask (``RULEFORM_DELIVERY_FREQUENCY_CAP='[5, 3600]'``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from typing import Any

__all__ = ["DEFAULTS", "DeliverySettings"]


DEFAULTS: dict[str, Any] = {
    "DELIVERY_MODE": "production",  # production | sandbox (non-production: R35)
    "DELIVERY_ALLOWLIST": [],  # sandbox: who still receives (see policy.allow_listed)
    "DELIVERY_SANDBOX_CHANNELS": None,  # what the sandbox holds back (None: every external one)
    "DELIVERY_QUEUE": "notifications",
    "DELIVERY_BATCH": 100,  # rows claimed per statement
    "DELIVERY_LEASE": 300,  # seconds a claimed row belongs to its job
    "DELIVERY_MAX_ATTEMPTS": 8,
    "DELIVERY_BACKOFF": [30, 3600],  # first retry after ~30 s, doubling, at most an hour
    "DELIVERY_DRAIN_INTERVAL": 2.0,  # seconds between drains in `ruleform worker`
    "DELIVERY_QUIET_HOURS": {"sms": ["21:00", "08:00"]},  # channel → [start, end) local time
    "DELIVERY_FREQUENCY_CAP": [20, 3600],  # at most N messages per S seconds per recipient
    "DELIVERY_FREQUENCY_CAP_CHANNELS": None,  # None: every external channel
    "DELIVERY_FREQUENCY_CAP_ACTION": "defer",  # defer | skip
    "DELIVERY_EMAIL_IN_DOUBT": "resend",  # resend | confirm | assume_sent
    "DELIVERY_EMAIL_CONFIRM": None,  # "module:function"(message_id, address) → bool | None
    "SMTP_HOST": None,
    "SMTP_PORT": 25,
    "SMTP_USER": None,
    "SMTP_PASSWORD": None,
    "SMTP_STARTTLS": False,
    "SMTP_SSL": False,
    "SMTP_FROM": "Ruleform <ruleform@localhost>",
    "SMTP_TIMEOUT": 20,
    "WEBHOOK_TARGETS": {},  # name → {"url", "kind", "allow_private", "secret"}
    "WEBHOOK_TIMEOUT": 10,
    "SMS_GATEWAY": None,  # the webhook target that sends SMS
    "TIMERULES_TICK": True,  # the worker loop ticks the time rules; empty or false: it does not
    "TIMERULES_TICK_INTERVAL": 30.0,
}


def _clock(text: str) -> time:
    hours, _, minutes = str(text).partition(":")
    return time(int(hours), int(minutes or 0))


@dataclass(frozen=True)
class DeliverySettings:
    """The delivery settings of one app (plain values; safe to share between threads)."""

    values: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DeliverySettings:
        return cls({key: config.get(key, default) for key, default in DEFAULTS.items()}
                   | {"BASE_URL": config.get("BASE_URL", "http://127.0.0.1:5000")})  # fmt: skip

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def with_values(self, **changes: Any) -> DeliverySettings:
        return DeliverySettings({**self.values, **changes})

    @property
    def sandbox(self) -> bool:
        return str(self["DELIVERY_MODE"]).lower() == "sandbox"

    @property
    def base_url(self) -> str:
        return str(self["BASE_URL"]).rstrip("/")

    def quiet_hours(self, channel: str) -> tuple[time, time] | None:
        window = (self["DELIVERY_QUIET_HOURS"] or {}).get(channel)
        if not window:
            return None
        start, end = (_clock(part) for part in window)
        return None if start == end else (start, end)

    @property
    def frequency_cap(self) -> tuple[int, int] | None:
        cap = self["DELIVERY_FREQUENCY_CAP"]
        if not cap:
            return None
        limit, seconds = int(cap[0]), int(cap[1])
        return (limit, seconds) if limit > 0 and seconds > 0 else None

    @property
    def backoff(self) -> tuple[float, float]:
        base, cap = self["DELIVERY_BACKOFF"]
        return float(base), float(cap)
