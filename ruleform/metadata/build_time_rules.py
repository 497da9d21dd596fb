"""Compile time rules (reminders, SLAs, escalations, automated touches) and their actions."""

from __future__ import annotations

from .build_context import BuildContext
from .build_parties import build_parties
from .build_workflow import _field_kinds
from .message_templates import TemplateError, check_template
from .model import Action, Message, TimeRule, Timing, frozen_map
from .timings import TIMING_KINDS, TimingBuild
from .validation import suggest

__all__ = ["build_time_rules", "build_actions"]


def build_time_rules(ctx: BuildContext, entity: str, spec: dict, known: set[str],
                     entity_names: set[str], roles: set[str]) -> dict[str, TimeRule]:  # fmt: skip
    """Compile the time rules of ``entity``."""
    result = {}
    for name, rspec in (spec.get("time_rules") or {}).items():
        rule = _rule(ctx, entity, name, rspec, spec, known, roles)
        if rule is not None:
            result[name] = rule
    return result


def _rule(ctx: BuildContext, entity: str, name: str, spec: dict, entity_spec: dict,
          known: set[str], roles: set[str]) -> TimeRule | None:  # fmt: skip
    path = ("entities", entity, "time_rules", name)
    if _kind_of(spec) is None:
        present = [k for k in TIMING_KINDS if k in spec]
        ctx.error(path, "a time rule needs exactly one timing "
                        f"({', '.join(TIMING_KINDS)}); found {', '.join(present) or 'none'}",
                  prefer="key")  # fmt: skip
        return None
    kinds = _field_kinds(entity_spec)
    timing = _timing(ctx, entity, entity_spec, spec, path, known, roles, kinds)
    actions = build_actions(ctx, entity, spec.get("actions", []), (*path, "actions"), kinds, roles)
    audience = spec.get("audience", "internal")
    if any(p.kind == "record_field" for a in actions for p in a.recipients):
        if audience != "customers":
            where = (*path, "audience") if "audience" in spec else _customer_recipient(spec, path)
            ctx.error(where, "this rule reaches customers (a recipient is a field of the "
                      "record); declare 'audience: customers' on the rule so its rollout is "
                      "controlled (R35)")  # fmt: skip
    if spec.get("rollout") == "canary" and not spec.get("canary"):
        ctx.warn((*path, "rollout"), "'rollout: canary' without a 'canary' list reaches no one; "
                 "name the pilot departments in 'canary'", code="empty_canary")  # fmt: skip
    caps = spec.get("caps") or {}
    if audience == "customers" and not caps:
        ctx.warn(path, "a rule that reaches customers should declare caps (per_run, per_day)",
                 prefer="key", code="no_caps")  # fmt: skip
    late = spec.get("late") or {}
    return TimeRule(
        name=name,
        entity=entity,
        label=ctx.text(spec.get("label", name), (*path, "label")),
        description=ctx.text(spec.get("description"), (*path, "description")),
        timing=timing,
        actions=actions,
        where=ctx.condition(spec.get("where"), entity, (*path, "where")),
        calendar=spec.get("calendar", "organisation"),
        audience=audience,
        rollout=spec.get("rollout", "dry_run" if audience == "customers" else "active"),
        canary=tuple(spec.get("canary", ())),
        cap_per_run=caps.get("per_run"),
        cap_per_day=caps.get("per_day"),
        late_policy=late.get("policy", "fire"),
        late_age=ctx.duration(late.get("age"), (*path, "late", "age")),
        source=ctx.ref(path),
    )


def _customer_recipient(spec: dict, path: tuple) -> tuple:
    """The path of the first ``{field: ...}`` recipient among the rule's actions."""
    for i, action in enumerate(spec.get("actions") or []):
        for key in ("notify", "escalate"):
            parties = action.get(key) if isinstance(action, dict) else None
            items = parties if isinstance(parties, list) else [parties]
            for j, party in enumerate(items):
                if isinstance(party, dict) and "field" in party:
                    where = (*path, "actions", i, key)
                    return (*where, j, "field") if isinstance(parties, list) else (*where, "field")
    return path


