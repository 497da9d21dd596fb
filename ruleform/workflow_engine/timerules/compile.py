"""Timing → SQL: for each rule, ONE query per tick selecting the records that are due now.

The query is the rule's ``where`` (the condition language's SQL side) AND the timing, AND
"not fired yet" (``NOT EXISTS`` on the ledger's marker with the same anchor), AND not
archived. Everything that depends on the clock or the calendar (``now - 45 days``, the
birthday window, cron ticks since the watermark) is computed in Python for *now* and bound
as parameters — see ``calendars.py`` for why a bound is a safe superset and how the
candidates are then checked exactly. Python only ever looks at the rows the query returns;
there is no loop over all records.

Each timing is a :class:`Sweep`: ``statement(ids=None)`` builds the query (``ids``
restricts it to some records, for the re-check inside the writing transaction) and
``finish(conn, rows)`` turns the rows into :class:`Due` occurrences. Deadlines (SLA clocks)
live in ``sla.py``; schedules, thresholds and events in ``periodic.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ...metadata.build_fields import SYSTEM_COLUMNS
from ...metadata.conditions import SqlContext
from ...metadata.model import Entity, TimeRule
from .calendars import CalendarMap, loose_bound, lower_bound
from .catalog import rule_key
from .occurrences import Due, iso, moment_of, short_duration
from .recipients import Directory
from .tables import MARKER

__all__ = ["Window", "Sweep", "build_sweep", "field_kind"]

_MAX_WINDOW_DAYS = 366


@dataclass
class Window:
    """What one run of one rule knows: the rule, the clock, the organisation."""

    runtime: Any
    rule: TimeRule
    now: datetime
    since: datetime | None  # the watermark: the tick time of the last successful run
    calendars: CalendarMap
    directory: Directory

    @property
    def key(self) -> str:
        return rule_key(self.rule)

    @property
    def timezone(self) -> str:
        return self.runtime.rulebook.timezone

    @property
    def entity(self) -> Entity:
        return self.runtime.entity(self.rule.entity)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.calendars.default.zone).date()


def field_kind(entity: Entity, name: str) -> str:
    """``date`` or ``datetime`` (fields, computed fields, system columns)."""
    f = entity.fields.get(name)
    return f.value_type if f is not None else SYSTEM_COLUMNS.get(name, "datetime")


class Sweep:
    """The due-now query of one rule, and what its rows mean."""

    def __init__(self, window: Window):
        self.w = window
        self.rule = window.rule
        self.table = window.runtime.table(window.rule.entity)
        self.ledger = window.runtime.system_table("rule_firings")

    # --- what every sweep shares ----------------------------------------------------------

    def base_where(self) -> list[Any]:
        t, clauses = self.table, []
        if "archived" in t.c:
            clauses.append(sa.not_(sa.func.coalesce(t.c.archived, sa.false())))
        if self.rule.where is not None:
            ctx = SqlContext(self.w.runtime.tables, self.rule.entity, self.w.now,
                             self.w.timezone, self.w.calendars.default)  # fmt: skip
            clauses.append(self.rule.where.to_sql(ctx))
        return clauses

    def record_columns(self) -> list[Any]:
        """The columns actions need: ids, ownership, and the fields recipients come from."""
        t = self.table
        names = ["id", "row_version", "owner", "department", "created_by", "status"]
        for action in self._all_actions():
            names += [p.field for p in action.recipients if p.field]
        return [t.c[n] for n in dict.fromkeys(names) if n in t.c]

    def _all_actions(self) -> list[Any]:
        levels = [a for level in self.rule.timing.levels for a in level.actions]
        return [*self.rule.actions, *levels]

    def not_fired(self, *anchor: Any) -> Any:
        """No marker of this rule and record with this anchor in the ledger."""
        f = self.ledger
        return ~sa.exists().where(f.c.rule == self.w.key, f.c.record_id == self.table.c.id,
                                  f.c.channel == MARKER, *anchor)  # fmt: skip

    def restrict(self, query: sa.Select, ids: Sequence[int] | None) -> sa.Select:
        return query if ids is None else query.where(self.table.c.id.in_(list(ids)))

    def calendars(self) -> list[Any]:
        return self.w.calendars.in_play(self.rule)

    def skip_limit(self) -> datetime | None:
        """With ``skip_older_than``: occurrences due before this moment are not wanted."""
        if self.rule.late_policy != "skip_older_than" or self.rule.late_age is None:
            return None
        age = self.rule.late_age
        hours = {"minutes": 1 / 60, "hours": 1, "days": 24, "weeks": 168,
                 "working_days": 24, "working_hours": 1}[age.unit]  # fmt: skip
        return self.w.now - timedelta(hours=age.amount * hours)

    def compare(self, column: Any, kind: str, op: str, moment: datetime) -> Any:
        """``column op moment`` for a date (local day of ``moment``) or datetime column."""
        value: Any = self.w.local_date(moment) if kind == "date" else moment
        if kind == "date" and op == ">=":
            value = value - timedelta(days=1)
        return column <= value if op == "<=" else column >= value

    # --- to implement -----------------------------------------------------------------------

    def statement(self, ids: Sequence[int] | None = None) -> sa.Select | None:
        raise NotImplementedError

    def finish(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> list[Due]:
        raise NotImplementedError

    def rechecks(self) -> bool:
        """Whether the writing transaction re-runs the query for its batch (record-based)."""
        return True


class AfterSweep(Sweep):
    """``after: {field, offset}``: due when ``calendar.add(field, offset) <= now``."""

    def statement(self, ids: Sequence[int] | None = None) -> sa.Select:
        timing, t = self.rule.timing, self.table
        assert timing.field is not None and timing.offset is not None
        kind, column = field_kind(self.w.entity, timing.field), t.c[timing.field]
        clauses = [*self.base_where(), column.isnot(None),
                   self.compare(column, kind, "<=", loose_bound(self.calendars(), self.w.now,
                                                                 timing.offset))]  # fmt: skip
        limit = self.skip_limit()
        if limit is not None:
            low = lower_bound(self.calendars(), limit, timing.offset)
            clauses.append(self.compare(column, kind, ">=", low))
        anchor = self.ledger.c.anchor_date if kind == "date" else self.ledger.c.anchor_at
        clauses.append(self.not_fired(anchor == column))
        query = sa.select(*self.record_columns(), column.label("rf_anchor")).where(*clauses)
        return self.restrict(query, ids)

    def finish(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> list[Due]:
        timing, rule = self.rule.timing, self.rule
        assert timing.offset is not None
        kind = field_kind(self.w.entity, timing.field or "")
        dues = []
        for row in rows:
            value = row["rf_anchor"]
            start = moment_of(value, self.w.timezone)
            assert start is not None
            due_at = self.w.calendars.for_record(rule, row).add(start, timing.offset)
            if due_at > self.w.now:
                continue  # the bound was a superset; not due yet
            dues.append(Due(
                record=row, record_id=row["id"], entity=rule.entity,
                occurrence=f"{rule.name}:{iso(value)}+{short_duration(timing.offset)}",
                due_at=due_at, actions=rule.actions,
                anchor_at=value if kind != "date" else None,
                anchor_date=value if kind == "date" else None,
            ))  # fmt: skip
        return dues


class InactiveSweep(Sweep):
    """``inactive``: no change of ``since`` (or no related record) for ``for``.

    A record whose ``since`` field is empty counts from its creation. With ``related``,
    the anchor is the newest related record (or the record's creation): the occurrence
    re-arms only when a newer related record appears.
    """

    def _anchor(self) -> tuple[Any, str]:
        timing, t = self.rule.timing, self.table
        if timing.related:
            r = self.w.runtime.table(timing.related)
            fk = _relation_field(self.w.entity, timing.related)
            newest = sa.select(sa.func.max(r.c.created_at)).where(r.c[fk] == t.c.id)
            newest = newest.scalar_subquery()
            return sa.func.coalesce(newest, t.c.created_at), "datetime"
        assert timing.since is not None
        return t.c[timing.since], field_kind(self.w.entity, timing.since)

    def statement(self, ids: Sequence[int] | None = None) -> sa.Select:
        timing, t, f = self.rule.timing, self.table, self.ledger
        assert timing.duration is not None
        bound = loose_bound(self.calendars(), self.w.now, timing.duration)
        limit = self.skip_limit()
        low = lower_bound(self.calendars(), limit, timing.duration) if limit else None
        anchor, kind = self._anchor()
        created = t.c.created_at
        if kind == "datetime":
            value = sa.func.coalesce(anchor, created) if not timing.related else anchor
            due = [value <= bound] + ([value >= low] if low else [])
            if timing.related:  # the brief form: no related record newer than the bound
                r = self.w.runtime.table(timing.related)
                fk = _relation_field(self.w.entity, timing.related)
                due.append(~sa.exists().where(r.c[fk] == t.c.id, r.c.created_at > bound))
            match = [sa.and_(*due), self.not_fired(f.c.anchor_at == value)]
        else:
            dated = [anchor.isnot(None), self.compare(anchor, "date", "<=", bound)]
            undated = [anchor.is_(None), created <= bound]
            if low:
                dated.append(self.compare(anchor, "date", ">=", low))
                undated.append(created >= low)
            match = [sa.or_(
                sa.and_(*dated, self.not_fired(f.c.anchor_date == anchor)),
                sa.and_(*undated, self.not_fired(f.c.anchor_at == created)),
            )]  # fmt: skip
        query = sa.select(*self.record_columns(), anchor.label("rf_anchor"),
                          created.label("rf_created")).where(*self.base_where(), *match)  # fmt: skip
        return self.restrict(query, ids)

    def finish(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> list[Due]:
        timing, rule = self.rule.timing, self.rule
        assert timing.duration is not None
        _, kind = self._anchor()
        prefix = "inactive-since" if timing.related else "stale-since"
        dues = []
        for row in rows:
            value, created = row["rf_anchor"], row["rf_created"]
            fallback = value is None
            start = moment_of(created if fallback else value, self.w.timezone)
            assert start is not None
            due_at = self.w.calendars.for_record(rule, row).add(start, timing.duration)
            if due_at > self.w.now:
                continue
            dated = kind == "date" and not fallback
            shown = f"created:{iso(created)}" if fallback else iso(value)
            dues.append(Due(
                record=row, record_id=row["id"], entity=rule.entity,
                occurrence=f"{prefix}:{shown}", due_at=due_at, actions=rule.actions,
                anchor_at=None if dated else (created if fallback else value),
                anchor_date=value if dated else None,
            ))  # fmt: skip
        return dues


class YearlySweep(Sweep):
    """``yearly: {field, before}``: the anniversary, ``before`` ahead, once a year.

    The window of anniversaries is computed on the Python side: from the day after the
    last run's reach (catch-up after downtime, at most a year) or today, to
    ``now + before``. The query matches month-day numbers (``month * 100 + day``, via
    ``extract``, which SQLAlchemy renders for each dialect); Feb 29 is celebrated on Feb 28
    in other years. A datetime field is matched a day wider and checked in local time.
    """

    def window_days(self) -> list[date]:
        timing, now = self.rule.timing, self.w.now
        cal = self.w.calendars.default
        end = self.w.local_date(cal.add(now, timing.before) if timing.before else now)
        start = self.w.local_date(now)
        if self.w.since is not None:
            reach = cal.add(self.w.since, timing.before) if timing.before else self.w.since
            start = min(start, self.w.local_date(reach) + timedelta(days=1))
        start = max(start, end - timedelta(days=_MAX_WINDOW_DAYS))
        return [start + timedelta(days=i) for i in range((end - start).days + 1)]

    def statement(self, ids: Sequence[int] | None = None) -> sa.Select:
        timing, t = self.rule.timing, self.table
        column = t.c[timing.field or ""]
        days = self.window_days()
        if field_kind(self.w.entity, timing.field or "") == "datetime":
            days = [days[0] - timedelta(days=1), *days, days[-1] + timedelta(days=1)]
        codes = sorted({d.month * 100 + d.day for d in days}
                       | {229 for d in days if (d.month, d.day) == (2, 28) and not _leap(d.year)})
        month_day = sa.extract("month", column) * 100 + sa.extract("day", column)
        query = sa.select(*self.record_columns(), column.label("rf_anchor")).where(
            *self.base_where(), column.isnot(None), month_day.in_(codes))  # fmt: skip
        return self.restrict(query, ids)

    def finish(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> list[Due]:
        timing, rule = self.rule.timing, self.rule
        days = set(self.window_days())
        dues = []
        for row in rows:
            value = row["rf_anchor"]
            born = value.astimezone(self.w.calendars.default.zone).date() \
                if isinstance(value, datetime) else value  # fmt: skip
            cal = self.w.calendars.for_record(rule, row)
            for year in sorted({d.year for d in days}):
                day = _anniversary(born, year)
                if day not in days:
                    continue
                start = moment_of(day, self.w.timezone)
                assert start is not None
                due_at = cal.subtract(start, timing.before) if timing.before else start
                if due_at > self.w.now:
                    continue
                dues.append(Due(record=row, record_id=row["id"], entity=rule.entity,
                                occurrence=f"birthday:{year}", due_at=due_at,
                                actions=rule.actions, anchor_num=year))  # fmt: skip
        return dues


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _anniversary(born: date, year: int) -> date:
    if (born.month, born.day) == (2, 29) and not _leap(year):
        return date(year, 2, 28)
    return date(year, born.month, born.day)


def _relation_field(entity: Entity, related: str) -> str:
    for relation in entity.related:
        if relation.entity == related:
            return relation.field
    raise ValueError(f"{related} has no reference to {entity.name}")


def build_sweep(window: Window) -> Sweep:
    """The sweep of ``window.rule``'s timing."""
    from .periodic import EventSweep, ScheduleSweep, ThresholdSweep
    from .sla import DeadlineSweep

    kinds: dict[str, type[Sweep]] = {
        "after": AfterSweep, "inactive": InactiveSweep, "yearly": YearlySweep,
        "deadline": DeadlineSweep, "schedule": ScheduleSweep, "threshold": ThresholdSweep,
        "on": EventSweep,
    }  # fmt: skip
    return kinds[window.rule.timing.kind](window)
