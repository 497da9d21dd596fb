"""The endpoints: one ``RecordAPI`` view serves every entity (the entity is a URL variable),
plus related lists, history, form state and the OpenAPI document.

Views translate HTTP to ``RecordService`` / ``run_list`` calls and back; access decisions,
parsing and rules are the service's. Reads that never write run in a read transaction;
``GET /<entity>/<id>`` may write the read audit, so it runs in a write transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import Response, current_app, request, url_for
from flask.views import MethodView

from ...errors import FieldErrors, NotFound
from ...metadata.field_types import value_type_of
from ...metadata.model import Entity
from ...platform.database import read_connection
from ...platform.messages import message, normalise_locale
from ...platform.records import Filter, ListQuery, RecordService, RecordView, run_list
from ...platform.records.history import read_history
from ...platform.records.values import to_json
from ...platform.web import access_limits, current_actor, current_runtime, records
from .listing import choice_labels, list_query, page_document
from .openapi import openapi_text
from .requests import etag, expected_version, json_object, split_names
from .schemas import unknown_keys

__all__ = ["RecordAPI", "related_list", "record_history", "form_state", "openapi_json"]


def json_response(document: Any, status: int = 200) -> Response:
    """``document`` as UTF-8 JSON (not ASCII-escaped, keys in the model's order)."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return Response(text, status=status, mimetype="application/json")


def locale() -> str:
    """The language of messages and labels: the actor's, else the rulebook's."""
    actor = current_actor()
    return normalise_locale(
        (actor.locale if actor else None) or current_runtime().rulebook.default_locale
    )


@contextmanager
def reading() -> Iterator[RecordService]:
    """A record service in a read transaction (no write lock on SQLite)."""
    actor = current_actor()
    assert actor is not None
    with read_connection() as conn:
        yield RecordService(current_runtime(), conn, actor, access_limits())


def record_document(entity: Entity, view: RecordView, loc: str) -> dict[str, Any]:
    """``{"data": {...}, "meta": {...}}`` for one record."""
    supplements = {
        name: [{"text": s["text"], "user_id": s["user_id"], "at": to_json(s["at"])} for s in rows]
        for name, rows in view.supplements.items()
    }
    meta = {"entity": entity.name, "version": view.version, "masked": sorted(view.masked),
            "choices": choice_labels(entity, view.values, loc),
            "supplements": supplements}  # fmt: skip
    if view.warnings:
        meta["warnings"] = list(view.warnings)
    return {"data": {k: _json_value(entity, k, v) for k, v in view.values.items()}, "meta": meta}


def _json_value(entity: Entity, name: str, value: Any) -> Any:
    """``to_json``, with decimals at their field's scale (a value just computed on save is
    shown as it will read back: ``63.00``, not ``63``)."""
    f = entity.fields.get(name)
    if isinstance(value, Decimal) and f is not None and value_type_of(f).storage == "decimal":
        scale = f.scale if f.scale is not None else 2
        value = value.quantize(Decimal(1).scaleb(-scale))
    return to_json(value)


def _record_response(entity: Entity, view: RecordView, status: int = 200) -> Response:
    response = json_response(record_document(entity, view, locale()), status)
    response.headers["ETag"] = etag(view.version)
    return response


def _refuse_unknown(
    service: RecordService, entity: Entity, body: dict[str, Any], write: Any
) -> Any:
    """Run ``write``; unknown keys are refused with the service's own message, together with
    everything else the service finds (every error at once, nothing saved)."""
    unknown = unknown_keys(service.rt, entity, body, locale())
    try:
        result = write()
    except FieldErrors as exc:
        raise FieldErrors({**unknown, **exc.errors}) from None
    if unknown:  # the service refuses these too; never save a body the schema refused
        raise FieldErrors(unknown)
    return result


class RecordAPI(MethodView):
    """``/api/v1/<entity>`` and ``/api/v1/<entity>/<id>`` for every entity of the model."""

    init_every_request = False

    def get(self, entity: str, record_id: int | None = None) -> Any:
        return self._one(entity, record_id) if record_id is not None else self._list(entity)

    def _list(self, entity: str) -> Any:
        with reading() as service:
            model = service.entity(entity)
            readable = service.policy.readable_fields(service.actor, model)
            query = list_query(service.rt, model, readable, locale())
            page = run_list(service, model, query, current_app.config.get("LIST_COUNT_CAP", 10_000))
            service.audit_list(model, [r["id"] for r in page.rows],
                               [c for c in page.columns if c not in page.masked],
                               page.hidden)  # R40  # fmt: skip
        return json_response(page_document(model, page, query, locale()))

    def _one(self, entity: str, record_id: int) -> Any:
        reveal = split_names(request.args.get("reveal"))
        with records() as service:
            model = service.entity(entity)
            readable = service.policy.readable_fields(service.actor, model)
            bad = [n for n in reveal if n not in readable or n not in model.fields]
            if bad:
                raise FieldErrors({"reveal": [message("invalid_column", locale(), field=n[:64])
                                              for n in bad[:10]]})  # fmt: skip
            view = service.get(entity, record_id, reveal=reveal)
        if etag(view.version) in request.headers.get("If-None-Match", ""):
            return Response(status=304, headers={"ETag": etag(view.version)})
        return _record_response(model, view)

    def post(self, entity: str) -> Any:
        body = json_object(locale())
        with records() as service:
            model = service.entity(entity)
            view = _refuse_unknown(service, model, body, lambda: service.create(entity, body))
        response = _record_response(model, view, 201)
        response.headers["Location"] = url_for(".record", entity=entity, record_id=view.id)
        return response

    def patch(self, entity: str, record_id: int) -> Any:
        body = json_object(locale())
        version = expected_version(body, locale())
        with records() as service:
            model = service.entity(entity)
            view = _refuse_unknown(service, model, body,
                                   lambda: service.update(entity, record_id, body,
                                                          version))  # fmt: skip
        return _record_response(model, view)

    def delete(self, entity: str, record_id: int) -> Any:
        version = expected_version(None, locale())
        with records() as service:
            service.archive(entity, record_id, version)
        return Response(status=204)


def related_list(entity: str, record_id: int, related: str) -> Any:
    """Records of ``related`` that link to this record (the related entity's rules apply;
    a link field the actor may not read makes the list unknown: it would reveal it)."""
    with reading() as service:
        parent = service.entity(entity)
        child = service.entity(related)
        relations = [r for r in service.policy.related_lists(service.actor, parent)
                     if r.entity == child.name]  # fmt: skip
        if not relations:
            raise NotFound(related)
        relation = _pick_relation(relations, request.args.get("via"))
        _require_readable(service, parent, record_id)
        column = service.rt.table(child).c[relation.field]
        readable = service.policy.readable_fields(service.actor, child)
        query = list_query(
            service.rt,
            child,
            readable,
            locale(),
            extra_clause=_linking(service, child, column, record_id),
        )
        page = run_list(service, child, query, current_app.config.get("LIST_COUNT_CAP", 10_000))
    document = page_document(child, page, query, locale())
    document["meta"]["via"] = relation.field
    return json_response(document)


def _linking(service: RecordService, child: Entity, column: Any, record_id: int) -> Any:
    """``column = record_id``, only on the children where the actor may read the link."""
    where = service.policy.field_clause(service.actor, child, service.rt.tables, column.name)
    return column == record_id if where is None else sa.and_(column == record_id, where)


def _pick_relation(relations: list[Any], via: str | None) -> Any:
    chosen = [r for r in relations if r.field == via] if via else relations
    if len(chosen) != 1:
        choices = ", ".join(r.field for r in relations)
        raise FieldErrors({"via": [message("ambiguous_relation", locale(), choices=choices)]})
    return chosen[0]


def _require_readable(service: RecordService, entity: Entity, record_id: int) -> None:
    """NotFound unless the actor may read the record (through the policy's row clause)."""
    query = ListQuery(filters=[Filter("id", "eq", record_id)], columns=["id"], page_size=1,
                      count=False, include_archived=True, default_view=False, sort=[])  # fmt: skip
    if not run_list(service, entity, query).rows:
        raise NotFound(entity.name)


def record_history(entity: str, record_id: int) -> Any:
    """The record's history, newest first; unreadable values removed, sensitive ones masked."""
    loc = locale()
    errors: dict[str, list[str]] = {}
    size = _bounded_int("page_size", 50, 1, int(current_app.config.get("API_MAX_PAGE_SIZE", 200)),
                        loc, errors)  # fmt: skip
    before = _bounded_int("cursor", None, 1, 2**63 - 1, loc, errors)
    if errors:
        raise FieldErrors(errors)
    with reading() as service:
        page = read_history(service, entity, record_id, size, before)
    cursor = str(page.next_cursor) if page.next_cursor is not None else None
    return json_response({"data": page.entries, "meta": {"next_cursor": cursor}})


def _bounded_int(name: str, default: int | None, low: int, high: int, loc: str,
                 errors: dict[str, list[str]]) -> int | None:  # fmt: skip
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 19:
        errors[name] = [message("not_integer", loc)]
        return default
    value = int(raw)
    if not low <= value <= high:
        errors[name] = [message("too_large_max" if value > high else "too_small", loc,
                                max=high, min=low)]  # fmt: skip
    return value


def form_state(entity: str, record_id: int | None = None) -> Any:
    """Visible / required / editable per readable field for the values sent (the form's
    conditions, evaluated by the server — one evaluator for every client)."""
    body = json_object(locale())
    with reading() as service:
        model = service.entity(entity)
        state = service.form_state(entity, body, record_id)
        readable = service.policy.readable_fields(service.actor, model)
    return json_response({"data": {k: v for k, v in state.items() if k in readable}})


def openapi_json() -> Any:
    """The OpenAPI 3.1 document of what this actor may do (cached per version and roles)."""
    actor = current_actor()
    assert actor is not None
    limit = int(current_app.config.get("API_MAX_PAGE_SIZE", 200))
    text = openapi_text(current_runtime(), actor, locale(), limit)
    return Response(text, mimetype="application/json")
