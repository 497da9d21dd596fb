"""Test databases: a throwaway SQLite file and, when reachable, a throwaway PostgreSQL database.

PostgreSQL is found at ``RULEFORM_TEST_POSTGRES`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``). Each test session creates its own
database ``rf_test_<random>`` and drops it afterwards, so parallel runs never collide.
When ``RULEFORM_REQUIRE_POSTGRES=1`` (as in CI) an unreachable server fails the tests
instead of skipping them.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

ADMIN_URL = os.environ.get(
    "RULEFORM_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def postgres_required() -> bool:
    return os.environ.get("RULEFORM_REQUIRE_POSTGRES") == "1"


def postgres_available() -> bool:
    try:
        engine = sa.create_engine(ADMIN_URL, connect_args={"connect_timeout": 2})
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@contextmanager
def temporary_postgres_database() -> Iterator[str]:
    """Create an empty PostgreSQL database; yield its URL; drop it afterwards."""
    name = "rf_test_" + secrets.token_hex(6)
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))  # name is ours, not user input
    url = sa.engine.make_url(ADMIN_URL).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                ),
                {"n": name},
            )
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
