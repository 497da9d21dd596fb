"""``string``: one line of text (up to 255 characters unless ``max_length`` says)."""

from __future__ import annotations

from typing import Any

from ..model import Field
from .base import TEXT_OPTIONS, FieldType, text_value


def parse(field: Field, raw: Any, tz: str) -> str:
    # a computed field returning text has no length of its own
    return text_value(field, raw, default_limit=None if field.type == "computed" else 255)


FIELD_TYPE = FieldType(
    "string", "string", TEXT_OPTIONS | {"append_only"}, parse, label=("单行文本", "text"),
    storage="string", widget="input", api="string", text_like=True,
)  # fmt: skip
