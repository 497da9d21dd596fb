"""Compile one entity: fields, form layout, list views, validation and duplicate rules,
statuses, transitions, permissions and time rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .build_context import BuildContext
from .build_fields import SYSTEM_COLUMNS, build_fields
from .build_time_rules import build_time_rules
from .build_workflow import build_permissions, build_statuses, build_transitions
from .field_types import type_of, value_type_of
from .model import (
    ConflictCase,
    DuplicateKey,
    DuplicateRule,
    Entity,
    Field,
    ListView,
    Section,
    SortKey,
    ValidationExample,
    ValidationRule,
    frozen_map,
)
from .validation import suggest

__all__ = ["build_entity", "parse_sort", "check_conflict_cases"]


def build_entity(ctx: BuildContext, name: str, spec: dict, entity_names: set[str],
                 roles: set[str]) -> Entity:  # fmt: skip
    """Compile the entity ``name`` from its shape-checked source ``spec``."""
    path = ("entities", name)
    fields = build_fields(ctx, name, spec, entity_names)
    known = set(fields) | set(SYSTEM_COLUMNS)
    statuses = build_statuses(ctx, name, spec.get("statuses"))
    if statuses is None:
        known.discard("status")
    title = spec.get("title") or next(iter(fields), "id")
    if title not in known:
        ctx.error((*path, "title"), f"unknown field '{title}'", suggest(title, fields))
    ownership = spec.get("ownership") or {}
    return Entity(
        name=name,
        label=ctx.text(spec.get("label"), (*path, "label"), required=True),
        plural=ctx.text(spec.get("plural") or spec.get("label"), (*path, "plural")),
        title_field=title,
        fields=frozen_map(fields),
        owner=bool(ownership.get("owner", True)),
        department=bool(ownership.get("department", True)),
        audit_reads=bool((spec.get("audit") or {}).get("reads", False)),
        icon=spec.get("icon"),
        sections=_sections(ctx, name, spec.get("layout") or {}, fields),
        views=frozen_map(_views(ctx, name, spec.get("views") or {}, known, fields)),
        validations=_validations(ctx, name, spec.get("validations") or {}, known, roles),
        duplicates=_duplicates(ctx, name, spec.get("duplicates") or {}, fields),
        statuses=statuses,
        transitions=frozen_map(build_transitions(ctx, name, spec, statuses, known, roles)),
        permissions=frozen_map(build_permissions(ctx, name, spec, known, roles)),
        time_rules=frozen_map(build_time_rules(ctx, name, spec, known, entity_names, roles)),
        source=ctx.ref(path),
    )


def _check_names(ctx: BuildContext, names: list[str], known: Any, path: tuple,
                 what: str = "field") -> list[str]:  # fmt: skip
    good = []
    for i, item in enumerate(names):
        if item in known:
            good.append(item)
        else:
            ctx.error((*path, i), f"unknown {what} '{item}'", suggest(item, known))
    return good


def _sections(ctx: BuildContext, entity: str, layout: dict, fields: dict[str, Field]) -> tuple:
    sections, placed = [], set()
    for sname, sspec in layout.items():
        path = ("entities", entity, "layout", sname)
        names = _check_names(ctx, sspec.get("fields", []), fields, (*path, "fields"))
        for fname in names:
            if fname in placed:
                ctx.warn((*path, "fields"), f"field '{fname}' is placed in two sections")
            placed.add(fname)
        sections.append(
            Section(sname, ctx.text(sspec.get("label", sname), (*path, "label")), tuple(names),
                    int(sspec.get("columns", 1)),
                    ctx.condition(sspec.get("visible_when"), entity, (*path, "visible_when")))
        )  # fmt: skip
    rest = tuple(f for f in fields if f not in placed)
    if rest:
        label = (
            {"zh-CN": "其他", "en": "Other"} if sections else {"zh-CN": "基本信息", "en": "Details"}
        )
        sections.append(Section("_other", ctx.text(label, ()), rest, 2 if len(rest) > 4 else 1))
    return tuple(sections)


def parse_sort(ctx: BuildContext, items: list[str], known: Any, path: tuple) -> tuple:
    """``['-updated_at', 'name']`` → SortKeys, reporting unknown fields."""
    keys = []
    for i, item in enumerate(items):
        name = item.lstrip("-")
        if name not in known:
            ctx.error((*path, i), f"unknown field '{name}'", suggest(name, known))
            continue
        keys.append(SortKey(name, item.startswith("-")))
    return tuple(keys)


def _views(ctx: BuildContext, entity: str, views: dict, known: set[str],
           fields: dict[str, Field]) -> dict[str, ListView]:  # fmt: skip
    result = {}
    defaults = [n for n, v in views.items() if v.get("default")]
    if len(defaults) > 1:
        ctx.error(("entities", entity, "views", defaults[1], "default"),
                  f"only one default view; '{defaults[0]}' is already the default")  # fmt: skip
    for vname, spec in views.items():
        path = ("entities", entity, "views", vname)
        search = _check_names(ctx, spec.get("search", []), known, (*path, "search"))
        for i, fname in enumerate(search):
            if fname in fields and not value_type_of(fields[fname]).searchable:
                ctx.error((*path, "search", i), f"'{fname}' is not text; search needs text fields")
        result[vname] = ListView(
            name=vname,
            label=ctx.text(spec.get("label", vname), (*path, "label")),
            columns=tuple(_check_names(ctx, spec.get("columns", []), known, (*path, "columns"))),
            filters=tuple(_check_names(ctx, spec.get("filters", []), known, (*path, "filters"))),
            search=tuple(search),
            sort=parse_sort(ctx, spec.get("sort", []), known, (*path, "sort")),
            where=ctx.condition(spec.get("where"), entity, (*path, "where")),
            default=bool(spec.get("default", False)),
            page_size=int(spec.get("page_size", 50)),
        )
    return result


def _validations(ctx: BuildContext, entity: str, rules: dict, known: set[str],
                 roles: set[str]) -> tuple:  # fmt: skip
    result = []
    for rname, spec in rules.items():
        path = ("entities", entity, "validations", rname)
        kinds = [k for k in ("require", "forbid", "assert") if k in spec]
        if len(kinds) != 1:
            ctx.error(
                path,
                "a validation rule needs exactly one of 'require', 'forbid' or "
                f"'assert' (found {', '.join(kinds) or 'none'})",
                prefer="key",
            )
            continue
        if "when" in spec and kinds[0] != "require":
            ctx.error((*path, "when"), "'when' goes with 'require'; put the condition into "
                                       f"'{kinds[0]}' instead", prefer="key")  # fmt: skip
        kind = kinds[0]
        field = spec.get("field")
        if field is not None and field not in known:
            ctx.error((*path, "field"), f"unknown field '{field}'", suggest(field, known))
        result.append(
            ValidationRule(
                name=rname,
                message=ctx.text(spec.get("message"), (*path, "message"), required=True),
                kind=kind,
                when=ctx.condition(spec.get("when"), entity, (*path, "when")),
                require=tuple(_check_names(ctx, spec.get("require", []), known,
                                           (*path, "require"))),
                condition=ctx.condition(spec.get(kind), entity, (*path, kind))
                if kind != "require" else None,
                unless_roles=tuple(_check_names(ctx, spec.get("unless_roles", []), roles,
                                                (*path, "unless_roles"), "role")),
                field=field,
                examples=_examples(ctx, spec.get("examples") or {}, path),
                source=ctx.ref(path),
            )
        )  # fmt: skip
    return tuple(result)


def _examples(ctx: BuildContext, spec: dict, path: tuple) -> tuple:
    examples = []
    for outcome in ("pass", "fail"):
        for i, item in enumerate(spec.get(outcome) or []):
            epath = (*path, "examples", outcome, i)
            if "record" in item and isinstance(item["record"], dict):
                record, roles = item["record"], tuple((item.get("user") or {}).get("roles", ()))
            else:
                record, roles = item, ()
            examples.append(ValidationExample(frozen_map(record), outcome == "pass", roles,
                                              ctx.ref(epath, prefer="value")))  # fmt: skip
    return tuple(examples)


def _duplicates(ctx: BuildContext, entity: str, rules: dict, fields: dict[str, Field]) -> tuple:
    result = []
    for rname, spec in rules.items():
        path = ("entities", entity, "duplicates", rname)
        keys = []
        for i, item in enumerate(spec.get("match", [])):
            if item["field"] not in fields:
                ctx.error((*path, "match", i, "field"), f"unknown field '{item['field']}'",
                          suggest(item["field"], fields))  # fmt: skip
                continue
            keys.append(DuplicateKey(item["field"], item.get("normalize", "text")))
        result.append(DuplicateRule(rname, ctx.text(spec.get("label", rname), (*path, "label")),
                                    tuple(keys), spec["on_match"],
                                    ctx.text(spec.get("message"), (*path, "message")),
                                    ctx.ref(path),
                                    _case(ctx, entity, spec, path)))  # fmt: skip
    return tuple(result)


def _case(ctx: BuildContext, entity: str, spec: dict, path: tuple) -> ConflictCase | None:
    """``case:`` of a conflict rule: the entity it opens and where each of its fields comes from."""
    case = spec.get("case")
    if case is None:
        if spec["on_match"] == "conflict":
            ctx.warn((*path, "on_match"), "a conflict rule without 'case' cannot open a conflict "
                     "case; a match only warns", "Add case: {entity: ..., fields: {...}}.",
                     code="conflict_without_case")  # fmt: skip
        return None
    if spec["on_match"] != "conflict":
        ctx.error((*path, "case"), "'case' goes with on_match: conflict", prefer="key")
        return None
    target = case["entity"]
    if target not in ctx.scopes:
        ctx.error((*path, "case", "entity"), f"unknown entity '{target}'",
                  suggest(target, ctx.scopes))  # fmt: skip
        return None
    here, there = ctx.scopes[entity].info.fields, ctx.scopes[target].info.fields
    for name, source in case["fields"].items():
        where = (*path, "case", "fields", name)
        if name not in there:
            ctx.error(where, f"'{name}' is not a field of {target}", suggest(name, there),
                      prefer="key")  # fmt: skip
            continue
        problem = _case_source_problem(entity, source, here, there[name])
        if problem:
            column = source.partition(".")[2]
            ctx.error(where, problem, suggest(column, here) if column not in here else "")
    return ConflictCase(target, frozen_map(case["fields"]), case.get("auto_transition"))


def _case_source_problem(entity: str, source: str, here: Any, target: Any) -> str | None:
    """Why ``source`` cannot fill the case field ``target`` (None if it can)."""
    if source in ("rule", "summary"):
        return None if target.type == "string" else f"'{source}' is text; '{target.name}' is not"
    record, _, column = source.partition(".")
    if not column:
        if type_of(target).storage == "reference" and target.target == entity:
            return None
        return f"'{source}' is a {entity} record; '{target.name}' must refer to {entity}"
    if column not in here:
        return f"'{column}' is not a field of {entity}"
    if here[column].type != target.type:
        return f"'{source}' is {here[column].type}, but '{target.name}' is {target.type}"
    return None


def check_conflict_cases(ctx: BuildContext, entities: Mapping[str, Entity]) -> None:
    """Across entities: a case fills every required field of its entity; its transition exists."""
    for entity in entities.values():
        for rule in entity.duplicates:
            case = rule.case
            if case is None or case.entity not in entities:
                continue
            path = ("entities", entity.name, "duplicates", rule.name, "case")
            target = entities[case.entity]
            missing = [n for n, f in target.fields.items()
                       if f.required and f.default is None and n not in case.fields]  # fmt: skip
            if missing:
                ctx.error((*path, "fields"), f"the case leaves required fields of {case.entity} "
                          f"empty: {', '.join(missing)}", prefer="key")  # fmt: skip
            if case.auto_transition and case.auto_transition not in target.transitions:
                ctx.error((*path, "auto_transition"),
                          f"'{case.auto_transition}' is not a transition of {case.entity}",
                          suggest(case.auto_transition, target.transitions))  # fmt: skip
