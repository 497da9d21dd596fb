"""``inactive: {since | related, for}``: no change of a date field, or no related record,
for a duration."""

from __future__ import annotations

from ..model import Timing
from .base import SchemaParts, TimingBuild, TimingKind, TimingWords


def schema(s: SchemaParts) -> dict:
    return s.obj({"since": s.ident, "related": s.ident, "for": s.duration}, ["for"])


def build(at: TimingBuild, block: dict, rule: dict) -> Timing:
    if ("since" in block) == ("related" in block):
        at.error(at.where("inactive"), "'inactive' needs either 'since' (a date field) or "
                                       "'related' (an entity)", prefer="key")  # fmt: skip
    at.date_field(block.get("since"), at.where("inactive", "since"))
    at.related_entity(block.get("related"), at.where("inactive", "related"))
    return Timing("inactive", since=block.get("since"), related=block.get("related"),
                  duration=at.duration(block["for"], at.where("inactive", "for")))  # fmt: skip


def explain(w: TimingWords, timing: Timing) -> str:
    if timing.since:
        return w.t["inactive_since"].format(field=w.label(timing.since),
                                            d=w.duration(timing.duration))  # fmt: skip
    return w.t["inactive_related"].format(e=w.entity_label(timing.related),
                                          d=w.duration(timing.duration))  # fmt: skip


KIND = TimingKind("inactive", schema, build, explain)
