"""``email``: an email address (the domain is lower-cased)."""

from __future__ import annotations

import re
from typing import Any

from ..model import Field
from .base import FieldType, ValueError_, text_value

_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]{1,64}@([A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,63}$")


def parse(field: Field, raw: Any, tz: str) -> str:
    value = text_value(field, raw)
    if not _EMAIL.match(value) or len(value) > 254:
        raise ValueError_("not_email")
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


FIELD_TYPE = FieldType(
    "email", "string", frozenset({"unique", "min_length", "max_length"}), parse,
    label=("电子邮箱", "email"),
    storage="string", width=254, widget="email", api="email", text_like=True,
    address_kind="email",
)  # fmt: skip
