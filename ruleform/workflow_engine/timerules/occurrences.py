"""Occurrences: *which* firing a due record is, so each fires once and re-arms correctly.

=================  ==============================  =========================================
timing             occurrence key                  fires again when
=================  ==============================  =========================================
after              ``<rule>:<field value>+<off>``  the field gets another value
yearly             ``birthday:<year>``             next year
inactive (since)   ``stale-since:<field value>``   the field is updated (SuiteCRM #3806:
                                                   never "every tick while stale")
inactive (related) ``inactive-since:<newest>``     a newer related record appears
deadline           ``sla:<period id>:level:<n>``   the record enters the status again
schedule           ``schedule:<tick>``             the next cron tick
threshold          ``threshold:<window end>``      the next cron tick
on                 ``event:<outbox id>``           another event
=================  ==============================  =========================================

Each :class:`Due` also carries its typed *anchor* (the value the key is made of), which the
ledger stores so the sweep query can leave fired occurrences out in SQL, and its due time,
which the late policy (``fire`` / ``skip_older_than`` / ``coalesce``) is applied to.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ...metadata.model import Action, Duration, TimeRule

__all__ = ["Due", "moment_of", "iso", "short_duration", "apply_late_policy", "FIRE"]

FIRE = "fire"


@dataclass(frozen=True)
class Due:
    """One occurrence of a rule that is due now for one record (or owner, for thresholds)."""

    record: Mapping[str, Any]
    record_id: int
    entity: str
    occurrence: str
    due_at: datetime
    actions: tuple[Action, ...]
    anchor_at: datetime | None = None
    anchor_date: date | None = None
    anchor_num: int | None = None
    step: int = 0  # SLA level (1-based); 0 elsewhere
    status: str = FIRE  # fire | coalesced | skipped (written as a marker, nothing sent)
    group: Any = None  # what coalesce groups by (the record, or the record and level)
    detail: Mapping[str, Any] = field(default_factory=dict)


def moment_of(value: Any, timezone: str) -> datetime | None:
    """A field value as a UTC moment: a date is the start of that day in ``timezone``."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=ZoneInfo(timezone)).astimezone(UTC)
    if isinstance(value, str):
        return moment_of(datetime.fromisoformat(value), timezone)
    raise TypeError(f"not a date or datetime: {value!r}")


def iso(value: Any) -> str:
    """A compact, stable text for a date or an instant (UTC, ``Z``)."""
    if isinstance(value, datetime):
        text = value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
        return text + "Z"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


_UNITS = {"minutes": "m", "hours": "h", "days": "d", "weeks": "w",
          "working_days": "wd", "working_hours": "wh"}  # fmt: skip


def short_duration(duration: Duration | None) -> str:
    if duration is None:
        return "0"
    return f"{duration.amount:g}{_UNITS.get(duration.unit, duration.unit)}"


def apply_late_policy(rule: TimeRule, dues: Iterable[Due], now: datetime) -> list[Due]:
    """Mark what the late policy does not fire: too old (skip), or not the latest (coalesce).

    ``skip_older_than``: an occurrence due more than ``late.age`` before now is skipped.
    ``coalesce``: of several occurrences of one group (record, or record and SLA level
    bucket) due in the span caught up, only the latest fires; the others are recorded as
    coalesced so they never fire later. ``fire``: everything fires.
    """
    result = list(dues)
    if rule.late_policy == "skip_older_than" and rule.late_age is not None:
        limit = _age_limit(rule.late_age, now)
        result = [d if d.due_at >= limit else replace(d, status="skipped") for d in result]
    elif rule.late_policy == "coalesce":
        latest: dict[Any, Due] = {}
        for d in result:
            key = d.group if d.group is not None else d.record_id
            if d.status == FIRE and (key not in latest or _later(d, latest[key])):
                latest[key] = d
        keep = {id(d) for d in latest.values()}
        result = [d if id(d) in keep or d.status != FIRE else replace(d, status="coalesced")
                  for d in result]  # fmt: skip
    return result


def _later(a: Due, b: Due) -> bool:
    return (a.due_at, a.step, a.occurrence) > (b.due_at, b.step, b.occurrence)


def _age_limit(age: Duration, now: datetime) -> datetime:
    """``now - age`` in elapsed time (working units count as calendar time here)."""
    hours = {"minutes": 1 / 60, "hours": 1, "days": 24, "weeks": 168,
             "working_days": 24, "working_hours": 1}[age.unit]  # fmt: skip
    return now - timedelta(hours=age.amount * hours)
