"""Column types that behave the same on SQLite and PostgreSQL.

- ``UTCDateTime``: always returns timezone-aware UTC datetimes; refuses naive ones on
  the way in (a naive datetime is a bug: whose clock was it?). PostgreSQL stores
  ``timestamptz``; SQLite stores ISO text in UTC, which sorts and compares correctly.
- ``ExactDecimal``: ``NUMERIC(p, s)`` on PostgreSQL; on SQLite a REAL that is read back
  as a ``Decimal`` quantised to the declared scale (SQLite has no decimal type).
- ``JSONList``: a JSON array (JSONB on PostgreSQL so ``@>`` containment is indexable).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import TypeDecorator

__all__ = ["UTCDateTime", "ExactDecimal", "JSONList"]


class UTCDateTime(TypeDecorator[datetime]):
    """A datetime stored in UTC and returned timezone-aware."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a time zone")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # raw SQLite text (e.g. from an aggregate)
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class ExactDecimal(TypeDecorator[Decimal]):
    """A decimal number with a fixed scale, exact on PostgreSQL, quantised on SQLite."""

    impl = sa.Numeric
    cache_ok = True

    def __init__(self, precision: int = 18, scale: int = 2):
        super().__init__()
        self.precision = precision
        self.scale = scale
        self._quantum = Decimal(1).scaleb(-scale)

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.Float(asdecimal=False))
        return dialect.type_descriptor(sa.Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        value = Decimal(str(value)) if not isinstance(value, Decimal) else value
        if dialect.name == "sqlite":
            return float(value)
        return value

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        return Decimal(str(value)).quantize(self._quantum)


class JSONList(TypeDecorator[list]):
    """A list of strings stored as JSON (JSONB on PostgreSQL)."""

    impl = sa.JSON(none_as_null=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.JSONB())
        return dialect.type_descriptor(sa.JSON(none_as_null=True))

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        return list(value)

    def process_result_value(self, value: Any, dialect: Any) -> list | None:
        if value is None:
            return None
        return list(value)
