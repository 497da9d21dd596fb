"""Lines and columns in source text, and the position of a character inside a scalar.

Line breaks are YAML's: ``\\r\\n``, ``\\n``, ``\\r``, NEL, LS and PS. Lines and columns
returned here are 1-based, columns counted in characters.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import lru_cache

_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")
_TRAILING_BREAK = re.compile("[ \t]*(?:\r\n|[\n\r\x85\u2028\u2029])")
_HEX_LENGTH = {"x": 2, "u": 4, "U": 8}


@lru_cache(maxsize=16)
def line_starts(text: str) -> tuple[int, ...]:
    """Offsets where each line of ``text`` starts (the first is 0)."""
    return (0, *(m.end() for m in _BREAK.finditer(text)))


def line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of character ``offset`` of ``text``."""
    starts = line_starts(text)
    line = bisect_right(starts, offset)
    return line, offset - starts[line - 1] + 1


def locate_in_scalar(text: str, line: int, column: int, style: str, offset: int) -> tuple[int, int]:
    """Line and column of character ``offset`` of the scalar that starts at ``line:column``.

    ``style`` is the scalar's YAML style: ``''`` plain, ``'`` or ``"`` quoted (JSON strings
    are ``"``), ``|`` literal or ``>`` folded.
    """
    starts = line_starts(text)
    if not 1 <= line <= len(starts):
        return line, column
    start = starts[line - 1] + column - 1
    if style in ("|", ">"):
        position = _in_block(text, starts, line, style == ">", offset)
    else:
        position = _in_flow(text, start + (style in ("'", '"')), style, offset)
    return line_column(text, min(position, len(text)))


def _in_flow(text: str, i: int, style: str, remaining: int) -> int:
    """Walk ``remaining`` decoded characters of a plain or quoted scalar from ``i``."""
    while remaining > 0 and i < len(text):
        if _TRAILING_BREAK.match(text, i):
            i, produced = _fold(text, i)
        elif style == '"' and text[i] == "\\":
            i, produced = _escape(text, i)
        elif style == "'" and text.startswith("''", i):
            i, produced = i + 2, 1
        else:
            i, produced = i + 1, 1
        remaining -= produced
    return i


def _fold(text: str, i: int) -> tuple[int, int]:
    """Skip a line break with the whitespace around it; it decodes to a space or to newlines."""
    i = _TRAILING_BREAK.match(text, i).end()  # type: ignore[union-attr]
    empty = 0
    while True:
        while i < len(text) and text[i] in " \t":
            i += 1
        match = _BREAK.match(text, i)
        if not match:
            return i, empty or 1
        empty, i = empty + 1, match.end()


def _escape(text: str, i: int) -> tuple[int, int]:
    """Skip one backslash escape of a double-quoted scalar; return where it ends and its width."""
    kind = text[i + 1 : i + 2]
    if _BREAK.match(text, i + 1):
        j = _BREAK.match(text, i + 1).end()  # type: ignore[union-attr]
        while j < len(text) and text[j] in " \t":
            j += 1
        return j, 0
    if kind in _HEX_LENGTH:
        end = i + 2 + _HEX_LENGTH[kind]
        high = kind == "u" and 0xD800 <= _hex(text[i + 2 : end]) <= 0xDBFF
        low = 0xDC00 <= _hex(text[end + 2 : end + 6]) <= 0xDFFF
        if high and low and text.startswith("\\u", end):
            end += 6  # a surrogate pair (JSON) is one character
        return end, 1
    return i + 2, 1


def _hex(digits: str) -> int:
    try:
        return int(digits, 16)
    except ValueError:
        return -1


def _in_block(text: str, starts: tuple[int, ...], line: int, folded: bool, remaining: int) -> int:
    """Walk ``remaining`` characters of a ``|`` or ``>`` block whose indicator is on ``line``."""

    def content(k: int) -> str:
        return _line_text(text, starts, k) if k < len(starts) else ""

    k = line  # 0-based index of the line after the indicator
    while k < len(starts) and not content(k).strip():
        k += 1
    indent = len(content(k)) - len(content(k).lstrip(" "))
    for k in range(line, len(starts)):
        here = content(k)
        blank = not here.strip()
        if not blank and len(here) - len(here.lstrip(" ")) < indent:
            return starts[k]  # the block ended before the offset
        length = 0 if blank else len(here) - indent
        if remaining <= length:
            return starts[k] + min(indent + remaining, len(here))
        remaining -= length
        remaining -= 0 if (folded and not blank and not content(k + 1).strip()) else 1
    return len(text)


def _line_text(text: str, starts: tuple[int, ...], k: int) -> str:
    end = starts[k + 1] if k + 1 < len(starts) else len(text)
    return _BREAK.sub("", text[starts[k] : end])
