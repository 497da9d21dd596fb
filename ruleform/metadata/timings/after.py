"""``after: {field, offset}``: once per value of a date or datetime field, ``offset`` later."""

from __future__ import annotations

from ..model import Timing
from .base import SchemaParts, TimingBuild, TimingKind, TimingWords


def schema(s: SchemaParts) -> dict:
    return s.obj({"field": s.ident, "offset": s.duration}, ["field", "offset"])


def build(at: TimingBuild, block: dict, rule: dict) -> Timing:
    at.date_field(block["field"], at.where("after", "field"))
    return Timing("after", field=block["field"],
                  offset=at.duration(block["offset"], at.where("after", "offset")))  # fmt: skip


def explain(w: TimingWords, timing: Timing) -> str:
    return w.t["after"].format(field=w.label(timing.field), d=w.duration(timing.offset))


KIND = TimingKind("after", schema, build, explain)
