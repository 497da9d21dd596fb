"""Compile fields, and describe every entity to the condition language (its scope)."""

from __future__ import annotations

from datetime import date
from types import MappingProxyType
from typing import Any

from .build_context import BuildContext
from .conditions.scope import EntityInfo, FieldInfo, Scope
from .field_types import COMMON_OPTIONS, COMPUTED_RETURNS, FIELD_TYPES, ValueError_, parse_value
from .model import Choice, Default, Field
from .validation import suggest

__all__ = ["SYSTEM_COLUMNS", "build_scopes", "build_fields"]

#: System columns every entity table has, with the type the condition language sees.
SYSTEM_COLUMNS: dict[str, str] = {
    "id": "number",
    "created_at": "datetime",
    "updated_at": "datetime",
    "created_by": "user",
    "updated_by": "user",
    "owner": "user",
    "department": "department",
    "status": "string",
    "row_version": "number",
    "rulebook_version": "number",
    "archived": "boolean",
    "archived_at": "datetime",
}


def _returns_type(spec: dict) -> str | None:
    """The condition type of what a computed field returns (None: not a type it may return)."""
    returns = spec.get("returns", "string")
    return FIELD_TYPES[returns].condition_type if returns in COMPUTED_RETURNS else None


def _condition_type(spec: dict) -> str:
    if spec.get("type") == "computed":
        return _returns_type(spec) or "string"
    ftype = FIELD_TYPES.get(str(spec.get("type")))
    return ftype.condition_type if ftype else "any"


def _links_to_records(spec: dict) -> bool:
    ftype = FIELD_TYPES.get(str(spec.get("type")))
    return ftype is not None and ftype.storage == "reference"


def build_scopes(entities: dict[str, Any], roles: list[str]) -> dict[str, Scope]:
    """One condition-language scope per entity, from the (shape-checked) source data."""
    infos: dict[str, EntityInfo] = {}
    related: dict[str, dict[str, str]] = {name: {} for name in entities}
    for name, spec in entities.items():
        for fname, fspec in (spec.get("fields") or {}).items():
            target = fspec.get("entity") if _links_to_records(fspec) else None
            if target in related and name not in related[target]:
                related[target][name] = fname
    for name, spec in entities.items():
        fields: dict[str, FieldInfo] = {}
        states = list((spec.get("statuses") or {}).get("states") or {})
        for col, ctype in SYSTEM_COLUMNS.items():
            if col == "status" and not states:
                continue
            fields[col] = FieldInfo(col, ctype, tuple(states) if col == "status" else None)
        for fname, fspec in (spec.get("fields") or {}).items():
            choices = tuple(fspec.get("choices") or ()) or None
            ftype = FIELD_TYPES.get(str(fspec.get("type")))
            if ftype is not None and ftype.choices == "suggested":
                choices = None  # tags are free; their suggestions do not restrict
            target = fspec.get("entity") if _links_to_records(fspec) else None
            fields[fname] = FieldInfo(fname, _condition_type(fspec), choices, target)
        infos[name] = EntityInfo(name, MappingProxyType(fields), MappingProxyType(related[name]))
    frozen = MappingProxyType(infos)
    return {name: Scope(frozen, name, frozenset(roles)) for name in entities}


def build_fields(ctx: BuildContext, entity: str, spec: dict, entity_names: set[str]) -> dict:
    """Compile every field of an entity; problems go to ``ctx``."""
    fields: dict[str, Field] = {}
    for name, fspec in (spec.get("fields") or {}).items():
        path = ("entities", entity, "fields", name)
        if name in SYSTEM_COLUMNS:
            ctx.error(path, f"'{name}' is a system column every record already has; "
                            "choose another name", prefer="key")  # fmt: skip
            continue
        field = _build_field(ctx, entity, name, fspec, path, entity_names)
        if field is not None:
            fields[name] = field
    return fields


