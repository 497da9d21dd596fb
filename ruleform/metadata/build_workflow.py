"""Compile statuses, transitions (with approvals) and permissions of an entity, and check the
status graph: known statuses only, every status reachable from the initial one.
"""

from __future__ import annotations

from typing import Any

from .build_context import BuildContext
from .build_parties import build_parties
from .model import (
    Approval,
    ApprovalStep,
    FieldAccess,
    Party,
    Permission,
    RowScope,
    Status,
    StatusMachine,
    Transition,
    frozen_map,
)
from .validation import suggest

__all__ = ["build_statuses", "build_transitions", "build_permissions", "ACTIONS"]

ACTIONS = ("read", "create", "update", "archive", "export", "import")


def build_statuses(ctx: BuildContext, entity: str, spec: dict | None) -> StatusMachine | None:
    """The entity's status machine, or None when it declares no statuses."""
    if not spec:
        return None
    path = ("entities", entity, "statuses")
    states = {}
    for name, sspec in (spec.get("states") or {}).items():
        spath = (*path, "states", name)
        states[name] = Status(
            name=name,
            label=ctx.text(sspec.get("label"), (*spath, "label"), required=True),
            category=sspec.get("category", "open"),
            final=bool(sspec.get("final", False)),
            pauses_sla=bool(sspec.get("pauses_sla", False)),
            description=ctx.text(sspec.get("description"), (*spath, "description")),
            source=ctx.ref(spath),
        )
    initial = spec.get("initial")
    if initial not in states:
        ctx.error((*path, "initial"), f"'{initial}' is not a status of {entity}",
                  _known(initial, states))  # fmt: skip
    return StatusMachine(initial, frozen_map(states))


def _known(word: Any, names: Any) -> str:
    hint = suggest(word, names)
    return (hint + " " if hint else "") + f"Known: {', '.join(names)}."


def build_transitions(ctx: BuildContext, entity: str, spec: dict, machine: StatusMachine | None,
                      known: set[str], roles: set[str]) -> dict[str, Transition]:  # fmt: skip
    """Compile transitions and check the status graph they make."""
    specs = spec.get("transitions") or {}
    if specs and machine is None:
        ctx.error(("entities", entity, "transitions"),
                  "transitions need 'statuses' on the entity", prefer="key")  # fmt: skip
        return {}
    if machine is None:
        return {}
    kinds = _field_kinds(spec)
    result = {}
    for name, tspec in specs.items():
        t = _transition(ctx, entity, name, tspec, machine, known, roles, kinds)
        if t is not None:
            result[name] = t
    _check_reachable(ctx, entity, machine, result)
    return result


def _field_kinds(spec: dict) -> dict[str, str]:
    kinds = {"owner": "user", "created_by": "user", "updated_by": "user"}
    kinds.update({n: f.get("type", "") for n, f in (spec.get("fields") or {}).items()})
    return kinds


def _transition(ctx: BuildContext, entity: str, name: str, spec: dict, machine: StatusMachine,
                known: set[str], roles: set[str], kinds: dict[str, str]) -> Transition | None:  # fmt: skip
    path = ("entities", entity, "transitions", name)
    states = machine.states
    raw_from = spec.get("from")
    if raw_from == "*":
        sources = tuple(s for s, st in states.items() if not st.final and s != spec.get("to"))
    else:
        sources = tuple(raw_from if isinstance(raw_from, list) else [raw_from])
    for i, s in enumerate(sources if raw_from != "*" else ()):
        if s not in states:
            where = (*path, "from", i) if isinstance(raw_from, list) else (*path, "from")
            ctx.error(where, f"'{s}' is not a status of {entity}", _known(s, states))
    target = spec.get("to")
    if target not in states:
        ctx.error((*path, "to"), f"'{target}' is not a status of {entity}", _known(target, states))
    for i, role in enumerate(spec.get("roles", [])):
        if role not in roles:
            ctx.error((*path, "roles", i), f"unknown role '{role}'", suggest(role, roles))
    for i, fname in enumerate(spec.get("require", [])):
        if fname not in known:
            ctx.error((*path, "require", i), f"unknown field '{fname}'", suggest(fname, known))
    updates = {}
    for fname, expr in (spec.get("set") or {}).items():
        if fname in ("id", "status", "row_version"):
            ctx.error((*path, "set", fname), f"cannot set '{fname}': the platform maintains it"
                      + (" (the transition's 'to' sets the status)" if fname == "status" else ""),
                      prefer="key")  # fmt: skip
            continue
        if fname not in known:
            ctx.error((*path, "set", fname), f"cannot set '{fname}': unknown field",
                      suggest(fname, known), prefer="key")  # fmt: skip
            continue
        compiled = ctx.expression(expr, entity, (*path, "set", fname))
        if compiled is not None:
            updates[fname] = compiled
    approval = _approval(ctx, entity, spec.get("approval"), (*path, "approval"), machine, known,
                         roles, kinds)  # fmt: skip
    exception = bool(spec.get("exception", False))
    if exception and approval is None:  # R48: an exception needs a manager's recorded approval
        manager = ApprovalStep("manager", ctx.text({"zh-CN": "例外审批", "en": "Exception approval"}, ()),
                               (Party("owner_manager"),))  # fmt: skip
        approval = Approval(steps=(manager,))
    return Transition(
        name=name,
        label=ctx.text(spec.get("label", name), (*path, "label")),
        sources=sources,
        target=target,
        roles=tuple(spec.get("roles", ())),
        when=ctx.condition(spec.get("when"), entity, (*path, "when")),
        when_message=ctx.text(spec.get("when_message"), (*path, "when_message")),
        require=tuple(spec.get("require", ())),
        set=frozen_map(updates),
        confirm=ctx.text(spec.get("confirm"), (*path, "confirm")),
        approval=approval,
        exception=exception,
        source=ctx.ref(path),
    )


