"""Sweeps that run at moments rather than per record state: cron schedules (with top-N per
organisation, department or owner), thresholds over related records, and events.

* **schedule** — the cron ticks (rulebook time zone) in ``(watermark, now]`` are due; with
  none, the rule does not query at all. ``top`` ranks with ``ROW_NUMBER() OVER (PARTITION
  BY department|owner ORDER BY …)`` (window functions: SQLite ≥ 3.25 and PostgreSQL).
* **threshold** — at its cron tick, related records created in ``(tick - window, tick]``
  are counted per owner (or department) of the rule's records with ``GROUP BY``; owners
  with none count 0 (the owners come from the rule's own records, outer-joined). The
  firing is for the owner: ledger ``entity = 'users'`` (or ``departments``). Missed ticks
  are counted once, for the latest window.
* **on** — the workflow engine writes events to the outbox (``kind = channel = 'event'``,
  ``rule = '<event>:<name>'``, docs/workflow.md); each event is an occurrence
  ``event:<outbox id>``. Events are read from ``watermark - 10 minutes`` (a transaction
  that commits late is still seen; the ledger makes re-reading harmless); a rule's first
  run reads the last day.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from croniter import croniter
from sqlalchemy.engine import Connection

from ...metadata.conditions import SqlContext
from .compile import Sweep, _relation_field
from .occurrences import Due, iso

__all__ = ["ScheduleSweep", "ThresholdSweep", "EventSweep", "due_ticks", "next_tick"]

FIRST_RUN_LOOKBACK = timedelta(minutes=5)
EVENT_LOOKBACK = timedelta(minutes=10)
FIRST_RUN_EVENTS = timedelta(days=1)
DEFAULT_THRESHOLD_CRON = "0 9 * * *"
_MAX_TICKS = 1000


def due_ticks(cron: str, since: datetime | None, now: datetime, zone: Any) -> list[datetime]:
    """Cron ticks in ``(since, now]`` (UTC), computed in the local ``zone``."""
    start = (since or now - FIRST_RUN_LOOKBACK).astimezone(zone)
    it = croniter(cron, start)
    ticks: list[datetime] = []
    while len(ticks) < _MAX_TICKS:
        tick = it.get_next(datetime).astimezone(UTC)
        if tick > now:
            break
        ticks.append(tick)
    return ticks


def working_ticks(ticks: list[datetime], timing: Any, calendar: Any) -> list[datetime]:
    """``ticks`` on the calendar's working days (holidays off, 调休 Saturdays on) when the
    schedule says ``working_days_only``; all of them otherwise."""
    if not timing.working_days_only:
        return ticks
    return [t for t in ticks if calendar.is_working_day(t.astimezone(calendar.zone).date())]


def next_tick(cron: str, now: datetime, zone: Any) -> datetime:
    return croniter(cron, now.astimezone(zone)).get_next(datetime).astimezone(UTC)


class ScheduleSweep(Sweep):
    def ticks(self) -> list[datetime]:
        cron = self.rule.timing.cron
        if cron is None:
            return []
        calendar = self.w.calendars.default
        ticks = due_ticks(cron, self.w.since, self.w.now, calendar.zone)
        return working_ticks(ticks, self.rule.timing, calendar)

    def statement(self, ids: Sequence[int] | None = None) -> sa.Select | None:
        if not self.ticks():
            return None
        timing, t = self.rule.timing, self.table
        where = self.base_where()
        if ids is not None:
            where.append(t.c.id.in_(list(ids)))
        if not timing.top:
            return sa.select(*self.record_columns()).where(*where)
        by = {"department": t.c.get("department"), "owner": t.c.get("owner")}.get(timing.per)
        order = [(t.c[k.field].desc() if k.descending else t.c[k.field].asc()).nulls_last()
                 for k in timing.order_by]  # fmt: skip
        rank = sa.func.row_number().over(partition_by=by, order_by=[*order, t.c.id])
        inner = sa.select(*self.record_columns(), rank.label("rf_rank")).where(*where).subquery()
        return sa.select(inner).where(inner.c.rf_rank <= timing.top)

    def finish(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> list[Due]:
        rule, dues = self.rule, []
        for tick in self.ticks():
            for row in rows:
                dues.append(Due(record=row, record_id=row["id"], entity=rule.entity,
                                occurrence=f"schedule:{iso(tick)}", due_at=tick,
                                actions=rule.actions, anchor_at=tick,
                                detail={"rank": row.get("rf_rank")} if "rf_rank" in row else {}))  # fmt: skip
        return dues


class ThresholdSweep(Sweep):
    def tick(self) -> datetime | None:
        timing = self.rule.timing
        calendar = self.w.calendars.default
        ticks = working_ticks(due_ticks(timing.cron or DEFAULT_THRESHOLD_CRON, self.w.since,
                                        self.w.now, calendar.zone), timing, calendar)  # fmt: skip
        return ticks[-1] if ticks else None

    def statement(self, ids: Sequence[int] | None = None) -> sa.Select | None:
        tick = self.tick()
        if tick is None:
            return None
        timing, t = self.rule.timing, self.table
        assert timing.count_entity is not None and timing.window is not None
        r = self.w.runtime.table(timing.count_entity)
        fk = _relation_field(self.w.entity, timing.count_entity)
        group = t.c.department if timing.per == "department" else t.c.owner
        start = self.w.calendars.default.subtract(tick, timing.window)
        keys = (sa.select(group.label("rf_key")).where(*self.base_where(), group.isnot(None))
                .group_by(group).subquery())  # fmt: skip
        counted = [r.c.created_at > start, r.c.created_at <= tick, *self.base_where()]
        if "archived" in r.c:
            counted.append(sa.not_(sa.func.coalesce(r.c.archived, sa.false())))
        if timing.count_where is not None:
            ctx = SqlContext(self.w.runtime.tables, timing.count_entity, tick, self.w.timezone,
                             self.w.calendars.default)  # fmt: skip
            counted.append(timing.count_where.to_sql(ctx))
        counts = (sa.select(group.label("rf_key"), sa.func.count(r.c.id).label("rf_count"))
                  .select_from(r.join(t, r.c[fk] == t.c.id)).where(*counted)
                  .group_by(group).subquery())  # fmt: skip
        n = sa.func.coalesce(counts.c.rf_count, 0)
        bound = n < timing.below if timing.below is not None else n > (timing.above or 0)
        return (sa.select(keys.c.rf_key, n.label("rf_count"))
                .select_from(keys.outerjoin(counts, counts.c.rf_key == keys.c.rf_key))
                .where(bound).order_by(keys.c.rf_key))  # fmt: skip

    def finish(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> list[Due]:
        tick, timing, rule = self.tick(), self.rule.timing, self.rule
        if tick is None or timing.window is None:
            return []
        start = self.w.calendars.default.subtract(tick, timing.window)
        directory, dues = self.w.directory, []
        for row in rows:
            key = int(row["rf_key"])
            if timing.per == "department":
                dept = directory.departments.get(key) or {}
                record = {"id": key, "department": key, "owner": dept.get("manager_id")}
                entity = "departments"
            else:
                record = {"id": key, "owner": key, "department": directory.department_of(key)}
                entity = "users"
            dues.append(Due(record=record, record_id=key, entity=entity,
                            occurrence=f"threshold:{iso(tick)}", due_at=tick,
                            actions=rule.actions, anchor_at=tick,
                            detail={"count": int(row["rf_count"]), "window_start": iso(start),
                                    "window_end": iso(tick)}))  # fmt: skip
        return dues

    def rechecks(self) -> bool:
        return False


class EventSweep(Sweep):
    def since(self) -> datetime:
        if self.w.since is None:
            return self.w.now - FIRST_RUN_EVENTS
        return self.w.since - EVENT_LOOKBACK

    def statement(self, ids: Sequence[int] | None = None) -> sa.Select:
        timing, t, f = self.rule.timing, self.table, self.ledger
        o = self.w.runtime.system_table("outbox")
        query = (
            sa.select(*self.record_columns(), o.c.id.label("rf_event"),
                      o.c.created_at.label("rf_at"), o.c.payload.label("rf_payload"))
            .select_from(o.join(t, t.c.id == o.c.record_id))
            .where(o.c.kind == "event", o.c.channel == "event", o.c.entity == self.rule.entity,
                   o.c.rule == f"{timing.event}:{timing.event_name}",
                   o.c.created_at > self.since(), o.c.created_at <= self.w.now,
                   *self.base_where(), self.not_fired(f.c.anchor_num == o.c.id))
            .order_by(o.c.id)
        )  # fmt: skip
        return self.restrict(query, ids)

    def finish(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> list[Due]:
        rule, dues = self.rule, []
        for row in rows:
            payload = row["rf_payload"] if isinstance(row["rf_payload"], dict) else {}
            dues.append(Due(record=row, record_id=row["id"], entity=rule.entity,
                            occurrence=f"event:{row['rf_event']}", due_at=row["rf_at"],
                            actions=rule.actions, anchor_num=int(row["rf_event"]),
                            detail={k: payload.get(k) for k in ("from", "to", "by")
                                    if k in payload}))  # fmt: skip
        return dues
