"""Read a compiled rulebook back in plain zh-CN or en, for process owners.

``explain_rulebook`` and ``explain_entity`` return text; ``permission_matrix`` (in
``explain_permissions.py``) is what ``ruleform explain --permissions`` prints. The words
are in ``explain_phrases.py``; durations (``2 个工作日``), sort orders (``重要程度得分 降序``),
events and channels are put in words too, so a zh-CN reader meets no English. Conditions
are shown as written: they are the rulebook's own language.
"""

from __future__ import annotations

from collections.abc import Iterable

from .channels import channel_label
from .explain_permissions import permission_blocks, permission_matrix
from .explain_phrases import PHRASES, duration_text
from .field_types import FIELD_TYPES
from .model import (
    Action,
    Entity,
    Field,
    Party,
    Rulebook,
    SortKey,
    TimeRule,
    Timing,
    Transition,
)
from .timings import TIMING_KINDS, TimingWords

__all__ = [
    "explain_rulebook",
    "explain_entity",
    "permission_matrix",
    "duration_text",
    "sort_text",
]


def _phrases(locale: str) -> dict:
    return PHRASES["en"] if _is_en(locale) else PHRASES["zh-CN"]


def _is_en(locale: str) -> bool:
    return locale.split("-")[0].lower() == "en"


def _join(items: Iterable[str], locale: str) -> str:
    return (", " if _is_en(locale) else "、").join(items)


def _heading(p: dict, key: str) -> str:
    return p[key] + p["colon"].rstrip()


def sort_text(keys: Iterable[SortKey], entity: Entity, locale: str = "zh-CN") -> str:
    """``[-importance_score]`` → ``重要程度得分 降序`` (zh-CN), ``Importance score, descending``."""
    p = _phrases(locale)
    return _join(
        [p["descending" if k.descending else "ascending"].format(f=_field_label(entity, k.field,
                                                                                 locale))
         for k in keys], locale)  # fmt: skip


def _field_label(entity: Entity | None, name: str | None, locale: str) -> str:
    f = entity.fields.get(name or "") if entity is not None else None
    if f is not None:
        return f.label.get(locale)
    return _phrases(locale)["system"].get(name, str(name))


def _field_labels(entity: Entity, names: Iterable[str], locale: str) -> str:
    return _join([_field_label(entity, n, locale) for n in names], locale)


def explain_rulebook(rb: Rulebook, locale: str = "zh-CN") -> str:
    """The whole rulebook in plain words."""
    p = _phrases(locale)
    cal = rb.calendar
    days = _join([p["weekdays"][d] for d in sorted(cal.working_days)], locale)
    hours = _join([f"{a:%H:%M}-{b:%H:%M}" for a, b in cal.working_hours], locale)
    holidays = p["holidays"].format(c=cal.holiday_country) if cal.holiday_country else ""
    lines = [
        p["rulebook"].format(label=rb.label.get(locale), name=rb.name, version=rb.version),
        p["tz"].format(tz=rb.timezone, locales=", ".join(rb.locales)),
        p["calendar"].format(days=days, hours=hours, holidays=holidays),
        "",
        _heading(p, "roles"),
        *[f"  - {r.label.get(locale)} ({r.name})" for r in rb.roles.values()],
    ]
    for entity in rb.entities.values():
        lines += ["", explain_entity(rb, entity, locale)]
    return "\n".join(lines)


