"""The workflow endpoints of the JSON API (routes in ``web.py``).

Request shapes (JSON objects; unknown keys are refused):

* take a transition: ``{"fields": {<required field>: value}, "comment": "…", "reason":
  "…"}`` with ``If-Match: W/"<row_version>"`` (or ``row_version`` in the body; 428
  without). 200 when the status changed, 202 when an approval request was opened; the
  body says which (``outcome``), with the new ``row_version`` (also the ``ETag``).
* act on a request: ``{"comment": "…"}`` plus ``"step"`` (return: an earlier step's
  index or name) or ``"user"`` (add_approver, transfer: a user id).
* delegate: ``{"delegate": <user id>, "starts_at": "<ISO 8601>", "ends_at": "…",
  "reason": "…"}`` (times without an offset are in the rulebook's time zone).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import jsonify, request
from sqlalchemy.engine import Connection

from ...errors import FieldErrors, VersionConflict
from ...platform.actors import Actor
from ...platform.database import read_connection, transaction
from ...platform.http_errors import error_response
from ...platform.i18n import current_locale
from ...platform.messages import message
from ...platform.runtime import utcnow
from ...platform.web import current_actor, current_runtime
from ...workflow_engine.approval_queries import ApprovalQueries
from ...workflow_engine.approval_service import ApprovalService
from ...workflow_engine.service import WorkflowService
from ..api.requests import ApiError, etag, expected_version, json_object

__all__ = [
    "ApiError",
    "VersionConflict",
    "api_error",
    "version_conflict",
    "actor",
    "run_action",
    "ACTIONS",
    "parse_time",
]

ACTIONS = ("approve", "reject", "return", "add_approver", "transfer", "withdraw")


def actor() -> Actor:
    """The request's actor, speaking the request's locale."""
    who = current_actor()
    assert who is not None
    return replace(who, locale=current_locale())


@contextmanager
def writing() -> Iterator[WorkflowService]:
    with transaction() as conn:
        yield WorkflowService(current_runtime(), conn, actor())


@contextmanager
def querying() -> Iterator[tuple[Connection, ApprovalQueries]]:
    with read_connection() as conn:
        yield conn, ApprovalQueries(current_runtime(), conn, actor())


def _body(allowed: set[str]) -> dict[str, Any]:
    locale = current_locale()
    if not request.content_length and not request.is_json:
        return {}
    body = json_object(locale)
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ApiError(
            422,
            f"unknown keys: {', '.join(unknown)}",
            "validation_failed",
            {k: ["unknown key"] for k in unknown},
        )
    return body


# --- transitions ------------------------------------------------------------------------------


def transitions(entity: str, record_id: int) -> Any:
    """The transitions leaving the record's status: allowed, or why not."""
    with read_connection() as conn:
        wf = WorkflowService(current_runtime(), conn, actor())
        record, found = wf.options(entity, record_id)
        pending = wf.pending_request(entity, record["id"])
        ent = wf.entity(entity)
        body = {
            "entity": entity,
            "id": record["id"],
            "status": record.get("status"),
            "row_version": record["row_version"],
            "pending_request": pending["id"] if pending else None,
            "transitions": [o.to_json(ent, wf.locale) for o in found],
        }
    response = jsonify(body)
    response.headers["ETag"] = etag(record["row_version"])
    return response


def take(entity: str, record_id: int, name: str) -> Any:
    """Take transition ``name`` (or open its approval request)."""
    body = _body({"fields", "comment", "reason", "row_version"})
    version = expected_version(body, current_locale())
    fields = body.get("fields") or {}
    if not isinstance(fields, dict):
        raise ApiError(
            422, "fields must be an object", "validation_failed", {"fields": ["must be an object"]}
        )
    with writing() as wf:
        result = wf.apply(
            entity,
            record_id,
            name,
            fields,
            version,
            comment=_str(body.get("comment")),
            reason=_str(body.get("reason")),
        )
    response = jsonify(result.to_json())
    response.status_code = 200 if result.outcome == "done" else 202
    response.headers["ETag"] = etag(result.row_version)
    return response


