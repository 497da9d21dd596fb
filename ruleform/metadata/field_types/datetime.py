"""``datetime``: a moment, stored in UTC; a wall-clock time is in the rulebook's zone."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from ..model import Field
from .base import NUMBER_OPTIONS, FieldType, ValueError_, bounded


def parse(field: Field, raw: Any, tz: str) -> dt.datetime:
    if isinstance(raw, dt.datetime):
        value = raw
    elif isinstance(raw, str):
        try:
            value = dt.datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError_("not_datetime") from None
    else:
        raise ValueError_("not_datetime")
    if value.tzinfo is None:  # a wall-clock time in the rulebook's zone
        value = value.replace(tzinfo=ZoneInfo(tz))
    return bounded(field, value.astimezone(dt.UTC))


FIELD_TYPE = FieldType(
    "datetime", "datetime", NUMBER_OPTIONS, parse, label=("日期时间", "date and time"),
    storage="datetime", widget="datetime", api="datetime",
)  # fmt: skip
