"""API kind → marshmallow field: what the API documents for each field of the model.

One converter per API kind (``FieldType.api`` of ``metadata.field_types``; a computed field
is described as the type it returns; ``tests/metadata/test_field_type_registry.py`` keeps
every type's kind known here). ``output_field`` describes what responses hold (``values.to_json``:
decimals as text, datetimes ISO 8601 in UTC, sensitive values masked); ``input_field`` what
a request may send. Neither parses anything: ``RecordService`` parses and checks values, so a
payload has the same outcome through the API as through the form.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import fields, validate

from ...metadata.field_types import FIELD_TYPES, type_of
from ...metadata.model import Field

__all__ = ["API_FIELDS", "output_field", "input_field", "system_fields"]

Converter = Callable[[Field, dict[str, Any]], fields.Field]


def _length(f: Field, default: int | None = None) -> list[validate.Validator]:
    limit = f.max_length or default
    if limit is None and f.min_length is None:
        return []
    return [validate.Length(min=f.min_length, max=limit)]


def _range(f: Field, kinds: tuple[type, ...]) -> list[validate.Validator]:
    def ok(bound: Any) -> bool:
        return isinstance(bound, kinds) and not isinstance(bound, bool)

    low, high = (f.min if ok(f.min) else None), (f.max if ok(f.max) else None)
    return [validate.Range(min=low, max=high)] if low is not None or high is not None else []


def _choices(f: Field) -> list[validate.Validator]:
    return [validate.OneOf([c.value for c in f.choices])] if f.choices else []


def _string(f: Field, meta: dict[str, Any]) -> fields.Field:
    """One line: at most 255 characters unless ``max_length`` says (a computed value: any)."""
    if f.pattern:
        meta = {**meta, "pattern": f.pattern}
    default = 255 if f.type != "computed" else None
    return fields.String(validate=_length(f, default), metadata=meta)


def _text(f: Field, meta: dict[str, Any]) -> fields.Field:
    """Long text: no length unless ``max_length`` says."""
    return fields.String(validate=_length(f), metadata=meta)


def _integer(f: Field, meta: dict[str, Any]) -> fields.Field:
    return fields.Integer(validate=_range(f, (int,)), metadata={**meta, "format": "int64"})


def _decimal(f: Field, meta: dict[str, Any]) -> fields.Field:
    scale = f.scale if f.scale is not None else 2
    extra = {"format": "decimal", "pattern": rf"^-?[0-9]+(\.[0-9]{{1,{scale}}})?$"}
    return fields.String(metadata={**meta, **extra})


def _money(f: Field, meta: dict[str, Any]) -> fields.Field:
    return _decimal(f, {**meta, "x-ruleform-currency": f.currency or "CNY"})


def _boolean(f: Field, meta: dict[str, Any]) -> fields.Field:
    return fields.Boolean(metadata=meta)


def _date(f: Field, meta: dict[str, Any]) -> fields.Field:
    return fields.Date(metadata=meta)


def _datetime(f: Field, meta: dict[str, Any]) -> fields.Field:
    return fields.DateTime(metadata=meta)


def _choice(f: Field, meta: dict[str, Any]) -> fields.Field:
    return fields.String(validate=_choices(f), metadata=meta)


def _multi_choice(f: Field, meta: dict[str, Any]) -> fields.Field:
    return fields.List(fields.String(validate=_choices(f)), metadata={**meta, "uniqueItems": True})


def _tags(f: Field, meta: dict[str, Any]) -> fields.Field:
    tag = fields.String(validate=validate.Length(min=1, max=64))
    return fields.List(tag, validate=validate.Length(max=100), metadata=meta)


def _email(f: Field, meta: dict[str, Any]) -> fields.Field:
    return fields.Email(validate=validate.Length(max=f.max_length or 254), metadata=meta)


def _phone(f: Field, meta: dict[str, Any]) -> fields.Field:
    return fields.String(validate=validate.Length(max=32), metadata={**meta, "format": "phone"})


def _url(f: Field, meta: dict[str, Any]) -> fields.Field:
    return fields.URL(validate=validate.Length(max=f.max_length or 2048),
                      metadata={**meta, "format": "uri"})  # fmt: skip


def _link_to(target: Callable[[Field], str | None]) -> Converter:
    def build(f: Field, meta: dict[str, Any]) -> fields.Field:
        return fields.Integer(validate=validate.Range(min=1),
                              metadata={**meta, "format": "int64",
                                        "x-ruleform-links": target(f)})  # fmt: skip

    return build


#: One converter per API kind (``FieldType.api``).
API_FIELDS: dict[str, Converter] = {
    "string": _string, "text": _text, "integer": _integer, "decimal": _decimal,
    "money": _money, "boolean": _boolean, "date": _date, "datetime": _datetime,
    "choice": _choice, "multi_choice": _multi_choice, "tags": _tags, "email": _email,
    "phone": _phone, "url": _url, "reference": _link_to(lambda f: f.target),
    "user": _link_to(lambda f: "users"), "department": _link_to(lambda f: "departments"),
}  # fmt: skip


def _converted(f: Field, meta: dict[str, Any]) -> fields.Field:
    """The field of ``f``'s API kind; a computed field is the type it returns, read-only."""
    if f.type == "computed":
        field = API_FIELDS[FIELD_TYPES[f.returns or "string"].api or ""](f, meta)
        field.dump_only = True
        return field
    return API_FIELDS[type_of(f).api or ""](f, meta)


