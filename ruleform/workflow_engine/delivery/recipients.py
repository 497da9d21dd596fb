"""Who a message is for: a user of Ruleform, an outside address, or a webhook target.

The time-rule engine names the recipient in the payload (``{"user_id": 7}``,
``{"address": "+8613800138000", "field": "buyer_mobile"}``, ``{"target": "sales_group"}``)
and in the outbox row's ``recipient`` column. Bare column values are understood too:
``user:7`` or ``7`` (a user id), ``email:…`` or anything with ``@``, ``phone:…``, and for
the webhook channel the target's name.

``Recipient.key`` names the person across channels (``user:7`` for their inbox *and* their
email), which is what the frequency cap counts and the sandbox allow-list matches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ...platform.actors import Actor, load_actor
from .channels import CHANNELS, Channel

__all__ = ["Recipient", "RecipientError", "resolve_recipient", "UserCache"]

_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{5,30}$")


class RecipientError(ValueError):
    """The recipient cannot receive on this channel (permanent: retrying will not help)."""


@dataclass(frozen=True)
class Recipient:
    kind: str  # user | address | target
    key: str
    address: str  # where the channel sends: user id (inbox), email, phone, target name
    name: str = ""
    user_id: int | None = None
    username: str | None = None
    actor: Actor | None = None
    locale: str | None = None
    timezone: str | None = None


class UserCache:
    """Users and actors loaded once per batch (a drain touches the same people often)."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self._users: dict[int, dict | None] = {}
        self._actors: dict[int, Actor | None] = {}

    def user(self, user_id: int) -> dict | None:
        if user_id not in self._users:
            users = sa.table("users", sa.column("id"), sa.column("username"),
                             sa.column("display_name"), sa.column("email"), sa.column("locale"),
                             sa.column("timezone"), sa.column("active"))  # fmt: skip
            row = self.conn.execute(sa.select(users).where(users.c.id == user_id)).mappings()
            found = row.first()
            self._users[user_id] = dict(found) if found else None
        return self._users[user_id]

    def actor(self, user_id: int) -> Actor | None:
        if user_id not in self._actors:
            self._actors[user_id] = load_actor(self.conn, user_id)
        return self._actors[user_id]


def _spec(row: dict[str, Any]) -> dict[str, Any]:
    spec = (row.get("payload") or {}).get("recipient")
    if isinstance(spec, dict):
        return spec
    text = str(spec if spec is not None else row.get("recipient") or "").strip()
    kind = _channel(row["channel"]).address_kind
    if kind == "target":
        return {"target": text.removeprefix("webhook:")}
    for prefix, name in (("user:", "user_id"), ("email:", "address"), ("phone:", "address")):
        if text.startswith(prefix):
            return {name: text[len(prefix) :]}
    if "@" in text or (kind == "phone" and _PHONE.match(text)):
        return {"address": text}
    return {"user_id": text}


def _channel(name: str) -> Channel:
    try:
        return CHANNELS[name]
    except KeyError:
        raise RecipientError(f"no channel {name!r}") from None


def resolve_recipient(row: dict[str, Any], users: UserCache) -> Recipient:
    """The recipient of outbox ``row`` on its channel; RecipientError if there is none."""
    spec, channel = _spec(row), row["channel"]
    if spec.get("target") or _channel(channel).address_kind == "target":
        name = str(spec.get("target") or row.get("recipient") or "")
        if not name:
            raise RecipientError("no webhook target named")
        return Recipient("target", f"webhook:{name}", name, name)
    if spec.get("user_id") not in (None, ""):
        return _user(spec["user_id"], channel, users)
    address = str(spec.get("address") or "").strip()
    if not address:
        raise RecipientError("no recipient")
    return _address(address, channel)


def _user(value: Any, channel: str, users: UserCache) -> Recipient:
    try:
        user_id = int(value)
    except (TypeError, ValueError):
        raise RecipientError(f"not a user id: {value!r}") from None
    user = users.user(user_id)
    if user is None or not user["active"]:
        raise RecipientError(f"user {user_id} does not exist or is deactivated")
    actor = users.actor(user_id)
    on = _channel(channel)
    if not on.reaches_users:
        raise RecipientError(f"{channel} goes to {on.address_kind} addresses, not to users")
    address = str(user_id) if on.user_address is None else on.user_address(user)
    if not address:
        raise RecipientError(f"user {user['username']} has no {channel} address")
    name = user["display_name"] or user["username"]
    return Recipient("user", f"user:{user_id}", address, name, user_id, user["username"], actor,
                     user["locale"], user["timezone"])  # fmt: skip


def _address(address: str, channel: str) -> Recipient:
    kind = _channel(channel).address_kind
    if kind == "email":
        if "@" not in address or any(c in address for c in "\r\n<>,; "):
            raise RecipientError(f"not an email address: {address!r}")
        return Recipient("address", f"email:{address.lower()}", address)
    if kind == "phone":
        digits = re.sub(r"[ \-]", "", address)
        if not _PHONE.match(address):
            raise RecipientError(f"not a phone number: {address!r}")
        return Recipient("address", f"phone:{digits}", digits)
    raise RecipientError(f"the {channel} channel delivers to users only")