def _timing(ctx: BuildContext, entity: str, entity_spec: dict, spec: dict, path: tuple,
            known: set[str], roles: set[str], kinds: dict[str, str]) -> Timing:  # fmt: skip
    """The rule's timing, built by its kind (``timings/``); a paired ``schedule`` only says
    when its ``threshold`` is checked."""
    scope = ctx.scopes.get(entity)
    at = TimingBuild(
        ctx, entity, entity_spec, path, known,
        types={n: f.type for n, f in scope.entities[entity].fields.items()} if scope else {},
        related=dict(scope.entities[entity].related) if scope else {},
        states=set((entity_spec.get("statuses") or {}).get("states") or {}),
        build_actions=lambda specs, where: build_actions(ctx, entity, specs, where, kinds, roles),
        suggest=suggest,
    )  # fmt: skip
    kind = _kind_of(spec)
    assert kind is not None  # _rule checked it
    return TIMING_KINDS[kind].build(at, spec[kind], spec)


def _kind_of(spec: dict) -> str | None:
    """The rule's timing kind: the one timing declared, or the one that carries the other
    (a ``threshold`` with the ``schedule`` it is checked on); None if that is not so."""
    present = [k for k in TIMING_KINDS if k in spec]
    if len(present) == 1:
        return present[0]
    carriers = [k for k in present if set(present) - {k} <= TIMING_KINDS[k].carries]
    return carriers[0] if len(carriers) == 1 else None


def build_actions(ctx: BuildContext, entity: str, specs: list, path: tuple,
                  kinds: dict[str, str], roles: set[str]) -> tuple[Action, ...]:  # fmt: skip
    """Compile the actions of a time rule or an SLA level."""
    actions = []
    for i, spec in enumerate(specs):
        apath = (*path, i)
        message = _message(ctx, spec.get("message"), (*apath, "message"))
        channels = tuple(spec.get("channels", ["inbox"]))
        if "notify" in spec:
            who = build_parties(ctx, spec["notify"], (*apath, "notify"), kinds, roles)
            actions.append(Action("notify", who, channels, message))
        elif "escalate" in spec:
            who = build_parties(ctx, spec["escalate"], (*apath, "escalate"), kinds, roles)
            actions.append(Action("escalate", who, channels, message))
        elif "task" in spec:
            t = spec["task"]
            who = build_parties(ctx, t["assignee"], (*apath, "task", "assignee"), kinds, roles)
            title = ctx.text(t.get("title"), (*apath, "task", "title"))
            actions.append(
                Action(
                    "task",
                    who,
                    ("inbox",),
                    Message(subject=title),
                    due=ctx.duration(t.get("due"), (*apath, "task", "due")),
                )
            )
        elif "reassign" in spec:
            r = spec["reassign"]
            who = build_parties(ctx, r["to"], (*apath, "reassign", "to"), kinds, roles)
            actions.append(Action("reassign", who, (), pick=r.get("pick", "least_loaded")))
        elif "set" in spec:
            updates = {}
            for fname, expr in spec["set"].items():
                compiled = ctx.expression(expr, entity, (*apath, "set", fname))
                if fname not in kinds:
                    ctx.error((*apath, "set", fname), f"unknown field '{fname}'",
                              suggest(fname, kinds), prefer="key")  # fmt: skip
                elif compiled is not None:
                    updates[fname] = compiled
            actions.append(Action("set", set=frozen_map(updates)))
        elif "webhook" in spec:
            w = spec["webhook"]
            actions.append(Action("webhook", (), ("webhook",),
                                  _message(ctx, w.get("message"), (*apath, "webhook", "message")),
                                  target=w["target"]))  # fmt: skip
    return tuple(actions)


def _message(ctx: BuildContext, spec: dict | None, path: tuple) -> Message:
    if not spec:
        return Message()
    parts = {}
    for part in ("subject", "body"):
        text = ctx.text(spec.get(part), (*path, part))
        for locale, template in text.translations.items():
            try:
                check_template(template)
            except TemplateError as exc:
                ctx.error((*path, part), f"message template ({locale}): {exc}")
        parts[part] = text
    return Message(**parts)
