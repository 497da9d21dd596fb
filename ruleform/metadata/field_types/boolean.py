"""``boolean``: yes or no."""

from __future__ import annotations

from typing import Any

from ..model import Field
from .base import FieldType, ValueError_


def parse(field: Field, raw: Any, tz: str) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in {"true", "1", "on", "yes", "y"}:
        return True
    if isinstance(raw, str) and raw.strip().lower() in {"false", "0", "off", "no", "n"}:
        return False
    raise ValueError_("not_boolean")


FIELD_TYPE = FieldType(
    "boolean", "boolean", frozenset(), parse, label=("是/否", "yes/no"),
    storage="boolean", widget="checkbox", api="boolean", groupable=True,
)  # fmt: skip
