"""What every channel shares: the message handed to it, its errors, and its description."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Outgoing", "SendError", "Channel", "default_message_id"]


class SendError(Exception):
    """Sending failed; see ``permanent`` and ``in_doubt``."""

    def __init__(self, text: str, *, permanent: bool = False, in_doubt: bool = False):
        super().__init__(text)
        self.permanent = permanent
        self.in_doubt = in_doubt


@dataclass(frozen=True)
class Outgoing:
    """One rendered message, ready for its channel."""

    key: str  # the outbox idempotency key
    channel: str
    address: str  # email address, phone number, or webhook target name
    subject: str
    body: str
    link: str
    message_id: str  # Message-ID (email) / Idempotency-Key (webhook, sms)
    target: dict[str, Any] = field(default_factory=dict)  # url, kind, secret, allow_private
    meta: dict[str, Any] = field(default_factory=dict)  # rule, entity, record_id


def default_message_id(key: str, settings: Any) -> str:
    """``rf-<sha256 of the outbox key>``: the ``Idempotency-Key`` of a resend."""
    return "rf-" + hashlib.sha256(key.encode()).hexdigest()[:40]


@dataclass(frozen=True)
class Channel:
    """One way a message leaves Ruleform. Each channel module defines ``CHANNEL``.

    ``reaches_users``: a user recipient resolves to an address on this channel
    (``user_address(user_row)``; ``None``: the user id itself, the inbox).
    ``address_kind``: the plain addresses it takes — ``email``, ``phone``, ``target`` (a
    webhook target's name) or ``None``. ``external``: sent by an RQ job outside any
    transaction with ``send(outgoing, settings) -> answer`` (else it is written inline, in
    the drain's transaction). ``target_setting``: the setting naming the webhook target it
    posts through (SMS: ``SMS_GATEWAY``).
    """

    name: str
    label: Mapping[str, str]  # {"zh-CN": …, "en": …}
    external: bool
    reaches_users: bool
    address_kind: str | None = None
    send: Callable[[Outgoing, Any], str] | None = None
    user_address: Callable[[Mapping[str, Any]], str | None] | None = None
    message_id: Callable[[str, Any], str] = default_message_id
    target_setting: str | None = None

    @property
    def needs_target(self) -> bool:
        """Whether the message goes out through a webhook target."""
        return self.address_kind == "target" or self.target_setting is not None