def _build_field(ctx: BuildContext, entity: str, name: str, spec: dict, path: tuple,
                 entity_names: set[str]) -> Field | None:  # fmt: skip
    ftype = FIELD_TYPES.get(spec.get("type", ""))
    if ftype is None:
        return None  # the schema already reported the unknown type
    _check_options(ctx, spec, ftype, path)
    target = spec.get("entity")
    if ftype.storage == "reference":
        if not target:
            ctx.error(path, "a reference field needs 'entity: <entity name>'", prefer="key")
        elif target not in entity_names:
            ctx.error((*path, "entity"), f"unknown entity '{target}'",
                      suggest(target, entity_names))  # fmt: skip
    if spec["type"] == "computed" and not spec.get("expression"):
        ctx.error(path, "a computed field needs an 'expression'", prefer="key")
    if ftype.choices == "closed" and not spec.get("choices"):
        ctx.error(path, f"a {spec['type']} field needs 'choices'", prefer="key")
    unique = spec.get("unique", False)
    label = ctx.text(spec.get("label"), (*path, "label"), required=False) or ctx.text(
        name.replace("_", " "), (*path, "label")
    )
    field = Field(
        name=name,
        type=spec["type"],
        label=label,
        help=ctx.text(spec.get("help"), (*path, "help")),
        placeholder=ctx.text(spec.get("placeholder"), (*path, "placeholder")),
        required=bool(spec.get("required", False)),
        required_when=ctx.condition(spec.get("required_when"), entity, (*path, "required_when")),
        visible_when=ctx.condition(spec.get("visible_when"), entity, (*path, "visible_when")),
        editable_when=ctx.condition(spec.get("editable_when"), entity, (*path, "editable_when")),
        unique=bool(unique),
        unique_scope=tuple(unique.get("scope", ())) if isinstance(unique, dict) else (),
        index=bool(spec.get("index", False)),
        read_only=bool(spec.get("read_only", False)) or spec["type"] == "computed",
        append_only=bool(spec.get("append_only", False)),
        sensitive=bool(spec.get("sensitive", False)),
        min_length=spec.get("min_length"),
        max_length=spec.get("max_length"),
        pattern=_pattern(ctx, spec.get("pattern"), (*path, "pattern")),
        pattern_message=ctx.text(spec.get("pattern_message"), (*path, "pattern_message")),
        choices=_choices(ctx, spec.get("choices"), (*path, "choices")),
        region=_typed_option(spec, ftype, "region"),
        currency=_typed_option(spec, ftype, "currency"),
        precision=_typed_option(spec, ftype, "precision"),
        scale=_typed_option(spec, ftype, "scale"),
        target=target,
        on_delete=spec.get("on_delete", "restrict"),
        related_label=ctx.text(spec.get("related_label"), (*path, "related_label")),
        reference_scope=spec.get("reference_scope", "readable"),
        returns=spec.get("returns", "string") if spec["type"] == "computed" else None,
        expression=ctx.expression(
            spec.get("expression"), entity, (*path, "expression"), _returns_type(spec)
        ),  # fmt: skip
        source=ctx.ref(path),
    )
    return _with_bounds_and_default(ctx, entity, field, spec, path)


def _typed_option(spec: dict, ftype: Any, key: str) -> Any:
    """An option every field of the type has (``currency`` of money: CNY unless given)."""
    return spec.get(key, ftype.option_defaults[key]) if key in ftype.option_defaults else None


def _check_options(ctx: BuildContext, spec: dict, ftype: Any, path: tuple) -> None:
    allowed = COMMON_OPTIONS | ftype.options
    for key in spec:
        if key not in allowed:
            ctx.error((*path, key), f"'{key}' does not apply to a {spec['type']} field",
                      prefer="key")  # fmt: skip


def _pattern(ctx: BuildContext, pattern: str | None, path: tuple) -> str | None:
    if pattern is None:
        return None
    import re

    try:
        re.compile(pattern)
    except re.error as exc:
        ctx.error(path, f"invalid regular expression: {exc}")
        return None
    return pattern


def _choices(ctx: BuildContext, spec: Any, path: tuple) -> tuple[Choice, ...]:
    choices = []
    for value, item in (spec or {}).items():
        if isinstance(item, dict) and ("label" in item or "color" in item):
            label = ctx.text(item.get("label", value), (*path, value, "label"))
            choices.append(Choice(str(value), label, item.get("color")))
        else:
            choices.append(Choice(str(value), ctx.text(item, (*path, value))))
    return tuple(choices)


def _with_bounds_and_default(ctx: BuildContext, entity: str, field: Field, spec: dict,
                             path: tuple) -> Field:  # fmt: skip
    import dataclasses

    changes: dict[str, Any] = {}
    for key in ("min", "max"):
        if key in spec:
            changes[key] = _bound(ctx, field, spec[key], (*path, key))
    default = spec.get("default")
    if isinstance(default, dict):
        ctype = _condition_type(spec)
        expr = ctx.expression(default.get("expression"), entity, (*path, "default", "expression"),
                              None if ctype in ("any", "list") else ctype)  # fmt: skip
        changes["default"] = Default(expression=expr)
    elif default is not None:
        try:
            changes["default"] = Default(value=parse_value(field, default, "UTC"))
        except ValueError_ as exc:
            ctx.error((*path, "default"), f"the default does not fit the field ({exc.code})")
    return dataclasses.replace(field, **changes) if changes else field


def _bound(ctx: BuildContext, field: Field, value: Any, path: tuple) -> Any:
    storage = FIELD_TYPES[field.type].storage
    if storage in ("date", "datetime"):
        try:
            return (
                date.fromisoformat(str(value))
                if storage == "date"
                else parse_value(dataclasses_replace_plain(field), value, "UTC")
            )
        except (ValueError, ValueError_):
            ctx.error(path, f"{value!r} is not a {field.type}")
            return None
    if storage in ("integer", "decimal") and not isinstance(value, bool):
        from decimal import Decimal

        return Decimal(str(value)) if storage != "integer" else int(value)
    ctx.error(path, f"'{path[-1]}' does not apply to a {field.type} field", prefer="key")
    return None


def dataclasses_replace_plain(field: Field) -> Field:
    """The field without bounds, for parsing the bounds themselves."""
    import dataclasses

    return dataclasses.replace(field, min=None, max=None)
