"""``computed``: a read-only value of an ``expression``, stored as the type it ``returns``.

Its kinds are None: storage, API and display follow the returned type; it is never an input.
"""

from __future__ import annotations

from typing import Any

from ..model import Field
from .base import FieldType, ValueError_

#: The types a computed field may return.
COMPUTED_RETURNS = ("integer", "decimal", "string", "boolean", "date")


def parse(field: Field, raw: Any, tz: str) -> Any:
    raise ValueError_("read_only")


FIELD_TYPE = FieldType(
    "computed", "any", frozenset({"expression", "returns"}), parse, label=("计算字段", "computed"),
)  # fmt: skip
