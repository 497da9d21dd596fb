"""Rulebook versions kept in the database.

Every published rulebook is saved with its normalised source (JSON-able data, so an
older version can be compiled again, compared or restored), the compiled rulebook's
name, version label and fingerprint, who saved it and why. Numbers count up from 1; at
most one version is active (a partial unique index guards it). Two saves racing for the
same number make one fail on the unique index rather than share a number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from ...errors import NotFound
from ...metadata.model import Rulebook
from .system_tables import rulebook_versions_table

__all__ = [
    "RulebookVersion",
    "save_version",
    "load_version",
    "active_version",
    "active_number",
    "list_versions",
    "activate",
]

_versions = rulebook_versions_table(sa.MetaData())
_SUMMARY = [c for c in _versions.c if c.name != "source"]


@dataclass(frozen=True, slots=True)
class RulebookVersion:
    """One saved rulebook version (``source`` is None in listings)."""

    number: int
    name: str
    version_label: str
    fingerprint: str
    author_id: int | None
    comment: str | None
    created_at: datetime
    published_at: datetime | None
    is_active: bool
    source: Mapping[str, Any] | None = None


def _from_row(row: Row[Any]) -> RulebookVersion:
    data = row._mapping
    return RulebookVersion(
        number=data["number"],
        name=data["name"],
        version_label=data["version_label"],
        fingerprint=data["fingerprint"],
        author_id=data["author_id"],
        comment=data["comment"],
        created_at=data["created_at"],
        published_at=data["published_at"],
        is_active=bool(data["is_active"]),
        source=data.get("source"),
    )


def save_version(
    connection: Connection,
    rulebook_source_data: Mapping[str, Any],
    rulebook: Rulebook,
    author_id: int | None,
    comment: str | None = None,
) -> int:
    """Save a new (inactive) version; returns its number (the highest so far + 1)."""
    latest = connection.execute(sa.select(sa.func.max(_versions.c.number))).scalar()
    number = int(latest or 0) + 1
    connection.execute(
        sa.insert(_versions).values(
            number=number,
            name=rulebook.name,
            version_label=rulebook.version,
            fingerprint=rulebook.fingerprint,
            source=dict(rulebook_source_data),
            author_id=author_id,
            comment=comment,
            created_at=datetime.now(UTC),
            is_active=False,
        )
    )
    return number


def load_version(connection: Connection, number: int) -> RulebookVersion:
    """Version ``number`` with its source; ``NotFound`` if there is none."""
    row = connection.execute(sa.select(_versions).where(_versions.c.number == number)).first()
    if row is None:
        raise NotFound(f"there is no rulebook version {number}")
    return _from_row(row)


def active_version(connection: Connection) -> RulebookVersion | None:
    """The active version with its source, or None before the first activation."""
    query = sa.select(_versions).where(_versions.c.is_active == sa.true())
    row = connection.execute(query).first()
    return _from_row(row) if row is not None else None


def active_number(connection: Connection) -> int | None:
    """The number of the active version (one small query), or None before the first."""
    query = sa.select(_versions.c.number).where(_versions.c.is_active == sa.true())
    return connection.execute(query).scalar()


def list_versions(connection: Connection) -> list[RulebookVersion]:
    """Every version, newest first, without sources."""
    query = sa.select(*_SUMMARY).order_by(_versions.c.number.desc())
    return [_from_row(row) for row in connection.execute(query)]


def activate(connection: Connection, number: int) -> RulebookVersion:
    """Make version ``number`` the active one (first activation sets ``published_at``)."""
    current = load_version(connection, number)
    connection.execute(
        sa.update(_versions).where(_versions.c.is_active == sa.true()).values(is_active=False)
    )
    values: dict[str, Any] = {"is_active": True}
    if current.published_at is None:
        values["published_at"] = datetime.now(UTC)
    connection.execute(sa.update(_versions).where(_versions.c.number == number).values(**values))
    return load_version(connection, number)
