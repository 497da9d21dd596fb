"""The field-type registry: one object per type, knowing what the metadata layer needs.

Each ``FieldType`` says which options a field of that type may declare, which value type
the condition language sees, and how a raw input value (from a form, the API, an import
or a validation example) becomes a stored value — or why it cannot. Storage (columns),
forms and API schemas keep registries of their own keyed by the same names; a test keeps
them in step with this one and with the JSON Schema.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import phonenumbers

from .model import Field

__all__ = ["FieldType", "FIELD_TYPES", "ValueError_", "parse_value", "COMMON_OPTIONS"]


class ValueError_(ValueError):
    """A raw value does not fit its field; ``code`` keys a translated message."""

    def __init__(self, code: str, **params: Any):
        self.code = code
        self.params = params
        super().__init__(code)


COMMON_OPTIONS = frozenset(
    {
        "type", "label", "help", "placeholder", "required", "required_when", "visible_when",
        "editable_when", "default", "index", "read_only", "sensitive",
    }
)  # fmt: skip


@dataclass(frozen=True)
class FieldType:
    """What a field type is, for the metadata language and for input parsing."""

    name: str
    condition_type: str  # the type the condition language sees
    options: frozenset[str]  # options beyond COMMON_OPTIONS
    parser: Callable[[Field, Any, str], Any]
    scalar: bool = True  # may be unique / compared with < >
    label: tuple[str, str] = ("", "")  # (zh-CN, en) for explanations and admin pages

    def parse(self, field: Field, raw: Any, timezone: str = "UTC") -> Any:
        """Turn a raw input into the stored value, or raise ``ValueError_``; ''/None → None."""
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            return None
        return self.parser(field, raw, timezone)


# --- parsers -------------------------------------------------------------------------------


def _text(field: Field, raw: Any, tz: str) -> str:
    if not isinstance(raw, str):
        raise ValueError_("not_text")
    value = raw.strip() if field.type != "text" else raw
    if "\x00" in value:
        raise ValueError_("not_text")
    limit = field.max_length or (255 if field.type == "string" else None)
    if limit is not None and len(value) > limit:
        raise ValueError_("too_long", max=limit)
    if field.min_length is not None and len(value) < field.min_length:
        raise ValueError_("too_short", min=field.min_length)
    if field.pattern and not re.fullmatch(field.pattern, value):
        raise ValueError_("pattern")
    return value


def _integer(field: Field, raw: Any, tz: str) -> int:
    if isinstance(raw, bool):
        raise ValueError_("not_integer")
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, float) and raw.is_integer():
        value = int(raw)
    elif isinstance(raw, str) and re.fullmatch(r"\s*[-+]?\d{1,18}\s*", raw):
        value = int(raw)
    else:
        raise ValueError_("not_integer")
    return _bounded(field, value)


def _decimal(field: Field, raw: Any, tz: str) -> Decimal:
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
    return _bounded(field, value.quantize(Decimal(1).scaleb(-scale)))


def _boolean(field: Field, raw: Any, tz: str) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in {"true", "1", "on", "yes", "y"}:
        return True
    if isinstance(raw, str) and raw.strip().lower() in {"false", "0", "off", "no", "n"}:
        return False
    raise ValueError_("not_boolean")


def _date(field: Field, raw: Any, tz: str) -> date:
    if isinstance(raw, datetime):
        raise ValueError_("not_date")
    if isinstance(raw, date):
        value = raw
    elif isinstance(raw, str):
        try:
            value = date.fromisoformat(raw.strip())
        except ValueError:
            raise ValueError_("not_date") from None
    else:
        raise ValueError_("not_date")
    return _bounded(field, value)


def _datetime(field: Field, raw: Any, tz: str) -> datetime:
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, str):
        try:
            value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError_("not_datetime") from None
    else:
        raise ValueError_("not_datetime")
    if value.tzinfo is None:  # a wall-clock time in the rulebook's zone
        value = value.replace(tzinfo=ZoneInfo(tz))
    return _bounded(field, value.astimezone(UTC))


def _choice(field: Field, raw: Any, tz: str) -> str:
    if not isinstance(raw, str) or field.choice(raw) is None:
        raise ValueError_("not_a_choice", choices=", ".join(c.value for c in field.choices))
    return raw


def _list(field: Field, raw: Any, tz: str) -> list[str]:
    if isinstance(raw, str):
        raw = [part.strip() for part in re.split(r"[,，;；]", raw) if part.strip()]
    if not isinstance(raw, list | tuple) or not all(isinstance(v, str) for v in raw):
        raise ValueError_("not_list")
    values = list(dict.fromkeys(v.strip() for v in raw if v.strip()))
    if len(values) > 100 or any(len(v) > 64 for v in values):
        raise ValueError_("too_long", max=64)
    if field.type == "multi_choice":
        unknown = [v for v in values if field.choice(v) is None]
        if unknown:
            raise ValueError_("not_a_choice", choices=", ".join(c.value for c in field.choices))
    return values


_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]{1,64}@([A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,63}$")


def _email(field: Field, raw: Any, tz: str) -> str:
    value = _text(field, raw, tz)
    if not _EMAIL.match(value) or len(value) > 254:
        raise ValueError_("not_email")
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def _phone(field: Field, raw: Any, tz: str) -> str:
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


def _url(field: Field, raw: Any, tz: str) -> str:
    value = _text(field, raw, tz)
    parts = urlsplit(value)
    if parts.scheme.lower() not in {"http", "https", "mailto"}:
        raise ValueError_("bad_url_scheme")
    if parts.scheme.lower() in {"http", "https"} and not parts.netloc:
        raise ValueError_("not_url")
    if any(ch in value for ch in "\r\n\t <>\"") or len(value) > 2048:
        raise ValueError_("not_url")
    return value


def _id(field: Field, raw: Any, tz: str) -> int:
    if isinstance(raw, bool):
        raise ValueError_("not_reference")
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ValueError_("not_reference") from None
    if value <= 0:
        raise ValueError_("not_reference")
    return value


def _computed(field: Field, raw: Any, tz: str) -> Any:
    raise ValueError_("read_only")


def _bounded(field: Field, value: Any) -> Any:
    if field.min is not None and _comparable(field.min, value) and value < field.min:
        raise ValueError_("too_small", min=field.min)
    if field.max is not None and _comparable(field.max, value) and value > field.max:
        raise ValueError_("too_large_max", max=field.max)
    return value


def _comparable(bound: Any, value: Any) -> bool:
    if isinstance(value, datetime):
        return isinstance(bound, datetime)
    if isinstance(value, date):
        return isinstance(bound, date) and not isinstance(bound, datetime)
    return isinstance(bound, int | float | Decimal) and not isinstance(bound, bool)


# --- the registry ----------------------------------------------------------------------------

_TEXT_OPTS = frozenset({"unique", "min_length", "max_length", "pattern", "pattern_message"})
_NUM_OPTS = frozenset({"unique", "min", "max"})


def _t(name: str, ctype: str, options: set[str], parser: Callable, zh: str, en: str,
       scalar: bool = True) -> FieldType:  # fmt: skip
    return FieldType(name, ctype, frozenset(options), parser, scalar, (zh, en))


FIELD_TYPES: dict[str, FieldType] = {
    t.name: t
    for t in [
        _t("string", "string", {*_TEXT_OPTS, "append_only"}, _text, "单行文本", "text"),
        _t("text", "string", {"min_length", "max_length", "append_only"}, _text, "多行文本",
           "long text", scalar=False),
        _t("integer", "number", _NUM_OPTS, _integer, "整数", "whole number"),
        _t("decimal", "number", {*_NUM_OPTS, "precision", "scale"}, _decimal, "小数", "decimal"),
        _t("money", "number", {*_NUM_OPTS, "currency"}, _decimal, "金额", "amount of money"),
        _t("boolean", "boolean", set(), _boolean, "是/否", "yes/no"),
        _t("date", "date", _NUM_OPTS, _date, "日期", "date"),
        _t("datetime", "datetime", _NUM_OPTS, _datetime, "日期时间", "date and time"),
        _t("choice", "string", {"choices", "unique"}, _choice, "单选", "choice"),
        _t("multi_choice", "list", {"choices"}, _list, "多选", "multiple choice", scalar=False),
        _t("tags", "list", {"choices"}, _list, "标签", "tags", scalar=False),
        _t("email", "string", {"unique", "min_length", "max_length"}, _email, "电子邮箱", "email"),
        _t("phone", "string", {"unique", "region"}, _phone, "电话", "phone number"),
        _t("url", "string", {"unique", "max_length"}, _url, "网址", "web address"),
        _t("reference", "reference", {"entity", "on_delete", "related_label", "unique",
                                   "reference_scope"}, _id,
           "关联记录", "link to a record"),
        _t("user", "user", {"unique"}, _id, "用户", "user"),
        _t("department", "department", set(), _id, "部门", "department"),
        _t("computed", "any", {"expression", "returns"}, _computed, "计算字段", "computed"),
    ]
}  # fmt: skip

COMPUTED_RETURNS = ("integer", "decimal", "string", "boolean", "date")


def parse_value(field: Field, raw: Any, timezone: str = "UTC") -> Any:
    """Parse ``raw`` for ``field`` (its registered type); raises ``ValueError_``."""
    if field.type == "computed":
        return FIELD_TYPES[field.returns or "string"].parse(field, raw, timezone)
    return FIELD_TYPES[field.type].parse(field, raw, timezone)
