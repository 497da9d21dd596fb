"""Read one YAML document into plain data, keeping where every key and value was written.

PyYAML composes the node graph (with a loader that refuses deep nesting and counts
aliases); this module builds the values itself so it can keep marks and apply the
language's rules: only ``true``/``false`` are booleans (``on``, ``off``, ``yes``, ``no``
stay text), ``2026-01-01`` is a date while timestamps stay text, ``.nan``/``.inf``, tags,
merge keys (``<<``) and duplicate keys are errors, and an alias graph that would expand
past :data:`~ruleform.metadata.reading.MAX_NODES` nodes is refused before it is built.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import yaml
from yaml.composer import Composer, ComposerError
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import BaseResolver

from .positions import line_column
from .reading import MAX_ALIASES, MAX_DEPTH, MAX_NODES, TreeRecorder, fail
from .tree import Path, SourceTree
from .yaml_events import _DATE, _FLOAT, _INT, _NOT_A_NUMBER, _NULL, read_events

try:
    from yaml._yaml import CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    CParser = None

USE_LIBYAML = CParser is not None
_TAGS = {ScalarNode: "ruleform:scalar", SequenceNode: "ruleform:seq", MappingNode: "ruleform:map"}
USE_STREAMING = True  # read regular documents from events (yaml_events)


class _Refused(Exception):
    """The document is refused outright (too deep, too many aliases, expands too far)."""

    def __init__(self, message: str, mark: Any):
        super().__init__(message)
        self.message = message
        self.mark = mark


class _Bounded:
    """Composes nodes only: every node gets a neutral tag; nesting and aliases are bounded."""

    _depth = 0
    _aliases = 0
    _nodes = 0  # nodes written in the file (aliases not expanded)

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:  # noqa: ARG002
        return _TAGS[kind]

    def compose_node(self, parent: Node | None, index: Any) -> Node:  # noqa: ARG002
        """PyYAML's ``compose_node`` in one method (one parser call per event), bounded."""
        event = self.get_event()  # type: ignore[attr-defined]
        kind = type(event)
        anchors = self.anchors  # type: ignore[attr-defined]
        if kind is AliasEvent:
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise _Refused(f"more than {MAX_ALIASES} aliases (*name) in one file",
                               event.start_mark)  # fmt: skip
            if event.anchor not in anchors:
                raise ComposerError(None, None, f"found undefined alias {event.anchor!r}",
                                    event.start_mark)  # fmt: skip
            return anchors[event.anchor]
        self._nodes += 1
        anchor = event.anchor
        if anchor is not None and anchor in anchors:
            raise ComposerError(f"found duplicate anchor {anchor!r}; first occurrence",
                                anchors[anchor].start_mark, "second occurrence",
                                event.start_mark)  # fmt: skip
        tag = event.tag
        if kind is ScalarEvent:
            node: Node = ScalarNode(_TAGS[ScalarNode] if tag is None or tag == "!" else tag,
                                    event.value, event.start_mark, event.end_mark,
                                    style=event.style)  # fmt: skip
            if anchor is not None:
                anchors[anchor] = node
            return node
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(f"nested more than {MAX_DEPTH} levels deep", event.start_mark)
            return self._collection(event, kind, tag, anchor)
        finally:
            self._depth -= 1

    def _collection(self, event: Any, kind: type, tag: str | None, anchor: str | None) -> Node:
        mapping = kind is MappingStartEvent
        node_kind = MappingNode if mapping else SequenceNode
        node = node_kind(_TAGS[node_kind] if tag is None or tag == "!" else tag, [],
                         event.start_mark, None, flow_style=event.flow_style)  # fmt: skip
        if anchor is not None:
            self.anchors[anchor] = node  # type: ignore[attr-defined]
        items = node.value
        end = MappingEndEvent if mapping else SequenceEndEvent
        check = self.check_event  # type: ignore[attr-defined]
        index = 0
        while not check(end):
            if mapping:
                key = self.compose_node(node, None)
                items.append((key, self.compose_node(node, key)))
            else:
                items.append(self.compose_node(node, index))
                index += 1
        node.end_mark = self.get_event().end_mark  # type: ignore[attr-defined]
        return node


class _Loader(_Bounded, yaml.SafeLoader):
    """The pure-Python loader (PyYAML's scanner and parser)."""


if CParser is not None:

    class _FastLoader(_Bounded, Composer, CParser, BaseResolver):
        """libyaml's scanner and parser (several times faster), PyYAML's composer."""

        def __init__(self, stream: str):
            CParser.__init__(self, stream)
            Composer.__init__(self)
            BaseResolver.__init__(self)


def _loader(text: str) -> Any:
    """A loader for ``text``: libyaml's parser when PyYAML was built with it."""
    return _FastLoader(text) if USE_LIBYAML else _Loader(text)


def read_yaml(text: str, file: str) -> SourceTree:
    """Plain data and marks of the YAML document ``text`` (``file`` is its display path).

    A regular document is built straight from the parser's events (:class:`_Streamer`);
    anything unusual — anchors, tags, odd or repeated keys, bad values, syntax errors — is
    read again through the node graph, which refuses or reports it exactly.
    """
    if USE_STREAMING:
        tree = read_events(lambda: _loader(text), text, file)
        if tree is not None:
            return tree
    node, written, aliases = _compose(text, file)
    recorder = TreeRecorder(file)
    if node is None:
        recorder.value((), 1, 1)
        return recorder.finish(None, text)
    if aliases:
        _check_expansion(node, file, MAX_NODES + written)
    data = _Builder(recorder).build(node, ())
    return recorder.finish(data, text)


