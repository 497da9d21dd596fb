"""The workflow service: the I/O shell around ``machine`` (and ``approvals``) — lock the
record, check, persist the status change, write history, status periods and outbox events,
all in the caller's transaction (a refused transition changes nothing).

``apply_transition(runtime, conn, actor, entity, record_id, name, payload, expected_version)``
is the one way a status changes. Transitions with an approval open a request instead
(``approval_service.py``); the status changes when its last step approves.

Locking: the record row is locked first (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite
the app's ``BEGIN IMMEDIATE`` already serialises writers), then re-checked, then written
with ``WHERE row_version = <read>`` — a stale ``expected_version`` is a ``VersionConflict``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..errors import FieldErrors, NotFound, PermissionDenied, TransitionNotAllowed, VersionConflict
from ..metadata.conditions import EvalContext
from ..metadata.field_types import ValueError_, parse_value
from ..metadata.model import Entity, Transition
from ..metadata.record_rules import failed_rules, is_empty
from ..platform.actors import SYSTEM, Actor, load_actor
from ..platform.messages import message
from ..platform.records.row_writer import WRITERS_ACTOR, RowWriter, SystemWrite
from ..platform.records.write_rules import _compute as compute_fields  # the record service's pass
from ..platform.records.write_rules import form_state
from ..platform.runtime import Runtime, utcnow
from .approval_service import ApprovalService
from .history import Books
from .machine import Option, Situation, missing_required, option, options
from .parties import Organisation
from .results import TransitionResult
from .texts import wf_text

__all__ = ["WorkflowService", "TransitionResult", "apply_transition", "available_transitions"]

_MAX_TEXT = 4000
_META_KEYS = ("comment", "reason", "confirm")


def apply_transition(
    runtime: Runtime,
    conn: Connection,
    actor: Actor,
    entity: str,
    record_id: Any,
    transition: str,
    payload: Mapping[str, Any] | None = None,
    expected_version: int | None = None,
    *,
    comment: str | None = None,
    reason: str | None = None,
) -> TransitionResult:
    """Take ``transition`` on the record (or open its approval request); one transaction.

    ``payload`` holds the values of the transition's ``require`` fields; ``comment`` and
    ``reason`` (required for exceptions, R48) may also be given in it under those names
    when no required field is called so.
    """
    return WorkflowService(runtime, conn, actor).apply(
        entity,
        record_id,
        transition,
        payload or {},
        expected_version,
        comment=comment,
        reason=reason,
    )


def available_transitions(
    runtime: Runtime, conn: Connection, actor: Actor, entity: str, record_id: Any
) -> tuple[dict[str, Any], list[Option]]:
    """The record and every transition leaving its status, with reasons where unavailable."""
    return WorkflowService(runtime, conn, actor).options(entity, record_id)


class WorkflowService:
    """Transitions for one actor on one connection (inside the caller's transaction)."""

    def __init__(self, runtime: Runtime, conn: Connection, actor: Actor):
        self.rt = runtime
        self.conn = conn
        self.actor = actor
        self.policy = runtime.policy
        self.books = Books(runtime, conn)
        self.org = Organisation(runtime, conn)
        self.locale = actor.locale or runtime.rulebook.default_locale

    # --- reading ---------------------------------------------------------------------------

    def entity(self, name: str) -> Entity:
        """The entity if the actor may read it and it has statuses; NotFound otherwise."""
        entity = self.rt.rulebook.entities.get(name)
        if entity is None or not self.policy.can(self.actor, entity, "read"):
            raise NotFound(name)
        return entity

    def load(
        self, entity: Entity, record_id: Any, lock: bool = False, scoped: bool = True
    ) -> dict[str, Any]:
        """The stored record (NotFound if missing or, when ``scoped``, not readable)."""
        try:
            record_id = int(record_id)
        except (TypeError, ValueError):
            raise NotFound(entity.name) from None
        table = self.rt.table(entity)
        query = sa.select(table).where(table.c.id == record_id)
        if scoped:
            query = query.where(self.policy.row_clause(self.actor, entity, self.rt.tables, "read"))
        if lock and self.conn.dialect.name == "postgresql":
            query = query.with_for_update(of=table)
        row = self.conn.execute(query).mappings().first()
        if row is None:
            raise NotFound(entity.name)
        return dict(row)

    def eval_context(
        self,
        actor: Actor | None = None,
        previous: Mapping | None = None,
        now: datetime | None = None,
    ) -> EvalContext:
        """Conditions may count related records and follow references (read as the system)."""
        ctx = self.rt.eval_context(
            actor or self.actor, previous=dict(previous or {}) or None, now=now
        )
        ctx.related = self._related
        ctx.lookup = self._lookup
        return ctx

    def _related(self, entity: str, fk: str, record_id: Any) -> list[Mapping[str, Any]]:
        t = self.rt.tables[entity]
        query = sa.select(t).where(t.c[fk] == record_id, t.c.archived.is_(False))
        return list(self.conn.execute(query).mappings())

    def _lookup(self, entity: str, record_id: Any) -> Mapping[str, Any] | None:
        t = self.rt.tables[entity]
        return self.conn.execute(sa.select(t).where(t.c.id == record_id)).mappings().first()

    def pending_request(self, entity: str, record_id: int) -> Mapping[str, Any] | None:
        r = self.rt.system_table("approval_requests")
        return (
            self.conn.execute(
                sa.select(r).where(
                    r.c.entity == entity,
                    r.c.record_id == record_id,
                    r.c.status == "pending",
                )
            )
            .mappings()
            .first()
        )

    def situation(
        self, entity: Entity, record: Mapping[str, Any], ctx: EvalContext, pending: bool
    ) -> Situation:
        return Situation(
            record, self.permitted(entity, record), ctx, self.locale, pending,
            self.rt.rulebook.roles,
        )  # fmt: skip

    def permitted(self, entity: Entity, record: Mapping[str, Any]) -> frozenset[str]:
        """Transitions a role of the actor holds *and* whose scope holds this record (a right
        of one role does not reach rows only another role reads)."""
        if self.actor.is_system:
            return frozenset(entity.transitions)
        holders = {n: self.policy.transition_holders(self.actor, entity, n)
                   for n in entity.transitions}  # fmt: skip
        if not any(holders.values()):
            return frozenset()
        if record.get("id") is None:  # a record not stored yet (demo seeding): role rights only
            return frozenset(n for n, roles in holders.items() if roles)
        reach = self.policy.roles_reaching(self.conn, self.actor, entity, self.rt.tables,
                                           record["id"], "read", in_scope=True)  # fmt: skip
        return frozenset(n for n, roles in holders.items() if roles & reach)

    def options(self, entity_name: str, record_id: Any) -> tuple[dict[str, Any], list[Option]]:
        """The record and the transitions leaving its status, each allowed or with reasons."""
        entity = self.entity(entity_name)
        stored = self.load(entity, record_id)
        if entity.statuses is None:
            return stored, []
        pending = self.pending_request(entity.name, stored["id"]) is not None
        return stored, options(
            entity, self.situation(entity, stored, self.eval_context(previous=stored), pending)
        )

    # --- applying ------------------------------------------------------------------------------

    def apply(
        self,
        entity_name: str,
        record_id: Any,
        name: str,
        payload: Mapping[str, Any],
        expected_version: int | None,
        *,
        comment: str | None = None,
        reason: str | None = None,
    ) -> TransitionResult:
        """Check and take transition ``name``; with an approval, open the request instead."""
        entity = self.entity(entity_name)
        t = entity.transitions.get(name)
        if t is None:
            raise NotFound(name)
        stored = self.load(entity, record_id, lock=True)
        if name not in self.permitted(entity, stored):
            raise PermissionDenied(name)
        self._check_version(stored, expected_version)
        values, comment, reason = self._parse(entity, t, payload, comment, reason)
        record = {**stored, **values}
        ctx = self.eval_context(previous=stored)
        pending = self.pending_request(entity.name, stored["id"]) is not None
        opt = option(entity, t, self.situation(entity, record, ctx, pending))
        if opt.reasons:
            texts = [r.text for r in opt.reasons]
            raise TransitionNotAllowed(texts[0], texts)
        self._check_complete(entity, t, record)
        if t.approval is not None:
            return ApprovalService(self).submit(entity, t, stored, values, comment, reason, ctx)
        final = self.target_record(entity, t, record, ctx)
        self.validate(entity, final, ctx)
        updates = {k: final.get(k) for k in entity.fields if final.get(k) != stored.get(k)}
        new = self.change_status(
            entity,
            stored,
            t.name,
            t.target,
            updates,
            now=utcnow(),
            by=self.actor.user_id,
            comment=comment,
            reason=reason,
            exception=t.exception,
        )
        return TransitionResult("done", entity.name, new["id"], new["status"], new["row_version"])

    def _check_version(self, stored: Mapping[str, Any], expected: Any) -> None:
        if expected is None or expected == "":
            raise FieldErrors({"row_version": [message("required", self.locale)]})
        try:
            expected = int(expected)
        except (TypeError, ValueError):
            raise FieldErrors({"row_version": [message("not_integer", self.locale)]}) from None
        if expected != stored["row_version"]:
            raise VersionConflict(message("version_conflict", self.locale), stored["row_version"])

    def _parse(
        self,
        entity: Entity,
        t: Transition,
        payload: Mapping[str, Any],
        comment: str | None,
        reason: str | None,
    ) -> tuple[dict[str, Any], str | None, str | None]:
        """The ``require`` values (parsed like any write), the comment and the reason."""
        errors: dict[str, list[str]] = {}
        values: dict[str, Any] = {}
        tz = self.rt.rulebook.timezone
        meta = {k: payload[k] for k in _META_KEYS if k in payload and k not in t.require}
        for key, raw in payload.items():
            if key in meta:
                continue
            f = entity.fields.get(key)
            if key not in t.require or f is None:
                errors.setdefault(key, []).append(message("unknown_field", self.locale))
                continue
            try:
                values[key] = parse_value(f, raw, tz)
            except ValueError_ as exc:
                text = (
                    f.pattern_message.get(self.locale)
                    if exc.code == "pattern" and f.pattern_message
                    else message(exc.code, self.locale, **exc.params)
                )
                errors.setdefault(key, []).append(text)
        comment = _text(comment if comment is not None else meta.get("comment"))
        reason = _text(reason if reason is not None else meta.get("reason"))
        if t.exception and not reason:
            errors.setdefault("reason", []).append(wf_text("needs_reason", self.locale))
        if errors:
            raise FieldErrors(errors)
        return values, comment, reason

    def _check_complete(self, entity: Entity, t: Transition, record: Mapping[str, Any]) -> None:
        missing = missing_required(t, record)
        if missing:
            raise FieldErrors({f: [message("required", self.locale)] for f in missing})

    def target_record(
        self, entity: Entity, t: Transition, record: Mapping[str, Any], ctx: EvalContext
    ) -> dict[str, Any]:
        """The record after ``t``: its ``set`` updates, computed fields, the new status."""
        final = dict(record)
        for name, expr in t.set.items():
            final[name] = expr.evaluate(record, ctx)
        final["status"] = t.target
        compute_fields(entity, final, ctx)
        return final

    def validate(self, entity: Entity, record: Mapping[str, Any], ctx: EvalContext) -> None:
        """The record in its new status must satisfy required fields and validation rules."""
        errors: dict[str, list[str]] = {}
        for name, state in form_state(entity, record, ctx).items():
            f = entity.fields[name]
            if state["required"] and f.type != "computed" and is_empty(record.get(name)):
                errors.setdefault(name, []).append(message("required", self.locale))
        for rule in failed_rules(entity, record, self.actor.roles, ctx):
            errors.setdefault(rule.field or "_record", []).append(rule.message.get(self.locale))
        if errors:
            raise FieldErrors(errors)

    # --- writing -------------------------------------------------------------------------------

    def change_status(
        self,
        entity: Entity,
        stored: Mapping[str, Any],
        transition: str,
        target: str,
        updates: Mapping[str, Any],
        *,
        now: datetime,
        by: int | None,
        comment: str | None = None,
        reason: str | None = None,
        exception: bool = False,
        request_id: int | None = None,
    ) -> dict[str, Any]:
        """Write the new status (and updates), the log, the status period, history, events."""
        source = stored.get("status")
        new = self.write_row(entity, stored, {**updates, "status": target}, now,
                             action="transition", by=by,
                             note={"transition": transition, "comment": comment, "reason": reason,
                                   "request": request_id, "exception": exception or None})  # fmt: skip
        user = by
        log_id = self.books.log_transition(
            entity.name,
            stored["id"],
            transition,
            source,
            target,
            user,
            now,
            comment,
            reason,
            exception,
            request_id,
        )
        period = self.books.enter_status(entity.name, stored["id"], target, now, user, transition)
        payload = {
            "transition": transition,
            "from": source,
            "to": target,
            "by": user,
            "request_id": request_id,
            "exception": exception,
            "owner": new.get("owner"),
        }
        self.books.event("transition", transition, entity.name, stored["id"], log_id, payload, now)
        self.books.event("entered", target, entity.name, stored["id"], period, payload, now)
        return new

    def write_row(self, entity: Entity, stored: Mapping[str, Any], values: Mapping[str, Any],
                  now: datetime, *, action: str = "update", by: Any = WRITERS_ACTOR,
                  note: Mapping[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
        """Change the row through the row writer (version checked and bumped, history, hooks);
        ``by`` defaults to this service's actor."""
        writer = RowWriter(SystemWrite(self.rt, self.conn, self.actor))
        return writer.update(entity, stored, values, now, action=action, by=by, note=note)

    def actor_for(self, user_id: int | None) -> Actor:
        """The actor ``user_id`` (for evaluating a requester's ``set`` on approval)."""
        if user_id is None:
            return SYSTEM
        return load_actor(self.conn, user_id) or Actor(user_id=user_id, username=str(user_id))


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text[:_MAX_TEXT] or None
