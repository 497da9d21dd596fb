"""``tags``: free short labels (a JSON list); the ``choices`` are only suggestions."""

from __future__ import annotations

from typing import Any

from ..model import Field
from .base import FieldType, list_value


def parse(field: Field, raw: Any, tz: str) -> list[str]:
    return list_value(field, raw)


FIELD_TYPE = FieldType(
    "tags", "list", frozenset({"choices"}), parse, scalar=False, label=("标签", "tags"),
    storage="json_list", widget="tags", api="tags", list_valued=True, sortable=False,
    choices="suggested",
)  # fmt: skip
