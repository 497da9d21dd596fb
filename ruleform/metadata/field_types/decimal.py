"""``decimal``: an exact number with ``scale`` decimal places (default 18 digits, 2 places)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from ..model import Field
from .base import NUMBER_OPTIONS, FieldType, ValueError_, bounded


def parse(field: Field, raw: Any, tz: str) -> Decimal:
    if isinstance(raw, bool):
        raise ValueError_("not_number")
    try:
        value = Decimal(str(raw).strip().replace(",", "")) if not isinstance(raw, Decimal) else raw
    except InvalidOperation:
        raise ValueError_("not_number") from None
    if not value.is_finite():
        raise ValueError_("not_number")
    scale = field.scale if field.scale is not None else 2
    if value != value.quantize(Decimal(1).scaleb(-scale)):
        raise ValueError_("too_many_decimals", scale=scale)
    if abs(value) >= Decimal(10) ** ((field.precision or 18) - scale):
        raise ValueError_("too_large")
    return bounded(field, value.quantize(Decimal(1).scaleb(-scale)))


FIELD_TYPE = FieldType(
    "decimal", "number", NUMBER_OPTIONS | {"precision", "scale"}, parse, label=("小数", "decimal"),
    storage="decimal", widget="number", api="decimal",
    option_defaults={"precision": 18, "scale": 2},
)  # fmt: skip
