"""Connections for reading: on SQLite a deferred transaction (no write lock, so a long
sweep never blocks the writers, and a reader inside a writer's transaction never waits
for it); on PostgreSQL an ordinary one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Connection, Engine

__all__ = ["reading"]


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        conn.info["write"] = False
        try:
            with conn.begin():
                yield conn
        finally:
            conn.info["write"] = True
