"""``phone``: a telephone number, stored as E.164 (``region`` for national numbers, CN)."""

from __future__ import annotations

from typing import Any

import phonenumbers

from ..model import Field
from .base import FieldType, ValueError_


def parse(field: Field, raw: Any, tz: str) -> str:
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        raise ValueError_("not_phone")
    text = str(raw).strip()
    try:
        number = phonenumbers.parse(text, field.region or "CN")
    except phonenumbers.NumberParseException:
        raise ValueError_("not_phone") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError_("not_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


FIELD_TYPE = FieldType(
    "phone", "string", frozenset({"unique", "region"}), parse, label=("电话", "phone number"),
    storage="string", width=32, widget="phone", api="phone", text_like=True,
    address_kind="phone", option_defaults={"region": "CN"},
)  # fmt: skip
