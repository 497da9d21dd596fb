"""Read a regular YAML document straight from the parser's events, without a node graph.

Most rulebook files are plain: no anchors or aliases, no tags, no repeated keys, no
invalid values. For them, building PyYAML's node graph and then walking it doubles the
work; :func:`read_events` builds the plain values and marks in one pass instead. At the
first thing it does not handle it gives up (returns ``None``) and ``yaml_reader`` reads
the document again through the node graph, which refuses or reports it exactly — so both
ways always give the same tree (``tests/metadata/test_source.py`` compares them).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date
from typing import Any

import yaml
from yaml.events import (
    MappingEndEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

from .reading import MAX_DEPTH, TreeRecorder
from .tree import Path, SourceTree

__all__ = ["read_events"]

_NULL = {"", "~", "null", "Null", "NULL"}
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)\Z")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*|[0-9]+(?=[eE]))(?:[eE][-+]?[0-9]+)?\Z")
_NOT_A_NUMBER = re.compile(r"[-+]?\.(?:inf|Inf|INF)\Z|\.(?:nan|NaN|NAN)\Z")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")


class _NeedsNodes(Exception):
    """The document has something the event stream reader leaves to the node-based one."""


def read_events(make_loader: Callable[[], Any], text: str, file: str) -> SourceTree | None:
    """The tree of a regular document, or ``None`` to read it through the node graph.

    ``make_loader`` makes the PyYAML loader (its reader may already refuse the text).
    """
    recorder = TreeRecorder(file)
    loader = None
    try:
        loader = make_loader()
        data = _Streamer(loader, recorder).document()
    except (_NeedsNodes, yaml.YAMLError):
        return None
    finally:
        if loader is not None:
            loader.dispose()
    return recorder.finish(data, text)


class _Streamer:
    """Builds plain values and marks straight from parser events, without a node graph.

    It takes the same decisions as ``yaml_reader``'s node builder for everything it
    accepts, and raises :class:`_NeedsNodes` for anything else.
    """

    def __init__(self, loader: Any, recorder: TreeRecorder):
        self.get = loader.get_event
        self.check = loader.check_event
        self.recorder = recorder
        self.depth = 0

    def document(self) -> Any:
        self.get()  # stream start
        if self.check(StreamEndEvent):
            raise _NeedsNodes  # an empty file
        self.get()  # document start
        value = self.value(())
        self.get()  # document end
        if not self.check(StreamEndEvent):
            raise _NeedsNodes  # a second document
        return value

    def value(self, path: Path) -> Any:
        event = self.get()
        if event.anchor is not None or (event.tag is not None and event.tag != "!"):
            raise _NeedsNodes  # anchors, aliases and tags
        mark = event.start_mark
        self.recorder.value(path, mark.line + 1, mark.column + 1)
        kind = type(event)
        if kind is ScalarEvent:
            value = event.value if event.style else _plain_value(event.value)
            if type(value) is str:
                self.recorder.scalar_styles[path] = event.style or ""
            return value
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _NeedsNodes
        result = self.sequence(path) if kind is SequenceStartEvent else self.mapping(path)
        self.get()  # collection end
        self.depth -= 1
        return result

    def sequence(self, path: Path) -> list[Any]:
        items: list[Any] = []
        while not self.check(SequenceEndEvent):
            items.append(self.value((*path, len(items))))
        return items

    def mapping(self, path: Path) -> dict[str, Any]:
        result: dict[str, Any] = {}
        while not self.check(MappingEndEvent):
            event = self.get()
            if type(event) is not ScalarEvent or event.anchor is not None:
                raise _NeedsNodes
            key = event.value
            if (event.tag is not None and event.tag != "!") or key in result or (
                not event.style and (key == "<<" or key in _NULL)
            ):  # fmt: skip
                raise _NeedsNodes
            mark = event.start_mark
            sub = (*path, key)
            self.recorder.key(sub, mark.line + 1, mark.column + 1)
            result[key] = self.value(sub)
        return result


def _plain_value(text: str) -> Any:
    """A plain scalar's value, as ``yaml_reader``'s node builder decides it; invalid ones raise."""
    first = text[:1]
    if first.isalpha() and text not in _NULL and text.lower() not in ("true", "false"):
        return text  # a word: numbers, dates, .inf and .nan never start with a letter
    if text in _NULL:
        return None
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if _INT.match(text):
        return int(text)
    if _NOT_A_NUMBER.match(text):
        raise _NeedsNodes
    if _FLOAT.match(text):
        number = float(text)
        if math.isinf(number):
            raise _NeedsNodes
        return number
    if _DATE.match(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise _NeedsNodes from None
    return text
