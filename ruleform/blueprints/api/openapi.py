"""The OpenAPI 3.1 document, generated from the model with apispec's MarshmallowPlugin.

It is *per actor*: a role set sees only the entities it may read, only its readable fields,
and only the operations it holds (create / update / archive). Built once per (runtime
version, role set, locale) and kept as JSON text on the runtime, so serving it costs no
query and no rebuilding.
"""

from __future__ import annotations

import json
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields

from ...metadata.field_types import FIELD_TYPES, FieldType, type_of, value_type_of
from ...metadata.model import Entity
from ...platform.actors import Actor
from ...platform.records.queries import OPERATORS
from ...platform.runtime import Runtime
from .listing import MAX_SORT_KEYS
from .schemas import EntitySchemas, build_entity_schemas, schema_name

__all__ = ["openapi_text", "build_document"]

_SYSTEM_FILTERS = {"id": "integer", "created_at": "datetime", "updated_at": "datetime",
                   "created_by": "user", "updated_by": "user", "owner": "user",
                   "department": "department", "status": "choice",
                   "row_version": "integer"}  # fmt: skip

# --- shared components (not model-dependent: built once) ---------------------------------

_Error = Schema.from_dict({
    "code": fields.String(required=True, metadata={"example": "validation_failed"}),
    "status": fields.Integer(required=True, metadata={"example": 422}),
    "message": fields.String(required=True),
    "errors": fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                          required=True, metadata={"description": "Messages per field "
                          "(or per parameter: filter, sort, fields, page_size …)"}),
    "current_version": fields.Integer(metadata={"description": "409 only: the record's "
                                                "version now (also in the ETag header)"}),
}, name="Error")  # fmt: skip
_Supplement = Schema.from_dict({"text": fields.String(), "user_id": fields.Integer(allow_none=True),
                                "at": fields.DateTime()}, name="Supplement")  # fmt: skip
_Labels = fields.Dict(
    keys=fields.String(),
    values=fields.Dict(keys=fields.String(), values=fields.String()),
    metadata={  # fmt: skip
        "description": "Labels of the choice values: {field: {value: label}}"
    },
)
_RecordMeta = Schema.from_dict({
    "entity": fields.String(required=True),
    "version": fields.Integer(required=True),
    "masked": fields.List(fields.String(), metadata={"description": "Fields shown masked"}),
    "choices": _Labels,
    "supplements": fields.Dict(keys=fields.String(),
                               values=fields.List(fields.Nested(_Supplement))),
}, name="RecordMeta")  # fmt: skip
_ListMeta = Schema.from_dict({
    "next_cursor": fields.String(allow_none=True, required=True),
    "count": fields.Integer(allow_none=True, required=True, metadata={
        "description": "Matching records (first page only; null with a cursor)"}),
    "count_capped": fields.Boolean(required=True, metadata={
        "description": "true: there are at least `count` records (the count stopped there)"}),
    "columns": fields.List(fields.String()),
    "masked": fields.List(fields.String()),
    "view": fields.String(allow_none=True),
    "via": fields.String(),
    "choices": _Labels,
}, name="ListMeta")  # fmt: skip
_HistoryEntry = Schema.from_dict({
    "id": fields.Integer(required=True), "action": fields.String(required=True),
    "at": fields.DateTime(required=True), "user_id": fields.Integer(allow_none=True),
    "user_name": fields.String(allow_none=True),
    "rulebook_version": fields.Integer(allow_none=True),
    "changes": fields.Dict(keys=fields.String(), values=fields.List(fields.Raw()), metadata={
        "description": "{field: [old, new]}; 'field+' is a supplement added to an "
        "append-only field. Fields you may not read are left out; sensitive values masked."}),
}, name="HistoryEntry")  # fmt: skip
_HistoryMeta = Schema.from_dict({"next_cursor": fields.String(allow_none=True, required=True)},
                                name="HistoryMeta")  # fmt: skip
_HistoryPage = Schema.from_dict({
    "data": fields.List(fields.Nested(_HistoryEntry), required=True),
    "meta": fields.Nested(_HistoryMeta, required=True),
}, name="HistoryPage")  # fmt: skip
_FieldState = Schema.from_dict({"visible": fields.Boolean(), "required": fields.Boolean(),
                                "editable": fields.Boolean()}, name="FieldState")  # fmt: skip
