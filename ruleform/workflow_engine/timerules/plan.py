"""From a due occurrence to the items it will produce: one per recipient × channel for
``notify`` / ``escalate``, one per assignee for ``task``, one for ``set``, ``reassign`` and
``webhook`` — each with the ledger channel (``a<action index>:<channel>``) and recipient
key that make it unique.

Planning happens twice: before anything is written (to count the messages for the caps,
and for dry runs), and again inside the writing transaction for each action in order,
against the record as the previous actions left it (``reassign`` then ``notify: [owner]``
tells the *new* owner).

**Escalation chains.** ``escalate: [p1, p2, …]`` at SLA level *n* notifies party *n*
(the last party for levels beyond the chain; level 1 outside SLAs). When that party
resolves to nobody (no manager, no holder of the role), the next party up the chain is
used, then the ones before it.

**Canary.** In ``canary`` mode an item goes out only if its recipient is allow-listed
(``canary:`` names a username, an address, or a department — the recipient's or the
record's) or the record is in the canary share; record-level actions (``set``,
``reassign``, ``webhook``) only when the record is (its department is listed, or it falls
in the share). Everything else is held back and recorded like a dry run.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ...metadata.model import Action
from ..delivery.channels import CHANNELS
from .occurrences import Due
from .recipients import Directory, Target

__all__ = ["Item", "Firing", "Canary", "items_for", "plan_firing", "MESSAGE_KINDS"]

MESSAGE_KINDS = ("notify", "escalate", "task", "webhook")
RECORD_KINDS = ("set", "reassign", "webhook")


@dataclass
class Item:
    index: int  # the action's position in the rule (or SLA level)
    action: Action
    channel: str  # inbox email sms webhook | task | set | reassign
    target: Target | None = None
    live: bool = True  # False: held back (dry run, outside the canary)

    @property
    def kind(self) -> str:
        return self.action.kind

    @property
    def ledger_channel(self) -> str:
        return f"a{self.index}:{self.channel}"

    @property
    def recipient(self) -> str:
        if self.kind == "webhook":
            return f"webhook:{self.action.target}"
        return self.target.key if self.target is not None else ""


@dataclass
class Firing:
    due: Due
    items: list[Item] = field(default_factory=list)

    @property
    def messages(self) -> int:
        return sum(1 for i in self.items if i.live and i.kind in MESSAGE_KINDS)

    @property
    def held_back(self) -> int:
        return sum(1 for i in self.items if not i.live)


@dataclass(frozen=True)
class Canary:
    """Who a rule reaches while in ``canary`` (or everyone / no one in other modes)."""

    mode: str  # active | canary | dry_run
    names: frozenset[str] = frozenset()
    share: int = 0  # percent of records
    rule: str = ""

    @classmethod
    def of(cls, mode: str, listed: Iterable[str], share: int | None, rule: str) -> Canary:
        return cls(mode, frozenset(str(n).strip().lower() for n in listed), share or 0, rule)

    def record_in(self, due: Due, directory: Directory) -> bool:
        if self.mode == "active":
            return True
        if self.mode != "canary":
            return False
        if self.share and zlib.crc32(f"{self.rule}:{due.record_id}".encode()) % 100 < self.share:
            return True
        return _dept_name(directory, due.record.get("department")) in self.names

    def target_in(self, target: Target | None, directory: Directory) -> bool:
        if self.mode != "canary" or target is None:
            return self.mode == "active"
        names = {target.key.lower(), (target.address or "").lower(), (target.username or "").lower(),
                 _dept_name(directory, target.department_id)}  # fmt: skip
        return bool(names & self.names)


def _dept_name(directory: Directory, dept: Any) -> str:
    return str((directory.departments.get(dept) or {}).get("name") or "").lower()


def items_for(index: int, action: Action, due: Due, record: Mapping[str, Any],
              directory: Directory) -> list[Item]:  # fmt: skip
    """The items one action produces for ``record`` (deduplicated by channel and recipient)."""
    kind = action.kind
    if kind in ("set", "reassign"):
        return [Item(index, action, kind)]
    if kind == "webhook":
        return [Item(index, action, "webhook")]
    if kind == "task":
        return [
            Item(index, action, "task", t) for t in _targets(action.recipients, record, directory)
        ]
    if kind == "escalate":
        targets = _chain(action, due.step or 1, record, directory)
    else:
        targets = _targets(action.recipients, record, directory)
    items = []
    for target in targets:
        for channel in action.channels:
            if _fits(target, channel):
                items.append(Item(index, action, channel, target))
    return items


def plan_firing(due: Due, directory: Directory, canary: Canary) -> Firing:
    """Every item of ``due`` against the record as it is now, with canary decisions."""
    firing = Firing(due)
    if due.status != "fire":
        return firing
    record_live = canary.record_in(due, directory)
    for index, action in enumerate(due.actions):
        for item in items_for(index, action, due, due.record, directory):
            if item.kind in RECORD_KINDS:
                item.live = record_live
            else:
                item.live = record_live or canary.target_in(item.target, directory)
            firing.items.append(item)
    return firing


def _targets(
    parties: Iterable[Any], record: Mapping[str, Any], directory: Directory
) -> list[Target]:
    found: dict[str, Target] = {}
    for party in parties:
        for target in directory.resolve(party, record):
            found.setdefault(target.key, target)
    return list(found.values())


def _chain(
    action: Action, level: int, record: Mapping[str, Any], directory: Directory
) -> list[Target]:
    chain = list(action.recipients)
    if not chain:
        return []
    start = min(level, len(chain)) - 1
    order = [*range(start, len(chain)), *range(start - 1, -1, -1)]
    for i in order:
        if targets := directory.resolve(chain[i], record):
            return targets
    return []


def _fits(target: Target, channel: str) -> bool:
    """Users get the channels that reach users (inbox, email); an address only the channel of
    its kind (an email address: email; a phone number: SMS; webhooks: the action)."""
    on = CHANNELS.get(channel)
    if on is None:
        return False
    if target.kind == "user":
        return on.reaches_users
    return on.address_kind == ("email" if target.key.startswith("email:") else "phone")