def _approval(ctx: BuildContext, entity: str, spec: dict | None, path: tuple,
              machine: StatusMachine, known: set[str], roles: set[str],
              kinds: dict[str, str]) -> Approval | None:  # fmt: skip
    if not spec:
        return None
    steps = []
    for sname, sspec in (spec.get("steps") or {}).items():
        spath = (*path, "steps", sname)
        mode = sspec.get("mode", "any")
        at_least = 1
        if isinstance(mode, dict):
            mode, at_least = "at_least", int(mode["at_least"])
        steps.append(ApprovalStep(
            name=sname,
            label=ctx.text(sspec.get("label", sname), (*spath, "label")),
            approvers=build_parties(ctx, sspec.get("approvers"), (*spath, "approvers"), kinds, roles),
            mode=mode,
            at_least=at_least,
            when=ctx.condition(sspec.get("when"), entity, (*spath, "when")),
            escalate_after=ctx.duration(sspec.get("escalate_after"), (*spath, "escalate_after")),
            escalate_to=build_parties(ctx, sspec.get("escalate_to", []), (*spath, "escalate_to"),
                                      kinds, roles),
        ))  # fmt: skip
    on_reject = spec.get("on_reject")
    if on_reject is not None and on_reject not in machine.states:
        ctx.error((*path, "on_reject"), f"'{on_reject}' is not a status of {entity}",
                  _known(on_reject, machine.states))  # fmt: skip
    locked = spec.get("locked_fields")
    for i, fname in enumerate(locked or []):
        if fname not in known:
            ctx.error(
                (*path, "locked_fields", i), f"unknown field '{fname}'", suggest(fname, known)
            )
    allow = spec.get("allow") or {}
    if any(allow.values()):
        ctx.warn((*path, "allow"), "segregation of duties is relaxed here: "
                 + ", ".join(k for k, v in allow.items() if v), code="relaxed_sod")  # fmt: skip
    return Approval(
        steps=tuple(steps),
        on_reject=on_reject,
        withdraw=spec.get("withdraw", "before_first_decision"),
        locked_fields=tuple(locked) if locked is not None else None,
        allow=frozenset(k for k, v in allow.items() if v),
    )


def _check_reachable(ctx: BuildContext, entity: str, machine: StatusMachine,
                     transitions: dict[str, Transition]) -> None:  # fmt: skip
    if machine.initial not in machine.states:
        return
    reached, frontier = {machine.initial}, [machine.initial]
    while frontier:
        current = frontier.pop()
        for t in transitions.values():
            if current in t.sources and t.target not in reached:
                reached.add(t.target)
                frontier.append(t.target)
    for name in machine.states:
        if name not in reached:
            ctx.error(("entities", entity, "statuses", "states", name),
                      f"status '{name}' cannot be reached from '{machine.initial}': "
                      "no transition leads to it", prefer="key")  # fmt: skip
    for name, status in machine.states.items():
        leaves = any(name in t.sources for t in transitions.values())
        if not status.final and not leaves and status.category == "open":
            ctx.warn(("entities", entity, "statuses", "states", name),
                     f"status '{name}' has no way out; mark it 'final: true' if that is intended",
                     prefer="key", code="dead_end")  # fmt: skip


def build_permissions(ctx: BuildContext, entity: str, spec: dict, known: set[str],
                      roles: set[str]) -> dict[str, Permission]:  # fmt: skip
    """Compile the role → permission mapping of an entity."""
    transitions = set(spec.get("transitions") or {})
    result = {}
    for role, pspec in (spec.get("permissions") or {}).items():
        path = ("entities", entity, "permissions", role)
        if role not in roles:
            ctx.error(path, f"unknown role '{role}'", suggest(role, roles), prefer="key")
            continue
        actions = pspec.get("actions", [])
        allowed = frozenset(ACTIONS) if actions == "all" else frozenset(actions)
        trans = pspec.get("transitions", [])
        if trans == "all":
            names = frozenset(transitions)
        else:
            for i, t in enumerate(trans):
                if t not in transitions:
                    ctx.error((*path, "transitions", i), f"unknown transition '{t}'",
                              suggest(t, transitions))  # fmt: skip
            names = frozenset(t for t in trans if t in transitions)
        fields = pspec.get("fields") or {}
        result[role] = Permission(
            role=role,
            actions=allowed,
            transitions=names,
            scope=_scope(ctx, entity, pspec.get("scope", "own"), (*path, "scope")),
            read=_access(ctx, fields.get("read", "all"), (*path, "fields", "read"), known),
            write=_access(ctx, fields.get("write", "all"), (*path, "fields", "write"), known),
            source=ctx.ref(path),
        )
    return result


def _scope(ctx: BuildContext, entity: str, spec: Any, path: tuple) -> RowScope:
    if isinstance(spec, dict):
        return RowScope("where", ctx.condition(spec["where"], entity, (*path, "where")))
    return RowScope(spec)


def _access(ctx: BuildContext, spec: Any, path: tuple, known: set[str]) -> FieldAccess:
    if spec == "all":
        return FieldAccess()
    names = spec["except"] if isinstance(spec, dict) else spec
    sub = (*path, "except") if isinstance(spec, dict) else path
    for i, fname in enumerate(names):
        if fname not in known:
            ctx.error((*sub, i), f"unknown field '{fname}'", suggest(fname, known))
    return FieldAccess("except" if isinstance(spec, dict) else "only", frozenset(names))
