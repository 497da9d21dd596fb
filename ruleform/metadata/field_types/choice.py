"""``choice``: one of the declared ``choices`` (stored as its value, up to 64 characters)."""

from __future__ import annotations

from typing import Any

from ..model import Field
from .base import FieldType, ValueError_


def parse(field: Field, raw: Any, tz: str) -> str:
    if not isinstance(raw, str) or field.choice(raw) is None:
        raise ValueError_("not_a_choice", choices=", ".join(c.value for c in field.choices))
    return raw


FIELD_TYPE = FieldType(
    "choice", "string", frozenset({"choices", "unique"}), parse, label=("单选", "choice"),
    storage="string", width=64, widget="select", api="choice", text_like=True,
    choices="closed", groupable=True,
)  # fmt: skip
