"""What a compiled condition needs at run time: who asks, when, and how to reach other records."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

__all__ = ["UserContext", "EvalContext", "SqlContext"]


@dataclass
class UserContext:
    """The current user: id, roles, own department and the departments at or below it."""

    id: int | None
    roles: frozenset[str]
    department: int | None
    departments: frozenset[int] = frozenset()


@dataclass
class EvalContext:
    """Evaluating in Python (forms, saves, validation examples).

    ``now`` is an aware datetime; ``timezone`` the rulebook's IANA zone; ``calendar`` has
    ``add_working_days(date, n)`` and ``add_working_time(aware_datetime, timedelta)`` (None:
    Monday–Friday, 09:00–18:00). ``previous`` is the stored record for ``changed()`` (None on
    create). ``related(entity, fk_field, record_id)`` yields the related records for
    ``count()``; ``lookup(entity, id)`` returns the referenced record for ``a.b``.
    """

    now: datetime
    timezone: str
    calendar: Any = None
    user: UserContext | None = None
    previous: Mapping[str, Any] | None = None
    related: Callable[[str, str, Any], Iterable[Mapping[str, Any]]] | None = None
    lookup: Callable[[str, Any], Mapping[str, Any] | None] | None = None


@dataclass
class SqlContext:
    """Compiling to SQL: the tables by entity name, the entity queried, and query-time values.

    ``row_filter(entity, table)``, when given, returns the rows of another entity the
    asking user may read (a clause on ``table``, an alias of that entity's table): counts
    (``count(activity …)``) and references (``customer.level``) then only see those rows,
    so a condition never reads records its user could not (the policy passes it).
    """

    tables: Mapping[str, sa.Table]
    entity: str
    now: datetime
    timezone: str
    calendar: Any = None
    user: UserContext | None = None
    row_filter: Callable[[str, Any], Any] | None = None

    def eval_context(self) -> EvalContext:
        """The Python context used to compute the values bound as parameters."""
        return EvalContext(
            now=self.now, timezone=self.timezone, calendar=self.calendar, user=self.user
        )