_FormState = Schema.from_dict({
    "data": fields.Dict(keys=fields.String(), values=fields.Nested(_FieldState), required=True),
}, name="FormState")  # fmt: skip
_SHARED = {"Error": _Error, "Supplement": _Supplement, "RecordMeta": _RecordMeta,
           "ListMeta": _ListMeta, "HistoryEntry": _HistoryEntry, "HistoryMeta": _HistoryMeta,
           "HistoryPage": _HistoryPage, "FieldState": _FieldState,
           "FormState": _FormState}  # fmt: skip

_ERRORS = {
    "400": "Malformed request (not a JSON object, bad UTF-8, bad parameter syntax)",
    "401": "No or invalid bearer token", "403": "Not allowed for your roles",
    "404": "No such entity or record, or you may not see it",
    "409": "The record changed since you read it (see current_version / ETag)",
    "413": "Request body too large", "415": "The body is not declared as application/json",
    "422": "Per-field problems (values, rules, unknown or unwritable fields, parameters)",
    "428": "If-Match (or row_version in the body) is required",
}  # fmt: skip


def openapi_text(rt: Runtime, actor: Actor, locale: str, max_page_size: int = 200) -> str:
    """The document for the actor's role set, as JSON text (cached on the runtime)."""
    key = ("api.openapi", tuple(sorted(actor.roles)), locale, max_page_size)
    return rt.cached(key, lambda: json.dumps(build_document(rt, actor, locale, max_page_size),
                                             ensure_ascii=False))  # fmt: skip


def build_document(rt: Runtime, actor: Actor, locale: str,
                   max_page_size: int = 200) -> dict[str, Any]:  # fmt: skip
    """The OpenAPI 3.1 document of what ``actor``'s roles may read and do."""
    rb = rt.rulebook
    spec = APISpec(
        title=f"Ruleform API — {rb.label.get(locale, rb.name)}",
        version=f"{rb.version} (rulebook version {rt.version})",
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
        servers=[{"url": "/api/v1"}],
        security=[{"bearer": []}],
        info={"description": "Generated from the rulebook for your roles: only the records, "
              "fields and operations you may use are listed. See docs/api.md."},
    )  # fmt: skip
    spec.components.security_scheme("bearer", {
        "type": "http", "scheme": "bearer",
        "description": "An API token (ruleform tokens create)."})  # fmt: skip
    for name, schema in _SHARED.items():
        spec.components.schema(name, schema=schema)
    for code, text in _ERRORS.items():
        spec.components.response(f"E{code}", {"description": text, "content": _json("Error")})
    spec.path(path="/openapi.json", operations={"get": {
        "operationId": "openapi", "summary": "This document",
        "responses": {"200": {"description": "OpenAPI 3.1"}, **_errors(401)},
    }})  # fmt: skip
    _shared_parameters(spec, max_page_size)
    _filter_schemas(spec)
    visible = rt.policy.visible_entities(actor)
    for entity in visible:
        _entity_parameters(spec, rt, entity, actor)
    for entity in visible:
        _add_entity(spec, rt, entity, actor, locale)
    return spec.to_dict()


def _errors(*codes: int) -> dict[str, Any]:
    return {str(c): {"$ref": f"#/components/responses/E{c}"} for c in codes}


