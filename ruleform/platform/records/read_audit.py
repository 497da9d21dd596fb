"""The read audit (R40) and alerts on unusual access (R47).

Every time someone sees records of an entity with ``audit: {reads: true}``, or reveals a
sensitive value anywhere, a row says who, which record, which fields, when and how
(``via``: view | reveal | list | export). Exports are always written, whatever the
entity. Rows are written in the transaction that read the data.

Unusual access raises an alert to every administrator through the outbox (kind
``alert``, inbox and email, at most one per user, kind and hour): an export of more rows
than ``EXPORT_ALERT_ROWS``, or more than ``VIEW_ALERT_RECORDS`` records seen by one user
within an hour (``Thresholds``; both are settings).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ..outbox import OutboxMessage, enqueue

__all__ = ["Thresholds", "write_reads", "check_unusual", "AuditQuery", "query_audit"]

VIAS = ("view", "reveal", "list", "export")


@dataclass(frozen=True)
class Thresholds:
    """When access is unusual (settings ``EXPORT_ALERT_ROWS``, ``VIEW_ALERT_RECORDS``)."""

    export_rows: int = 1000
    views_per_hour: int = 500


def write_reads(service: Any, entity_name: str, record_ids: Iterable[int],
                fields: Sequence[str], via: str, now: datetime) -> int:  # fmt: skip
    """One audit row per record; returns how many were written."""
    rows = [{"user_id": service.actor.user_id, "entity": entity_name, "record_id": int(r),
             "fields": list(fields), "at": now, "via": via} for r in record_ids]  # fmt: skip
    if rows:
        service.conn.execute(service.rt.system_table("read_audit").insert(), rows)
    return len(rows)


def check_unusual(service: Any, entity_name: str, via: str, count: int, now: datetime,
                  limits: Thresholds) -> bool:  # fmt: skip
    """Alert the administrators when this access (``count`` records) is unusual."""
    actor = service.actor
    if actor.user_id is None:
        return False
    if via == "export":
        unusual = count > limits.export_rows
        seen = count
    else:
        audit = service.rt.system_table("read_audit")
        seen = service.conn.execute(
            sa.select(sa.func.count()).select_from(audit).where(
                audit.c.user_id == actor.user_id, audit.c.at > now - timedelta(hours=1),
                audit.c.via.in_(("view", "list", "reveal")))).scalar_one()  # fmt: skip
        unusual = seen > limits.views_per_hour
    if unusual:
        _alert(service, entity_name, "mass_export" if via == "export" else "bulk_viewing",
               seen, now)  # fmt: skip
    return unusual


_TEXTS = {
    "mass_export": {
        "zh-CN": ("异常访问：大批量导出", "用户 {who} 导出了 {count} 条“{entity}”记录。"),
        "en": ("Unusual access: mass export", "{who} exported {count} {entity} records."),
    },
    "bulk_viewing": {
        "zh-CN": ("异常访问：大量查看", "用户 {who} 在一小时内查看了 {count} 条记录（最近：“{entity}”）。"),
        "en": ("Unusual access: bulk viewing",
               "{who} viewed {count} records within an hour (last: {entity})."),
    },
}  # fmt: skip


def _alert(service: Any, entity_name: str, kind: str, count: int, now: datetime) -> None:
    rt, actor = service.rt, service.actor
    entity = rt.rulebook.entities.get(entity_name)
    hour = now.strftime("%Y%m%d%H")
    outbox = rt.system_table("outbox")
    admins = _admins(service)
    if not admins:
        return
    first = f"access-alert:{kind}:{actor.user_id}:{hour}:inbox:user:{admins[0][0]}"
    if service.conn.execute(sa.select(outbox.c.id).where(
            outbox.c.idempotency_key == first)).first() is not None:  # fmt: skip
        return  # alerted this hour already (the keys below would be refused anyway)
    for admin_id, locale in admins:
        texts = _TEXTS[kind]["zh-CN" if (locale or "").startswith("zh") else "en"]
        label = entity.label.get(locale, entity_name) if entity is not None else entity_name
        who = (actor.display_name or actor.username).replace("{", "(").replace("}", ")")
        body = texts[1].format(who=who, count=count, entity=label)
        for channel in ("inbox", "email"):
            payload = {"action": "alert", "alert": kind, "entity": entity_name, "record_id": None,
                       "user_id": actor.user_id, "count": count, "locale": locale,
                       "recipient": {"user_id": admin_id}, "audience": "internal",
                       "path": f"/admin/read-audit?user={actor.user_id}",
                       "message": {"subject": {locale: texts[0]}, "body": {locale: body}},
                       "fired_at": now.isoformat()}  # fmt: skip
            key = f"access-alert:{kind}:{actor.user_id}:{hour}:{channel}:user:{admin_id}"
            enqueue(service.conn, outbox, OutboxMessage(key=key, kind="alert", channel=channel,
                                                        payload=payload, recipient=str(admin_id),
                                                        entity=entity_name), now)  # fmt: skip


def _admins(service: Any) -> list[tuple[int, str]]:
    """Active administrators (the flag, or a role marked ``admin``) and their locales."""
    rt = service.rt
    users, user_roles = rt.system_table("users"), rt.system_table("user_roles")
    admin_roles = [n for n, r in rt.rulebook.roles.items() if r.admin]
    holders = sa.select(user_roles.c.user_id).where(user_roles.c.role.in_(admin_roles))
    query = sa.select(users.c.id, users.c.locale).where(
        users.c.active.is_(True), sa.or_(users.c.is_admin.is_(True), users.c.id.in_(holders))
    )
    default = rt.rulebook.default_locale
    return [(r.id, r.locale or default) for r in service.conn.execute(query.order_by(users.c.id))]


@dataclass
class AuditQuery:
    """Filters of the read audit (all optional); newest first, cut by ``before`` (an id)."""

    user_id: int | None = None
    entity: str | None = None
    record_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    before: int | None = None
    limit: int = 100


def query_audit(conn: Any, rt: Any, q: AuditQuery) -> tuple[list[dict[str, Any]], int | None]:
    """Rows of the read audit matching ``q`` (with the user's name) and the next cursor."""
    audit, users = rt.system_table("read_audit"), rt.system_table("users")
    query = (sa.select(audit, users.c.username, users.c.display_name)
             .select_from(audit.outerjoin(users, users.c.id == audit.c.user_id)))  # fmt: skip
    conditions = {"user_id": lambda v: audit.c.user_id == v, "entity": lambda v: audit.c.entity == v,
                  "record_id": lambda v: audit.c.record_id == v, "since": lambda v: audit.c.at >= v,
                  "until": lambda v: audit.c.at < v, "before": lambda v: audit.c.id < v}  # fmt: skip
    for name, clause in conditions.items():
        if getattr(q, name) is not None:
            query = query.where(clause(getattr(q, name)))
    rows = [dict(r) for r in conn.execute(query.order_by(audit.c.id.desc()).limit(q.limit + 1))
            .mappings()]  # fmt: skip
    cursor = rows[q.limit - 1]["id"] if len(rows) > q.limit else None
    return rows[: q.limit], cursor
