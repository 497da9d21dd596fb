"""Load a rulebook's source: one YAML/JSON file, or a folder of them, as a :class:`SourceTree`.

``overlays.load_rulebook_source`` also resolves ``extends:`` overlays; it is what the compiler
calls. Every problem found is collected into one :class:`~ruleform.errors.RulebookError`
(a folder reports the problems of all its files together).
"""

from __future__ import annotations

import os
from pathlib import Path as FsPath
from typing import Any

from ..errors import Problem, RulebookError
from .json_reader import read_json
from .model import SourceRef
from .positions import line_column
from .reading import MAX_FILE_BYTES, decode, fail, problem, too_large_message
from .tree import SourceTree, format_path
from .yaml_reader import read_yaml

__all__ = [
    "SourceTree",
    "format_path",
    "load_source",
    "load_text",
    "display_path",
]

SUFFIXES = (".yaml", ".yml", ".json")
RULEBOOK_FILES = ("rulebook.yaml", "rulebook.yml", "rulebook.json")
ITEM_KINDS = {"entities": "entity", "roles": "role"}  # merged item by item across files


def display_path(path: str | os.PathLike[str]) -> str:
    """``path`` relative to the working directory when it lies below it, else absolute."""
    absolute = os.path.abspath(path)
    try:
        relative = os.path.relpath(absolute)
    except ValueError:  # another drive (Windows)
        return absolute
    return absolute if relative == ".." or relative.startswith(".." + os.sep) else relative


def load_text(text: str | bytes, filename: str) -> SourceTree:
    """Read one document; ``.json`` files are JSON, anything else YAML. It must be a mapping."""
    text = decode(text if isinstance(text, bytes) else _encode(text, filename), filename)
    reader = read_json if filename.lower().endswith(".json") else read_yaml
    tree = reader(text, filename)
    if not isinstance(tree.data, dict):
        found = _KINDS.get(type(tree.data).__name__, "text")
        at = tree.where((), prefer="value")
        fail(f"a rulebook file must be a mapping of keys to values; found {found}", *_at(at))
    return tree


_KINDS = {
    "NoneType": "nothing",
    "list": "a list",
    "int": "a number",
    "float": "a number",
    "bool": "true/false",
    "date": "a date",
}


def _at(ref: SourceRef) -> tuple[str, int, int]:
    return ref.file, ref.line, ref.column


def _encode(text: str, filename: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate
        line, column = line_column(text, exc.start)
        code = ord(text[exc.start])
        fail(f"character U+{code:04X} is not allowed in a rulebook", filename, line, column)


def load_source(path: str | os.PathLike[str]) -> SourceTree:
    """Load a rulebook file (``.yaml``, ``.yml``, ``.json``) or folder, without overlays."""
    fs_path = FsPath(path)
    shown = display_path(fs_path)
    if fs_path.is_dir():
        return _load_folder(fs_path)
    if not fs_path.exists():
        fail(f"no such file or folder: {shown}", shown)
    if fs_path.suffix.lower() not in SUFFIXES:
        fail("a rulebook is a .yaml, .yml or .json file, or a folder of them", shown)
    return _load_file(fs_path)


def _load_file(path: FsPath) -> SourceTree:
    shown = display_path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            fail(too_large_message(size), shown, 1, 1)
        raw = path.read_bytes()
    except OSError as exc:
        fail(f"cannot read the file: {exc.strerror or exc}", shown)
    return load_text(raw, shown)


def _load_folder(folder: FsPath) -> SourceTree:
    shown = display_path(folder)
    main = [folder / name for name in RULEBOOK_FILES if (folder / name).is_file()]
    if not main:
        fail(f"the folder {shown} has no rulebook.yaml (nor rulebook.yml, rulebook.json)", shown)
    if len(main) > 1:
        names = " and ".join(p.name for p in main)
        fail(f"the folder {shown} has {names}; keep only one", display_path(main[1]))
    trees: list[SourceTree] = []
    problems: list[Problem] = []
    for file in [main[0], *_member_files(folder, main[0])]:
        try:
            trees.append(_load_file(file))
        except RulebookError as exc:
            problems.extend(exc.problems)
    merged = _merge_files(trees, problems)
    if problems:
        raise RulebookError(problems)
    merged.source = shown
    return merged


def _member_files(folder: FsPath, main: FsPath) -> list[FsPath]:
    """The other rulebook files below ``folder``, sorted by relative path."""
    found: list[tuple[str, FsPath]] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(("_", "."))]
        for name in files:
            path = FsPath(root, name)
            if _skipped(name) or path == main:
                continue
            found.append((path.relative_to(folder).as_posix(), path))
    return [path for _relative, path in sorted(found)]


def _skipped(name: str) -> bool:
    return (
        name.startswith(("_", "."))
        or name.upper().startswith("README")
        or not name.lower().endswith(SUFFIXES)
    )


def _merge_files(trees: list[SourceTree], problems: list[Problem]) -> SourceTree:
    """One tree from a folder's files: ``entities`` and ``roles`` item by item, else once."""
    merged = SourceTree(data={})
    for tree in trees:
        merged.files += tree.files
        merged.texts.update(tree.texts)
        if not merged.value_marks:
            merged.value_marks[()] = tree.value_marks[()]
        taken: dict[str, set[str] | None] = {}  # key → None (all of it) or the items taken
        for key, value in tree.data.items():
            if key in ITEM_KINDS and isinstance(value, dict):
                taken[key] = _merge_items(merged, tree, key, value, problems)
            elif key in merged.data:
                problems.append(_twice(f"'{key}'", merged, tree, (key,)))
            else:
                merged.data[key] = value
                taken[key] = None
        merged.adopt_marks(tree, taken)
    return merged


def _merge_items(
    merged: SourceTree, tree: SourceTree, key: str, items: dict[str, Any], problems: list[Problem]
) -> set[str]:
    """Add the items of ``key`` from ``tree``; the names of those taken."""
    target = merged.data.setdefault(key, {})
    if not isinstance(target, dict):
        problems.append(_twice(f"'{key}'", merged, tree, (key,)))
        return set()
    if (key,) not in merged.key_marks:
        merged.key_marks[(key,)] = tree.key_marks[(key,)]
        merged.value_marks[(key,)] = tree.value_marks[(key,)]
    taken = set()
    for name, value in items.items():
        path = (key, name)
        if name in target:
            problems.append(_twice(f"{ITEM_KINDS[key]} '{name}'", merged, tree, path))
        else:
            target[name] = value
            taken.add(name)
    return taken


def _twice(what: str, first: SourceTree, second: SourceTree, path: tuple[str, ...]) -> Problem:
    here = second.where(path)
    message = f"{what} is declared twice: {first.where(path)} and {here}"
    return problem(message, here.file, here.line, here.column, path)
