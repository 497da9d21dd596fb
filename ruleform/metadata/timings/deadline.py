"""``deadline: {entered, levels, pause_in, stop_in}``: SLA levels of working time after a
record entered a status."""

from __future__ import annotations

from ..model import Duration, SlaLevel, Timing
from .base import SchemaParts, TimingBuild, TimingKind, TimingWords

NO_DURATION = Duration(0.0, "minutes", "")


def schema(s: SchemaParts) -> dict:
    level = s.obj({"after": s.duration, "actions": s.actions}, ["after", "actions"])
    return s.obj({"entered": s.ident, "levels": s.list_of(level, minItems=1),
                  "pause_in": s.ident_list, "stop_in": s.ident_list},
                 ["entered", "levels"])  # fmt: skip


def build(at: TimingBuild, block: dict, rule: dict) -> Timing:
    at.status(block["entered"], at.where("deadline", "entered"))
    for key in ("pause_in", "stop_in"):
        for i, name in enumerate(block.get(key, [])):
            at.status(name, at.where("deadline", key, i))
    levels = tuple(
        SlaLevel(at.duration(level["after"], at.where("deadline", "levels", i, "after"))
                 or NO_DURATION,  # a bad duration is an error already: the rule is not compiled
                 at.build_actions(level["actions"], at.where("deadline", "levels", i, "actions")))
        for i, level in enumerate(block["levels"])
    )  # fmt: skip
    return Timing("deadline", entered=block["entered"], levels=levels,
                  pause_in=tuple(block.get("pause_in", ())),
                  stop_in=tuple(block.get("stop_in", ())))  # fmt: skip


def explain(w: TimingWords, timing: Timing) -> str:
    paused = w.join([w.status(s) for s in timing.pause_in])
    pause = w.t["pause"].format(p=paused) if timing.pause_in else ""
    return w.t["deadline"].format(s=w.status(timing.entered or ""), pause=pause)


KIND = TimingKind("deadline", schema, build, explain)
