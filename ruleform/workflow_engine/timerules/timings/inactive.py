"""``inactive``: no change of a field (or no related record) for a duration."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..calendars import loose_bound, lower_bound
from ..occurrences import Due, iso, moment_of
from ..sweep import Sweep, field_kind, relation_field

__all__ = ["InactiveSweep"]

KIND = "inactive"


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
            fk = relation_field(self.w.entity, timing.related)
            newest = sa.select(sa.func.max(r.c.created_at)).where(r.c[fk] == t.c.id) \
                .scalar_subquery()  # fmt: skip
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
                fk = relation_field(self.w.entity, timing.related)
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


#: The sweep of this timing kind (the registry, ``timings/__init__.py``, reads it).
SWEEP = InactiveSweep
