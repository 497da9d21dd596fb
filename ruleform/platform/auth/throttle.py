"""Login rate limiting, kept in the database so it holds across gunicorn workers.

Every failed login (page or ``POST /api/v1/tokens``) adds a row to ``login_attempts``
with the username tried and the client address. A new attempt is refused while either
has ``attempts`` failures in the last ``seconds`` (``LOGIN_RATE_LIMIT``); refused attempts
are not recorded, so ``Retry-After`` is exact and a throttled client cannot push its own
wait further. A successful login forgets that username's failures; an address's
failures only expire, so logging into one's own account cannot reset the counter used to
guess someone else's. Concurrent attempts from several workers can overshoot the limit
by the number of workers at most.

This module holds no Flask: the storage package imports it to register the table.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ...metadata.sqltypes import UTCDateTime
from ..storage.system_tables import add_index, id_column, primary_key, system_table

__all__ = ["attempts_table", "retry_after", "record_failure", "forget_failures"]


@system_table("login_attempts")
def attempts_table(metadata: sa.MetaData) -> sa.Table:
    t = sa.Table(
        "login_attempts",
        metadata,
        id_column(),
        sa.Column("username", sa.String(150)),  # lower-cased, as tried (may not exist)
        sa.Column("address", sa.String(64)),
        sa.Column("at", UTCDateTime, nullable=False),
        primary_key("login_attempts", "id"),
    )
    add_index(t, "username", "at")
    add_index(t, "address", "at")
    add_index(t, "at")
    return t


_TABLE = attempts_table(sa.MetaData())


def _key(username: str) -> str:
    return username.strip().lower()[:150]


def retry_after(conn: Connection, username: str, address: str | None,
                limit: tuple[int, int], now: datetime | None = None) -> int:  # fmt: skip
    """Seconds to wait before ``username`` may try again from ``address`` (0: go ahead)."""
    attempts, seconds = limit
    now = now or datetime.now(UTC)
    since = now - timedelta(seconds=seconds)
    t = _TABLE
    is_user, is_address = t.c.username == _key(username), t.c.address == (address or "")
    row = conn.execute(
        sa.select(
            sa.func.count().filter(is_user), sa.func.min(t.c.at).filter(is_user),
            sa.func.count().filter(is_address), sa.func.min(t.c.at).filter(is_address),
        ).where(t.c.at > since, sa.or_(is_user, is_address))
    ).one()  # fmt: skip
    wait = 0.0
    for count, oldest in ((row[0], row[1]), (row[2], row[3])):
        if count >= attempts and oldest is not None:
            oldest = UTCDateTime().process_result_value(oldest, conn.dialect)
            wait = max(wait, (oldest + timedelta(seconds=seconds) - now).total_seconds())
    return max(1, math.ceil(wait)) if wait > 0 else 0


def record_failure(conn: Connection, username: str, address: str | None,
                   limit: tuple[int, int], now: datetime | None = None) -> None:  # fmt: skip
    """Remember a failed attempt (and drop rows too old to matter)."""
    now = now or datetime.now(UTC)
    conn.execute(_TABLE.delete().where(_TABLE.c.at < now - timedelta(seconds=limit[1])))
    conn.execute(_TABLE.insert().values(username=_key(username), address=address or "", at=now))


def forget_failures(conn: Connection, username: str) -> None:
    """After a successful login: that username's failures no longer count."""
    conn.execute(_TABLE.delete().where(_TABLE.c.username == _key(username)))
