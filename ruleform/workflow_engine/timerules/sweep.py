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
``finish(conn, rows)`` turns the rows into :class:`Due` occurrences. Each timing kind is a
module of ``timings/`` (after, inactive, yearly, deadline, schedule, threshold, on)."""

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
from .calendars import CalendarMap
from .catalog import rule_key
from .occurrences import Due
from .recipients import Directory
from .tables import MARKER

__all__ = ["Window", "Sweep", "field_kind", "relation_field"]


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


def relation_field(entity: Entity, related: str) -> str:
    for relation in entity.related:
        if relation.entity == related:
            return relation.field
    raise ValueError(f"{related} has no reference to {entity.name}")
