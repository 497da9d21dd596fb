"""The record service: the I/O shell around ``write_rules`` — check access, lock, validate,
persist, write history and audit, all in the caller's transaction.

Every write path (form, API, import, jobs) calls this service; nothing else writes entity
tables. A refused write changes nothing: checks run before the first statement that
writes, and everything happens in one transaction that the caller commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ...errors import FieldErrors, NotFound, PermissionDenied, VersionConflict
from ...metadata.field_types import ValueError_, parse_value, type_of
from ...metadata.model import Entity
from ..actors import Actor
from ..messages import message
from ..runtime import Runtime, utcnow
from .hooks import record_hooks
from .read_audit import Thresholds, check_unusual, write_reads
from .row_writer import RowWriter
from .supplements import supplements_of
from .values import mask
from .write_rules import form_state, prepare_write

__all__ = ["RecordService", "RecordView"]


@dataclass
class RecordView:
    """A record as one actor may see it."""

    entity: Entity
    values: dict[str, Any]  # readable fields and system columns; sensitive ones masked
    masked: frozenset[str] = frozenset()
    supplements: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # e.g. a possible duplicate (warn rules)

    @property
    def id(self) -> int:
        return self.values["id"]

    @property
    def version(self) -> int:
        return self.values["row_version"]


def _is_actors_own(actor: Actor, name: str, f: Any, value: Any) -> bool:
    """Whether ``value`` is the actor's own user id or department (known to exist)."""
    if value is None or actor.user_id is None:
        return False
    kind = _link_kind(name, f)
    if kind == "user":
        return value == actor.user_id
    if kind == "department":
        return value == actor.department_id
    return False


def _link_kind(name: str, f: Any) -> str | None:
    """What an id in column ``name`` refers to: ``user``, ``department``, ``reference`` (a
    record), or None (not a link)."""
    if f is not None:
        kind = type_of(f).storage
        return kind if kind in ("user", "department", "reference") else None
    return {"owner": "user", "department": "department"}.get(name)