def _json(schema: Any) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _add_entity(spec: APISpec, rt: Runtime, entity: Entity, actor: Actor, locale: str) -> None:
    s = build_entity_schemas(rt, entity, actor, locale)
    policy = rt.policy
    _register(spec, entity, s, locale)
    tag = entity.plural.get(locale, entity.name)
    name = entity.name
    collection: dict[str, Any] = {"get": {
        "operationId": f"{name}.list", "tags": [tag], "summary": f"List {tag}",
        "parameters": _list_parameters(entity),
        "responses": {"200": {"description": "One page", "content": _json(f"{name}.page")},
                      **_errors(400, 401, 404, 422)},
    }}  # fmt: skip
    if s.create is not None:
        collection["post"] = {
            "operationId": f"{name}.create", "tags": [tag], "summary": f"Create ({tag})",
            "requestBody": {"required": True, "content": _json(schema_name(entity, "create"))},
            "responses": {"201": {"description": "Created", "headers": _headers("Location", "ETag"),
                                  "content": _json(f"{name}.document")},
                          **_errors(400, 401, 403, 404, 413, 415, 422)},
        }  # fmt: skip
    spec.path(path=f"/{name}", operations=collection)
    item: dict[str, Any] = {"get": {
        "operationId": f"{name}.get", "tags": [tag], "summary": "One record",
        "parameters": [{"name": "reveal", "in": "query", "schema": {"type": "string"},
                        "description": "Comma-separated sensitive fields to show unmasked "
                        "(audited)"}],
        "responses": {"200": {"description": "The record", "headers": _headers("ETag"),
                              "content": _json(f"{name}.document")},
                      "304": {"description": "Not modified (If-None-Match)"},
                      **_errors(401, 404, 422)},
    }}  # fmt: skip
    if s.update is not None:
        item["patch"] = {
            "operationId": f"{name}.update", "tags": [tag], "summary": "Change fields",
            "parameters": [_if_match()],
            "requestBody": {"required": True, "content": _json(schema_name(entity, "update"))},
            "responses": {"200": {"description": "The changed record", "headers": _headers("ETag"),
                                  "content": _json(f"{name}.document")},
                          **_errors(400, 401, 403, 404, 409, 413, 415, 422, 428)},
        }  # fmt: skip
    if policy.can(actor, entity, "archive"):
        item["delete"] = {
            "operationId": f"{name}.archive", "tags": [tag], "summary": "Archive (soft delete)",
            "parameters": [_if_match()],
            "responses": {"204": {"description": "Archived"},
                          **_errors(400, 401, 403, 404, 409, 428)},
        }  # fmt: skip
    spec.path(path=f"/{name}/{{id}}", operations=item, parameters=[_id_parameter()])
    spec.path(path=f"/{name}/{{id}}/history", parameters=[_id_parameter()], operations={"get": {
        "operationId": f"{name}.history", "tags": [tag], "summary": "Change history, newest first",
        "parameters": [_int_query("page_size", "Entries per page"),
                       _int_query("cursor", "next_cursor")],
        "responses": {"200": {"description": "History", "content": _json("HistoryPage")},
                      **_errors(401, 404, 422)},
    }})  # fmt: skip
    spec.path(path=f"/{name}/form-state", operations={"post": {
        "operationId": f"{name}.form_state", "tags": [tag],
        "summary": "Which fields are visible, required and editable for these values",
        "requestBody": {"required": True, "content": _json({"type": "object"})},
        "responses": {"200": {"description": "Per field", "content": _json("FormState")},
                      **_errors(400, 401, 404, 415)},
    }})  # fmt: skip
    _add_related(spec, rt, entity, actor, tag)


def _register(spec: APISpec, entity: Entity, s: EntitySchemas, locale: str) -> None:
    spec.components.schema(schema_name(entity), schema=s.record,
                           component={"title": entity.label.get(locale, entity.name)})  # fmt: skip
    if s.create is not None:
        rules = [v.message.get(locale) for v in entity.validations if v.message]
        note = ("Record rules checked on save: " + " | ".join(rules)) if rules else ""
        spec.components.schema(schema_name(entity, "create"), schema=s.create,
                               component={"description": note} if note else None)  # fmt: skip
    if s.update is not None:
        spec.components.schema(schema_name(entity, "update"), schema=s.update)
    document = Schema.from_dict({"data": fields.Nested(s.record, required=True),
                                 "meta": fields.Nested(_RecordMeta, required=True)},
                                name=f"{entity.name}_document")  # fmt: skip
    page = Schema.from_dict({"data": fields.List(fields.Nested(s.record), required=True),
                             "meta": fields.Nested(_ListMeta, required=True)},
                            name=f"{entity.name}_page")  # fmt: skip
    spec.components.schema(f"{entity.name}.document", schema=document)
    spec.components.schema(f"{entity.name}.page", schema=page)


def _add_related(spec: APISpec, rt: Runtime, entity: Entity, actor: Actor, tag: str) -> None:
    by_child: dict[str, list[str]] = {}
    for relation in rt.policy.related_lists(actor, entity):
        by_child.setdefault(relation.entity, []).append(relation.field)
    for child, via in by_child.items():
        params = _list_parameters(rt.entity(child))
        params.append({"name": "via", "in": "query", "required": len(via) > 1,
                       "schema": {"type": "string", "enum": via},
                       "description": "The linking field of the related records"})  # fmt: skip
        spec.path(path=f"/{entity.name}/{{id}}/related/{child}", parameters=[_id_parameter()],
                  operations={"get": {
                      "operationId": f"{entity.name}.related.{child}", "tags": [tag],
                      "summary": f"{child} records linked to this record",
                      "parameters": params,
                      "responses": {"200": {"description": "One page",
                                            "content": _json(f"{child}.page")},
                                    **_errors(400, 401, 404, 422)},
                  }})  # fmt: skip


