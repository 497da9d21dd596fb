"""Channels: how a prepared message leaves Ruleform.

``inbox`` writes a row in the caller's transaction (exactly once by its unique key); the
external channels — ``email`` (SMTP), ``webhook`` (generic JSON, WeCom, DingTalk) and
``sms`` (an SMS gateway called as a webhook) — talk to another server *outside* any
transaction, each carrying an identifier derived from the outbox key (Message-ID,
``Idempotency-Key``) so that a resend after a crash can be recognised by the receiver.

A sender returns the server's answer as text or raises ``SendError``:
``permanent`` — retrying cannot help (bad address, 4xx); ``in_doubt`` — the server may have
accepted it (the connection broke after the message was handed over).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Outgoing", "SendError", "sender_for", "EXTERNAL"]

EXTERNAL = ("email", "sms", "webhook")


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


def sender_for(channel: str) -> Callable[[Outgoing, Any], str]:
    """The send function of an external channel: ``send(outgoing, settings) -> answer``."""
    if channel == "email":
        from .email import send
    elif channel == "webhook":
        from .webhook import send
    elif channel == "sms":
        from .sms import send
    else:
        raise KeyError(channel)
    return send
