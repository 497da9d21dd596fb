"""The status machine of one record, as pure rules: which transitions leave the current
status, which of them this actor may take now, and why the others are unavailable.

No I/O: the caller (``service.py``) hands in the record, the transitions the actor's roles
hold (from ``Policy.can_transition``), whether an approval is pending, and an
``EvalContext`` whose ``related``/``lookup`` callbacks let guards such as
``count(contract where …) > 0`` read other records.

Reason codes (stable, for API clients): ``not_permitted`` (no role of the actor holds the
transition — the text names the roles that do), ``wrong_status``, ``guard_failed`` (the
``when`` condition is false; the text is ``when_message``), ``approval_pending`` (a request
is waiting: the record's status is frozen until it is decided or withdrawn), ``archived``.
``needs_field`` is not blocking: the form or payload asks for the transition's ``require``
fields; ``missing`` lists those still empty ("needs lost reason").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..metadata.conditions import EvalContext
from ..metadata.model import Entity, Role, Transition
from ..metadata.record_rules import is_empty
from .texts import wf_text

__all__ = ["Reason", "Option", "Situation", "outgoing", "options", "option", "missing_required"]


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a transition cannot be taken now (``code`` is stable; ``text`` is for people)."""

    code: str
    text: str
    field: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.text, "field": self.field}


@dataclass(frozen=True, slots=True)
class Situation:
    """What the machine knows about the record and the actor; plain data."""

    record: Mapping[str, Any]
    permitted: frozenset[str]  # transitions one of the actor's roles holds
    ctx: EvalContext
    locale: str = "zh-CN"
    pending_approval: bool = False
    roles: Mapping[str, Role] | None = None  # for naming roles in reasons


@dataclass(frozen=True, slots=True)
class Option:
    """One transition as this actor sees it now."""

    transition: Transition
    reasons: tuple[Reason, ...] = ()  # empty: the actor may take it now
    missing: tuple[str, ...] = ()  # required fields still empty (asked for by the form)

    @property
    def allowed(self) -> bool:
        return not self.reasons

    @property
    def name(self) -> str:
        return self.transition.name

    @property
    def needs_approval(self) -> bool:
        return self.transition.approval is not None

    @property
    def permitted(self) -> bool:
        return not any(r.code == "not_permitted" for r in self.reasons)

    def to_json(self, entity: Entity, locale: str) -> dict[str, Any]:
        t = self.transition
        return {
            "name": t.name,
            "label": t.label.get(locale, t.name),
            "to": t.target,
            "to_label": entity.statuses.states[t.target].label.get(locale)
            if entity.statuses
            else t.target,
            "allowed": self.allowed,
            "reasons": [r.to_json() for r in self.reasons],
            "requires": list(t.require),
            "missing": list(self.missing),
            "hints": [
                wf_text("needs_field", locale, field=_field_label(entity, f, locale))
                for f in self.missing
            ],
            "confirm": t.confirm.get(locale) if t.confirm else None,
            "approval": _approval_json(t, locale),
            "exception": t.exception,
            "needs_reason": t.exception,
        }


def outgoing(entity: Entity, status: str | None) -> list[Transition]:
    """The declared transitions that start from ``status``, in declaration order."""
    return [t for t in entity.transitions.values() if status in t.sources]


def options(entity: Entity, situation: Situation) -> list[Option]:
    """Every transition leaving the record's status, each with its reasons (if any)."""
    status = situation.record.get("status")
    return [option(entity, t, situation) for t in outgoing(entity, status)]


def option(entity: Entity, t: Transition, situation: Situation) -> Option:
    """``t`` for this actor and record now: allowed, or the reasons it is not."""
    record, locale = situation.record, situation.locale
    reasons: list[Reason] = []
    if t.name not in situation.permitted:
        reasons.append(_not_permitted(entity, t, situation))
    status = record.get("status")
    if status not in t.sources:
        label = _status_label(entity, status, locale)
        reasons.append(Reason("wrong_status", wf_text("wrong_status", locale, status=label)))
    if record.get("archived"):
        reasons.append(Reason("archived", wf_text("archived", locale)))
    if situation.pending_approval:
        reasons.append(Reason("approval_pending", wf_text("approval_pending", locale)))
    if t.when is not None and not reasons and not t.when.evaluate(record, situation.ctx):
        text = t.when_message.get(locale) if t.when_message else wf_text("guard_failed", locale)
        reasons.append(Reason("guard_failed", text))
    missing = tuple(f for f in t.require if is_empty(record.get(f)))
    return Option(t, tuple(reasons), missing)


def missing_required(t: Transition, record: Mapping[str, Any]) -> list[str]:
    """The transition's ``require`` fields that are empty in ``record`` (payload applied)."""
    return [f for f in t.require if is_empty(record.get(f))]


# --- texts -------------------------------------------------------------------------------


def _not_permitted(entity: Entity, t: Transition, situation: Situation) -> Reason:
    holders = [
        p.role
        for p in entity.permissions.values()
        if t.name in p.transitions and (not t.roles or p.role in t.roles)
    ]
    locale = situation.locale
    if not holders:
        return Reason("not_permitted", wf_text("not_permitted_nobody", locale))
    roles = situation.roles or {}
    names = [roles[r].label.get(locale, r) if r in roles else r for r in holders]
    joined = ("、" if locale.startswith("zh") else ", ").join(names)
    return Reason("not_permitted", wf_text("not_permitted", locale, roles=joined))


def _status_label(entity: Entity, status: Any, locale: str) -> str:
    if entity.statuses is None or status not in entity.statuses.states:
        return str(status)
    return entity.statuses.states[status].label.get(locale, str(status))


def _field_label(entity: Entity, name: str, locale: str) -> str:
    f = entity.fields.get(name)
    return f.label.get(locale, name) if f is not None else name


def _approval_json(t: Transition, locale: str) -> list[dict[str, Any]] | None:
    if t.approval is None:
        return None
    return [
        {
            "name": s.name,
            "label": s.label.get(locale, s.name),
            "mode": s.mode,
            "at_least": s.at_least,
        }
        for s in t.approval.steps
    ]