def _headers(*names: str) -> dict[str, Any]:
    text = {
        "Location": "URL of the new record",
        "ETag": 'W/"<row_version>"; send it back as If-Match',
    }
    return {n: {"description": text[n], "schema": {"type": "string"}} for n in names}


def _if_match() -> dict[str, Any]:
    return {"name": "If-Match", "in": "header",
            "schema": {"type": "string", "pattern": r'^(W/)?"\d+"$'},
            "description": 'The ETag you read (W/"<row_version>"). Required, unless row_version '
            "is in the body; missing → 428, stale → 409."}  # fmt: skip


def _id_parameter() -> dict[str, Any]:
    return {"name": "id", "in": "path", "required": True,
            "schema": {"type": "integer", "format": "int64", "minimum": 1}}  # fmt: skip


def _int_query(name: str, text: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "schema": {"type": "integer", "minimum": 1},
        "description": text,
    }


def _list_parameters(entity: Entity) -> list[Any]:
    """The list parameters, by component id (each registered once per document)."""
    return [f"{entity.name}.filter", f"{entity.name}.sort", f"{entity.name}.view",
            "fields", "q", "cursor", "page_size", "count"]  # fmt: skip


def _shared_parameters(spec: APISpec, max_page_size: int) -> None:
    shared = {
        "fields": ({"type": "string"}, "Comma-separated columns to return (default: every "
                   "readable column)"),
        "q": ({"type": "string"}, "Search text (the title field, or the view's search fields)"),
        "cursor": ({"type": "string"}, "meta.next_cursor of the previous page"),
        "page_size": ({"type": "integer", "minimum": 1, "maximum": max_page_size, "default": 50},
                      "Records per page"),
        "count": ({"type": "boolean", "default": True}, "false: skip counting"),
    }  # fmt: skip
    for name, (schema, text) in shared.items():
        spec.components.parameter(name, "query", {"name": name, "schema": schema,
                                                  "description": text})  # fmt: skip


def _entity_parameters(spec: APISpec, rt: Runtime, entity: Entity, actor: Actor) -> None:
    readable = rt.policy.readable_fields(actor, entity)
    table = rt.table(entity)
    filterable = {n: _filter_kind(entity, n) for n in table.c.keys()
                  if n in readable and (n in entity.fields or n in _SYSTEM_FILTERS)}  # fmt: skip
    sortable = [n for n in filterable if _sortable(entity, n)]
    spec.components.parameter(f"{entity.name}.filter", "query", {
        "name": "filter", "style": "deepObject", "explode": True,
        "description": "filter[field][op]=value (filter[field]=value means eq; `in` takes a "
        "comma-separated list; empty / not_empty take true or false). Filters are ANDed.",
        "schema": {"type": "object", "additionalProperties": False, "properties": {
            n: {"$ref": f"#/components/schemas/{kind}"} for n, kind in filterable.items()}},
    })  # fmt: skip
    spec.components.parameter(f"{entity.name}.sort", "query", {
        "name": "sort", "schema": {"type": "string"},
        "description": f"Up to {MAX_SORT_KEYS} comma-separated fields, '-' for descending. "
        "Sortable: " + ", ".join(sortable),
    })  # fmt: skip
    spec.components.parameter(f"{entity.name}.view", "query", {
        "name": "view", "schema": {"type": "string",
                                   "enum": list(rt.policy.usable_views(actor, entity))},
        "description": "A list view of the rulebook: its filter, columns, sort and search fields",
    })  # fmt: skip


def _value_type(entity: Entity, name: str) -> FieldType:
    f = entity.fields.get(name)
    return value_type_of(f) if f is not None else FIELD_TYPES[_SYSTEM_FILTERS[name]]


#: The operators of each kind of field (``queries`` refuses the others with 422).
FILTER_KINDS = {
    "ListFilter": ("contains", "empty", "not_empty"),
    "TextFilter": OPERATORS,
    "ValueFilter": tuple(op for op in OPERATORS if op not in ("contains", "starts")),
}


def _filter_kind(entity: Entity, name: str) -> str:
    kind = _value_type(entity, name)
    if kind.list_valued:
        return "ListFilter"
    return "TextFilter" if kind.text_like else "ValueFilter"


def _filter_schemas(spec: APISpec) -> None:
    for name, ops in FILTER_KINDS.items():
        properties = {op: {"type": "string"} for op in ops}
        spec.components.schema(name, {"type": "object", "additionalProperties": False,
                                      "properties": properties})  # fmt: skip


def _sortable(entity: Entity, name: str) -> bool:
    f = entity.fields.get(name)
    return f is None or (type_of(f).sortable and not f.sensitive)
