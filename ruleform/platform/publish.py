"""Publishing a rulebook: check it, plan the change to the live database, apply it and save
it as the new active version — all of it, or nothing.

Order inside the one transaction (``migration_connection``: transactional DDL on PostgreSQL,
and on SQLite too once ``sqlite3`` stops committing before DDL):

1. take the migration lock (PostgreSQL advisory lock; SQLite's write lock comes with the
   first write);
2. read the active version and plan against the *live* schema, under that lock, so the
   plan cannot go stale between planning and applying;
3. refuse (``MigrationRefused``) before the first change if a step is refused, or is
   destructive without ``archive``;
4. apply the steps (archiving first where asked), then ``save_version`` + ``activate``.

A failure at any point rolls back the schema change *and* the version row, so the active
version always describes the tables in place. Running servers notice the new active
version within ``RULEBOOK_CHECK_SECONDS`` (``platform/version_follower.py``) and workers on
their next job.

This module sits beside ``bootstrap`` (it uses ``compile_stored``); no Flask.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ..errors import RulebookError
from ..metadata.compiler import CheckResult, check_rulebook
from ..metadata.model import Rulebook
from ..metadata.validation import jsonable
from .bootstrap import compile_stored
from .storage import MigrationPlan, activate, active_version, plan_migration, save_version
from .storage.migration_apply import LOCK_KEY, apply_steps, migration_connection

__all__ = ["Publication", "check_source", "plan_publication", "publish_rulebook", "StatusMap"]

#: entity → removed status → the status its records move to
StatusMap = Mapping[str, Mapping[str, str]]


@dataclass(frozen=True)
class Publication:
    """A rulebook checked and planned against a database (and, once applied, its number)."""

    rulebook: Rulebook
    check: CheckResult
    plan: MigrationPlan
    active_number: int | None  # the version active before
    active_fingerprint: str | None
    number: int | None = None  # the version saved and activated (None: planned only)

    @property
    def unchanged(self) -> bool:
        """The rulebook is the active version already and the tables match it."""
        return self.active_fingerprint == self.rulebook.fingerprint and not self.plan.steps


def check_source(path: str | os.PathLike[str]) -> CheckResult:
    """The checked rulebook at ``path``; ``RulebookError`` listing every problem otherwise."""
    result = check_rulebook(path)
    if not result.ok or result.rulebook is None or result.source is None:
        raise RulebookError(result.problems)
    return result


def plan_publication(engine: Engine, path: str | os.PathLike[str],
                     status_map: StatusMap | None = None) -> Publication:  # fmt: skip
    """Check ``path`` and plan the change from the active version; changes nothing."""
    result = check_source(path)
    with engine.connect() as conn:
        conn.info["write"] = False
        with conn.begin():
            return _plan(conn, result, status_map)


def publish_rulebook(engine: Engine, path: str | os.PathLike[str], *, archive: bool = False,
                     comment: str | None = None, author_id: int | None = None,
                     status_map: StatusMap | None = None) -> Publication:  # fmt: skip
    """Check, plan, apply and activate ``path`` in one transaction; return what was done.

    Raises ``RulebookError`` (invalid rulebook) or ``MigrationRefused`` (a refused step, or
    a destructive one without ``archive``) before anything changes. When the rulebook is
    already the active version and the tables match, nothing is saved (``number`` is the
    active version's). ``status_map`` moves the records of statuses the new version
    removes (a destructive step: it needs ``archive``).
    """
    result = check_source(path)
    with migration_connection(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(LOCK_KEY)))
        publication = _plan(conn, result, status_map)
        publication.plan.check(archive=archive)
        apply_steps(conn, publication.plan, archive=archive)
        if publication.unchanged:
            return _with_number(publication, publication.active_number)
        assert result.source is not None
        number = save_version(conn, jsonable(result.source.data), publication.rulebook,
                              author_id, comment or f"ruleform migrate {path}")  # fmt: skip
        activate(conn, number)
    return _with_number(publication, number)


def _plan(conn: Connection, result: CheckResult, status_map: StatusMap | None) -> Publication:
    rulebook = result.rulebook
    assert rulebook is not None
    active = active_version(conn) if sa.inspect(conn).has_table("rulebook_versions") else None
    old = compile_stored(active.source, active.number) if active is not None else None
    latest = _latest_number(conn)
    extra: dict[str, Any] = {"status_map": status_map} if status_map else {}
    plan = plan_migration(conn, old, rulebook, rulebook_version=latest + 1, **extra)
    return Publication(rulebook, result, plan, active.number if active else None,
                       active.fingerprint if active else None)  # fmt: skip


def _latest_number(conn: Connection) -> int:
    if not sa.inspect(conn).has_table("rulebook_versions"):
        return 0
    versions = sa.table("rulebook_versions", sa.column("number"))
    return int(conn.execute(sa.select(sa.func.max(versions.c.number))).scalar() or 0)


def _with_number(publication: Publication, number: int | None) -> Publication:
    return dataclasses.replace(publication, number=number)
