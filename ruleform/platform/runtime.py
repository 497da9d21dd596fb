"""The runtime of one rulebook version: the compiled model, its tables and its policy.

Built once when a version becomes active and swapped atomically (a new object replaces
the old one; requests keep the object they started with). Nothing here queries metadata
per request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ..metadata.conditions import EvalContext
from ..metadata.model import Entity, Rulebook
from . import outbox as _outbox  # noqa: F401  registers the outbox table
from .actors import Actor
from .auth import throttle as _throttle  # noqa: F401  registers login_attempts
from .calendar import BusinessCalendar, calendar_for
from .clock import utcnow
from .policy import Policy
from .storage import build_metadata

__all__ = ["Runtime", "build_runtime", "utcnow"]


@dataclass
class Runtime:
    """Everything derived from one active rulebook version."""

    rulebook: Rulebook
    version: int
    metadata: sa.MetaData
    tables: dict[str, sa.Table]
    policy: Policy
    calendar: BusinessCalendar
    _cache: dict[tuple, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def entity(self, name: str) -> Entity:
        """The entity ``name``; KeyError if the rulebook has none."""
        return self.rulebook.entities[name]

    def table(self, entity: str | Entity) -> sa.Table:
        return self.tables[entity if isinstance(entity, str) else entity.name]

    def system_table(self, name: str) -> sa.Table:
        return self.metadata.tables[name]

    def eval_context(self, actor: Actor | None = None, previous: dict | None = None,
                     now: datetime | None = None, **extra: Any) -> EvalContext:  # fmt: skip
        """A context for evaluating conditions in Python for ``actor``."""
        return EvalContext(now=now or utcnow(), timezone=self.rulebook.timezone,
                           calendar=self.calendar,
                           user=actor.user_context() if actor else None,
                           previous=previous, **extra)  # fmt: skip

    def cached(self, key: tuple, build: Callable[[], Any]) -> Any:
        """Build-once objects for this version (form classes, API schemas …)."""
        value = self._cache.get(key)
        if value is None:
            with self._lock:
                value = self._cache.get(key)
                if value is None:
                    value = build()
                    self._cache[key] = value
        return value


#: Tables of the rulebooks this process serves, by the (immutable, shared) compiled model:
#: ``compile_stored`` hands every app of a version the same ``Rulebook`` object.
_METADATA: dict[int, tuple[Rulebook, sa.MetaData]] = {}
_METADATA_MAX = 8


def _metadata_of(rulebook: Rulebook) -> sa.MetaData:
    known = _METADATA.get(id(rulebook))
    if known is not None and known[0] is rulebook:
        return known[1]
    metadata = build_metadata(rulebook)
    if len(_METADATA) >= _METADATA_MAX:
        _METADATA.pop(next(iter(_METADATA)))
    _METADATA[id(rulebook)] = (rulebook, metadata)
    return metadata


def build_runtime(rulebook: Rulebook, version: int) -> Runtime:
    """The runtime of ``rulebook`` stored as version number ``version``."""
    metadata = _metadata_of(rulebook)
    tables = {name: metadata.tables[e.table_name] for name, e in rulebook.entities.items()}
    calendar = calendar_for(rulebook.calendar, rulebook.timezone)
    return Runtime(
        rulebook=rulebook,
        version=version,
        metadata=metadata,
        tables=tables,
        policy=Policy(rulebook, calendar),
        calendar=calendar,
    )
