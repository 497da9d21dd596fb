"""``yearly: {field, before}``: every year on a date field's anniversary (birthdays)."""

from __future__ import annotations

from ..model import Timing
from .base import SchemaParts, TimingBuild, TimingKind, TimingWords


def schema(s: SchemaParts) -> dict:
    return s.obj({"field": s.ident, "before": s.duration}, ["field"])


def build(at: TimingBuild, block: dict, rule: dict) -> Timing:
    at.date_field(block["field"], at.where("yearly", "field"))
    return Timing("yearly", field=block["field"],
                  before=at.duration(block.get("before"), at.where("yearly", "before")))  # fmt: skip


def explain(w: TimingWords, timing: Timing) -> str:
    before = w.t["yearly_before"].format(d=w.duration(timing.before)) if timing.before else ""
    return w.t["yearly"].format(field=w.label(timing.field), before=before)


KIND = TimingKind("yearly", schema, build, explain)
