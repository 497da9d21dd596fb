"""Writing the demo data set into a database — the one place that writes history backwards.

1. **Create** every planned record through ``RecordService.create`` as the user who would
   have entered it (sales1/2/3 for their customers, 孙丽 of customer service for tickets),
   so each record passed the rulebook's write rules: types, required fields, validations,
   permissions, references visible to that user. Records start in their initial status.
2. **Backdate** the creation to the planned time, in SQL: the row's ``created_at`` /
   ``updated_at``, its ``create`` history entry, its first status period and the outbox
   events written with it. Seeding is the only code allowed to do this; the app always
   stamps the real time.
3. **Replay transitions** in time order (so a contract is signed before its customer is
   marked won) with the workflow engine (``WorkflowService``): the actor must hold the
   transition, the record must be in a source status, the ``when`` guard must hold at that
   moment, required values are filled in, ``set`` is applied, the record is validated, and
   ``change_status`` writes the status, transition log, status period, history and events.
   Two differences from ``apply_transition``: the planned moment instead of now, and
   approvals (``submit_review``) are taken as granted — the status changes as if the
   reviewer had approved. No status is written any other way.
4. **Check** every record again as stored — computed fields recomputed (``logged_late``
   depends on the backdated ``created_at``), visible required fields filled, hidden fields
   empty, every validation rule passing — and refuse the whole data set (one transaction)
   if any record is not valid by the rules.

The outbox events of this history stay pending with their backdated times; the engine's
``late`` policies decide what a catch-up still does with them.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ..errors import RuleformError
from ..metadata.field_types import parse_value
from ..metadata.model import Entity
from ..metadata.record_rules import failed_rules, is_empty
from ..platform.actors import Actor, load_actor
from ..platform.records import RecordService
from ..platform.records.values import to_json
from ..platform.records.write_rules import form_state
from ..platform.runtime import Runtime
from ..workflow_engine.machine import option
from ..workflow_engine.service import WorkflowService
from .scenario import Planned, Step, build_scenario

__all__ = ["SeedReport", "SeedError", "seed_demo", "DEFAULT_SEED", "demo_counts"]

DEFAULT_SEED = 2026


class SeedError(RuleformError):
    """The demo data set broke a rule of the rulebook (a bug in the seeding, not in the data)."""


@dataclass(frozen=True)
class SeedReport:
    counts: dict[str, int]
    seconds: float


def demo_counts(conn: Connection, runtime: Runtime) -> dict[str, int]:
    """How many records each entity holds."""
    return {name: int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() or 0)
            for name, table in runtime.tables.items()}  # fmt: skip


def seed_demo(
    engine: Engine,
    runtime: Runtime,
    *,
    seed: int = DEFAULT_SEED,
    now: datetime | None = None,
    owners: dict[str, int] | None = None,
) -> SeedReport:
    """Write the demo data set (the organisation must exist) in one transaction."""
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    records = build_scenario(seed, now, owners)
    with engine.begin() as conn:
        writer = _Writer(conn, runtime, now)
        for record in records:
            writer.create(record)
        writer.backdate(records)
        steps = sorted(((s.at, n, r, s) for n, r in enumerate(records) for s in r.steps),
                       key=lambda item: (item[0], item[1]))  # fmt: skip
        for _at, _n, record, step in steps:
            writer.apply_step(record, step)
        writer.check_all({r.entity for r in records})
    return SeedReport(dict(Counter(r.entity for r in records)), time.perf_counter() - started)


class _Writer:
    def __init__(self, conn: Connection, runtime: Runtime, now: datetime):
        self.conn = conn
        self.rt = runtime
        self.now = now
        users = runtime.system_table("users")
        found = conn.execute(sa.select(users.c.id, users.c.username))
        self.users = {name: uid for uid, name in found}
        self.actors: dict[str, Actor] = {}
        tables = runtime.metadata.tables
        self.outbox = tables.get("outbox")
        self.periods = tables.get("status_periods")
        self.outbox_mark = 0  # outbox rows up to here were there before: not ours to backdate
        if self.outbox is not None:
            self.outbox_mark = conn.execute(sa.select(sa.func.max(self.outbox.c.id))).scalar() or 0

    def actor(self, username: str) -> Actor:
        if username not in self.actors:
            actor = load_actor(self.conn, self.users[username]) if username in self.users else None
            if actor is None:
                raise SeedError(f"the demo needs the user '{username}' (seed_organisation)")
            self.actors[username] = actor
        return self.actors[username]

    def resolve(self, value: Any) -> Any:
        """A planned record → its id; ``@username`` → the user's id."""
        if isinstance(value, Planned):
            assert value.id is not None, f"{value.entity} referenced before it was created"
            return value.id
        if isinstance(value, str) and value.startswith("@"):
            return self.users[value[1:]]
        return value

    # --- 1. create ------------------------------------------------------------------------

    def create(self, record: Planned) -> None:
        service = RecordService(self.rt, self.conn, self.actor(record.user))
        payload = {k: self.resolve(v) for k, v in record.payload.items()}
        record.id = service.create(record.entity, payload).id

    # --- 2. backdate ----------------------------------------------------------------------

    def backdate(self, records: list[Planned]) -> None:
        history = self.rt.system_table("record_history")
        for entity in sorted({r.entity for r in records}):
            table = self.rt.table(entity)
            rows = [{"rid": r.id, "when": r.created_at} for r in records if r.entity == entity]
            self.conn.execute(
                sa.update(table)
                .where(table.c.id == sa.bindparam("rid"))
                .values(created_at=sa.bindparam("when"), updated_at=sa.bindparam("when")),
                rows,
            )
            self.conn.execute(
                sa.update(history)
                .where(history.c.entity == entity, history.c.action == "create",
                       history.c.record_id == sa.bindparam("rid"))
                .values(at=sa.bindparam("when")), rows)  # fmt: skip
            self.backdate_workflow(entity, rows)

    def backdate_workflow(self, entity: str, rows: list[dict[str, Any]]) -> None:
        """The first status period and the creation's outbox events, at the creation time."""
        if self.periods is not None:
            periods = self.periods
            self.conn.execute(
                sa.update(periods)
                .where(periods.c.entity == entity, periods.c.transition.is_(None),
                       periods.c.record_id == sa.bindparam("rid"))
                .values(entered_at=sa.bindparam("when")), rows)  # fmt: skip
        if self.outbox is None:
            return
        outbox, created = self.outbox, {row["rid"]: row["when"] for row in rows}
        events = self.conn.execute(
            sa.select(outbox.c.id, outbox.c.record_id, outbox.c.payload)
            .where(outbox.c.entity == entity, outbox.c.id > self.outbox_mark)).all()  # fmt: skip
        changes = [{"oid": oid, "when": created[rid],
                    "body": {**(payload or {}), "at": to_json(created[rid])}}
                   for oid, rid, payload in events if rid in created]  # fmt: skip
        if changes:
            self.conn.execute(
                sa.update(outbox).where(outbox.c.id == sa.bindparam("oid"))
                .values(created_at=sa.bindparam("when"), next_attempt_at=sa.bindparam("when"),
                        payload=sa.bindparam("body")), changes)  # fmt: skip

    # --- 3. transitions ---------------------------------------------------------------------

    def apply_step(self, record: Planned, step: Step) -> None:
        """``apply_transition`` at ``step.at``, approvals granted (see the module docstring)."""
        actor = self.actor(step.user)
        flow = WorkflowService(self.rt, self.conn, actor)
        entity = flow.entity(record.entity)
        transition = entity.transitions[step.transition]
        stored = flow.load(entity, record.id, lock=True)
        tz = self.rt.rulebook.timezone
        values = {name: parse_value(entity.fields[name], self.resolve(raw), tz)
                  for name, raw in step.values.items()}  # fmt: skip
        proposed = {**stored, **values}
        ctx = flow.eval_context(previous=stored, now=step.at)
        allowed = option(entity, transition, flow.situation(entity, proposed, ctx, False))
        if allowed.reasons or allowed.missing:
            problems = [r.text for r in allowed.reasons]
            problems += [f"{name} is empty" for name in allowed.missing]
            raise SeedError(f"{record.entity} #{record.id} {step.transition} at "
                            f"{step.at.isoformat()}: {'; '.join(problems)}")  # fmt: skip
        final = flow.target_record(entity, transition, proposed, ctx)
        flow.validate(entity, final, ctx)
        updates = {k: final.get(k) for k in entity.fields if final.get(k) != stored.get(k)}
        comment = "演示数据：审核通过 (demo data: approved)" if transition.approval else None
        flow.change_status(entity, stored, transition.name, transition.target, updates,
                           now=step.at, by=actor.user_id, comment=comment,
                           exception=transition.exception)  # fmt: skip

    # --- 4. check ---------------------------------------------------------------------------

    def check_all(self, entities: set[str]) -> None:
        problems: list[str] = []
        for name in sorted(entities):
            entity = self.rt.entity(name)
            table = self.rt.table(entity)
            for row in self.conn.execute(sa.select(table)).mappings().all():
                problems += self.check(entity, table, dict(row))
        if problems:
            shown = "; ".join(problems[:10])
            raise SeedError(f"{len(problems)} demo record problem(s): {shown}")

    def check(self, entity: Entity, table: sa.Table, row: dict[str, Any]) -> list[str]:
        ctx = self.rt.eval_context(None, now=self.now)
        computed = {}
        for name, f in entity.fields.items():
            if f.type == "computed" and f.expression is not None:
                value = f.expression.evaluate(row, ctx)
                if value != row.get(name):
                    computed[name] = row[name] = value
        if computed:
            self.conn.execute(sa.update(table).where(table.c.id == row["id"]).values(**computed))
        where = f"{entity.name} #{row['id']} ({row.get('status')})"
        problems = []
        for name, state in form_state(entity, row, ctx).items():
            if entity.fields[name].type == "computed":
                continue
            empty = is_empty(row.get(name))
            if state["required"] and empty:
                problems.append(f"{where}: {name} is required")
            if not state["visible"] and not empty:
                problems.append(f"{where}: {name} is hidden but holds a value")
        for rule in failed_rules(entity, row, frozenset(), ctx):
            problems.append(f"{where}: breaks {rule.name}")
        return problems
