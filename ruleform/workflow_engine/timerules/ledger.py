"""The ledger (``rule_firings``): what fired, under a unique key — the source of truth.

Not RQ job ids (rq#1701: a job id says a job was enqueued, not that its effect happened
once). A firing inserts its ledger rows with ``ON CONFLICT DO NOTHING`` and performs an
effect (outbox row, task, record change) only for a row it actually inserted, all in the
transaction of the batch: a re-run tick, a second scheduler or a retried job inserts
nothing and so does nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from .occurrences import Due
from .tables import MARKER, SENT

__all__ = ["insert_once", "drop_fired", "sent_since", "firings_of", "MESSAGE_KINDS"]

#: Actions whose ledger rows are messages (counted by the caps).
MESSAGE_KINDS = ("notify", "escalate", "task", "webhook")
_CHUNK = 500
_UNIQUE = ["rule", "record_id", "occurrence", "channel", "recipient"]


def insert_once(conn: Connection, table: sa.Table, values: Mapping[str, Any]) -> bool:
    """Insert a ledger (or dry-run) row unless its unique key exists; True if new.

    Decided by ``RETURNING``, not ``rowcount``: with psycopg 3, SQLAlchemy 2.1 runs a
    single-row insert with an implicit ``RETURNING`` and ``rowcount`` is -1.
    """
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table).values(**values).on_conflict_do_nothing(index_elements=_UNIQUE)
    return conn.execute(stmt.returning(table.c.id)).first() is not None


def drop_fired(conn: Connection, table: sa.Table, rule: str, dues: Sequence[Due]) -> list[Due]:
    """The occurrences that have no marker yet: one query on PostgreSQL (the ids as one
    array parameter — binding hundreds of separate ones costs more than the query), one
    per 500 records on SQLite."""
    ids = sorted({d.record_id for d in dues})
    if not ids:
        return list(dues)
    marked = (table.c.rule == rule, table.c.channel == MARKER)
    if conn.dialect.name == "postgresql":
        wanted = sa.bindparam("rf_ids", ids, type_=postgresql.ARRAY(sa.BigInteger))
        chunks = [table.c.record_id == sa.any_(wanted)]
    else:
        chunks = [table.c.record_id.in_(ids[i : i + _CHUNK]) for i in range(0, len(ids), _CHUNK)]
    done: set[tuple[int, str]] = set()
    for chunk in chunks:
        query = sa.select(table.c.record_id, table.c.occurrence).where(*marked, chunk)
        done.update((r.record_id, r.occurrence) for r in conn.execute(query))
    return [d for d in dues if (d.record_id, d.occurrence) not in done]


def sent_since(conn: Connection, table: sa.Table, rule: str, since: datetime) -> int:
    """Messages this rule sent since ``since`` (the per-day cap counts these)."""
    query = sa.select(sa.func.count()).where(
        table.c.rule == rule, table.c.fired_at >= since, table.c.status == SENT,
        table.c.action.in_(MESSAGE_KINDS))  # fmt: skip
    return int(conn.execute(query).scalar_one())


def firings_of(conn: Connection, table: sa.Table, rule: str, record_id: int,
               entities: Iterable[str], limit: int = 200) -> list[dict[str, Any]]:  # fmt: skip
    """The ledger rows of one rule and record, newest first (``why``)."""
    query = (sa.select(table).where(table.c.rule == rule, table.c.record_id == record_id,
                                    table.c.entity.in_(list(entities)))
             .order_by(table.c.id.desc()).limit(limit))  # fmt: skip
    return [dict(r) for r in conn.execute(query).mappings()]
