"""``schedule``: cron ticks in the rulebook's time zone (``working_days_only``: on the
calendar's working days), optionally the top N records per scope.

Sweeps that run at moments rather than per record state: cron schedules (with top-N per
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
  run reads the last day."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from croniter import croniter
from sqlalchemy.engine import Connection

from ..occurrences import Due, iso
from ..sweep import Sweep

__all__ = ["ScheduleSweep", "due_ticks", "working_ticks", "next_tick"]

KIND = "schedule"


FIRST_RUN_LOOKBACK = timedelta(minutes=5)

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


#: The sweep of this timing kind (the registry, ``timings/__init__.py``, reads it).
SWEEP = ScheduleSweep
