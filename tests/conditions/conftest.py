"""Fixtures for condition tests: the sample rulebook loaded into SQLite and PostgreSQL."""

from __future__ import annotations

from contextlib import ExitStack

import pytest
import sqlalchemy as sa

from tests.databases import temporary_postgres_database

from .schema import ACTIVITIES, CUSTOMERS, METADATA, PARTNERS, TABLES, Db, use_human_collation


@pytest.fixture
def empty_db(any_engine):
    """The tables, empty, on SQLite and on PostgreSQL (fresh for each test)."""
    METADATA.create_all(any_engine)
    yield Db(any_engine)
    METADATA.drop_all(any_engine)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def sample_db(request, tmp_path_factory):
    """The sample partners, customers and activities, loaded once per module and database.

    Tests using it must not write to it.
    """
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('conditions') / 'sample.db'}"
        else:
            request.getfixturevalue("postgres_url")  # skips (or fails) without PostgreSQL
            url = stack.enter_context(temporary_postgres_database())  # apart from empty_db's
        engine = sa.create_engine(url)
        stack.callback(engine.dispose)
        METADATA.create_all(engine)
        use_human_collation(engine, [TABLES["customer"].c.name, TABLES["partner"].c.name])
        db = Db(engine)
        db.load("partner", PARTNERS)
        db.load("customer", CUSTOMERS)
        db.load("activity", ACTIVITIES)
        yield db
