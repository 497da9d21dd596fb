"""``on: {transition | entered | approved | rejected: name}``: an event of the workflow."""

from __future__ import annotations

from ..model import Timing
from .base import SchemaParts, TimingBuild, TimingKind, TimingWords


def schema(s: SchemaParts) -> dict:
    return s.obj({"transition": s.ident, "entered": s.ident, "approved": s.ident,
                  "rejected": s.ident}, minProperties=1, maxProperties=1)  # fmt: skip


def build(at: TimingBuild, block: dict, rule: dict) -> Timing:
    event, name = next(iter(block.items()))
    if event == "entered":
        at.status(name, at.where("on", event))
    else:
        at.transition(name, at.where("on", event))
    return Timing("on", event=event, event_name=name)


def explain(w: TimingWords, timing: Timing) -> str:
    event = timing.event or "transition"
    name = w.status(timing.event_name or "") if event == "entered" \
        else w.transition(timing.event_name)  # fmt: skip
    return w.t["on"][event].format(n=name)


KIND = TimingKind("on", schema, build, explain)
