"""``schedule: {cron, working_days_only, top, order_by, per}``: cron ticks in the rulebook's
time zone, optionally the top N records per scope."""

from __future__ import annotations

from ..model import SortKey, Timing
from .base import SchemaParts, TimingBuild, TimingKind, TimingWords


def schema(s: SchemaParts) -> dict:
    return s.obj({"cron": {"type": "string", "maxLength": 100},
                  "working_days_only": {"type": "boolean"},
                  "top": {"type": "integer", "minimum": 1, "maximum": 10000},
                  "order_by": s.sort, "per": {"enum": ["organisation", "department", "owner"]}},
                 ["cron"])  # fmt: skip


def build(at: TimingBuild, block: dict, rule: dict) -> Timing:
    order = []
    for i, item in enumerate(block.get("order_by", [])):
        name = item.lstrip("-")
        if name not in at.known:
            at.error(at.where("schedule", "order_by", i), f"unknown field '{name}'",
                     at.suggest(name, at.known))  # fmt: skip
        order.append(SortKey(name, item.startswith("-")))
    if block.get("top") and not order:
        at.error(at.where("schedule", "top"), "'top' needs 'order_by' (top by what?)",
                 prefer="key")  # fmt: skip
    return Timing("schedule", cron=at.cron(block["cron"], at.where("schedule", "cron")),
                  working_days_only=bool(block.get("working_days_only")),
                  top=block.get("top"), order_by=tuple(order),
                  per=block.get("per", "organisation"))  # fmt: skip


def explain(w: TimingWords, timing: Timing) -> str:
    top = ""
    if timing.top:
        top = w.t["top"].format(n=timing.top, o=w.sort(timing.order_by),
                                per=w.p["per_top"][timing.per])  # fmt: skip
    text = w.t["schedule"].format(cron=timing.cron, top=top)
    return text + w.t["working_days_only"] if timing.working_days_only else text


KIND = TimingKind("schedule", schema, build, explain)
