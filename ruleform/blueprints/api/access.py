"""Aggregates, exports, transfers and the read audit over HTTP (docs/permissions.md).

    GET  /api/v1/<entity>/aggregate?group_by=status&count=1&sum=amount&filter[...]=...
    GET  /api/v1/<entity>/export?format=csv|xlsx&fields=...&reveal=...&filter[...]=...
    POST /api/v1/<entity>/transfer   {"from": 4, "to": 5, "reason": "employee_left"}
    GET  /api/v1/read-audit?user=&entity=&record=&since=&until=&cursor=&page_size=
    GET  /api/v1/why?user=&entity=&record=&field=          (administrators)

Rows are chosen by the same query-string grammar as lists (``listing.list_query``) and the
same permission compiler (``records.scoped``); these views only translate HTTP.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, current_app, request

from ...errors import FieldErrors, NotFound, PermissionDenied
from ...platform.actors import load_actor
from ...platform.auth.users import users_table
from ...platform.database import read_connection
from ...platform.messages import message
from ...platform.records.aggregates import FUNCTIONS, AggregateQuery, run_aggregate
from ...platform.records.exports import FORMATS, export_rows, to_csv, to_xlsx
from ...platform.records.read_audit import AuditQuery, query_audit
from ...platform.records.transfer import transfer_records
from ...platform.records.values import to_json
from ...platform.web import access_limits, current_actor, current_runtime, records
from .listing import list_query
from .requests import json_object, split_names
from .views import json_response, locale, reading

__all__ = ["aggregate", "export", "transfer", "read_audit", "why"]


def aggregate(entity: str) -> Any:
    """Counts, sums, averages, minima and maxima per group of the rows a list would show."""
    args = request.args.copy()
    measures = [(func, name) for func in FUNCTIONS if func != "count"
                for name in split_names(args.pop(func, None))]  # fmt: skip
    group_by = split_names(args.pop("group_by", None))
    args.pop("count", None)
    with reading() as service:
        model = service.entity(entity)
        readable = service.policy.readable_fields(service.actor, model)
        rows = list_query(service.rt, model, readable, locale(), args=args)
        result = run_aggregate(service, model, AggregateQuery(rows, group_by, measures))
    return json_response(
        {"data": result["groups"], "meta": {"group_by": group_by, "truncated": result["truncated"]}}
    )


def export(entity: str) -> Any:
    """The rows a list would show, as a CSV or XLSX file (needs the export right; audited)."""
    fmt = request.args.get("format", "csv")
    if fmt not in FORMATS:
        raise FieldErrors({"format": [message("not_a_choice", locale())]})
    args = request.args.copy()
    for key in ("format", "reveal", "count", "page_size"):
        args.pop(key, None)
    reveal = split_names(request.args.get("reveal"))
    with records() as service:
        model = service.entity(entity)
        if not service.policy.can(service.actor, model, "export"):
            raise PermissionDenied("export")
        readable = service.policy.readable_fields(service.actor, model)
        query = list_query(service.rt, model, readable, locale(), args=args)
        data = export_rows(service, model, query, reveal=reveal, limits=access_limits(),
                           max_rows=int(current_app.config.get("EXPORT_MAX_ROWS", 10_000)))  # fmt: skip
    body = to_csv(data) if fmt == "csv" else to_xlsx(data, entity)
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    return Response(body, mimetype=FORMATS[fmt].split(";")[0], headers={
        "Content-Disposition": f'attachment; filename="{entity}-{stamp}.{fmt}"',
        "Content-Type": FORMATS[fmt]})  # fmt: skip


def transfer(entity: str) -> Any:
    """Move every record of one owner (matching the query string's filters) to another."""
    body = json_object(locale())
    errors: dict[str, list[str]] = {}
    from_user, to_user = _int(body, "from", errors), _int(body, "to", errors)
    reason = body.get("reason")
    if reason is not None and not isinstance(reason, str):
        errors["reason"] = [message("not_text", locale())]
    unknown = set(body) - {"from", "to", "reason"}
    for key in sorted(unknown)[:10]:
        errors[str(key)[:64]] = [message("unknown_field", locale())]
    if errors:
        raise FieldErrors(errors)
    with records() as service:
        model = service.entity(entity)
        readable = service.policy.readable_fields(service.actor, model)
        query = list_query(service.rt, model, readable, locale())
        result = transfer_records(service, model.name, from_user, to_user, query=query,
                                  reason=reason)  # fmt: skip
    return json_response({"data": {"count": result.count, "ids": result.ids}})


def _int(body: dict[str, Any], name: str, errors: dict[str, list[str]]) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        errors[name] = [message("required" if value is None else "not_integer", locale())]
        return 0
    return value


def read_audit() -> Any:
    """The read audit, newest first (administrators only)."""
    _admin()
    loc = locale()
    query = audit_query(request.args, current_runtime().rulebook.timezone, loc)

    with read_connection() as conn:
        rows, cursor = query_audit(conn, current_runtime(), query)
    data = [{"id": r["id"], "user_id": r["user_id"], "username": r["username"],
             "entity": r["entity"], "record_id": r["record_id"], "fields": r["fields"],
             "via": r["via"], "at": to_json(r["at"])} for r in rows]  # fmt: skip
    return json_response({"data": data, "meta": {"next_cursor": str(cursor) if cursor else None}})


def audit_query(args: Any, tz: str, loc: str, limit: int = 100) -> AuditQuery:
    """Filters of the read audit from a query string; FieldErrors for unreadable ones."""
    errors: dict[str, list[str]] = {}
    q = AuditQuery(limit=limit)
    for name, attr in (("user", "user_id"), ("record", "record_id"), ("cursor", "before")):
        raw = (args.get(name) or "").strip()
        if raw:
            if not raw.isdigit() or len(raw) > 18:
                errors[name] = [message("not_integer", loc)]
            else:
                setattr(q, attr, int(raw))
    q.entity = (args.get("entity") or "").strip()[:64] or None
    for name, end in (("since", False), ("until", True)):
        raw = (args.get(name) or "").strip()
        if raw:
            try:
                setattr(q, name, _instant(raw, tz, end))
            except ValueError:
                errors[name] = [message("not_date", loc)]
    size = (args.get("page_size") or "").strip()
    if size:
        if not size.isdigit() or not 1 <= int(size) <= 500:
            errors["page_size"] = [message("too_large_max", loc, max=500)]
        else:
            q.limit = int(size)
    if errors:
        raise FieldErrors(errors)
    return q


def _instant(raw: str, tz: str, end: bool) -> datetime:
    """A date (whole days in the rulebook's zone; ``until`` includes the day) or a time."""
    if len(raw) == 10:
        day = datetime.strptime(raw, "%Y-%m-%d").date()
        start = datetime.combine(day, time(0), ZoneInfo(tz))
        return start + timedelta(days=1) if end else start
    value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(tz))


