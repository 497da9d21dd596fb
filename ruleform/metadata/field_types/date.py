"""``date``: a calendar day (ISO ``YYYY-MM-DD``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..model import Field
from .base import NUMBER_OPTIONS, FieldType, ValueError_, bounded


def parse(field: Field, raw: Any, tz: str) -> dt.date:
    if isinstance(raw, dt.datetime):
        raise ValueError_("not_date")
    if isinstance(raw, dt.date):
        value = raw
    elif isinstance(raw, str):
        try:
            value = dt.date.fromisoformat(raw.strip())
        except ValueError:
            raise ValueError_("not_date") from None
    else:
        raise ValueError_("not_date")
    return bounded(field, value)


FIELD_TYPE = FieldType(
    "date", "date", NUMBER_OPTIONS, parse, label=("日期", "date"),
    storage="date", widget="date", api="date",
)  # fmt: skip
