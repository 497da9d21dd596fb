"""``integer``: a whole number (up to 18 digits)."""

from __future__ import annotations

import re
from typing import Any

from ..model import Field
from .base import NUMBER_OPTIONS, FieldType, ValueError_, bounded


def parse(field: Field, raw: Any, tz: str) -> int:
    if isinstance(raw, bool):
        raise ValueError_("not_integer")
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, float) and raw.is_integer():
        value = int(raw)
    elif isinstance(raw, str) and re.fullmatch(r"\s*[-+]?\d{1,18}\s*", raw):
        value = int(raw)
    else:
        raise ValueError_("not_integer")
    return bounded(field, value)


FIELD_TYPE = FieldType(
    "integer", "number", NUMBER_OPTIONS, parse, label=("整数", "whole number"),
    storage="integer", widget="number", api="integer",
)  # fmt: skip
