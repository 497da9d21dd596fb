"""Channels: how a prepared message leaves Ruleform — one module each, read into
``CHANNELS`` here (a new channel: a module defining ``CHANNEL``, added to ``_MODULES``).

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
from types import ModuleType
from typing import Any

from ....metadata.channels import register_channel_name
from . import email, inbox, sms, webhook
from .base import Channel, Outgoing, SendError

__all__ = [
    "Outgoing",
    "SendError",
    "Channel",
    "CHANNELS",
    "channel",
    "channel_names",
    "external_channels",
    "register_channel",
    "sender_for",
]

_MODULES: tuple[ModuleType, ...] = (inbox, email, sms, webhook)

#: Every channel by name, in the order the admin pages list them.
CHANNELS: dict[str, Channel] = {m.CHANNEL.name: m.CHANNEL for m in _MODULES}

for _channel in CHANNELS.values():  # the rulebook language knows their names and labels
    register_channel_name(_channel.name, _channel.label)


def register_channel(new: Channel) -> None:
    """Add a channel defined outside this package's list (a plug-in, a test)."""
    CHANNELS[new.name] = new
    register_channel_name(new.name, new.label)


def channel_names() -> tuple[str, ...]:
    """Every channel this package delivers."""
    return tuple(CHANNELS)


def external_channels() -> tuple[str, ...]:
    """The channels an RQ job sends (outside any transaction)."""
    return tuple(name for name, c in CHANNELS.items() if c.external)


def channel(name: str) -> Channel:
    """The channel ``name``; KeyError if there is none."""
    return CHANNELS[name]


def sender_for(name: str) -> Callable[[Outgoing, Any], str]:
    """The send function of an external channel: ``send(outgoing, settings) -> answer``."""
    send = CHANNELS[name].send
    if send is None:
        raise KeyError(name)
    return send