def explain_entity(rb: Rulebook, entity: Entity, locale: str = "zh-CN") -> str:
    """One entity in plain words: fields, statuses, transitions, rules, permissions."""
    p = _phrases(locale)
    lines = [p["entity"].format(label=entity.label.get(locale), name=entity.name),
             _heading(p, "fields")]  # fmt: skip
    lines += [f"  - {_field(rb, f, locale)}" for f in entity.fields.values()]
    if entity.statuses:
        sm = entity.statuses
        names = [s.label.get(locale) + (p["final"] if s.final else "") for s in sm.states.values()]
        initial = sm.states[sm.initial].label.get(locale)
        lines += [p["statuses"] + p["colon"] + _join(names, locale),
                  "  " + p["initial"].format(s=initial)]  # fmt: skip
    if entity.transitions:
        lines.append(_heading(p, "transitions"))
        for t in entity.transitions.values():
            lines += _bullet(_transition(rb, entity, t, locale))
    if entity.validations:
        lines.append(_heading(p, "validations"))
        lines += [f"  - {v.message.get(locale)}" for v in entity.validations]
    if entity.duplicates:
        lines.append(_heading(p, "duplicates"))
        for d in entity.duplicates:
            names = _field_labels(entity, [k.field for k in d.match], locale)
            outcome = p["on_match"][d.on_match]
            lines.append(f"  - {d.label.get(locale)}{p['colon']}{names} → {outcome}")
    if entity.permissions:
        lines.append(_heading(p, "permissions"))
        for perm in entity.permissions.values():
            block = permission_blocks(rb, entity, perm, locale, "  ")
            lines += ["  - " + block[0].strip(), *block[1:]]
    if entity.time_rules:
        lines.append(_heading(p, "time_rules"))
        for rule in entity.time_rules.values():
            lines += _bullet(_time_rule(rb, entity, rule, locale))
    return "\n".join(lines)


def _bullet(lines: list[str]) -> list[str]:
    """The first line as a bullet, the rest indented under it."""
    return ["  - " + lines[0], *("  " + line for line in lines[1:])]


def _field(rb: Rulebook, f: Field, locale: str) -> str:
    p = _phrases(locale)
    notes = [FIELD_TYPES[f.type].label[1 if _is_en(locale) else 0]]
    for flag in ("required", "unique", "read_only", "append_only", "sensitive"):
        if getattr(f, flag) and not (flag == "read_only" and f.type == "computed"):
            notes.append(p[flag])
    for cond in ("required_when", "visible_when", "editable_when"):
        value = getattr(f, cond)
        if value is not None:
            notes.append(p[cond].format(c=value.text))
    if f.target:
        notes.append(p["refers"].format(e=rb.entities[f.target].label.get(locale)
                                        if f.target in rb.entities else f.target))  # fmt: skip
    if f.expression is not None:
        notes.append(p["computed"].format(c=f.expression.text))
    if f.choices:
        notes.append(p["choices"].format(c=_join([c.label.get(locale) for c in f.choices], locale)))
    sep = ", " if _is_en(locale) else "，"
    return f"{f.label.get(locale)} ({f.name}): " + sep.join(notes)


def _status(entity: Entity, name: str, locale: str) -> str:
    s = entity.statuses.states.get(name) if entity.statuses else None
    return s.label.get(locale) if s else name


def _transition_label(entity: Entity, name: str | None, locale: str) -> str:
    t = entity.transitions.get(name or "")
    return t.label.get(locale) if t else str(name)


def _party(rb: Rulebook, party: Party, locale: str, entity: Entity | None = None) -> str:
    p = _phrases(locale)
    if party.kind in p["party"]:
        return p["party"][party.kind]
    if party.kind == "role":
        role = rb.roles[party.role].label.get(locale) if party.role in rb.roles else party.role
        return p["role_in_dept" if party.in_owner_department else "role_any"].format(r=role)
    if party.kind == "user_field":
        return p["user_field"].format(f=_field_label(entity, party.field, locale))
    if party.kind == "users":
        return p["users"].format(u=", ".join(party.users))
    return p["record_field"].format(f=_field_label(entity, party.field, locale))


def _parties(rb: Rulebook, parties: Iterable[Party], locale: str,
             entity: Entity | None = None) -> str:  # fmt: skip
    return _join([_party(rb, x, locale, entity) for x in parties], locale)


