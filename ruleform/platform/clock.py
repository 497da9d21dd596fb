"""The platform's clock: ``utcnow()``, timezone-aware UTC (time-machine moves it in tests)."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["utcnow"]


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)