class RecordService:
    """Create, read, update and archive records of any entity, for one actor."""

    def __init__(self, runtime: Runtime, conn: Connection, actor: Actor,
                 limits: Thresholds | None = None):  # fmt: skip
        self.rt = runtime
        self.conn = conn
        self.actor = actor
        self.policy = runtime.policy
        self.limits = limits or Thresholds()  # R47: when reading is unusual
        self.hook_state: dict[str, Any] = {}  # what a write's hooks pass from before to after

    # --- reading ---------------------------------------------------------------------

    def entity(self, name: str) -> Entity:
        """The entity ``name`` if the actor may read it; NotFound otherwise (no existence leak)."""
        entity = self.rt.rulebook.entities.get(name)
        if entity is None or not self.policy.can(self.actor, entity, "read"):
            raise NotFound(name)
        return entity

    def _stored(self, entity: Entity, record_id: Any, action: str = "read",
                for_update: bool = False) -> dict[str, Any]:  # fmt: skip
        table = self.rt.table(entity)
        try:
            record_id = int(record_id)
        except (TypeError, ValueError):
            raise NotFound(entity.name) from None
        read = self.policy.scope(self.actor, entity, self.rt.tables, "read")
        query = sa.select(table).where(table.c.id == record_id, read.clause)
        if for_update and self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = self.conn.execute(query, read.params).mappings().first()
        if row is None:
            raise NotFound(entity.name)
        if action != "read":
            scope = self.policy.scope(self.actor, entity, self.rt.tables, action)
            allowed = self.conn.execute(
                sa.select(sa.literal(1)).where(table.c.id == record_id, scope.clause),
                scope.params,
            ).first()
            if allowed is None:
                raise PermissionDenied(action)
        return dict(row)

    def get(self, entity_name: str, record_id: Any, reveal: Iterable[str] = (), *,
            watch: bool = True) -> RecordView:  # fmt: skip
        """The record as the actor may see it; revealing sensitive fields is audited.
        ``watch=False``: the record shown after the actor's own write is not counted
        towards R47's bulk-viewing alert (it is still audited)."""
        entity = self.entity(entity_name)
        stored = self._stored(entity, record_id)
        readable = self.readable(entity, stored["id"])
        revealed = {f for f in reveal if f in readable and entity.fields.get(f) is not None
                    and entity.fields[f].sensitive}  # fmt: skip
        view = self._view(entity, stored, readable, revealed)
        view.supplements = supplements_of(self.conn, self.rt.system_table("supplements"),
                                          entity.name, view.id, readable)  # fmt: skip
        if entity.audit_reads or revealed:
            self._audit_read(entity, view.id, sorted(readable - view.masked),
                             "reveal" if revealed else "view", watch)  # fmt: skip
        return view

    def readable(self, entity: Entity, record_id: int) -> frozenset[str]:
        """The fields of a record in the actor's read scope they may read (those of the
        roles reaching it: ``Policy.record_readable``)."""
        return self.policy.record_readable(self.conn, self.actor, entity, self.rt.tables,
                                           record_id)  # fmt: skip

    def _view(self, entity: Entity, stored: Mapping[str, Any], readable: frozenset[str],
              revealed: set[str] | frozenset[str] = frozenset()) -> RecordView:  # fmt: skip
        values, masked = {}, set()
        for name, value in stored.items():
            if name not in readable:
                continue
            f = entity.fields.get(name)
            if f is not None and f.sensitive and name not in revealed and value not in (None, ""):
                values[name] = mask(value)
                masked.add(name)
            else:
                values[name] = value
        return RecordView(entity, values, frozenset(masked))

    def _audit_read(self, entity: Entity, record_id: int, fields: list[str], via: str,
                    watch: bool = True) -> None:  # fmt: skip
        if self.actor.user_id is None:
            return
        now = utcnow()
        write_reads(self, entity.name, [record_id], fields, via, now)
        if watch:
            check_unusual(self, entity.name, via, 1, now, self.limits)

    def audit_list(self, entity: Entity, record_ids: list[int], fields: list[str],
                   hidden: list[frozenset[str]] | None = None) -> None:  # fmt: skip
        """R40: a list of an audited entity was seen (one row per record shown, naming the
        ``fields`` shown less the row's ``hidden`` ones); R47: many records seen within an
        hour alert the administrators."""
        if entity.audit_reads and record_ids and self.actor.user_id is not None:
            now = utcnow()
            by_fields: dict[frozenset[str], list[int]] = {}
            for i, record_id in enumerate(record_ids):
                by_fields.setdefault(hidden[i] if hidden else frozenset(), []).append(record_id)
            for left_out, ids in by_fields.items():
                write_reads(self, entity.name, ids, [f for f in fields if f not in left_out],
                            "list", now)  # fmt: skip
            check_unusual(self, entity.name, "list", len(record_ids), now, self.limits)

    # --- writing -------------------------------------------------------------------------

    def create(self, entity_name: str, payload: Mapping[str, Any]) -> RecordView:
        """Create a record from ``payload``; FieldErrors lists every problem."""
        entity = self.entity(entity_name)
        if not self.policy.can(self.actor, entity, "create"):
            raise PermissionDenied("create")
        plan = prepare_write(
            self.rt, entity, self.actor, payload, None,
            writable=self.policy.writable_fields(self.actor, entity, "create"),
            may_assign_owner=self.policy.may_assign_owner(self.actor, entity, "create"),
        )  # fmt: skip
        now = utcnow()
        row = {k: v for k, v in plan.record.items() if k in entity.fields}
        if entity.owner:
            row["owner"] = plan.record.get("owner") or self.actor.user_id
        if entity.department:
            row["department"] = plan.record.get("department") or self.actor.department_id
        if entity.statuses is not None:
            row["status"] = entity.statuses.initial
        self._check_references(entity, row)
        self._check_assignment(entity, {k: plan.record.get(k) for k in ("owner", "department")
                                        if plan.record.get(k) is not None}, "create")  # fmt: skip
        self._check_unique(entity, row, None)
        warnings = [w for hooks in record_hooks() for w in hooks.before_create(self, entity, row)]
        stored = RowWriter(self).insert(entity, row, now, plan.supplements)
        view = self._view(entity, stored, self.policy.readable_fields(self.actor, entity))
        view.warnings = warnings
        return view

    def update(self, entity_name: str, record_id: Any, payload: Mapping[str, Any],
               expected_version: int | None,
               note: Mapping[str, Any] | None = None) -> RecordView:  # fmt: skip
        """Change a record; refuses a stale ``expected_version`` (optimistic locking).
        ``note`` (e.g. the time rule that made the change) is kept with the history entry."""
        entity = self.entity(entity_name)
        if not self.policy.can(self.actor, entity, "update"):
            self._stored(entity, record_id)  # NotFound first: existence must not leak
            raise PermissionDenied("update")
        stored = self._stored(entity, record_id, "update", for_update=True)
        if expected_version is None:
            raise FieldErrors({"row_version": [message("required", self.actor.locale)]})
        if int(expected_version) != stored["row_version"]:
            raise VersionConflict(message("version_conflict", self.actor.locale),
                                  stored["row_version"])  # fmt: skip
        # field rights come from the roles whose update scope holds this record
        rights = self.policy.narrowed(self.actor, self.policy.roles_reaching(
            self.conn, self.actor, entity, self.rt.tables, stored["id"], "update",
            in_scope=True))  # fmt: skip
        plan = prepare_write(
            self.rt, entity, self.actor, payload, stored,
            writable=self.policy.writable_fields(rights, entity, "update"),
            may_assign_owner=self.policy.may_assign_owner(rights, entity),
        )  # fmt: skip
        changed = {k: new for k, (_old, new) in plan.changes.items()
                   if k in entity.fields or k in ("owner", "department")}  # fmt: skip
        self._check_references(entity, changed)
        self._check_assignment(entity, changed, "update", rights)
        self._check_unique(entity, {**stored, **changed}, stored["id"], only=set(changed))
        warnings = [
            w
            for hooks in record_hooks()
            for w in hooks.before_update(self, entity, {**stored, **changed}, set(changed))
        ]
        if changed or plan.supplements:
            RowWriter(self).update(entity, stored, changed, utcnow(), note=note,
                                   supplements=plan.supplements)  # fmt: skip
        view = self.get(entity.name, stored["id"], watch=False)
        view.warnings = warnings
        return view

    def archive(self, entity_name: str, record_id: Any, expected_version: int | None) -> None:
        """Archive (soft-delete) a record; it leaves lists but keeps its history."""
        entity = self.entity(entity_name)
        if not self.policy.can(self.actor, entity, "archive"):
            self._stored(entity, record_id)
            raise PermissionDenied("archive")
        stored = self._stored(entity, record_id, "archive", for_update=True)
        if expected_version is not None and int(expected_version) != stored["row_version"]:
            raise VersionConflict(message("version_conflict", self.actor.locale),
                                  stored["row_version"])  # fmt: skip
        now = utcnow()
        RowWriter(self).update(entity, stored, {"archived": True, "archived_at": now}, now,
                               action="archive")  # fmt: skip

    def form_state(self, entity_name: str, payload: Mapping[str, Any],
                   record_id: Any = None) -> dict[str, dict[str, bool]]:  # fmt: skip
        """Visible / required / editable per field for a form being filled in."""
        entity = self.entity(entity_name)
        stored = self._stored(entity, record_id) if record_id else {}
        record = dict(stored)

        for name, raw in payload.items():
            f = entity.fields.get(name)
            if f is None or f.type == "computed":
                continue
            try:
                record[name] = parse_value(f, raw, self.rt.rulebook.timezone)
            except ValueError_:
                record[name] = None
        return form_state(entity, record, self.rt.eval_context(self.actor))

    # --- checks and bookkeeping ----------------------------------------------------------------

    def _check_references(self, entity: Entity, values: Mapping[str, Any]) -> None:
        errors: dict[str, list[str]] = {}
        for name, value in values.items():
            f = entity.fields.get(name)
            target = None
            if _is_actors_own(self.actor, name, f, value):
                continue  # the acting user (active, or they could not act) and their department
            kind = _link_kind(name, f)
            if kind == "reference" and value is not None:
                target = self._reference_target(f, value)
            elif value is not None and kind == "user":
                users = self.rt.system_table("users")
                target = self.conn.execute(sa.select(users.c.id).where(
                    users.c.id == value, users.c.active.is_(True))).first()  # fmt: skip
            elif value is not None and kind == "department":
                deps = self.rt.system_table("departments")
                target = self.conn.execute(sa.select(deps.c.id).where(deps.c.id == value)).first()
            else:
                continue
            if target is None:
                errors[name] = [message("unknown_reference", self.actor.locale)]
        if errors:
            raise FieldErrors(errors)

    def _check_assignment(self, entity: Entity, values: Mapping[str, Any], action: str,
                          rights: Actor | None = None) -> None:  # fmt: skip
        """A new owner or department must lie within the departments the actor's assigning
        roles reach (a department manager cannot hand records to another department)."""
        reach = self.policy.assignable_departments(rights or self.actor, entity, action)
        if reach is None:
            return
        errors: dict[str, list[str]] = {}
        if values.get("department") is not None and values["department"] not in reach:
            errors["department"] = [message("outside_reach", self.actor.locale)]
        if values.get("owner") is not None and values["owner"] != self.actor.user_id:
            users = self.rt.system_table("users")
            dep = self.conn.execute(sa.select(users.c.department_id)
                                    .where(users.c.id == values["owner"])).scalar()  # fmt: skip
            if dep not in reach:
                errors["owner"] = [message("outside_reach", self.actor.locale)]
        if errors:
            raise FieldErrors(errors)

    def _reference_target(self, f: Any, value: Any) -> Any:
        """The referenced row if the actor may link it: a record they may read, or — for a
        field declaring ``reference_scope: any`` — any record that exists and is not
        archived (its title stays hidden: lookups still apply the read scope)."""
        target_entity = self.rt.rulebook.entities[f.target]
        t = self.rt.table(target_entity)
        if f.reference_scope == "any":
            query = sa.select(t.c.id).where(t.c.id == value, t.c.archived.is_(False))
            return self.conn.execute(query).first()
        read = self.policy.scope(self.actor, target_entity, self.rt.tables, "read")
        return self.conn.execute(sa.select(t.c.id).where(t.c.id == value, read.clause),
                                 read.params).first()  # fmt: skip

    def _check_unique(self, entity: Entity, values: Mapping[str, Any], record_id: int | None,
                      only: set[str] | None = None) -> None:  # fmt: skip
        table = self.rt.table(entity)
        errors: dict[str, list[str]] = {}
        for name, f in entity.fields.items():
            if (
                not f.unique
                or values.get(name) in (None, "")
                or (only is not None and name not in only)
            ):
                continue
            clauses = [table.c[name] == values[name]]
            clauses += [table.c[s] == values.get(s) for s in f.unique_scope if s in table.c]
            if record_id is not None:
                clauses.append(table.c.id != record_id)
            if self.conn.execute(sa.select(table.c.id).where(*clauses).limit(1)).first():
                errors[name] = [message("unique", self.actor.locale)]
        if errors:
            raise FieldErrors(errors)
