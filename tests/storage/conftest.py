"""Fixtures for storage tests: an empty database per test, on SQLite and on PostgreSQL."""

from __future__ import annotations

import secrets

import pytest
import sqlalchemy as sa


@pytest.fixture
def engine(any_engine):
    """``any_engine``, but on PostgreSQL inside a schema of its own (dropped afterwards),
    so every test starts from an empty database."""
    if any_engine.dialect.name != "postgresql":
        yield any_engine
        return
    schema = "t_" + secrets.token_hex(6)
    with any_engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")  # our own random name
    scoped = sa.create_engine(any_engine.url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield scoped
    finally:
        scoped.dispose()
        with any_engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
