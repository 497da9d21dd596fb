"""Marshmallow schemas of each entity, built with ``Schema.from_dict`` once per runtime version.

Two kinds, for two jobs:

- **documentation schemas** (``entity_schemas``): the record as this role set may read it,
  and the create / update bodies it may send — typed fields with enums, formats and lengths
  that the OpenAPI document is generated from. Cached per (version, entity, roles, locale).
- **the shape check** (``unknown_keys``): every request body is checked against a schema that
  knows each field and system column of the entity (``unknown = RAISE``). Unknown keys are
  refused with the same message the service uses; values are *not* parsed here — system
  columns, unwritable fields and bad values go through to ``RecordService``, which refuses
  them exactly as it does for the form (one rule, one message, every path).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from marshmallow import RAISE, Schema, fields

from ...metadata.build_fields import SYSTEM_COLUMNS
from ...metadata.model import Entity, Field
from ...platform.actors import Actor
from ...platform.messages import message
from ...platform.runtime import Runtime
from .fields import input_field, output_field, system_fields

__all__ = ["EntitySchemas", "entity_schemas", "build_entity_schemas", "unknown_keys", "schema_name"]


class _Shape(Schema):
    class Meta:
        unknown = RAISE


@dataclass(frozen=True)
class EntitySchemas:
    """The documentation schemas of one entity for one role set."""

    record: type[Schema]
    create: type[Schema] | None
    update: type[Schema] | None


def schema_name(entity: Entity, kind: str = "") -> str:
    """Component name: ``customer``, ``customer.create`` … (entity names are lower case,
    so they never collide with the capitalised shared components such as ``Error``)."""
    return f"{entity.name}.{kind}" if kind else entity.name


def unknown_keys(
    rt: Runtime, entity: Entity, body: Mapping[str, Any], locale: str
) -> dict[str, list[str]]:
    """Per-field errors for keys that are neither fields nor system columns of ``entity``."""
    schema = rt.cached(("api.shape", entity.name), lambda: _shape_schema(entity)())
    errors = schema.validate(body)
    return {str(key): [message("unknown_field", locale)] for key in errors}


def _shape_schema(entity: Entity) -> type[Schema]:
    names = [*entity.fields, *SYSTEM_COLUMNS, "supplements"]
    return _Shape.from_dict({n: fields.Raw(allow_none=True) for n in names},
                            name=f"{entity.name}_shape")  # fmt: skip


def entity_schemas(rt: Runtime, entity: Entity, actor: Actor, locale: str) -> EntitySchemas:
    """The schemas of ``entity`` for the actor's roles (cached per runtime version)."""
    key = ("api.schemas", entity.name, tuple(sorted(actor.roles)), locale)
    return rt.cached(key, lambda: build_entity_schemas(rt, entity, actor, locale))


def build_entity_schemas(rt: Runtime, entity: Entity, actor: Actor, locale: str) -> EntitySchemas:
    """The schemas of ``entity`` for the actor's roles, built now (``runtime.cached``'s lock
    is not re-entrant: code already building a cached object calls this, not the above)."""
    policy = rt.policy
    readable = policy.readable_fields(actor, entity)
    record = {**system_fields(entity, readable)}
    record.update({n: output_field(f, locale) for n, f in entity.fields.items() if n in readable})
    ownership = _ownership(entity) if policy.may_assign_owner(actor, entity) else {}
    create = update = None
    if policy.can(actor, entity, "create"):
        writable = policy.writable_fields(actor, entity, "create")
        body = {n: input_field(f, locale, _required(f)) for n, f in entity.fields.items()
                if n in writable}  # fmt: skip
        create = Schema.from_dict({**body, **ownership}, name=schema_name(entity, "create"))
    if policy.can(actor, entity, "update"):
        writable = policy.writable_fields(actor, entity, "update")
        body = {n: input_field(f, locale) for n, f in entity.fields.items() if n in writable}
        body["row_version"] = fields.Integer(load_only=True, metadata={
            "description": "The version you read; instead of the If-Match header."})  # fmt: skip
        append_only = [n for n, f in entity.fields.items() if f.append_only and n in writable]
        if append_only:
            body["supplements"] = fields.Dict(
                keys=fields.String(), values=fields.String(),
                metadata={"description": "Text added below append-only fields: "
                          + ", ".join(append_only)},
            )  # fmt: skip
        update = Schema.from_dict({**body, **ownership}, name=schema_name(entity, "update"))
    return EntitySchemas(Schema.from_dict(record, name=schema_name(entity)), create, update)


def _required(f: Field) -> bool:
    """Required in every case: declared required, no default, not conditional on visibility."""
    return f.required and f.default is None and f.visible_when is None and f.type != "computed"


def _ownership(entity: Entity) -> dict[str, fields.Field]:
    out: dict[str, fields.Field] = {}
    if entity.owner:
        out["owner"] = fields.Integer(allow_none=True, metadata={"x-ruleform-links": "users"})
    if entity.department:
        links = {"x-ruleform-links": "departments"}
        out["department"] = fields.Integer(allow_none=True, metadata=links)
    return out
