"""The tokenizer: condition text -> a list of :class:`Token`.

Tokens are words (identifiers and keywords; keywords are recognised by the parser,
case-insensitively), numbers, quoted strings, operators and punctuation. Every token
keeps its character offset so errors can point at it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from ...errors import ConditionError

__all__ = ["MAX_LENGTH", "Token", "tokenize"]

MAX_LENGTH = 2000
"""The longest condition accepted, in characters."""

_OPERATORS = ("!=", "<=", ">=", "=", "<", ">", "+", "-", "*", "/", "(", ")", "[", "]", ",", ".")
_MISTAKES = {
    "==": "write '=' (a single equals sign)",
    "<>": "write '!=' for 'not equal'",
    "&&": "write 'and'",
    "||": "write 'or'",
    "!": "write 'not'",
    "&": "write 'and'",
    "|": "write 'or'",
}
_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t", "r": "\r"}


@dataclass(frozen=True, slots=True)
class Token:
    """One token: ``kind`` is word, number, string, op or end."""

    kind: str
    text: str  # the source text (for strings: the decoded value)
    pos: int
    value: object = None  # numbers: int or Decimal

    @property
    def word(self) -> str:
        """The lower-cased word (keywords are case-insensitive); '' for other tokens."""
        return self.text.lower() if self.kind == "word" else ""

    def describe(self) -> str:
        """How to name the token in an error message."""
        if self.kind == "end":
            return "the end of the condition"
        if self.kind == "string":
            return "a text literal"
        return f"'{self.text}'"


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens, ending with an ``end`` token; raise ConditionError."""
    if len(text) > MAX_LENGTH:
        raise ConditionError(
            f"the condition is too long ({len(text)} characters; the limit is {MAX_LENGTH})",
            MAX_LENGTH,
            "split it into several rules or simplify it",
        )
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch.isascii() and (ch.isalpha() or ch == "_"):
            i = _word(text, i, tokens)
        elif ch.isascii() and ch.isdigit():
            i = _number(text, i, tokens)
        elif ch in "'\"":
            i = _string(text, i, tokens)
        else:
            i = _operator(text, i, tokens)
    tokens.append(Token("end", "", len(text)))
    return tokens


_WORD = re.compile(r"[A-Za-z0-9_]*")


def _word(text: str, i: int, out: list[Token]) -> int:
    j = _WORD.match(text, i).end()  # type: ignore[union-attr]  # ASCII letters, digits, _
    out.append(Token("word", text[i:j], i))
    return j


def _number(text: str, i: int, out: list[Token]) -> int:
    j = i
    while j < len(text) and text[j].isascii() and text[j].isdigit():
        j += 1
    if j + 1 < len(text) and text[j] == "." and text[j + 1].isascii() and text[j + 1].isdigit():
        j += 1
        while j < len(text) and text[j].isascii() and text[j].isdigit():
            j += 1
        value: int | Decimal = Decimal(text[i:j])
    else:
        value = int(text[i:j])
    if j < len(text) and text[j].isascii() and (text[j].isalpha() or text[j] == "_"):
        if not text[j:].lower().startswith(("minute", "hour", "day", "week", "working")):
            raise ConditionError(f"unexpected '{text[j]}' after the number {text[i:j]}", j)
    out.append(Token("number", text[i:j], i, value))
    return j


def _string(text: str, i: int, out: list[Token]) -> int:
    quote = text[i]
    parts: list[str] = []
    j = i + 1
    while j < len(text):
        ch = text[j]
        if ch == quote:
            out.append(Token("string", "".join(parts), i))
            return j + 1
        if ch == "\\":
            ch, j = _escape(text, j)
            parts.append(ch)
            continue
        parts.append(ch)
        j += 1
    raise ConditionError(
        "this text has no closing quote", i, f"end it with {quote} (write \\{quote} inside it)"
    )


def _escape(text: str, j: int) -> tuple[str, int]:
    """Decode the escape starting at the backslash ``text[j]``; return (char, next index)."""
    nxt = text[j + 1] if j + 1 < len(text) else ""
    if nxt in _ESCAPES and nxt:
        return _ESCAPES[nxt], j + 2
    if nxt == "u":
        digits = text[j + 2 : j + 6]
        if len(digits) == 4 and all(c in "0123456789abcdefABCDEF" for c in digits):
            code = int(digits, 16)
            if not 0xD800 <= code <= 0xDFFF:
                return chr(code), j + 6
    raise ConditionError(
        f"unknown escape '\\{nxt}' in a text",
        j,
        "known escapes: \\\\ \\' \\\" \\n \\t \\r \\uXXXX",
    )


def _operator(text: str, i: int, out: list[Token]) -> int:
    for mistake, hint in _MISTAKES.items():
        if text.startswith(mistake, i) and not text.startswith("!=", i):
            raise ConditionError(f"unknown operator '{mistake}'", i, hint)
    for op in _OPERATORS:
        if text.startswith(op, i):
            out.append(Token("op", op, i))
            return i + len(op)
    raise ConditionError(f"unexpected character '{text[i]}'", i, _char_hint(text[i]))


def _char_hint(ch: str) -> str:
    if ch in "‘’“”":
        return "use straight quotes ' or \" around texts"
    if not ch.isascii():
        return "names of fields are lowercase English words; put other text in quotes"
    return ""
