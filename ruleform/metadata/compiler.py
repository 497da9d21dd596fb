"""Read → validate → compile → check: a rulebook folder or file becomes a ``Rulebook``.

``check_rulebook`` collects every problem (errors and warnings) in one run and never
raises for a bad rulebook; ``compile_rulebook`` returns the compiled model or raises
``RulebookError`` with all problems.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from ..errors import Problem, RulebookError
from .build_context import BuildContext
from .build_entity import build_entity, check_conflict_cases
from .build_fields import build_scopes
from .checks import check_computed_cycles, check_identifiers, run_examples
from .field_types import type_of
from .model import Entity, Relation, Role, Rulebook, WorkingCalendar, frozen_map
from .overlays import load_rulebook_source
from .source import SourceTree
from .validation import jsonable, suggest, validate_shape

__all__ = ["CheckResult", "check_rulebook", "compile_rulebook", "compile_tree"]

_WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@dataclass
class CheckResult:
    """The outcome of checking a rulebook: the model (if valid) and every problem found."""

    rulebook: Rulebook | None
    problems: list[Problem] = field(default_factory=list)
    source: SourceTree | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors


def check_rulebook(path: str | os.PathLike[str]) -> CheckResult:
    """Load (with overlays), validate and compile ``path``; collect every problem."""
    with _without_cyclic_gc():
        try:
            tree = load_rulebook_source(path)
        except RulebookError as exc:
            return CheckResult(None, exc.problems)
        return compile_tree(tree)


@contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a rulebook is read and compiled.

    Reading allocates hundreds of thousands of small, acyclic objects that reference
    counting frees; the cyclic collector would scan them again and again (a third of the
    time of a large rulebook). It is switched back on afterwards if it was on before.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def compile_rulebook(path: str | os.PathLike[str]) -> Rulebook:
    """The compiled rulebook at ``path``; raises ``RulebookError`` listing every problem."""
    result = check_rulebook(path)
    if not result.ok or result.rulebook is None:
        raise RulebookError(result.problems)
    return result.rulebook


def compile_tree(tree: SourceTree) -> CheckResult:
    """Validate and compile an already loaded source tree."""
    data = jsonable(tree.data)
    problems = validate_shape(tree, data)
    if not isinstance(data, dict):
        return CheckResult(None, problems, tree)
    broken = {tuple(_entity_of(p.path)) for p in problems if p.is_error}
    locales = tuple(data.get("locales") or ("zh-CN", "en"))
    ctx = BuildContext(tree, locales, data.get("default_locale") or locales[0])
    ctx.problems.extend(problems)
    _check_top(ctx, data)
    all_entities = data.get("entities") if isinstance(data.get("entities"), dict) else {}
    entities_data = {
        name: spec for name, spec in all_entities.items()
        if isinstance(spec, dict) and (name,) not in broken
    }  # fmt: skip
    roles_data = data.get("roles") if isinstance(data.get("roles"), dict) else {}
    role_names = set(roles_data)
    # Entities with shape errors are not compiled, but the condition language still knows
    # their well-formed fields, so rules of other entities that name them stay quiet.
    scope_specs = {
        name: spec if name in entities_data else _scope_view(spec)
        for name, spec in all_entities.items() if isinstance(spec, dict)
    }  # fmt: skip
    ctx.scopes = build_scopes(scope_specs, sorted(role_names))
    check_identifiers(ctx, entities_data)
    entities = {}
    for name, spec in entities_data.items():
        entities[name] = build_entity(ctx, name, spec, set(all_entities), role_names)
    entities = _with_relations(ctx, entities)
    check_conflict_cases(ctx, entities)
    for entity in entities.values():
        check_computed_cycles(ctx, entity)
    rulebook = _rulebook(ctx, data, entities, roles_data)
    if not any(p.is_error for p in ctx.problems):
        run_examples(ctx, rulebook)
    ok = not any(p.is_error for p in ctx.problems) and not broken
    problems = sorted(ctx.problems, key=lambda p: (p.severity != "error", p.file, p.line, p.column))
    return CheckResult(rulebook if ok else None, problems, tree)


def _scope_view(spec: dict) -> dict:
    """The well-formed fields and statuses of an entity that has shape errors."""
    fields = spec.get("fields") if isinstance(spec.get("fields"), dict) else {}
    view: dict[str, Any] = {"fields": {
        name: {k: v for k, v in f.items() if k != "choices" or isinstance(v, dict)}
        for name, f in fields.items() if isinstance(f, dict) and isinstance(f.get("type"), str)
    }}  # fmt: skip
    statuses = spec.get("statuses")
    if isinstance(statuses, dict) and isinstance(statuses.get("states"), dict):
        view["statuses"] = {"states": statuses["states"]}
    return view


def _entity_of(path: str) -> list[str]:
    """``'entities.customer.fields.x'`` → ``['customer']``; other paths → ``[]``."""
    parts = path.split(".")
    return [parts[1].split("[")[0]] if len(parts) > 1 and parts[0] == "entities" else []


def _check_top(ctx: BuildContext, data: dict) -> None:
    locales = data.get("locales") or []
    default = data.get("default_locale")
    if default and locales and default not in locales:
        ctx.error(("default_locale",), f"'{default}' is not one of the locales "
                  f"({', '.join(locales)})", suggest(default, locales))  # fmt: skip
    tz = data.get("timezone")
    if isinstance(tz, str):
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            ctx.error(("timezone",), f"unknown time zone '{tz}'",
                      suggest(tz, available_timezones()) or "Use an IANA name such as "
                      "'Asia/Shanghai' or 'Europe/Berlin'.")  # fmt: skip


def _with_relations(ctx: BuildContext, entities: dict[str, Entity]) -> dict[str, Entity]:
    related: dict[str, list[Relation]] = {name: [] for name in entities}
    for name, entity in entities.items():
        for f in entity.fields.values():
            if type_of(f).storage == "reference" and f.target in related:
                label = f.related_label or entity.plural
                related[f.target].append(Relation(name, f.name, label))
    for name, entity in entities.items():
        for f in entity.fields.values():
            for i, scope_field in enumerate(f.unique_scope):
                if scope_field not in entity.fields and scope_field not in ("department", "owner"):
                    ctx.error(
                        ("entities", name, "fields", f.name, "unique", "scope", i),
                        f"unknown field '{scope_field}'",
                        suggest(scope_field, entity.fields),
                    )
    return {n: dataclasses.replace(e, related=tuple(related[n])) for n, e in entities.items()}


def _rulebook(ctx: BuildContext, data: dict, entities: dict[str, Entity],
              roles_data: dict) -> Rulebook:  # fmt: skip
    roles = {
        name: Role(name, ctx.text(spec.get("label"), ("roles", name, "label"), required=True),
                   ctx.text(spec.get("description"), ("roles", name, "description")),
                   spec.get("start_page"), bool(spec.get("manages", False)),
                   bool(spec.get("admin", False)), ctx.ref(("roles", name)))
        for name, spec in roles_data.items() if isinstance(spec, dict)
    }  # fmt: skip
    cal = data.get("calendar") or {}
    effective = data.get("effective") or {}
    return Rulebook(
        language=str(data.get("language", "")),
        name=str(data.get("name", "")),
        version=str(data.get("version", "")),
        label=ctx.text(data.get("label", data.get("name", "")), ("label",)),
        description=ctx.text(data.get("description"), ("description",)),
        locales=ctx.locales,
        default_locale=ctx.default_locale,
        timezone=str(data.get("timezone", "UTC")),
        calendar=_calendar(ctx, cal, ("calendar",)),
        department_calendars=frozen_map(
            {
                name: _calendar(ctx, {**cal, **spec}, ("calendar", "departments", name))
                for name, spec in (cal.get("departments") or {}).items()
            }
        ),  # fmt: skip
        roles=frozen_map(roles),
        entities=frozen_map(entities),
        effective_from=_date(effective.get("from")),
        trial_until=_date(effective.get("trial_until")),
        extends=data.get("extends"),
        fingerprint=fingerprint({k: v for k, v in data.items() if k != "extends"}),
    )


def _calendar(ctx: BuildContext, spec: dict, path: tuple) -> WorkingCalendar:
    days = frozenset(_WEEKDAYS.index(d) for d in spec.get("working_days", _WEEKDAYS[:5]))
    ranges = []
    for i, text in enumerate(spec.get("working_hours", ["09:00-18:00"])):
        start, end = text.split("-")
        t0, t1 = _time(start), _time(end)
        if t1 <= t0 and end != "24:00":
            ctx.error((*path, "working_hours", i), f"'{text}' ends before it starts")
        ranges.append((t0, t1, i, text))
    ranges.sort()
    for (_a0, a1, _i, a_text), (b0, _b1, j, b_text) in zip(ranges, ranges[1:], strict=False):
        if b0 < a1:
            ctx.error((*path, "working_hours", j), f"working hours overlap: '{b_text}' starts "
                      f"before '{a_text}' ends")  # fmt: skip
    hours = [(t0, t1) for t0, t1, _i, _text in ranges]
    holidays = spec.get("holidays") or {}
    extra = {
        date.fromisoformat(day): ctx.text(label, (*path, "extra_holidays", day))
        for day, label in (spec.get("extra_holidays") or {}).items()
    }
    return WorkingCalendar(
        working_days=days,
        working_hours=tuple(hours),
        holiday_country=holidays.get("country"),
        holiday_subdivision=holidays.get("subdivision"),
        extra_holidays=frozen_map(extra),
        extra_working_days=frozenset(
            date.fromisoformat(d) for d in spec.get("extra_working_days", [])
        ),  # fmt: skip
    )


def _time(text: str) -> time:
    hours, minutes = (int(x) for x in text.split(":"))
    return time(23, 59, 59, 999999) if hours == 24 else time(hours, minutes)


def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else None


def fingerprint(data: Any) -> str:
    """A stable hash of the normalised source: equal rulebooks, equal fingerprints."""
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]
