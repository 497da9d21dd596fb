"""``on``: an event of the workflow (a transition, an entered status, an approval decision)
read from the outbox's event rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..occurrences import Due
from ..sweep import Sweep

__all__ = ["EventSweep"]

KIND = "on"


EVENT_LOOKBACK = timedelta(minutes=10)

FIRST_RUN_EVENTS = timedelta(days=1)


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


#: The sweep of this timing kind (the registry, ``timings/__init__.py``, reads it).
SWEEP = EventSweep
