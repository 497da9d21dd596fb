"""Transferring records from one owner to another at once (R14: handover when someone
leaves, R16: reassigning hoarded customers).

A transfer is a series of ordinary updates through ``RecordService.update`` — the same
rules, history entry per record, hooks and time rules (``handover_at`` starts R14's
follow-up) as an edit by hand — in one transaction: every record moves or none does.
Who may transfer: a role that may update the entity *and* assign owners
(``Policy.may_assign_owner``); the records moved are those of the old owner inside the
actor's update scope (and any filters); the new owner must be within the actor's reach.
Access follows at once: scopes are evaluated per request, nothing is cached per record.

When the entity has them, the handover fields are filled too: ``previous_owner`` (a user
field) gets the old owner, ``handover_at`` the time, ``handover_reason`` the reason given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ...errors import FieldErrors, PermissionDenied
from ...metadata.field_types import type_of
from ..messages import message
from ..runtime import utcnow
from .queries import Filter, ListQuery
from .scoped import compile_scope
from .values import to_json

__all__ = ["TransferResult", "transfer_records", "MAX_TRANSFER"]

MAX_TRANSFER = 5000


@dataclass
class TransferResult:
    count: int
    ids: list[int] = field(default_factory=list)


def transfer_records(service: Any, entity_name: str, from_user: int, to_user: int, *,
                     query: ListQuery | None = None, reason: str | None = None,
                     max_records: int = MAX_TRANSFER) -> TransferResult:  # fmt: skip
    """Give every record of ``from_user`` (matching ``query``) to ``to_user``."""
    entity = service.entity(entity_name)
    actor, policy = service.actor, service.policy
    locale = actor.locale or service.rt.rulebook.default_locale
    if not entity.owner or not policy.can(actor, entity, "update") \
            or not policy.may_assign_owner(actor, entity, "update"):  # fmt: skip
        raise PermissionDenied("transfer")
    if from_user == to_user:
        raise FieldErrors({"to": [message("transfer_same_user", locale)]})
    _check_user(service, to_user, "to", locale)
    base = query or ListQuery(default_view=False)
    rows_query = ListQuery(view=base.view, filters=[*base.filters, Filter("owner", "eq", from_user)],
                           search=base.search, default_view=False)  # fmt: skip
    scoped = compile_scope(service, entity, rows_query, "update")
    scoped.raise_errors()
    table = scoped.table
    stmt = scoped.select(table.c.id, table.c.row_version).order_by(table.c.id)
    rows = list(scoped.execute(service.conn, stmt.limit(max_records + 1)))
    if len(rows) > max_records:
        raise FieldErrors({"from": [message("transfer_too_large", locale, max=max_records)]})
    payload = _payload(entity, from_user, to_user, reason)
    for row in rows:
        service.update(entity.name, row.id, dict(payload), row.row_version)
    return TransferResult(len(rows), [r.id for r in rows])


def _payload(entity: Any, from_user: int, to_user: int, reason: str | None) -> dict[str, Any]:
    payload: dict[str, Any] = {"owner": to_user}
    f = entity.fields.get("previous_owner")
    if f is not None and type_of(f).storage == "user":
        payload["previous_owner"] = from_user
    f = entity.fields.get("handover_at")
    kind = type_of(f).storage if f is not None else None
    if kind in ("datetime", "date"):
        now = utcnow()
        payload["handover_at"] = to_json(now if kind == "datetime" else now.date())
    if reason and "handover_reason" in entity.fields:
        payload["handover_reason"] = reason
    return payload


def _check_user(service: Any, user_id: Any, name: str, locale: str) -> None:
    users = service.rt.system_table("users")
    found = service.conn.execute(sa.select(users.c.id).where(
        users.c.id == user_id, users.c.active.is_(True))).first()  # fmt: skip
    if found is None:
        raise FieldErrors({name: [message("unknown_user", locale)]})
