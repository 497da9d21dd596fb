"""Compile time rules (reminders, SLAs, escalations, automated touches) and their actions."""

from __future__ import annotations

from croniter import croniter

from .build_context import BuildContext
from .build_parties import build_parties
from .build_workflow import _field_kinds
from .message_templates import TemplateError, check_template
from .model import Action, Message, SlaLevel, SortKey, TimeRule, Timing, frozen_map
from .validation import suggest

__all__ = ["build_time_rules", "build_actions"]

TIMINGS = ("after", "yearly", "inactive", "deadline", "schedule", "threshold", "on")
_DATE_KINDS = {"date", "datetime"}


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
    present = [k for k in TIMINGS if k in spec]
    if len(present) != 1 and set(present) != {"schedule", "threshold"}:
        ctx.error(path, "a time rule needs exactly one timing "
                        f"({', '.join(TIMINGS)}); found {', '.join(present) or 'none'}",
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
    scope = ctx.scopes.get(entity)
    types = {n: f.type for n, f in scope.entities[entity].fields.items()} if scope else {}
    related = dict(scope.entities[entity].related) if scope else {}
    states = set((entity_spec.get("statuses") or {}).get("states") or {})

    def date_field(name: str | None, where: tuple) -> None:
        if name is not None and types.get(name) not in _DATE_KINDS:
            ctx.error(where, f"'{name}' is not a date or datetime field of {entity}",
                      suggest(name, [n for n, t in types.items() if t in _DATE_KINDS]))

    def status(name: str, where: tuple) -> None:
        if name not in states:
            ctx.error(where, f"'{name}' is not a status of {entity}", suggest(name, states))

    def related_entity(name: str | None, where: tuple) -> None:
        if name is not None and name not in related:
            ctx.error(where, f"'{name}' has no reference to {entity}, so it cannot be counted "
                             "per record", suggest(name, related))  # fmt: skip

    if "after" in spec:
        s = spec["after"]
        date_field(s["field"], (*path, "after", "field"))
        return Timing("after", field=s["field"],
                      offset=ctx.duration(s["offset"], (*path, "after", "offset")))
    if "yearly" in spec:
        s = spec["yearly"]
        date_field(s["field"], (*path, "yearly", "field"))
        return Timing("yearly", field=s["field"],
                      before=ctx.duration(s.get("before"), (*path, "yearly", "before")))
    if "inactive" in spec:
        s = spec["inactive"]
        if ("since" in s) == ("related" in s):
            ctx.error((*path, "inactive"), "'inactive' needs either 'since' (a date field) or "
                                           "'related' (an entity)", prefer="key")  # fmt: skip
        date_field(s.get("since"), (*path, "inactive", "since"))
        related_entity(s.get("related"), (*path, "inactive", "related"))
        return Timing("inactive", since=s.get("since"), related=s.get("related"),
                      duration=ctx.duration(s["for"], (*path, "inactive", "for")))
    if "deadline" in spec:
        s = spec["deadline"]
        status(s["entered"], (*path, "deadline", "entered"))
        for key in ("pause_in", "stop_in"):
            for i, name in enumerate(s.get(key, [])):
                status(name, (*path, "deadline", key, i))
        levels = tuple(
            SlaLevel(ctx.duration(level["after"], (*path, "deadline", "levels", i, "after")),
                     build_actions(ctx, entity, level["actions"],
                                   (*path, "deadline", "levels", i, "actions"), kinds, roles))
            for i, level in enumerate(s["levels"])
        )  # fmt: skip
        return Timing("deadline", entered=s["entered"], levels=levels,
                      pause_in=tuple(s.get("pause_in", ())), stop_in=tuple(s.get("stop_in", ())))
    if "threshold" in spec:
        s = spec["threshold"]
        related_entity(s["count"], (*path, "threshold", "count"))
        if ("below" in s) == ("above" in s):
            ctx.error((*path, "threshold"), "a threshold needs exactly one of 'below' or 'above'",
                      prefer="key")  # fmt: skip
        cron = _cron(ctx, spec.get("schedule", {}).get("cron"), (*path, "schedule", "cron"))
        return Timing("threshold", count_entity=s["count"], per=s["per"],
                      count_where=ctx.condition(s.get("where"), s["count"],
                                                (*path, "threshold", "where")),
                      window=ctx.duration(s["window"], (*path, "threshold", "window")),
                      below=s.get("below"), above=s.get("above"), cron=cron,
                      working_days_only=bool(spec.get("schedule", {}).get("working_days_only")),
                      )  # fmt: skip
    if "schedule" in spec:
        s = spec["schedule"]
        order = []
        for i, item in enumerate(s.get("order_by", [])):
            fname = item.lstrip("-")
            if fname not in known:
                ctx.error((*path, "schedule", "order_by", i), f"unknown field '{fname}'",
                          suggest(fname, known))  # fmt: skip
            order.append(SortKey(fname, item.startswith("-")))
        if s.get("top") and not order:
            ctx.error((*path, "schedule", "top"), "'top' needs 'order_by' (top by what?)",
                      prefer="key")  # fmt: skip
        return Timing("schedule", cron=_cron(ctx, s["cron"], (*path, "schedule", "cron")),
                      working_days_only=bool(s.get("working_days_only")),
                      top=s.get("top"), order_by=tuple(order),
                      per=s.get("per", "organisation"))  # fmt: skip
    s = spec["on"]
    event, name = next(iter(s.items()))
    if event == "transition":
        transitions = set(entity_spec.get("transitions") or {})
        if name not in transitions:
            ctx.error((*path, "on", event), f"unknown transition '{name}'",
                      suggest(name, transitions))  # fmt: skip
    elif event in ("entered", "approved", "rejected"):
        if event == "entered":
            status(name, (*path, "on", event))
        elif name not in (entity_spec.get("transitions") or {}):
            ctx.error((*path, "on", event), f"unknown transition '{name}'",
                      suggest(name, entity_spec.get("transitions") or {}))  # fmt: skip
    return Timing("on", event=event, event_name=name)


def _cron(ctx: BuildContext, expr: str | None, path: tuple) -> str | None:
    if expr is not None and not croniter.is_valid(expr):
        ctx.error(path, f"{expr!r} is not a valid cron expression",
                  "Five fields: minute hour day-of-month month day-of-week, e.g. '0 9 1 * *'.")
        return None
    return expr


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
            actions.append(Action("task", who, ("inbox",), Message(subject=title),
                                  due=ctx.duration(t.get("due"), (*apath, "task", "due"))))
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


