"""Writing a stored rulebook version back as files: ``rulebook.yaml`` + one file per entity.

The database keeps each version's normalised source (JSON-able: dates as ISO text). The
export turns ISO dates back into YAML dates, keeps key order, writes Chinese as is, and
splits ``entities`` into ``<entity>.yaml`` files — the layout of ``metadata/crm``. Loading
the folder again gives the same rulebook (the same fingerprint). An overlay's version is
stored already merged with its base, so ``extends`` is left out of the export.

Strings that PyYAML would read as something else (``on``, ``off``, ``yes``, ``1.0``) are
quoted by the dumper, so the export stays faithful to the source.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from ..errors import UsageError

__all__ = ["export_source", "RULEBOOK_SUFFIXES"]

RULEBOOK_SUFFIXES = (".yaml", ".yml", ".json")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class _Dumper(yaml.SafeDumper):
    """Safe dumping, block style, lists of scalars kept on one line where short."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def export_source(source: Mapping[str, Any], folder: str | Path, header: str = "",
                  force: bool = False) -> list[Path]:  # fmt: skip
    """Write ``source`` into ``folder`` as rulebook files; return the files written.

    ``folder`` must be empty or absent; with ``force`` the rulebook files already in it
    are removed first (other files are kept, but would be loaded if they are rulebook files).
    """
    target = Path(folder)
    _prepare(target, force)
    data = _dates(dict(source))
    data.pop("extends", None)
    entities = data.pop("entities", {}) or {}
    written = [_write(target / "rulebook.yaml", data, header)]
    for name, spec in entities.items():
        if not _NAME.match(str(name)):
            raise UsageError(f"entity name {name!r} cannot be a file name")
        written.append(_write(target / f"{name}.yaml", {"entities": {name: spec}}, header))
    return written


def _prepare(folder: Path, force: bool) -> None:
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} is not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    existing = [p for p in folder.rglob("*") if p.is_file()]
    if not existing:
        return
    if not force:
        raise UsageError(f"{folder} is not empty; choose an empty folder or use --force")
    for path in existing:
        if path.suffix.lower() in RULEBOOK_SUFFIXES:
            path.unlink()


def _write(path: Path, data: Mapping[str, Any], header: str) -> Path:
    text = yaml.dump(dict(data), Dumper=_Dumper, allow_unicode=True, sort_keys=False,
                     default_flow_style=False, width=100)  # fmt: skip
    comment = "".join(f"# {line}\n" for line in header.splitlines()) if header else ""
    path.write_text(comment + text, encoding="utf-8")
    return path


def _dates(value: Any) -> Any:
    """ISO dates (``2026-01-01``) back to dates, so they are YAML dates again."""
    if isinstance(value, Mapping):
        return {_date_or(k): _dates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dates(v) for v in value]
    return _date_or(value)


def _date_or(value: Any) -> Any:
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value