def _meta(f: Field, locale: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"title": f.label.get(locale, f.name), "x-ruleform-type": f.type}
    if f.help:
        meta["description"] = f.help.get(locale)
    if f.choices:
        meta["x-ruleform-labels"] = {c.value: c.label.get(locale, c.value) for c in f.choices}
    return meta


def output_field(f: Field, locale: str) -> fields.Field:
    """The field as responses show it (null when empty; masked text when sensitive)."""
    meta = _meta(f, locale)
    if f.sensitive:
        note = "Sensitive: masked (••••12) unless revealed with ?reveal=; revealing is audited."
        field: fields.Field = fields.String(metadata={**meta, "description": note})
    else:
        field = _converted(f, meta)
    field.allow_none = True
    if f.read_only or f.type == "computed":
        field.dump_only = True
    return field


def input_field(f: Field, locale: str, required: bool = False) -> fields.Field:
    """The field as a request may send it (null or "" clears it)."""
    meta = _meta(f, locale)
    if type_of(f).storage == "decimal":
        scale = f.scale if f.scale is not None else 2
        meta.update(type=["string", "number", "null"], format="decimal",
                    description=f"A number with at most {scale} decimal places, "
                    "as a JSON number or a string.")  # fmt: skip
        field: fields.Field = fields.Raw(metadata=meta)
    else:
        field = _converted(f, meta)
        field.allow_none = not required
    field.required = required
    return field


def system_fields(entity: Any, readable: frozenset[str]) -> dict[str, fields.Field]:
    """The system columns of ``entity`` that responses include for this reader."""
    ro = {"dump_only": True}
    out: dict[str, fields.Field] = {
        "id": fields.Integer(required=True, metadata={"format": "int64"}, **ro),
        "row_version": fields.Integer(required=True, metadata={
            "description": "Changes on every write; send it back as If-Match: W/\"<n>\"."}, **ro),
        "created_at": fields.DateTime(**ro),
        "updated_at": fields.DateTime(**ro),
        "created_by": fields.Integer(allow_none=True, metadata={"x-ruleform-links": "users"}, **ro),
        "updated_by": fields.Integer(allow_none=True, metadata={"x-ruleform-links": "users"}, **ro),
        "archived": fields.Boolean(**ro),
    }  # fmt: skip
    if entity.owner:
        out["owner"] = fields.Integer(allow_none=True, metadata={"x-ruleform-links": "users"})
    if entity.department:
        links = {"x-ruleform-links": "departments"}
        out["department"] = fields.Integer(allow_none=True, metadata=links)
    if entity.statuses is not None:
        states = list(entity.statuses.states)
        out["status"] = fields.String(validate=validate.OneOf(states), allow_none=True, **ro)
    return {k: v for k, v in out.items() if k in readable}
