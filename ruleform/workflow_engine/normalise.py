"""Normalisers of the duplicate rules and the keys they make (pure).

``text``: Unicode NFKC (full-width → half-width: ＡＢＣ１２３ → abc123, 全角空格 → space), case
folded, whitespace collapsed. ``company_name``: text, then punctuation and spaces dropped
and legal-form suffixes removed from the end, repeatedly (上海恒远精密机械股份有限公司 and
上海恒远精密机械有限公司 are the same company; so are "Hengyuan Co., Ltd." and "HENGYUAN
LIMITED"). ``phone``: E.164 when it parses (mainland China by default), else the digits.
``email``: trimmed, lower case. ``exact``: the value as text.

A rule's key is the SHA-256 of its normalised parts. A record whose matched fields are all
empty has no key for that rule (empty values alone never match); with several fields, an
empty one matches an empty one (same company, no department given on either record).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

import phonenumbers

from ..metadata.model import DuplicateRule

__all__ = ["NORMALISERS", "normalise", "rule_key"]

_CN_SUFFIXES = (
    "集团股份有限公司",
    "集团有限公司",
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "责任公司",
    "分公司",
    "总公司",
    "子公司",
    "集团",
    "公司",
    "股份",
)
_EN_SUFFIXES = (
    "co",
    "ltd",
    "limited",
    "inc",
    "incorporated",
    "corp",
    "corporation",
    "company",
    "group",
    "llc",
    "gmbh",
    "plc",
    "holdings",
)
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)
_SPACES = re.compile(r"\s+")


def _text(value: Any) -> str:
    folded = unicodedata.normalize("NFKC", str(value)).casefold()
    return _SPACES.sub(" ", folded).strip()


def _company_name(value: Any) -> str:
    text = _text(value)
    words = [w for w in _PUNCT.split(text) if w]
    while words and words[-1] in _EN_SUFFIXES and len(words) > 1:
        words.pop()
    name = "".join(words)
    changed = True
    while changed:
        changed = False
        for suffix in _CN_SUFFIXES:
            if name.endswith(suffix) and len(name) > len(suffix):
                name, changed = name[: -len(suffix)], True
                break
    return name


def _phone(value: Any) -> str:
    text = unicodedata.normalize("NFKC", str(value)).strip()
    try:
        number = phonenumbers.parse(text, "CN")
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        pass
    return re.sub(r"\D", "", text)


def _email(value: Any) -> str:
    return unicodedata.normalize("NFKC", str(value)).strip().lower()


NORMALISERS: dict[str, Callable[[Any], str]] = {
    "text": _text,
    "company_name": _company_name,
    "phone": _phone,
    "email": _email,
    "exact": lambda value: str(value),
}


def normalise(kind: str, value: Any) -> str:
    """``value`` normalised by ``kind``; '' for an empty value."""
    if value is None or (isinstance(value, str) and not value.strip()) or value == []:
        return ""
    return NORMALISERS[kind](value)


def rule_key(rule: DuplicateRule, record: Mapping[str, Any]) -> str | None:
    """The hash identifying ``record`` under ``rule``; None when every matched field is empty."""
    parts = [normalise(k.normalize, record.get(k.field)) for k in rule.match]
    if not any(parts):
        return None
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
