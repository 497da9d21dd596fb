"""What the YAML and JSON readers share: limits, decoding, problems and mark recording.

Rulebook files are untrusted input. The limits below bound the work a file can cause:
its size, how deep it nests, how many nodes it expands to and how many aliases it uses.
"""

from __future__ import annotations

from typing import Any, NoReturn

from ..errors import Problem, RulebookError
from .model import SourceRef
from .tree import Path, SourceTree, format_path

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 100_000
MAX_ALIASES = 100

BOM = "\ufeff"


def problem(message: str, file: str, line: int = 0, column: int = 0, path: Path = ()) -> Problem:
    """A source problem at 1-based ``line:column`` of ``file``."""
    return Problem(message, file=file, line=line, column=column, path=format_path(path))


def fail(message: str, file: str, line: int = 0, column: int = 0, path: Path = ()) -> NoReturn:
    """Raise a :class:`RulebookError` with one problem."""
    raise RulebookError([problem(message, file, line, column, path)])


def too_large_message(size: int) -> str:
    return (
        f"the file is {size:,} bytes; rulebook files may be at most "
        f"{MAX_FILE_BYTES // (1024 * 1024)} MiB (split it into several files of a folder)"
    )


def decode(raw: bytes, file: str) -> str:
    """UTF-8 text of ``raw`` without a byte-order mark; refuse large or non-UTF-8 input."""
    if len(raw) > MAX_FILE_BYTES:
        fail(too_large_message(len(raw)), file, 1, 1)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        column = len(raw[line_start : exc.start].decode("utf-8", "replace")) + 1
        byte = raw[exc.start]
        fail(
            f"the file is not UTF-8 text: byte 0x{byte:02x} (offset {exc.start}) cannot be "
            "decoded; save the file as UTF-8",
            file,
            line,
            column,
        )
    return text[1:] if text.startswith(BOM) else text


class TreeRecorder:
    """Collects the marks, string styles and problems of one file while a reader runs."""

    def __init__(self, file: str):
        self.file = file
        self.value_marks: dict[Path, SourceRef] = {}
        self.key_marks: dict[Path, SourceRef] = {}
        self.scalar_styles: dict[Path, str] = {}
        self.problems: list[Problem] = []
        self._texts: dict[Path, str] = {(): ""}

    def value(self, path: Path, line: int, column: int) -> None:
        """Record where the value at ``path`` starts (1-based)."""
        self.value_marks[path] = SourceRef(self.file, line, column, self._text(path))

    def key(self, path: Path, line: int, column: int) -> None:
        """Record where the key of the mapping entry at ``path`` starts (1-based)."""
        self.key_marks[path] = SourceRef(self.file, line, column, self._text(path))

    def _text(self, path: Path) -> str:
        """``format_path(path)``, built from the parent's text (every node is visited)."""
        text = self._texts.get(path)
        if text is None:
            parent = self._texts.get(path[:-1])
            if parent is None:
                return format_path(path)
            last = path[-1]
            text = f"{parent}[{last}]" if isinstance(last, int) else (
                f"{parent}.{last}" if parent else str(last))  # fmt: skip
            self._texts[path] = text
        return text

    def report(self, message: str, line: int, column: int, path: Path = ()) -> None:
        """Note a problem and carry on reading."""
        self.problems.append(problem(message, self.file, line, column, path))

    def finish(self, data: Any, text: str) -> SourceTree:
        """The tree read, or a :class:`RulebookError` with every problem noted."""
        if self.problems:
            raise RulebookError(self.problems)
        return SourceTree(
            data=data,
            value_marks=self.value_marks,
            key_marks=self.key_marks,
            files=[self.file],
            scalar_styles=self.scalar_styles,
            texts={self.file: text},
            source=self.file,
        )
