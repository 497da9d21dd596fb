"""Connections for reading: on SQLite a deferred transaction (no write lock, so a long
sweep never blocks the writers, and a reader inside a writer's transaction never waits
for it); on PostgreSQL an ordinary one, planned for scans that return few rows.

**Why the planner setting.** A sweep scans the whole entity table and keeps the few rows
that are due and not yet in the ledger (``NOT EXISTS`` on the markers). PostgreSQL
estimates that anti-join from the candidates alone — on a million customers, 120,000 rows
expected, a few hundred returned in the steady state — and so prices the transfer of
rows from parallel workers (``parallel_tuple_cost``) as if they were many, choosing a
serial scan that takes about 1.6× as long as a parallel one. ``SET LOCAL`` lowers that
price for this read transaction only; every other setting, and every other
transaction, is left alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

__all__ = ["reading"]

#: PostgreSQL's price per row a parallel worker hands over (default 0.1) in sweeps.
SWEEP_PARALLEL_TUPLE_COST = "0.01"


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        conn.info["write"] = False
        try:
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.execute(sa.text("SELECT set_config('parallel_tuple_cost', :v, true)"),
                                 {"v": SWEEP_PARALLEL_TUPLE_COST})  # fmt: skip
                yield conn
        finally:
            conn.info["write"] = True
