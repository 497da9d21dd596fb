"""Runtime flags: switches administrators flip while Ruleform runs (``runtime_flags``).

The one flag today is the global **kill switch**: while it is on, nothing is delivered —
drains claim nothing, jobs already queued give their row back — and every outbox row stays
``pending`` until it is switched off. The time-rule engine asks ``kill_switch_on(conn)``
too. Toggled on ``/admin/outbox`` and with ``ruleform outbox kill-switch on|off``.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ...metadata.sqltypes import UTCDateTime
from ...platform.storage.system_tables import primary_key, system_table

__all__ = ["runtime_flags_table", "kill_switch_on", "set_kill_switch", "flag", "KILL_SWITCH"]

KILL_SWITCH = "delivery.kill_switch"

_flags = sa.table("runtime_flags", sa.column("name"), sa.column("value"),
                  sa.column("updated_at", UTCDateTime), sa.column("updated_by"))  # fmt: skip


@system_table("runtime_flags")
def runtime_flags_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "runtime_flags",
        metadata,
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("updated_by", sa.BigInteger),  # a user id; NULL: the command line
        primary_key("runtime_flags", "name"),
    )


def flag(conn: Connection, name: str) -> dict | None:
    """The flag ``name`` (``value``, ``updated_at``, ``updated_by``), or None if never set."""
    row = conn.execute(sa.select(_flags).where(_flags.c.name == name)).mappings().first()
    return dict(row) if row else None


def kill_switch_on(conn: Connection) -> bool:
    """Is the global kill switch on? (One indexed read; call it once per batch.)"""
    found = flag(conn, KILL_SWITCH)
    return bool(found and found["value"] == "on")


def set_kill_switch(conn: Connection, on: bool, now: datetime, user_id: int | None = None) -> None:
    """Switch delivery off (``on=True``) or back on, in the caller's transaction."""
    values = {"value": "on" if on else "off", "updated_at": now, "updated_by": user_id}
    changed = conn.execute(_flags.update().where(_flags.c.name == KILL_SWITCH).values(**values))
    if changed.rowcount == 0:
        conn.execute(_flags.insert().values(name=KILL_SWITCH, **values))