def _transition(rb: Rulebook, entity: Entity, t: Transition, locale: str) -> list[str]:
    p = _phrases(locale)
    src = _join([_status(entity, s, locale) for s in t.sources], locale)
    dst = _status(entity, t.target, locale)
    lines = [p["move"].format(label=t.label.get(locale), src=src, dst=dst)]
    roles = _join([rb.roles[r].label.get(locale) for r in t.roles if r in rb.roles], locale)
    lines.append("    " + p["who"].format(r=roles or p["anyone"]))
    if t.when is not None:
        lines.append("    " + p["guard"].format(c=t.when.text))
    if t.require:
        lines.append("    " + p["require"].format(f=_field_labels(entity, t.require, locale)))
    if t.set:
        lines.append("    " + p["set"].format(f=_field_labels(entity, t.set, locale)))
    if t.exception:
        lines.append("    " + p["exception"])
    if t.approval:
        steps = []
        for step in t.approval.steps:
            mode = (p["mode_n"].format(n=step.at_least) if step.mode == "at_least"
                    else p[f"mode_{step.mode}"])  # fmt: skip
            steps.append(
                p["step"].format(
                    label=step.label.get(locale),
                    who=_parties(rb, step.approvers, locale, entity),
                    mode=mode,
                )
            )
        lines.append("    " + p["approval"].format(steps=" → ".join(steps)))
        if t.approval.on_reject:
            back = _status(entity, t.approval.on_reject, locale)
            lines.append("    " + p["on_reject"].format(s=back))
    return lines


def _timing(rb: Rulebook, entity: Entity, timing: Timing, locale: str) -> str:
    """The timing in words, by its kind (``timings/``)."""
    p = _phrases(locale)
    words = TimingWords(
        t=p["timing"], p=p,
        label=lambda name: _field_label(entity, name, locale),
        entity_label=lambda name: (rb.entities[name].label.get(locale) if name in rb.entities
                                   else str(name)),
        duration=lambda d: duration_text(d, locale),
        status=lambda name: _status(entity, name, locale),
        transition=lambda name: _transition_label(entity, name, locale),
        sort=lambda keys: sort_text(keys, entity, locale),
        join=lambda items: _join(items, locale),
    )  # fmt: skip
    return TIMING_KINDS[timing.kind].explain(words, timing)


def _action(rb: Rulebook, entity: Entity, action: Action, locale: str) -> str:
    p = _phrases(locale)
    a = p["action"]
    who = _parties(rb, action.recipients, locale, entity)
    if action.kind == "notify":
        channels = _join([channel_label(c, locale) for c in action.channels], locale)
        return a["notify"].format(who=who, ch=channels)
    if action.kind == "task":
        due = p["due"].format(d=duration_text(action.due, locale)) if action.due else ""
        return a["task"].format(who=who, due=due)
    if action.kind == "set":
        return a["set"].format(f=_field_labels(entity, action.set, locale))
    if action.kind == "webhook":
        return a["webhook"].format(t=action.target)
    return a[action.kind].format(who=who)


def _time_rule(rb: Rulebook, entity: Entity, rule: TimeRule, locale: str) -> list[str]:
    p = _phrases(locale)
    lines = [rule.label.get(locale) + p["colon"] + _timing(rb, entity, rule.timing, locale)]
    if rule.where is not None:
        lines.append("    " + p["where"].format(c=rule.where.text))
    for level in rule.timing.levels:
        acts = _join([_action(rb, entity, x, locale) for x in level.actions], locale)
        after = duration_text(level.after, locale)
        lines.append("    " + p["timing"]["level"].format(d=after, a=acts))
    lines += ["    → " + _action(rb, entity, x, locale) for x in rule.actions]
    if rule.audience == "customers" or rule.rollout != "active":
        caps = p["caps"].format(run=rule.cap_per_run, day=rule.cap_per_day) if (
            rule.cap_per_run or rule.cap_per_day) else ""  # fmt: skip
        rollout = p["rollouts"].get(rule.rollout, rule.rollout)
        lines.append("    " + p["rollout"].format(r=rollout) + caps)
    return lines
