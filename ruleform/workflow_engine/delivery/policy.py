"""Delivery policies, asked for every message just before it goes out (R35).

* **Kill switch** (``flags.kill_switch_on``): nothing is delivered; rows stay pending.
* **Sandbox** (``DELIVERY_MODE = "sandbox"``, the demo's default): on the channels of
  ``DELIVERY_SANDBOX_CHANNELS`` only allow-listed recipients receive anything; every other
  message is rendered and kept (outbox status ``sandboxed``) for ``/admin/sandbox``.
* **Quiet hours** per channel, in the recipient's time zone (their ``users.timezone``,
  else the rulebook's): a message due inside them is deferred to their end — never dropped.
* **Frequency cap** per recipient across all rules and the capped channels: at most N
  messages per window; the next one is deferred until a slot frees (or skipped, with the
  reason, when ``DELIVERY_FREQUENCY_CAP_ACTION = "skip"``).

These functions are pure or take a connection; ``prepare.py`` applies them in order.
"""

from __future__ import annotations

import fnmatch
import zlib
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from . import deliveries
from .channels import external_channels
from .recipients import Recipient
from .settings import DeliverySettings

__all__ = ["quiet_until", "frequency_limited", "allow_listed", "sandboxed"]


def quiet_until(now: datetime, tz_name: str, window: tuple[time, time] | None) -> datetime | None:
    """The end of the quiet hours ``now`` falls in (UTC), or None when it is not quiet.

    ``window`` is ``[start, end)`` in local time; ``start > end`` wraps midnight
    (21:00–08:00). Computed on local dates, so DST days are handled by ``zoneinfo``.
    """
    if window is None:
        return None
    start, end = window
    tz = ZoneInfo(tz_name)
    local = now.astimezone(tz)
    clock = local.time().replace(tzinfo=None)
    if start < end:
        quiet = start <= clock < end
        end_day = local.date()
    else:
        quiet = clock >= start or clock < end
        end_day = local.date() + timedelta(days=1) if clock >= start else local.date()
    if not quiet:
        return None
    return datetime.combine(end_day, end, tzinfo=tz).astimezone(now.tzinfo)


def frequency_limited(conn: Connection, recipient: Recipient, channel: str,
                      settings: DeliverySettings, now: datetime,
                      unwritten: int = 0) -> datetime | None:  # fmt: skip
    """When the recipient may receive again (a slot frees), or None if under the cap.

    On PostgreSQL a transaction-level advisory lock per recipient serialises concurrent
    workers deciding for the same person (SQLite serialises every writer anyway); the caller
    writes the ``sending`` row in the same transaction, so the next decision counts it.
    ``unwritten``: messages to this recipient decided in this transaction, not yet written.
    """
    cap = settings.frequency_cap
    listed = settings["DELIVERY_FREQUENCY_CAP_CHANNELS"]
    channels = list(external_channels() if listed is None else listed)
    if cap is None or channel not in channels:
        return None
    limit, seconds = cap
    if conn.dialect.name == "postgresql":
        lock = zlib.crc32(recipient.key.encode()) - 2**31  # a signed 32-bit key
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(7301, :k)"), {"k": lock})
    if deliveries.count_recent(conn, recipient.key, channels, now, seconds) + unwritten < limit:
        return None
    oldest = deliveries.oldest_recent(conn, recipient.key, channels, now, seconds)
    return (oldest or now) + timedelta(seconds=seconds, milliseconds=1)


def _identities(recipient: Recipient) -> set[str]:
    names = {recipient.key.lower(), recipient.address.lower()}
    if recipient.user_id is not None:
        names |= {f"user:{recipient.user_id}", f"user:{(recipient.username or '').lower()}"}
    if recipient.kind == "target":
        names.add(f"webhook:{recipient.address.lower()}")
    return names


def allow_listed(recipient: Recipient, allowlist: list[str]) -> bool:
    """Does an allow-list entry name this recipient?

    Entries: ``user:<id>`` or ``user:<username>``, an email address or a pattern
    (``*@example.com``), a phone number (``+86…`` as stored), ``webhook:<target>``.
    """
    names = _identities(recipient)
    for entry in allowlist or []:
        pattern = str(entry).strip().lower()
        if pattern.startswith("phone:"):
            pattern = pattern[6:]
        if any(fnmatch.fnmatchcase(name, pattern) or fnmatch.fnmatchcase(
                name.split(":", 1)[-1], pattern) for name in names):  # fmt: skip
            return True
    return False


def sandboxed(settings: DeliverySettings, channel: str, recipient: Recipient) -> bool:
    """In sandbox mode: is this message held back (not allow-listed, a sandboxed channel)?"""
    listed = settings["DELIVERY_SANDBOX_CHANNELS"]
    if not settings.sandbox or channel not in (external_channels() if listed is None else listed):
        return False
    return not allow_listed(recipient, list(settings["DELIVERY_ALLOWLIST"] or []))
