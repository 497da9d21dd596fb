"""``threshold: {count, where, per, window, below | above}``: related records counted per
owner or department in a window, against a bound (checked on the rule's ``schedule``)."""

from __future__ import annotations

from ..model import Timing
from .base import SchemaParts, TimingBuild, TimingKind, TimingWords


def schema(s: SchemaParts) -> dict:
    return s.obj({"count": s.ident, "where": s.condition,
                  "per": {"enum": ["owner", "department"]}, "window": s.duration,
                  "below": {"type": "integer"}, "above": {"type": "integer"}},
                 ["count", "per", "window"])  # fmt: skip


def build(at: TimingBuild, block: dict, rule: dict) -> Timing:
    at.related_entity(block["count"], at.where("threshold", "count"))
    if ("below" in block) == ("above" in block):
        at.error(at.where("threshold"), "a threshold needs exactly one of 'below' or 'above'",
                 prefer="key")  # fmt: skip
    schedule = rule.get("schedule", {})
    return Timing("threshold", count_entity=block["count"], per=block["per"],
                  count_where=at.condition(block.get("where"), block["count"],
                                           at.where("threshold", "where")),
                  window=at.duration(block["window"], at.where("threshold", "window")),
                  below=block.get("below"), above=block.get("above"),
                  cron=at.cron(schedule.get("cron"), at.where("schedule", "cron")),
                  working_days_only=bool(schedule.get("working_days_only")))  # fmt: skip


def explain(w: TimingWords, timing: Timing) -> str:
    cmp = (w.t["below"].format(n=timing.below) if timing.below is not None
           else w.t["above"].format(n=timing.above))  # fmt: skip
    return w.t["threshold"].format(per=w.p["per"][timing.per], w=w.duration(timing.window),
                                   e=w.entity_label(timing.count_entity), cmp=cmp)  # fmt: skip


KIND = TimingKind("threshold", schema, build, explain, carries=frozenset({"schedule"}))
