"""``text``: several lines of text, kept as typed (not stripped), not sortable."""

from __future__ import annotations

from typing import Any

from ..model import Field
from .base import FieldType, text_value


def parse(field: Field, raw: Any, tz: str) -> str:
    return text_value(field, raw, strip=False)


FIELD_TYPE = FieldType(
    "text", "string", frozenset({"min_length", "max_length", "append_only"}), parse,
    scalar=False, label=("多行文本", "long text"),
    storage="text", widget="textarea", api="text", sortable=False, text_like=True,
)  # fmt: skip
