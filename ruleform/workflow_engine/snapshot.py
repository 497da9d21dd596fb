"""The approval definition a request is pinned to, as plain data that survives as JSON.

When a request is created, the transition's ``Approval`` (steps, approvers, modes, reject
and withdraw policies, locked fields, relaxed segregation of duties) is copied into the
request. Later rulebook versions may change or remove the steps; the request keeps running
the ones it started with. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..metadata.model import Duration, Party, Transition

__all__ = ["StepDef", "Definition", "party_to_json", "party_from_json"]


def party_to_json(p: Party) -> dict[str, Any]:
    return {
        "kind": p.kind,
        "role": p.role,
        "in_owner_department": p.in_owner_department,
        "field": p.field,
        "users": list(p.users),
    }


def party_from_json(d: Mapping[str, Any]) -> Party:
    return Party(
        kind=d["kind"],
        role=d.get("role"),
        in_owner_department=bool(d.get("in_owner_department")),
        field=d.get("field"),
        users=tuple(d.get("users") or ()),
    )


@dataclass(frozen=True, slots=True)
class StepDef:
    """One pinned step: who approves, how many must, and when it escalates."""

    name: str
    label: Mapping[str, str]
    approvers: tuple[Party, ...]
    mode: str = "any"
    at_least: int = 1
    escalate_after: Duration | None = None
    escalate_to: tuple[Party, ...] = ()

    @property
    def needed(self) -> int:
        """How many approvers the step needs at least to be decidable."""
        return self.at_least if self.mode == "at_least" else 1

    def label_in(self, locale: str) -> str:
        lang = locale.split("-")[0]
        for key, text in self.label.items():
            if key == locale or key.split("-")[0] == lang:
                return text
        return next(iter(self.label.values()), self.name)


@dataclass(frozen=True, slots=True)
class Definition:
    """The approval of one transition, pinned into a request."""

    transition: str
    source: str
    target: str
    steps: tuple[StepDef, ...]
    on_reject: str
    withdraw: str = "before_first_decision"
    locked_fields: tuple[str, ...] | None = None  # None: every field
    allow: frozenset[str] = frozenset()
    exception: bool = False

    @classmethod
    def of(cls, t: Transition, source: str) -> Definition:
        assert t.approval is not None
        a = t.approval
        steps = tuple(
            StepDef(
                s.name,
                dict(s.label.translations),
                s.approvers,
                s.mode,
                s.at_least,
                s.escalate_after,
                s.escalate_to,
            )
            for s in a.steps
        )
        return cls(
            t.name,
            source,
            t.target,
            steps,
            a.on_reject or source,
            a.withdraw,
            a.locked_fields,
            frozenset(a.allow),
            t.exception,
        )

    def locks(self, field: str) -> bool:
        """Whether editing ``field`` voids a pending request."""
        return self.locked_fields is None or field in self.locked_fields

    def to_json(self) -> dict[str, Any]:
        return {
            "transition": self.transition,
            "source": self.source,
            "target": self.target,
            "on_reject": self.on_reject,
            "withdraw": self.withdraw,
            "locked_fields": None if self.locked_fields is None else list(self.locked_fields),
            "allow": sorted(self.allow),
            "exception": self.exception,
            "steps": [_step_json(s) for s in self.steps],
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Definition:
        locked = d.get("locked_fields")
        return cls(
            transition=d["transition"],
            source=d["source"],
            target=d["target"],
            steps=tuple(_step_from(s) for s in d["steps"]),
            on_reject=d["on_reject"],
            withdraw=d.get("withdraw", "before_first_decision"),
            locked_fields=None if locked is None else tuple(locked),
            allow=frozenset(d.get("allow") or ()),
            exception=bool(d.get("exception")),
        )


def _step_json(s: StepDef) -> dict[str, Any]:
    after = s.escalate_after
    return {
        "name": s.name,
        "label": dict(s.label),
        "mode": s.mode,
        "at_least": s.at_least,
        "approvers": [party_to_json(p) for p in s.approvers],
        "escalate_after": None
        if after is None
        else {"amount": after.amount, "unit": after.unit, "text": after.text},
        "escalate_to": [party_to_json(p) for p in s.escalate_to],
    }


def _step_from(d: Mapping[str, Any]) -> StepDef:
    after = d.get("escalate_after")
    return StepDef(
        name=d["name"],
        label=dict(d.get("label") or {}),
        approvers=tuple(party_from_json(p) for p in d.get("approvers") or ()),
        mode=d.get("mode", "any"),
        at_least=int(d.get("at_least") or 1),
        escalate_after=None
        if after is None
        else Duration(float(after["amount"]), after["unit"], after.get("text", "")),
        escalate_to=tuple(party_from_json(p) for p in d.get("escalate_to") or ()),
    )
