"""The source tree: plain data read from rulebook files, with where every node was written.

Readers (``yaml_reader``, ``json_reader``) build a :class:`SourceTree`; the folder loader
and the overlay merger combine trees; validation and the compiler read ``data`` and ask
``where`` to place their messages. Paths are tuples of mapping keys (``str``) and list
indexes (``int``), printed by :func:`format_path` as ``entities.customer.fields[2].type``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from .model import SourceRef
from .positions import locate_in_scalar

Path = tuple[Any, ...]


def format_path(path: Path) -> str:
    """``('entities', 'customer', 'fields', 2)`` → ``'entities.customer.fields[2]'``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def walk_paths(value: Any, path: Path = ()) -> Iterator[Path]:
    """Every path inside ``value``, ``path`` itself first (depth first, in order)."""
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from walk_paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from walk_paths(child, (*path, index))


@dataclass
class SourceTree:
    """Plain data of a rulebook and the file position of each of its nodes."""

    data: dict[str, Any]
    value_marks: dict[Path, SourceRef] = field(default_factory=dict)
    key_marks: dict[Path, SourceRef] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    scalar_styles: dict[Path, str] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)  # display path → file text
    source: str = ""  # display path of what was loaded (a file or a folder)

    def where(self, path: Path, prefer: str = "key") -> SourceRef:
        """Position of ``path`` (its key, or its value with ``prefer='value'``).

        A path without a mark (a missing key, say) gets its nearest ancestor's position;
        the returned ``SourceRef.path`` is always the dotted form of ``path`` itself.
        """
        first, second = (
            (self.key_marks, self.value_marks)
            if prefer == "key"
            else (self.value_marks, self.key_marks)
        )
        path = tuple(path)
        for end in range(len(path), -1, -1):
            part = path[:end]
            mark = first.get(part) or second.get(part)
            if mark is not None:
                return SourceRef(mark.file, mark.line, mark.column, format_path(path))
        file = self.files[0] if self.files else "<rulebook>"
        return SourceRef(file=file, line=1, column=1, path=format_path(path))

    def where_in_scalar(self, path: Path, offset: int) -> SourceRef:
        """Position of character ``offset`` of the string scalar at ``path``.

        Used for errors inside condition expressions: quotes, escapes and block scalars
        (``|``, ``>``: the text starts on the next line) are accounted for; folded and
        multi-line scalars are placed on a best-effort basis.
        """
        path = tuple(path)
        mark = self.where(path, prefer="value")
        style = self.scalar_styles.get(path)
        text = self.texts.get(mark.file)
        if style is None or text is None or path not in self.value_marks:
            return mark
        line, column = locate_in_scalar(text, mark.line, mark.column, style, offset)
        return replace(mark, line=line, column=column)

    def paths(self) -> Iterator[Path]:
        """Every path of ``data``, the root ``()`` first."""
        return walk_paths(self.data)

    def adopt_marks(self, other: SourceTree, taken: dict[Any, set[Any] | None]) -> None:
        """Take ``other``'s marks below the top-level keys in ``taken``: all of a key
        (``None``) or below the named items of a key. One pass over ``other``'s marks.
        """
        pairs = (
            (self.value_marks, other.value_marks),
            (self.key_marks, other.key_marks),
            (self.scalar_styles, other.scalar_styles),
        )
        if taken.keys() == other.data.keys() and all(
            names is None or len(names) == len(other.data[key]) for key, names in taken.items()
        ):  # everything was taken (the usual case): copy wholesale, but not the marks of
            # the root and of the item collections themselves (the first file's stay)
            tops = [(), *((key,) for key, names in taken.items() if names is not None)]
            for mine, theirs in pairs:
                saved = {top: mine[top] for top in tops if top in mine}
                mine.update(theirs)  # type: ignore[arg-type]
                for top in tops:
                    if top in saved:
                        mine[top] = saved[top]  # type: ignore[index]
                    else:
                        mine.pop(top, None)  # type: ignore[arg-type]
            return
        for mine, theirs in pairs:
            for sub, mark in theirs.items():
                if not sub:
                    continue
                names = taken.get(sub[0], ())
                if names is None or (len(sub) > 1 and sub[1] in names):
                    mine[sub] = mark  # type: ignore[index]

    def copy_marks(self, other: SourceTree, path: Path, value: Any) -> None:
        """Take from ``other`` the marks and styles of ``value``, found at ``path`` there."""
        pairs = (
            (self.value_marks, other.value_marks),
            (self.key_marks, other.key_marks),
            (self.scalar_styles, other.scalar_styles),
        )
        stack = [(tuple(path), value)]  # an explicit stack: no generator chain per level
        while stack:
            sub, node = stack.pop()
            for mine, theirs in pairs:
                mark = theirs.get(sub)
                if mark is not None:
                    mine[sub] = mark  # type: ignore[index]
            if isinstance(node, dict):
                stack.extend(((*sub, key), child) for key, child in node.items())
            elif isinstance(node, list):
                stack.extend(((*sub, i), child) for i, child in enumerate(node))
