"""The database engine: SQLite (WAL) by default, PostgreSQL in production.

One engine per app, held by Flask-SQLAlchemy (``db``, set up by ``init_app`` in the factory);
Ruleform works with SQLAlchemy Core on that engine, not with the ORM session. Commands and
worker processes without an app use ``create_engine`` with the same settings. Work happens
in explicit transactions
(``with transaction() as conn:``); a request never leaves a transaction open. When the
database is unreachable, requests get 503 with Retry-After (see ``errors.py``), and the
pool's pre-ping lets them recover by themselves when it returns.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.engine import Connection, Engine

__all__ = ["db", "init_app", "create_engine", "engine_settings", "engine", "transaction",
           "read_connection", "is_unavailable"]  # fmt: skip

#: Holds each app's engine (``db.engine`` inside an app context).
db = SQLAlchemy()


def engine_settings(url: str, **options: Any) -> tuple[sa.engine.URL, dict[str, Any]]:
    """The URL (PostgreSQL through psycopg 3) and engine options Ruleform relies on."""
    sa_url = sa.engine.make_url(url)
    if sa_url.get_backend_name() == "sqlite":
        options.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        return sa_url, options
    if sa_url.get_backend_name() == "postgresql" and sa_url.drivername == "postgresql":
        sa_url = sa_url.set(drivername="postgresql+psycopg")
    options.setdefault("pool_pre_ping", True)
    options.setdefault("connect_args", {"connect_timeout": 5})
    return sa_url, options


def _tune(engine: Engine) -> Engine:
    """SQLite: WAL, foreign keys, busy timeout and ``BEGIN IMMEDIATE`` for writers."""
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
    return engine


def create_engine(url: str, **options: Any) -> Engine:
    """An engine with Ruleform's settings, for code that runs without an app."""
    sa_url, options = engine_settings(url, **options)
    return _tune(sa.create_engine(sa_url, **options))


def init_app(app: Flask) -> Engine:
    """Give ``app`` its engine on ``DATABASE_URL`` through Flask-SQLAlchemy; return it."""
    sa_url, options = engine_settings(app.config["DATABASE_URL"])
    app.config["SQLALCHEMY_DATABASE_URI"] = sa_url.render_as_string(hide_password=False)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        **options,
        **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
    }
    db.init_app(app)
    with app.app_context():
        return _tune(db.engine)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Take over transaction control so BEGIN IMMEDIATE can be used (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # IMMEDIATE takes the write lock at BEGIN: two writers queue instead of deadlocking
    # on lock upgrade, so concurrent requests see "busy, wait" rather than failures.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write", True) else "BEGIN")


def engine() -> Engine:
    """The current app's engine."""
    return current_app.extensions["ruleform"].engine


@contextmanager
def transaction() -> Iterator[Connection]:
    """A connection inside a transaction that commits on success and rolls back on error."""
    with engine().begin() as conn:
        yield conn


@contextmanager
def read_connection() -> Iterator[Connection]:
    """A connection for reading (on SQLite: a deferred transaction, no write lock)."""
    with engine().connect() as conn:
        conn.info["write"] = False
        try:
            with conn.begin():
                yield conn
        finally:
            conn.info["write"] = True


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database is unreachable (not that a query was wrong)."""
    if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError):
        text = str(exc.orig if hasattr(exc, "orig") else exc).lower()
        return any(
            word in text
            for word in ("connection", "could not connect", "server closed", "timeout",
                         "terminating", "database is locked", "unable to open")
        )  # fmt: skip
    return isinstance(exc, sa.exc.TimeoutError)
