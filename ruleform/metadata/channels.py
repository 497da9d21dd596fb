"""The channels a rulebook may name (``channels: [inbox, email]``) and their labels.

The language knows the four built-in channels on its own, so a rulebook checks without
the delivery engine loaded. The delivery engine registers every channel it has
(``workflow_engine/delivery/channels``): a new channel module brings its name and label
with it, and the schema and the explanations follow (their caches are cleared).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

__all__ = ["BUILT_IN", "register_channel_name", "channel_names", "channel_label", "on_change"]

#: The built-in channels' labels (the delivery engine's channel modules use these).
BUILT_IN: dict[str, dict[str, str]] = {
    "inbox": {"zh-CN": "站内信", "en": "inbox"},
    "email": {"zh-CN": "邮件", "en": "email"},
    "sms": {"zh-CN": "短信", "en": "SMS"},
    "webhook": {"zh-CN": "Webhook", "en": "webhook"},
}

_NAMES: dict[str, dict[str, str]] = {name: dict(label) for name, label in BUILT_IN.items()}
_LISTENERS: list[Callable[[], None]] = []


def register_channel_name(name: str, label: Mapping[str, str]) -> None:
    """Let rulebooks name channel ``name`` (``label``: zh-CN and en)."""
    if _NAMES.get(name) == dict(label):
        return
    _NAMES[name] = dict(label)
    for listener in _LISTENERS:
        listener()


def channel_names() -> tuple[str, ...]:
    """The channel names a rulebook may use."""
    return tuple(_NAMES)


def channel_label(name: str, locale: str) -> str:
    """``email`` → ``邮件`` (zh-CN) / ``email`` (en); an unknown name as it is."""
    label = _NAMES.get(name)
    if label is None:
        return name
    return label["en"] if locale.split("-")[0].lower() == "en" else label["zh-CN"]


def on_change(listener: Callable[[], None]) -> None:
    """Call ``listener`` when a channel is registered (to clear caches built from the names)."""
    _LISTENERS.append(listener)
