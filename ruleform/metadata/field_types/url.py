"""``url``: a web address (http, https or mailto only)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ..model import Field
from .base import FieldType, ValueError_, text_value


def parse(field: Field, raw: Any, tz: str) -> str:
    value = text_value(field, raw)
    parts = urlsplit(value)
    if parts.scheme.lower() not in {"http", "https", "mailto"}:
        raise ValueError_("bad_url_scheme")
    if parts.scheme.lower() in {"http", "https"} and not parts.netloc:
        raise ValueError_("not_url")
    if any(ch in value for ch in '\r\n\t <>"') or len(value) > 2048:
        raise ValueError_("not_url")
    return value


FIELD_TYPE = FieldType(
    "url", "string", frozenset({"unique", "max_length"}), parse, label=("网址", "web address"),
    storage="string", width=2048, widget="url", api="url", text_like=True,
)  # fmt: skip
