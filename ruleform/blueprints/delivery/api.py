"""The delivery endpoints of the JSON API (routes in ``web.py``).

GET   /api/v1/inbox?unread=1&before=<id>&limit=<n>   my messages, newest first
POST  /api/v1/inbox/read        {"ids": [1, 2]} or {"all": true}  → {"marked": n}
GET   /api/v1/outbox?status=&channel=&before=&limit=   (administrators)
GET   /api/v1/outbox/<id>        one row, its payload and its delivery record
POST  /api/v1/outbox/<id>/retry  a failed or skipped row back to pending
GET   /api/v1/outbox/kill-switch    POST {"on": true|false}
GET   /api/v1/outbox/sandbox?before=&limit=   messages held in the sandbox, rendered
"""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request

from ...errors import NotFound
from ...platform.database import read_connection, transaction
from ...platform.http_errors import error_response
from ...platform.i18n import current_locale
from ...platform.records.values import to_json
from ...platform.runtime import utcnow
from ...platform.web import current_actor
from ...workflow_engine.delivery import outcomes, queries
from ...workflow_engine.delivery.channels import channel_names
from ...workflow_engine.delivery.flags import flag, kill_switch_on, set_kill_switch
from ...workflow_engine.delivery.inbox import list_messages, mark_read, unread_count
from ...workflow_engine.delivery.settings import DeliverySettings
from ..api.requests import json_object

__all__ = ["inbox", "inbox_read", "outbox", "outbox_detail", "outbox_retry", "kill_switch",
           "sandbox"]  # fmt: skip

MAX_LIMIT = 200


def _limit() -> int:
    value = request.args.get("limit", "50")
    return max(1, min(MAX_LIMIT, int(value))) if value.isdigit() else 50


def _before() -> int | None:
    value = request.args.get("before", "")
    return int(value) if value.isdigit() else None


def _invalid(field: str, why: str) -> Any:
    return error_response(422, f"{field}: {why}", {field: [why]}, "validation_failed")


def _body() -> dict[str, Any]:
    if not request.content_length and not request.is_json:
        return {}
    return json_object(current_locale())


def _page(rows: list[dict], limit: int) -> dict[str, Any]:
    return {"data": [queries.row_json(r) for r in rows],
            "next_before": rows[-1]["id"] if len(rows) == limit else None}  # fmt: skip


# --- inbox ---------------------------------------------------------------------------------------


def inbox() -> Any:
    actor = current_actor()
    assert actor is not None and actor.user_id is not None
    limit = _limit()
    with read_connection() as conn:
        rows = list_messages(conn, actor.user_id, unread_only=request.args.get("unread") in
                             ("1", "true"), before=_before(), limit=limit)  # fmt: skip
        unread = unread_count(conn, actor.user_id)
    return jsonify({**_page(rows, limit), "unread": unread})


def inbox_read() -> Any:
    actor = current_actor()
    assert actor is not None and actor.user_id is not None
    body = _body()
    unknown = sorted(set(body) - {"ids", "all"})
    if unknown:
        return _invalid(unknown[0], "unknown key")
    ids = body.get("ids")
    if body.get("all") is not True and (not isinstance(ids, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in ids)):  # fmt: skip
        return _invalid("ids", 'a list of message ids, or {"all": true}')
    with transaction() as conn:
        marked = mark_read(conn, actor.user_id, None if body.get("all") is True else ids, utcnow())
    return jsonify({"marked": marked})


# --- administrators ------------------------------------------------------------------------------


def outbox() -> Any:
    status, channel = request.args.get("status") or None, request.args.get("channel") or None
    if status is not None and status not in queries.STATUSES:
        return _invalid("status", "one of " + ", ".join(queries.STATUSES))
    if channel is not None and channel not in channel_names():
        return _invalid("channel", "one of " + ", ".join(channel_names()))
    limit = _limit()
    with read_connection() as conn:
        rows = queries.list_outbox(conn, status=status, channel=channel, before=_before(),
                                   limit=limit)  # fmt: skip
        counts = queries.status_counts(conn)
        killed = kill_switch_on(conn)
    return jsonify({**_page(rows, limit), "counts": counts, "kill_switch": killed})


def outbox_detail(row_id: int) -> Any:
    with read_connection() as conn:
        row = queries.outbox_row(conn, row_id)
    if row is None:
        raise NotFound("outbox")
    delivery = row.pop("delivery")
    row.pop("idempotency_key", None)
    body = queries.row_json(row)
    body["delivery"] = {k: to_json(v) for k, v in delivery.items() if k != "claim"} \
        if delivery else None  # fmt: skip
    return jsonify({"data": body})


def outbox_retry(row_id: int) -> Any:
    actor = current_actor()
    assert actor is not None
    with transaction() as conn:
        done = outcomes.retry_now(conn, queries.OUTBOX, row_id, utcnow(), actor.username)
        row = queries.outbox_row(conn, row_id)
    if row is None:
        raise NotFound("outbox")
    if not done:
        return error_response(409, f"row {row_id} is {row['status']}; only failed or skipped "
                                   "rows can be retried", code="conflict")  # fmt: skip
    return jsonify({"data": {"id": row_id, "status": row["status"]}})


def kill_switch() -> Any:
    actor = current_actor()
    if request.method == "POST":
        body = _body()
        if set(body) != {"on"} or not isinstance(body["on"], bool):
            return _invalid("on", "true or false")
        with transaction() as conn:
            set_kill_switch(conn, body["on"], utcnow(), actor.user_id if actor else None)
    with read_connection() as conn:
        on, found = kill_switch_on(conn), flag(conn, "delivery.kill_switch")
    return jsonify({"on": on, "updated_at": to_json(found["updated_at"]) if found else None,
                    "updated_by": found["updated_by"] if found else None})  # fmt: skip


def sandbox() -> Any:
    limit = _limit()
    with read_connection() as conn:
        rows = queries.list_sandbox(conn, before=_before(), limit=limit)
    mode = DeliverySettings.from_config(current_app.config).sandbox
    return jsonify({**_page(rows, limit), "sandbox_mode": mode})
