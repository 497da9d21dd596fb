"""``money``: an amount in a ``currency`` (default CNY), two decimal places."""

from __future__ import annotations

from . import decimal
from .base import NUMBER_OPTIONS, FieldType

FIELD_TYPE = FieldType(
    "money", "number", NUMBER_OPTIONS | {"currency"}, decimal.parse,
    label=("金额", "amount of money"),
    storage="decimal", widget="money", api="money",
    option_defaults={"currency": "CNY", "precision": 18, "scale": 2},
)  # fmt: skip
