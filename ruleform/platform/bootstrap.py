"""Start-up: system tables, the active rulebook version (importing the first one from files),
entity tables migrated safely, and the runtime built from it.

Rulebook versions live in the database; files are how they are imported and exported.
The first start imports the configured rulebook folder as version 1. Later starts run the
active version from the database, whatever the files say; publishing a changed rulebook
is an explicit act (``ruleform migrate`` / the admin UI), never a side effect of a restart.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

import sqlalchemy as sa
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine

from ..errors import RulebookError, UsageError
from ..metadata.compiler import CheckResult, check_rulebook, compile_tree
from ..metadata.model import Rulebook
from ..metadata.source import load_text
from ..metadata.validation import jsonable
from .runtime import Runtime, build_runtime
from .storage import activate, active_version, add_system_tables, ensure_schema, save_version

__all__ = ["ensure_system_tables", "import_rulebook", "load_runtime", "compile_stored"]


def ensure_system_tables(engine: Engine) -> None:
    """Create the platform's own tables if they do not exist yet."""
    metadata = sa.MetaData()
    add_system_tables(metadata)
    with engine.connect() as conn:
        present = set(sa.inspect(conn).get_table_names())
    if not set(metadata.tables) <= present:
        metadata.create_all(engine, checkfirst=True)
    _add_missing_columns(engine, metadata)


def _add_missing_columns(engine: Engine, metadata: sa.MetaData) -> None:
    """Nullable columns added to a system table in a later release (``read_audit.via``) are
    added to databases made before it; anything else is a migration's business."""
    with engine.begin() as conn:
        live = sa.inspect(conn).get_multi_columns(filter_names=list(metadata.tables))
        present = {table: {c["name"] for c in cols} for (_schema, table), cols in live.items()}
        operations = Operations(MigrationContext.configure(conn))
        for table in metadata.sorted_tables:
            for column in table.columns:
                if (
                    column.name not in present.get(table.name, {column.name})
                    and column.nullable
                    and column.server_default is None
                ):
                    plain = sa.Column(column.name, column.type, nullable=True)  # no FK, no index
                    operations.add_column(table.name, plain)


#: Compiled stored versions by (number, source digest): the compiled model is immutable, so
#: every app and worker of a process that serves the same version shares one.
_COMPILED: dict[tuple[int, str], Rulebook] = {}
_COMPILED_MAX = 8


def compile_stored(source: Any, number: int) -> Rulebook:
    """Compile a rulebook version stored in the database (its normalised source)."""
    text = json.dumps(source, ensure_ascii=False)
    key = (number, hashlib.sha256(text.encode()).hexdigest())
    cached = _COMPILED.get(key)
    if cached is not None:
        return cached
    result = compile_tree(load_text(text, f"rulebook-version-{number}.json"))
    if not result.ok or result.rulebook is None:
        raise RulebookError(result.problems)
    if len(_COMPILED) >= _COMPILED_MAX:
        _COMPILED.pop(next(iter(_COMPILED)))
    _COMPILED[key] = result.rulebook
    return result.rulebook


def import_rulebook(engine: Engine, path: str | os.PathLike[str], author_id: int | None = None,
                    comment: str | None = None, activate_it: bool = True) -> tuple[int, CheckResult]:  # fmt: skip
    """Check the rulebook at ``path`` and store it as a new version (activated by default)."""
    result = check_rulebook(path)
    if not result.ok or result.rulebook is None or result.source is None:
        raise RulebookError(result.problems)
    with engine.begin() as conn:
        number = save_version(conn, jsonable(result.source.data), result.rulebook, author_id,
                              comment or f"imported from {path}")  # fmt: skip
        if activate_it:
            activate(conn, number)
    return number, result


def load_runtime(engine: Engine, rulebook_path: str | os.PathLike[str] | None) -> Runtime:
    """The runtime of the active version, importing ``rulebook_path`` on the very first start."""
    ensure_system_tables(engine)
    with engine.begin() as conn:
        version = active_version(conn)
    if version is None:
        if not rulebook_path:
            raise UsageError("no rulebook version is stored yet: start with --rulebook PATH")
        number, result = import_rulebook(engine, rulebook_path)
        rulebook = result.rulebook
        assert rulebook is not None
    else:
        number = version.number
        rulebook = compile_stored(version.source, number)
    ensure_schema(engine, rulebook)
    return build_runtime(rulebook, number)
