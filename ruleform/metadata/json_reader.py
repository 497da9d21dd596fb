"""Read one JSON document (RFC 8259, strictly) into plain data, keeping positions.

The standard ``json`` module reports no positions, so this is a small recursive-descent
parser. It refuses comments, trailing commas, ``NaN``/``Infinity``, duplicate keys, lone
surrogates and nesting deeper than :data:`~ruleform.metadata.reading.MAX_DEPTH`. Syntax
errors stop the parse; duplicate keys are collected and reported together.
"""

from __future__ import annotations

import math
import re
from typing import Any

from .positions import line_column
from .reading import MAX_DEPTH, TreeRecorder, fail
from .tree import Path, SourceTree

_SPACE = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_CHUNK = re.compile(r'[^"\\\x00-\x1f]*')
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_LITERALS = {"true": True, "false": False, "null": None}
_NOT_NUMBERS = ("NaN", "Infinity", "-Infinity")


class _SyntaxError(Exception):
    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.message = message
        self.offset = offset


def read_json(text: str, file: str) -> SourceTree:
    """Plain data and marks of the JSON document ``text`` (``file`` is its display path)."""
    recorder = TreeRecorder(file)
    parser = _Parser(text, recorder)
    try:
        data = parser.document()
    except _SyntaxError as exc:
        line, column = line_column(text, min(exc.offset, len(text)))
        fail(exc.message, file, line, column)
    return recorder.finish(data, text)


