"""Overlays: a rulebook that ``extends:`` another one and changes it.

Mappings merge key by key; scalars and lists replace. In the named collections listed in
:data:`COLLECTIONS` (fields, statuses, transitions …) an item may be ``{remove: true}``
or ``{replace: true, ...}``, and an item the base does not have is an addition only if it
is complete: a partial change of a missing item (renamed or removed in the base) is an
error at the overlay's line, never silently turned into a half-defined new item.

Marks of the merged tree point at the overlay for what the overlay wrote and at the base
for the rest; a mapping both wrote keeps the base's mark (the root keeps the overlay's).
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from typing import Any, NoReturn, TypeAlias

from ..errors import Problem, RulebookError
from .reading import problem
from .source import display_path, load_source
from .tree import Path, SourceTree

__all__ = ["COLLECTIONS", "Named", "load_rulebook_source", "merge_overlay"]

MAX_OVERLAY_DEPTH = 8
FLAGS = ("remove", "replace")


@dataclass(frozen=True)
class Named:
    """A collection of named items: what one is called, and what a new one must have."""

    kind: str
    required: tuple[str, ...] = ()  # a new item needs one of these keys; () = anything goes
    items: Spec = field(default_factory=dict)  # the collections inside an item


Spec: TypeAlias = dict[str, "Named | Spec"]

ENTITY: Spec = {
    "fields": Named("field", ("type",), {"choices": Named("choice")}),
    "layout": Named("section", ("fields",)),
    "views": Named("view", ("columns",)),
    "validations": Named("validation rule", ("message",)),
    "duplicates": Named("duplicate rule", ("match",)),
    "statuses": {"states": Named("status", ("label",))},
    "transitions": Named(
        "transition", ("to",), {"approval": {"steps": Named("approval step", ("approvers",))}}
    ),
    "permissions": Named("permission", ("actions",)),
    "time_rules": Named("time rule", ("actions", "deadline")),  # deadline rules act per level
}
COLLECTIONS: Spec = {
    "roles": Named("role", ("label",)),
    "entities": Named("entity", ("fields",), ENTITY),
}


def load_rulebook_source(path: str | os.PathLike[str]) -> SourceTree:
    """Load a rulebook and resolve its ``extends:`` overlays (what the compiler calls)."""
    return load_with_overlays(path)


def load_with_overlays(path: str | os.PathLike[str], chain: tuple[str, ...] = ()) -> SourceTree:
    """Load ``path``; if it ``extends:`` a base, load that (recursively) and merge onto it."""
    overlay = load_source(path)
    if "extends" not in overlay.data:
        return overlay
    target = overlay.data["extends"]
    if not isinstance(target, str) or not target.strip():
        _fail(overlay, ("extends",), "extends must be the path of the base rulebook")
    folder = path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))
    base_path = os.path.normpath(os.path.join(folder, target))
    chain = (*chain, os.path.realpath(path))
    if os.path.realpath(base_path) in chain:
        steps = " → ".join(display_path(p) for p in (*chain, base_path))
        _fail(overlay, ("extends",), f"the overlays extend each other in a cycle: {steps}")
    if len(chain) > MAX_OVERLAY_DEPTH:
        _fail(overlay, ("extends",), f"overlays are nested more than {MAX_OVERLAY_DEPTH} deep")
    if not os.path.exists(base_path):
        shown = display_path(base_path)
        _fail(overlay, ("extends",), f"cannot find the base rulebook '{target}' ({shown})")
    return merge_overlay(load_with_overlays(base_path, chain), overlay)


def merge_overlay(base: SourceTree, overlay: SourceTree) -> SourceTree:
    """The rulebook ``overlay`` makes of ``base``; ``data['extends']`` names the base."""
    merger = _Merger(base, overlay)
    changes = {k: v for k, v in overlay.data.items() if k != "extends"}
    data = merger.mapping(base.data, changes, (), COLLECTIONS)
    data["extends"] = base.source or (base.files[0] if base.files else "")
    merger.own_marks(overlay, ())
    merger.own_marks(overlay, ("extends",))
    merger.result.scalar_styles.pop(("extends",), None)
    if merger.problems:
        raise RulebookError(sorted(merger.problems, key=lambda p: (p.file, p.line, p.column)))
    merger.result.data = data
    merger.result.source = overlay.source
    return merger.result


def _fail(tree: SourceTree, path: Path, message: str) -> NoReturn:
    where = tree.where(path, prefer="value")
    raise RulebookError([problem(message, where.file, where.line, where.column, path)])


class _Merger:
    """Merges an overlay onto a base, building the result's marks as it goes."""

    def __init__(self, base: SourceTree, overlay: SourceTree):
        self.base = base
        self.overlay = overlay
        files = list(dict.fromkeys([*overlay.files, *base.files]))
        self.result = SourceTree(data={}, files=files, texts={**base.texts, **overlay.texts})
        self.problems: list[Problem] = []

    def mapping(self, base: dict[str, Any], over: dict[str, Any], path: Path, spec: Spec) -> dict:
        """Merge two mappings key by key, in the base's order, new keys last."""
        result: dict[str, Any] = {}
        for key in [*base, *(k for k in over if k not in base)]:
            child = (*path, key)
            if key not in over:
                result[key] = self.keep(self.base, child, base[key])
            else:
                sub = spec.get(key)
                result[key] = self.entry(base.get(key), key in base, over[key], child, sub)
        return result

    def entry(self, base: Any, in_base: bool, over: Any, path: Path, spec: Any) -> Any:
        """The merged value at ``path`` when the overlay sets it."""
        source = self.base if in_base else self.overlay
        if isinstance(spec, Named) and isinstance(over, dict):
            self.own_marks(source, path)
            return self.collection(base if isinstance(base, dict) else {}, over, path, spec)
        if isinstance(base, dict) and isinstance(over, dict):
            self.own_marks(source, path)
            return self.mapping(base, over, path, spec if isinstance(spec, dict) else {})
        return self.keep(self.overlay, path, over)

    def collection(
        self, base: dict[str, Any], over: dict[str, Any], path: Path, named: Named
    ) -> dict[str, Any]:
        """Merge a named collection: items are added, changed, replaced or removed."""
        result: dict[str, Any] = {}
        for name in [*base, *(k for k in over if k not in base)]:
            child = (*path, name)
            if name not in over:
                result[name] = self.keep(self.base, child, base[name])
                continue
            item, flags = self.flags(over[name], child)
            if "remove" in flags:
                if name not in base:
                    self.missing(f"cannot remove {named.kind} '{name}':", name, base, child, named)
            elif name in base and "replace" not in flags:
                result[name] = self.entry(base[name], True, item, child, named.items)
            elif name in base or _complete(item, named):
                result[name] = self.keep(self.overlay, child, item)
            else:
                what = f"the overlay changes {named.kind} '{name}' but"
                self.missing(what, name, base, child, named)
        return result

    def flags(self, item: Any, path: Path) -> tuple[Any, set[str]]:
        """The item without ``remove``/``replace``, and which of them are set."""
        if not isinstance(item, dict) or not any(flag in item for flag in FLAGS):
            return item, set()
        flags = {flag for flag in FLAGS if item.get(flag) is True}
        for flag in FLAGS:
            if flag in item and item[flag] is not True:
                self.report(self.overlay, (*path, flag), f"'{flag}' can only be true")
        rest = {k: v for k, v in item.items() if k not in FLAGS}
        if "remove" in flags and (rest or "replace" in flags):
            self.report(self.overlay, path, "an item with 'remove: true' can have no other keys")
        return rest, flags

    def missing(self, what: str, name: str, base: dict, path: Path, named: Named) -> None:
        """Report an overlay item that needs a base item which is not there."""
        kind = named.kind
        message = f"{what} the base rulebook has no such {kind} (renamed or removed in the base?)"
        close = difflib.get_close_matches(name, list(base), n=1)
        if close:
            message += f"; did you mean '{close[0]}'?"
        self.report(self.overlay, path, message)

    def report(self, tree: SourceTree, path: Path, message: str) -> None:
        where = tree.where(path)
        self.problems.append(problem(message, where.file, where.line, where.column, path))

    def keep(self, tree: SourceTree, path: Path, value: Any) -> Any:
        """Use ``value`` as is, with its marks from ``tree``."""
        self.result.copy_marks(tree, path, value)
        return value

    def own_marks(self, tree: SourceTree, path: Path) -> None:
        """The marks of the node at ``path`` itself (not of its children) from ``tree``."""
        for mine, theirs in (
            (self.result.value_marks, tree.value_marks),
            (self.result.key_marks, tree.key_marks),
        ):
            if path in theirs:
                mine[path] = theirs[path]


def _complete(item: Any, named: Named) -> bool:
    """Whether ``item`` can stand on its own as a new item of ``named``, items inside too."""
    if isinstance(item, dict) and item.get("remove") is True:
        return False
    if named.required and not (isinstance(item, dict) and any(k in item for k in named.required)):
        return False
    inner = item if isinstance(item, dict) else {}
    return all(_all_complete(inner.get(key), spec) for key, spec in named.items.items())


def _all_complete(value: Any, spec: Named | Spec) -> bool:
    """Whether every item of the collections in ``value`` (described by ``spec``) is complete."""
    if not isinstance(value, dict):
        return True
    if isinstance(spec, Named):
        return all(_complete(item, spec) for item in value.values())
    return all(_all_complete(value.get(key), sub) for key, sub in spec.items())
