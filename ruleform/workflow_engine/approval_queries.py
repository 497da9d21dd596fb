"""Reading approvals: the inbox (open tasks for me, including as a delegate), one request
with its steps and tasks, the requests of a record, the exception report (R48) and
delegations. Who may see what follows the policy: a request is visible to its requester,
to whoever holds a task in it, and to whoever may read the record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..errors import FieldErrors, NotFound
from ..platform.actors import Actor
from ..platform.records.values import to_json
from .parties import Organisation
from .snapshot import Definition
from .texts import wf_text

__all__ = ["ApprovalQueries"]


class ApprovalQueries:
    """Read-only approval questions for one actor."""

    def __init__(self, runtime: Any, conn: Connection, actor: Actor):
        self.rt, self.conn, self.actor = runtime, conn, actor
        self.requests = runtime.system_table("approval_requests")
        self.steps = runtime.system_table("approval_steps")
        self.tasks = runtime.system_table("approval_tasks")
        self.locale = actor.locale or runtime.rulebook.default_locale
        self.org = Organisation(runtime, conn)

    # --- the inbox ------------------------------------------------------------------------

    def inbox(self, now: datetime) -> list[dict[str, Any]]:
        """Open tasks of the actor (or of people they stand in for) on active steps."""
        r, s, t = self.requests, self.steps, self.tasks
        me = self.actor.user_id
        if me is None:
            return []
        whose = [t.c.approver_id == me, t.c.acting_approver_id == me]
        delegators = self.org.delegators(me, now)
        if delegators:
            whose.append(t.c.approver_id.in_(sorted(delegators)))
        query = (
            sa.select(
                t.c.id.label("task_id"),
                t.c.approver_id,
                t.c.source,
                t.c.created_at,
                r.c.id.label("request_id"),
                r.c.entity,
                r.c.record_id,
                r.c.transition,
                r.c.requested_by,
                r.c.exception,
                r.c.reason,
                r.c.comment,
                r.c.definition,
                s.c.step_index,
                s.c.escalate_at,
            )
            .join(r, r.c.id == t.c.request_id)
            .join(
                s,
                sa.and_(
                    s.c.request_id == r.c.id,
                    s.c.step_index == t.c.step_index,
                    s.c.round == t.c.round,
                ),
            )
            .where(
                t.c.decision.is_(None),
                r.c.status == "pending",
                s.c.status == "active",
                sa.or_(*whose),
            )
            .order_by(t.c.created_at, t.c.id)
        )
        rows = [dict(row) for row in self.conn.execute(query).mappings()]
        names = self._names(u for row in rows for u in (row["requested_by"], row["approver_id"]))
        return [self._inbox_item(row, names) for row in rows]

    def _inbox_item(self, row: Mapping[str, Any], names: Mapping[int, str]) -> dict[str, Any]:
        definition = Definition.from_json(row["definition"])
        step = definition.steps[row["step_index"]]
        entity = self.rt.rulebook.entities.get(row["entity"])
        return {
            "task_id": row["task_id"],
            "request_id": row["request_id"],
            "entity": row["entity"],
            "entity_label": entity.label.get(self.locale, row["entity"])
            if entity
            else row["entity"],
            "record_id": row["record_id"],
            "title": self._title(entity, row["record_id"]),
            "transition": row["transition"],
            "transition_label": self._transition_label(entity, row["transition"]),
            "step": step.name,
            "step_label": step.label_in(self.locale),
            "requested_by": row["requested_by"],
            "requested_by_name": names.get(row["requested_by"]),
            "on_behalf_of": row["approver_id"]
            if row["approver_id"] != self.actor.user_id
            else None,
            "on_behalf_of_name": names.get(row["approver_id"])
            if row["approver_id"] != self.actor.user_id
            else None,
            "exception": bool(row["exception"]),
            "reason": row["reason"],
            "comment": row["comment"],
            "source": row["source"],
            "since": to_json(row["created_at"]),
            "escalate_at": to_json(row["escalate_at"]),
        }

    # --- one request ------------------------------------------------------------------------

    def request(self, request_id: Any) -> dict[str, Any]:
        """A request with its pinned steps and every task (NotFound unless visible)."""
        try:
            request_id = int(request_id)
        except (TypeError, ValueError):
            raise NotFound("approval") from None
        row = (
            self.conn.execute(sa.select(self.requests).where(self.requests.c.id == request_id))
            .mappings()
            .first()
        )
        if row is None or not self._visible(row):
            raise NotFound("approval")
        return self._describe(row)

    def of_record(self, entity_name: str, record_id: int) -> list[dict[str, Any]]:
        """Every request of a record the actor may read, newest first."""
        rows = (
            self.conn.execute(
                sa.select(self.requests)
                .where(
                    self.requests.c.entity == entity_name,
                    self.requests.c.record_id == record_id,
                )
                .order_by(self.requests.c.id.desc())
            )
            .mappings()
            .all()
        )
        return [self._describe(r) for r in rows]

    def mine(self, limit: int = 100) -> list[dict[str, Any]]:
        """Requests the actor submitted, newest first."""
        rows = (
            self.conn.execute(
                sa.select(self.requests)
                .where(
                    self.requests.c.requested_by == self.actor.user_id,
                )
                .order_by(self.requests.c.id.desc())
                .limit(limit)
            )
            .mappings()
            .all()
        )
        return [self._describe(r) for r in rows]

    def _visible(self, row: Mapping[str, Any]) -> bool:
        me = self.actor.user_id
        if self.actor.is_system or me == row["requested_by"]:
            return True
        t = self.tasks
        holds = self.conn.execute(
            sa.select(t.c.id)
            .where(
                t.c.request_id == row["id"],
                sa.or_(
                    t.c.approver_id == me,
                    t.c.acting_approver_id == me,
                    t.c.decided_by == me,
                ),
            )
            .limit(1)
        ).first()
        return holds is not None or self._readable(row["entity"], row["record_id"])

    def _readable(self, entity_name: str, record_id: int) -> bool:
        entity = self.rt.rulebook.entities.get(entity_name)
        if entity is None or not self.rt.policy.can(self.actor, entity, "read"):
            return False
        table = self.rt.table(entity)
        return (
            self.conn.execute(
                sa.select(table.c.id).where(
                    table.c.id == record_id,
                    self.rt.policy.row_clause(self.actor, entity, self.rt.tables, "read"),
                )
            ).first()
            is not None
        )

    def _describe(self, row: Mapping[str, Any]) -> dict[str, Any]:
        definition = Definition.from_json(row["definition"])
        steps = (
            self.conn.execute(
                sa.select(self.steps)
                .where(self.steps.c.request_id == row["id"])
                .order_by(self.steps.c.step_index)
            )
            .mappings()
            .all()
        )
        tasks = (
            self.conn.execute(
                sa.select(self.tasks)
                .where(self.tasks.c.request_id == row["id"])
                .order_by(self.tasks.c.id)
            )
            .mappings()
            .all()
        )
        people = [row["requested_by"], row["decided_by"]]
        people += [
            u for t in tasks for u in (t["approver_id"], t["acting_approver_id"], t["decided_by"])
        ]
        names = self._names(people)
        entity = self.rt.rulebook.entities.get(row["entity"])
        return {
            "id": row["id"],
            "entity": row["entity"],
            "record_id": row["record_id"],
            "title": self._title(entity, row["record_id"]),
            "transition": row["transition"],
            "transition_label": self._transition_label(entity, row["transition"]),
            "from": row["from_status"],
            "to": row["to_status"],
            "status": row["status"],
            "status_label": wf_text("status_" + str(row["status"]), self.locale),
            "exception": bool(row["exception"]),
            "reason": row["reason"],
            "comment": row["comment"],
            "requested_by": row["requested_by"],
            "requested_by_name": names.get(row["requested_by"]),
            "created_at": to_json(row["created_at"]),
            "decided_at": to_json(row["decided_at"]),
            "decided_by": row["decided_by"],
            "rulebook_version": row["rulebook_version"],
            "current_step": row["current_step"],
            "withdraw": definition.withdraw,
            "steps": [self._step(definition, s, tasks, names) for s in steps],
        }

    def _step(
        self,
        definition: Definition,
        s: Mapping[str, Any],
        tasks: Iterable[Mapping[str, Any]],
        names: Mapping[int, str],
    ) -> dict[str, Any]:
        d = definition.steps[s["step_index"]]
        return {
            "index": s["step_index"],
            "name": d.name,
            "label": d.label_in(self.locale),
            "mode": d.mode,
            "at_least": d.at_least,
            "status": s["status"],
            "round": s["round"],
            "started_at": to_json(s["started_at"]),
            "decided_at": to_json(s["decided_at"]),
            "escalate_at": to_json(s["escalate_at"]),
            "escalated_at": to_json(s["escalated_at"]),
            "tasks": [
                {
                    "id": t["id"],
                    "round": t["round"],
                    "approver": t["approver_id"],
                    "approver_name": names.get(t["approver_id"]),
                    "acting_approver": t["acting_approver_id"],
                    "acting_approver_name": names.get(t["acting_approver_id"]),
                    "source": t["source"],
                    "decision": t["decision"],
                    "decided_by": t["decided_by"],
                    "decided_by_name": names.get(t["decided_by"]),
                    "comment": t["comment"],
                    "relaxed": t["relaxed"] or [],
                    "decided_at": to_json(t["decided_at"]),
                }
                for t in tasks
                if t["step_index"] == s["step_index"]
            ],
        }

    # --- exceptions (R48) -------------------------------------------------------------------------

    def exceptions(self, entity_name: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        """Exception requests (every outcome) on records the actor may read, newest first."""
        r = self.requests
        result: list[dict[str, Any]] = []
        for entity in self.rt.rulebook.entities.values():
            if entity_name not in (None, entity.name) or not self.rt.policy.can(
                self.actor, entity, "read"
            ):
                continue
            table = self.rt.table(entity)
            readable = sa.select(table.c.id).where(
                self.rt.policy.row_clause(self.actor, entity, self.rt.tables, "read")
            )
            rows = (
                self.conn.execute(
                    sa.select(r)
                    .where(
                        r.c.exception.is_(True),
                        r.c.entity == entity.name,
                        r.c.record_id.in_(readable),
                    )
                    .order_by(r.c.created_at.desc())
                    .limit(limit)
                )
                .mappings()
                .all()
            )
            result += [self._describe(row) for row in rows]
        result.sort(key=lambda x: x["created_at"] or "", reverse=True)
        return result[:limit]

    # --- delegations ---------------------------------------------------------------------------

    def delegations(self, now: datetime) -> list[dict[str, Any]]:
        """The actor's delegations (given and received) that have not ended."""
        d = self.rt.system_table("delegations")
        me = self.actor.user_id
        rows = (
            self.conn.execute(
                sa.select(d)
                .where(
                    sa.or_(d.c.user_id == me, d.c.delegate_id == me),
                    d.c.ends_at > now,
                    d.c.revoked_at.is_(None),
                )
                .order_by(d.c.starts_at)
            )
            .mappings()
            .all()
        )
        names = self._names(u for row in rows for u in (row["user_id"], row["delegate_id"]))
        return [
            {
                "id": row["id"],
                "user": row["user_id"],
                "user_name": names.get(row["user_id"]),
                "delegate": row["delegate_id"],
                "delegate_name": names.get(row["delegate_id"]),
                "starts_at": to_json(row["starts_at"]),
                "ends_at": to_json(row["ends_at"]),
                "reason": row["reason"],
                "mine": row["user_id"] == me,
            }
            for row in rows
        ]

    def delegate(
        self,
        delegate: Any,
        starts_at: datetime,
        ends_at: datetime,
        reason: str | None,
        now: datetime,
    ) -> int:
        """The actor delegates their approvals to ``delegate`` between the two times."""
        errors: dict[str, list[str]] = {}
        try:
            delegate_id = self.org.active([int(delegate)])[0]
        except (TypeError, ValueError, IndexError):
            errors["delegate"] = [wf_text("unknown_user", self.locale)]
            delegate_id = None
        if delegate_id is not None and delegate_id == self.actor.user_id:
            errors["delegate"] = [wf_text("delegation_self", self.locale)]
        if ends_at <= starts_at:
            errors["ends_at"] = [wf_text("delegation_dates", self.locale)]
        if errors:
            raise FieldErrors(errors)
        d = self.rt.system_table("delegations")
        return self.conn.execute(
            d.insert()
            .values(
                user_id=self.actor.user_id,
                delegate_id=delegate_id,
                starts_at=starts_at,
                ends_at=ends_at,
                reason=(reason or "").strip()[:2000] or None,
                created_at=now,
            )
            .returning(d.c.id)
        ).scalar_one()

    def revoke(self, delegation_id: Any, now: datetime) -> None:
        d = self.rt.system_table("delegations")
        result = self.conn.execute(
            d.update()
            .where(
                d.c.id == delegation_id,
                d.c.user_id == self.actor.user_id,
                d.c.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
        if result.rowcount != 1:
            raise NotFound("delegation")

    # --- helpers ----------------------------------------------------------------------------------

    def people(self) -> list[tuple[int, str]]:
        """Active users (id, display name) for choosing an approver or a delegate."""
        u = self.rt.system_table("users")
        rows = self.conn.execute(
            sa.select(u.c.id, u.c.display_name, u.c.username)
            .where(u.c.active.is_(True))
            .order_by(u.c.username)
        ).all()
        return [(r.id, f"{r.display_name} ({r.username})") for r in rows]

    def _names(self, ids: Iterable[int | None]) -> dict[int, str]:
        wanted = sorted({i for i in ids if i is not None})
        if not wanted:
            return {}
        u = self.rt.system_table("users")
        rows = self.conn.execute(sa.select(u.c.id, u.c.display_name).where(u.c.id.in_(wanted)))
        return {r.id: r.display_name for r in rows}

    def _title(self, entity: Any, record_id: int) -> str:
        if entity is None:
            return f"#{record_id}"
        readable = self.rt.policy.readable_fields(self.actor, entity)
        if entity.title_field not in readable or entity.title_field not in self.rt.table(entity).c:
            return f"#{record_id}"
        table = self.rt.table(entity)
        value = self.conn.execute(
            sa.select(table.c[entity.title_field]).where(table.c.id == record_id)
        ).scalar()
        return str(value) if value not in (None, "") else f"#{record_id}"

    def _transition_label(self, entity: Any, name: str) -> str:
        t = entity.transitions.get(name) if entity is not None else None
        return t.label.get(self.locale, name) if t is not None else name