class _Parser:
    def __init__(self, text: str, recorder: TreeRecorder):
        self.text = text
        self.recorder = recorder
        self.i = 0
        self.quiet = 0  # > 0 while reading the value of a duplicate key (not recorded)

    # --- structure -------------------------------------------------------------------

    def document(self) -> Any:
        self.skip_space()
        if self.i >= len(self.text):
            self.recorder.value((), 1, 1)
            return None
        value = self.value((), 1)
        self.skip_space()
        if self.i < len(self.text):
            raise _SyntaxError("unexpected text after the JSON document", self.i)
        return value

    def value(self, path: Path, depth: int) -> Any:
        """The value at ``path``; ``depth`` is how deep a list or object here would nest."""
        self.mark(path)
        char = self.text[self.i : self.i + 1]
        if char in ("{", "[") and depth > MAX_DEPTH:
            raise _SyntaxError(f"nested more than {MAX_DEPTH} levels deep", self.i)
        if char == "{":
            return self.object(path, depth)
        if char == "[":
            return self.array(path, depth)
        if char == '"':
            if not self.quiet:
                self.recorder.scalar_styles[path] = '"'
            return self.string()
        return self.scalar()

    def object(self, path: Path, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        self.i += 1
        if self.next_is("}"):
            return result
        while True:
            self.skip_space()
            if self.text[self.i : self.i + 1] != '"':
                self.expected("a key in double quotes", trailing="}")
            key_offset = self.i
            key = self.string()
            self.skip_space()
            self.expect(":")
            self.skip_space()
            line, column = line_column(self.text, key_offset)
            if key in first_line:
                message = f"duplicate key '{key}' (first at line {first_line[key]})"
                self.recorder.report(message, line, column, (*path, key))
                self.quiet += 1
                self.value((*path, key), depth + 1)
                self.quiet -= 1
            else:
                first_line[key] = line
                if not self.quiet:
                    self.recorder.key((*path, key), line, column)
                result[key] = self.value((*path, key), depth + 1)
            if not self.separator("}"):
                return result

    def array(self, path: Path, depth: int) -> list[Any]:
        result: list[Any] = []
        self.i += 1
        if self.next_is("]"):
            return result
        while True:
            self.skip_space()
            if self.text[self.i : self.i + 1] == "]":
                raise _SyntaxError("trailing comma before ']'", self.i)
            result.append(self.value((*path, len(result)), depth + 1))
            if not self.separator("]"):
                return result

    def separator(self, close: str) -> bool:
        """After an item: ``True`` on a comma (more follow), ``False`` on ``close``."""
        self.skip_space()
        char = self.text[self.i : self.i + 1]
        if char == ",":
            self.i += 1
            return True
        if char == close:
            self.i += 1
            return False
        self.expected(f"',' or '{close}'")
        return False  # pragma: no cover

    # --- scalars ---------------------------------------------------------------------

    def string(self) -> str:
        text, parts = self.text, []
        self.i += 1
        while True:
            chunk = _CHUNK.match(text, self.i)
            parts.append(chunk.group())  # type: ignore[union-attr]
            self.i = chunk.end()  # type: ignore[union-attr]
            char = text[self.i : self.i + 1]
            if char == '"':
                self.i += 1
                return "".join(parts)
            if char == "\\":
                parts.append(self.escape())
            elif not char:
                raise _SyntaxError("unterminated string", self.i)
            else:
                raise _SyntaxError(
                    f"control character U+{ord(char):04X} in a string; write it as an escape",
                    self.i,
                )

    def escape(self) -> str:
        start = self.i
        kind = self.text[self.i + 1 : self.i + 2]
        if kind in _ESCAPES:
            self.i += 2
            return _ESCAPES[kind]
        if kind != "u":
            raise _SyntaxError(f"invalid escape '\\{kind}' in a string", start)
        code = self.hex4(start)
        if 0xD800 <= code <= 0xDBFF and self.text.startswith("\\u", self.i):
            low = self.hex4(self.i)
            if 0xDC00 <= low <= 0xDFFF:
                return chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00))
        if 0xD800 <= code <= 0xDFFF:
            raise _SyntaxError("a lone surrogate escape is not a character", start)
        return chr(code)

    def hex4(self, start: int) -> int:
        digits = self.text[start + 2 : start + 6]
        if len(digits) != 4 or not all(c in "0123456789abcdefABCDEF" for c in digits):
            raise _SyntaxError("'\\u' must be followed by four hex digits", start)
        self.i = start + 6
        return int(digits, 16)

    def scalar(self) -> Any:
        text, start = self.text, self.i
        for word, value in _LITERALS.items():
            if text.startswith(word, start):
                self.i += len(word)
                return value
        for word in _NOT_NUMBERS:
            if text.startswith(word, start):
                raise _SyntaxError(f"{word} is not allowed: numbers must be finite", start)
        match = _NUMBER.match(text, start)
        if not match:
            self.expected("a value")
        self.i = match.end()  # type: ignore[union-attr]
        if match.group(1) is None and match.group(2) is None:  # type: ignore[union-attr]
            return int(match.group())  # type: ignore[union-attr]
        number = float(match.group())  # type: ignore[union-attr]
        if math.isinf(number):
            raise _SyntaxError(f"the number {match.group()} is too large", start)  # type: ignore[union-attr]
        return number

    # --- helpers ---------------------------------------------------------------------

    def mark(self, path: Path) -> None:
        if self.quiet:
            return
        line, column = line_column(self.text, self.i)
        self.recorder.value(path, line, column)

    def skip_space(self) -> None:
        self.i = _SPACE.match(self.text, self.i).end()  # type: ignore[union-attr]

    def next_is(self, char: str) -> bool:
        self.skip_space()
        if self.text.startswith(char, self.i):
            self.i += 1
            return True
        return False

    def expect(self, char: str) -> None:
        if not self.text.startswith(char, self.i):
            self.expected(f"'{char}'")
        self.i += 1

    def expected(self, what: str, trailing: str = "") -> None:
        text, i = self.text, self.i
        if text.startswith(("//", "/*", "#"), i):
            raise _SyntaxError("comments are not allowed in JSON", i)
        if trailing and text.startswith(trailing, i):
            raise _SyntaxError(f"trailing comma before '{trailing}'", i)
        if i >= len(text):
            raise _SyntaxError(f"the file ends where {what} was expected", i)
        found = text[i : i + 12].split("\n")[0]
        raise _SyntaxError(f"expected {what}, found '{found}'", i)