def record_approvals(entity: str, record_id: int) -> Any:
    """The approval requests of a record the actor may read."""
    with read_connection() as conn:
        wf = WorkflowService(current_runtime(), conn, actor())
        record = wf.load(wf.entity(entity), record_id)
        items = ApprovalQueries(current_runtime(), conn, wf.actor).of_record(entity, record["id"])
    return jsonify({"items": items})


# --- approvals --------------------------------------------------------------------------------


def inbox() -> Any:
    """``view=inbox`` (default): my open tasks; ``view=mine``: requests I submitted."""
    view = request.args.get("view", "inbox")
    with querying() as (_conn, q):
        if view == "mine":
            return jsonify({"items": q.mine()})
        if view != "inbox":
            raise ApiError(400, "view is inbox or mine", "malformed")
        return jsonify({"items": q.inbox(utcnow())})


def exceptions() -> Any:
    """Exception requests (R48) on records the actor may read."""
    with querying() as (_conn, q):
        return jsonify({"items": q.exceptions(request.args.get("entity") or None)})


def request_detail(request_id: int) -> Any:
    with querying() as (_conn, q):
        return jsonify(q.request(request_id))


def act(request_id: int, action: str) -> Any:
    """approve / reject / return / add_approver / transfer / withdraw, with a comment."""
    if action not in ACTIONS:
        raise ApiError(404, f"unknown action '{action}'; one of {', '.join(ACTIONS)}", "not_found")
    body = _body({"comment", "step", "user"})
    with writing() as wf:
        outcome = run_action(wf, request_id, action, body)
    return jsonify(outcome)


def run_action(wf: WorkflowService, request_id: int, action: str, body: dict[str, Any]) -> dict:
    """Run one approval command (shared by the API and the pages)."""
    approvals = ApprovalService(wf)
    comment = _str(body.get("comment"))
    if action in ("approve", "reject"):
        return approvals.decide(
            request_id, "approved" if action == "approve" else "rejected", comment
        )
    if action == "withdraw":
        return approvals.withdraw(request_id, comment)
    if action == "return":
        return approvals.return_to(request_id, body.get("step"), comment)
    if action == "add_approver":
        return approvals.add_approver(request_id, body.get("user"), comment)
    return approvals.transfer(request_id, body.get("user"), comment)


# --- delegations ------------------------------------------------------------------------------


def delegations() -> Any:
    if request.method == "GET":
        with querying() as (_conn, q):
            return jsonify({"items": q.delegations(utcnow())})
    body = _body({"delegate", "starts_at", "ends_at", "reason"})
    timezone = current_runtime().rulebook.timezone
    starts = parse_time(body.get("starts_at"), timezone, "starts_at") or utcnow()
    ends = parse_time(body.get("ends_at"), timezone, "ends_at")
    if ends is None:
        raise FieldErrors({"ends_at": [message("required", current_locale())]})
    with transaction() as conn:
        new_id = ApprovalQueries(current_runtime(), conn, actor()).delegate(
            body.get("delegate"), starts, ends, _str(body.get("reason")), utcnow()
        )
    response = jsonify({"id": new_id})
    response.status_code = 201
    return response


def revoke(delegation_id: int) -> Any:
    with transaction() as conn:
        ApprovalQueries(current_runtime(), conn, actor()).revoke(delegation_id, utcnow())
    return "", 204


def parse_time(raw: Any, timezone: str, name: str) -> datetime | None:
    """An ISO 8601 time (no offset: the rulebook's zone) as UTC; FieldErrors if unreadable."""
    if raw in (None, ""):
        return None
    try:
        value = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise FieldErrors({name: [message("not_datetime", current_locale())]}) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(timezone))
    return value.astimezone(UTC)


# --- errors -------------------------------------------------------------------------------------


def api_error(exc: ApiError) -> Any:
    return error_response(exc.code or 400, exc.text, exc.errors or None, code=exc.api_code)


def version_conflict(exc: VersionConflict) -> Any:
    """409, with the current version (and ETag) when known."""
    current = exc.current_version
    headers = {"ETag": etag(current)} if current is not None else None
    response = error_response(409, str(exc), {"row_version": [str(exc)]}, headers=headers)
    if current is not None and response.is_json:
        body = response.get_json()
        body["current_version"] = current
        response.set_data(json.dumps(body, ensure_ascii=False))
    return response


def _str(value: Any) -> str | None:
    return None if value is None else str(value)