def why() -> Any:
    """Why a user may or may not read a record (and a field): the policy's reasons."""
    _admin()
    args = request.args
    rt = current_runtime()
    entity = rt.rulebook.entities.get(args.get("entity", ""))
    if entity is None:
        raise NotFound(args.get("entity", "")[:64])
    record = args.get("record", "")
    if not record.isdigit():
        raise FieldErrors({"record": [message("not_integer", locale())]})

    with read_connection() as conn:
        target = _user(conn, args.get("user", ""))
        decision = rt.policy.explain(target, entity, int(record), args.get("field") or None,
                                     conn=conn, tables=rt.tables, locale=locale())  # fmt: skip
    return json_response({"data": {"allowed": decision.allowed, "reasons": list(decision.reasons)}})


def _user(conn: Any, raw: str) -> Any:
    import sqlalchemy as sa

    users = users_table()
    column = users.c.id if raw.isdigit() else users.c.username
    value = int(raw) if raw.isdigit() else raw
    user_id = conn.execute(sa.select(users.c.id).where(column == value)).scalar()
    actor = load_actor(conn, user_id) if user_id is not None else None
    if actor is None:
        raise FieldErrors({"user": [message("unknown_user", locale())]})
    return actor


def _admin() -> Any:
    actor = current_actor()
    if actor is None or not actor.is_admin:
        raise PermissionDenied("administrators only")
    return actor