def _compose(text: str, file: str) -> tuple[Node | None, int, int]:
    """The document's node graph, how many nodes the file writes out and how many aliases."""
    loader = None
    try:
        loader = _loader(text)
        return loader.get_single_node(), loader._nodes, loader._aliases
    except _Refused as exc:
        fail(exc.message, file, exc.mark.line + 1, exc.mark.column + 1)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        fail(_syntax_message(exc, text), file, line, column)
    except yaml.reader.ReaderError as exc:
        line, column = line_column(text, exc.position)
        fail(f"character U+{exc.character:04X} is not allowed in a YAML file", file, line, column)
    except yaml.YAMLError as exc:  # pragma: no cover - every PyYAML error above is marked
        fail(f"YAML error: {exc}", file)
    finally:
        if loader is not None:
            loader.dispose()


def _syntax_message(exc: yaml.MarkedYAMLError, text: str) -> str:
    mark = exc.problem_mark
    problem = exc.problem or "invalid YAML"
    if mark is not None and "\t" in text[mark.index : mark.index + 1] + problem:
        return f"tab character used for indentation at line {mark.line + 1}; use spaces"
    if "maximum nesting depth" in problem:  # libyaml's own limit, met before ours
        return f"nested more than {MAX_DEPTH} levels deep"
    if (exc.context or "").startswith("expected a single document"):
        return "a rulebook file holds one YAML document; found a second one ('---')"
    message = f"YAML syntax error: {problem}"
    if exc.context and exc.context_mark is not None:
        message += f" ({exc.context} at line {exc.context_mark.line + 1})"
    return message


def _check_expansion(root: Node, file: str, max_nodes: int) -> None:
    """Refuse alias graphs that are cyclic, or expand past ``max_nodes`` or the depth limit.

    Sizes are computed once per distinct node, so a billion-laughs document costs no more
    than its text.
    """
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    visiting: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = _children(node)
        if done:
            visiting.discard(key)
            keys = len(children) if isinstance(node, MappingNode) else 0
            size[key] = 1 + keys + sum(size[id(c)] for c in children)
            nests = not isinstance(node, ScalarNode)
            depth[key] = nests + max((depth[id(c)] for c in children), default=0)
            if size[key] > max_nodes:
                message = f"aliases expand this document by more than {MAX_NODES:,} nodes"
                _refuse(message, node, file)
            if depth[key] > MAX_DEPTH:
                message = f"aliases expand this document past {MAX_DEPTH} levels of nesting"
                _refuse(message, node, file)
        elif key in visiting:
            _refuse("an alias refers to a node that contains it", node, file)
        elif key not in size:
            visiting.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in children)


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [value for _key, value in node.value]
    return node.value if isinstance(node, SequenceNode) else []


def _refuse(message: str, node: Node, file: str) -> None:
    fail(message, file, node.start_mark.line + 1, node.start_mark.column + 1)


def _tag_message(node: Node) -> str:
    tag = node.tag.replace("tag:yaml.org,2002:", "!!")
    return f"tags are not allowed (found '{tag}'); write plain values"


class _Builder:
    """Builds plain values from composed nodes, recording marks and problems."""

    def __init__(self, recorder: TreeRecorder):
        self.recorder = recorder

    def build(self, node: Node, path: Path) -> Any:
        line, column = node.start_mark.line + 1, node.start_mark.column + 1
        self.recorder.value(path, line, column)
        if node.tag != _TAGS[type(node)]:
            self.recorder.report(_tag_message(node), line, column, path)
            return None
        if isinstance(node, ScalarNode):
            return self.scalar(node, path)
        if isinstance(node, SequenceNode):
            return [self.build(child, (*path, i)) for i, child in enumerate(node.value)]
        return self.mapping(node, path)

    def scalar(self, node: ScalarNode, path: Path) -> Any:
        value = node.value if node.style else self.plain(node, path)
        if isinstance(value, str):
            self.recorder.scalar_styles[path] = node.style or ""
        return value

    def plain(self, node: ScalarNode, path: Path) -> Any:
        text: str = node.value
        if text in _NULL:
            return None
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        if _INT.match(text):
            return int(text)
        if _NOT_A_NUMBER.match(text):
            return self.invalid(node, path, f"'{text}' is not allowed: numbers must be finite")
        if _FLOAT.match(text):
            number = float(text)
            if math.isinf(number):
                return self.invalid(node, path, f"the number {text} is too large")
            return number
        if _DATE.match(text):
            try:
                return date.fromisoformat(text)
            except ValueError:
                return self.invalid(node, path, f"'{text}' is not a valid date")
        return text

    def invalid(self, node: Node, path: Path, message: str) -> None:
        mark = node.start_mark
        self.recorder.report(message, mark.line + 1, mark.column + 1, path)

    def mapping(self, node: MappingNode, path: Path) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = self.key(key_node, path)
            if key is None:
                continue
            line, column = key_node.start_mark.line + 1, key_node.start_mark.column + 1
            if key in first_line:
                message = f"duplicate key '{key}' (first at line {first_line[key]})"
                self.recorder.report(message, line, column, (*path, key))
                continue
            first_line[key] = line
            self.recorder.key((*path, key), line, column)
            result[key] = self.build(value_node, (*path, key))
        return result

    def key(self, node: Node, path: Path) -> str | None:
        """The text of a mapping key, or ``None`` (with a problem) if it cannot be a key."""
        if not isinstance(node, ScalarNode):
            return self.invalid(node, path, "keys must be text, not a list or a mapping")
        if node.tag != _TAGS[ScalarNode]:
            return self.invalid(node, path, _tag_message(node))
        if not node.style and node.value == "<<":
            message = "merge keys ('<<') are not supported; write the keys out"
            return self.invalid(node, path, message)
        if not node.style and node.value in _NULL:
            return self.invalid(node, path, "a key is empty or null; keys must be text")
        return node.value
