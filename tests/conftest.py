"""Shared fixtures: database engines on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.databases import postgres_available, postgres_required, temporary_postgres_database


@pytest.fixture(scope="session")
def postgres_url():
    """URL of a throwaway PostgreSQL database for this test session (skips if none)."""
    if not postgres_available():
        if postgres_required():
            pytest.fail("PostgreSQL is required (RULEFORM_REQUIRE_POSTGRES=1) but unreachable")
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    with temporary_postgres_database() as url:
        yield url


@pytest.fixture
def sqlite_engine(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'test.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_engine(postgres_url):
    engine = sa.create_engine(postgres_url)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def any_engine(request):
    """The same test on SQLite and on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_engine")
