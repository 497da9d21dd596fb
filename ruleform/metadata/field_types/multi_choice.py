"""``multi_choice``: several of the declared ``choices`` (a JSON list)."""

from __future__ import annotations

from typing import Any

from ..model import Field
from .base import FieldType, ValueError_, list_value


def parse(field: Field, raw: Any, tz: str) -> list[str]:
    values = list_value(field, raw)
    unknown = [v for v in values if field.choice(v) is None]
    if unknown:
        raise ValueError_("not_a_choice", choices=", ".join(c.value for c in field.choices))
    return values


FIELD_TYPE = FieldType(
    "multi_choice", "list", frozenset({"choices"}), parse, scalar=False,
    label=("多选", "multiple choice"),
    storage="json_list", widget="multi_select", api="multi_choice", list_valued=True,
    sortable=False, choices="closed",
)  # fmt: skip
