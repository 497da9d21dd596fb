"""Writing firings: ledger rows, outbox rows, tasks and record changes — in the caller's
transaction (one per batch), each firing inside a savepoint.

For every item of a firing, in the order the rule's actions are written:

1. held back (dry run, outside the canary): a ``rule_dry_runs`` row with the rendered
   message; nothing else;
2. otherwise the ledger row is inserted (``ON CONFLICT DO NOTHING``); only if it is new
   does the effect happen: an outbox row (``notify``, ``escalate``, ``webhook``; the
   idempotency key is ``tr:<rule>:<record>:<occurrence>:<channel>:<recipient>``), a task
   and its inbox notification, a ``set`` or a ``reassign`` through the record service.

Items are resolved again against the record as the previous actions left it, so
``reassign`` followed by ``notify: [owner]`` reaches the new owner. When every item went
out, the occurrence's marker row is written: the sweep will not select it again. A firing
that raises (a record that fails validation, …) rolls back to its savepoint, counts as an
error of the run and is tried again next tick.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from ...metadata.model import TimeRule
from ...platform.outbox import OutboxMessage, enqueue
from ...platform.records.values import to_json
from ..tasks import NewTask, create_task
from .changes import Loads, apply_reassign, apply_set, read_record
from .ledger import insert_once
from .messages import payload_for, render_preview, task_title
from .occurrences import Due, iso
from .plan import RECORD_KINDS, Canary, Firing, Item, items_for
from .recipients import Directory
from .tables import MARKER, SENT

__all__ = ["Writer"]


@dataclass
class Writer:
    """Writes the firings of one run of one rule."""

    runtime: Any
    rule: TimeRule
    key: str
    mode: str  # active | canary | dry_run
    run_id: int
    now: datetime
    directory: Directory
    calendars: Any
    canary: Canary
    base_url: str
    loads: Loads
    sent: int = 0
    dry: int = 0
    marked: int = 0
    errors: int = 0
    problems: list[str] = field(default_factory=list)

    def write(self, conn: Connection, firings: list[Firing]) -> None:
        for firing in firings:
            if firing.due.status != "fire":
                self.marked += self._marker(conn, firing.due, firing.due.status, {})
                continue
            try:
                with conn.begin_nested():
                    self._fire(conn, firing.due)
            except Exception as exc:  # one bad record must not stop the others
                self.errors += 1
                if len(self.problems) < 5:
                    self.problems.append(f"{firing.due.entity} {firing.due.record_id}: {exc}")

    def preview(self, conn: Connection, firings: list[Firing]) -> None:
        """Dry run: record every item of every firing, write nothing else."""
        for firing in firings:
            if firing.due.status != "fire":
                continue
            stored = self._stored(conn, firing.due)
            for item in firing.items:
                self.dry += self._dry_row(conn, firing.due, item, stored)

    # --- one firing ------------------------------------------------------------------------

    def _fire(self, conn: Connection, due: Due) -> None:
        record: Mapping[str, Any] = due.record
        record_live = self.canary.record_in(due, self.directory)
        stored: dict | None = None
        complete = True
        for index, action in enumerate(due.actions):
            for item in items_for(index, action, due, record, self.directory):
                live = record_live if item.kind in RECORD_KINDS else (
                    record_live or self.canary.target_in(item.target, self.directory))  # fmt: skip
                if not live:
                    stored = stored or self._stored(conn, due)
                    self.dry += self._dry_row(conn, due, item, stored)
                    complete = False
                    continue
                if not insert_once(conn, self._ledger, self._row(due, item, SENT)):
                    continue
                changed = self._effect(conn, due, item, record)
                if changed:
                    record = {**record, **(read_record(self.runtime, conn, due.entity,
                                                       due.record_id) or {})}  # fmt: skip
                    stored = None
        if complete:
            self._marker(conn, due, SENT, {})

    def _effect(self, conn: Connection, due: Due, item: Item, record: Mapping[str, Any]) -> bool:
        """Perform one new item; True when it changed the record."""
        note = {"rule": self.key, "occurrence": due.occurrence, "by": "system"}
        if item.kind == "set":
            changes = apply_set(self.runtime, conn, due.entity, due.record_id, item.action,
                                note, self.now)  # fmt: skip
            self._detail(conn, due, item, {"changes": _jsonable(changes)})
            return bool(changes)
        if item.kind == "reassign":
            candidates = [
                t.user_id
                for p in item.action.recipients
                for t in self.directory.resolve(p, record)
                if t.user_id is not None
            ]
            owner = apply_reassign(self.runtime, conn, due.entity, due.record_id, candidates,
                                   self.loads, note)  # fmt: skip
            self._detail(conn, due, item, {"owner": owner, "candidates": candidates})
            return owner is not None
        if item.kind == "task":
            self._task(conn, due, item)
            return False
        self._send(conn, due, item, item.kind, item.channel, {})
        return False

    def _task(self, conn: Connection, due: Due, item: Item) -> None:
        assert item.target is not None and item.target.user_id is not None
        cal = self.calendars.for_record(self.rule, due.record)
        due_at = cal.add(due.due_at, item.action.due) if item.action.due else None
        stored = self._stored(conn, due)
        title = task_title(self.runtime, self.rule, item, due, stored, self.directory,
                           self.base_url, conn)  # fmt: skip
        task_id = create_task(conn, self.runtime.system_table("tasks"), NewTask(
            item.target.user_id, title, self.rule.entity if self._record_based(due) else None,
            due.record_id if self._record_based(due) else None, self.key, due.occurrence,
            due_at), self.now)  # fmt: skip
        extra = {"task_id": task_id, "task_due_at": iso(due_at) if due_at else None,
                 "task_title": title, "task_due_local": _local(due_at, cal)}  # fmt: skip
        self._send(conn, due, item, "task", "inbox", extra)
        self._detail(conn, due, item, {"task_id": task_id})

    def _send(self, conn: Connection, due: Due, item: Item, kind: str, channel: str,
              extra: Mapping[str, Any]) -> None:  # fmt: skip
        locale = (item.target.locale if item.target else None) or \
            self.runtime.rulebook.default_locale  # fmt: skip
        based = self._record_based(due)
        payload = payload_for(self.rule, self.key, due, item, locale=locale, mode=self.mode,
                              now=self.now, record_based=based)  # fmt: skip
        payload.update({k: v for k, v in extra.items() if v is not None})
        if kind == "task":
            title = str(extra.get("task_title") or "")
            payload["message"] = {"subject": {locale: title}, "body": _task_body(extra)}
        recipient = item.action.target if item.kind == "webhook" else \
            (str(item.target.user_id) if item.target and item.target.user_id is not None
             else (item.target.address if item.target else None))  # fmt: skip
        key = self._outbox_key(due, item)
        enqueue(conn, self.runtime.system_table("outbox"), OutboxMessage(
            key=key, kind=kind, channel=channel, payload=payload, recipient=recipient,
            entity=self.rule.entity if based else None,
            record_id=due.record_id if based else None, rule=self.rule.name), self.now)  # fmt: skip
        # new: its ledger row was new (enqueue's own answer is unreliable on psycopg 3)
        self.sent += 1

    # --- rows --------------------------------------------------------------------------------

    @property
    def _ledger(self) -> Any:
        return self.runtime.system_table("rule_firings")

    def _outbox_key(self, due: Due, item: Item) -> str:
        return (
            f"tr:{self.key}:{due.record_id}:{due.occurrence}:{item.ledger_channel}:{item.recipient}"
        )

    def _row(self, due: Due, item: Item | None, status: str) -> dict[str, Any]:
        row = {
            "rule": self.key, "entity": due.entity, "record_id": due.record_id,
            "occurrence": due.occurrence[:200],
            "channel": item.ledger_channel if item else MARKER,
            "recipient": item.recipient[:320] if item else "",
            "action": item.kind if item else None, "status": status, "step": due.step,
            "anchor_at": due.anchor_at, "anchor_date": due.anchor_date,
            "anchor_num": due.anchor_num, "due_at": due.due_at, "fired_at": self.now,
            "run_id": self.run_id,
            "outbox_key": self._outbox_key(due, item)
            if item and item.kind not in ("set", "reassign") else None,
        }  # fmt: skip
        if item is None and due.detail:
            row["detail"] = _jsonable(dict(due.detail))
        return row

    def _marker(self, conn: Connection, due: Due, status: str, detail: Mapping[str, Any]) -> int:
        return int(insert_once(conn, self._ledger, self._row(due, None, status)))

    def _detail(self, conn: Connection, due: Due, item: Item, detail: Mapping[str, Any]) -> None:
        t = self._ledger
        conn.execute(t.update().where(
            t.c.rule == self.key, t.c.record_id == due.record_id,
            t.c.occurrence == due.occurrence[:200], t.c.channel == item.ledger_channel,
            t.c.recipient == item.recipient[:320]).values(detail=_jsonable(dict(detail))))  # fmt: skip

    def _dry_row(self, conn: Connection, due: Due, item: Item, stored: Mapping | None) -> int:
        locale, subject, body = render_preview(self.runtime, self.rule, item, due, stored,
                                               self.directory, self.base_url, conn)  # fmt: skip
        values = {
            "rule": self.key, "entity": due.entity, "record_id": due.record_id,
            "occurrence": due.occurrence[:200], "channel": item.ledger_channel,
            "recipient": item.recipient[:320], "action": item.kind,
            "mode": "dry_run" if self.mode == "dry_run" else "held_back", "locale": locale,
            "subject": subject, "body": body, "run_id": self.run_id, "created_at": self.now,
        }  # fmt: skip
        return int(insert_once(conn, self.runtime.system_table("rule_dry_runs"), values))

    def _stored(self, conn: Connection, due: Due) -> dict | None:
        if not self._record_based(due):
            return None
        return read_record(self.runtime, conn, due.entity, due.record_id)

    def _record_based(self, due: Due) -> bool:
        return due.entity == self.rule.entity


def _local(moment: datetime | None, cal: Any) -> str | None:
    return moment.astimezone(cal.zone).strftime("%Y-%m-%d %H:%M") if moment else None


def _task_body(extra: Mapping[str, Any]) -> dict[str, str]:
    due = extra.get("task_due_local")
    if not due:
        return {"zh-CN": "新任务", "en": "New task"}
    return {"zh-CN": f"新任务，截止时间 {due}", "en": f"New task, due {due}"}


def _jsonable(value: Any) -> Any:
    return to_json(value)
