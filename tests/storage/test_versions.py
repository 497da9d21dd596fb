"""Rulebook versions saved in the database: numbered, listed, one active at a time."""

from __future__ import annotations

import dataclasses

import pytest
import sqlalchemy as sa

from ruleform.errors import NotFound
from ruleform.platform.storage import (
    activate,
    active_version,
    ensure_schema,
    list_versions,
    load_version,
    save_version,
)

from .factories import make_entity, make_rulebook

SOURCE = {"language": "ruleform/v1", "name": "crm", "entities": {"customer": {"label": "客户"}}}


@pytest.fixture
def rulebook(engine):
    rulebook = make_rulebook([make_entity("customer")], fingerprint="abc123")
    ensure_schema(engine, rulebook)
    return rulebook


def test_versions_are_numbered_and_listed_newest_first(engine, rulebook):
    with engine.begin() as conn:
        assert active_version(conn) is None
        assert save_version(conn, SOURCE, rulebook, None, "first") == 1
        second = dataclasses.replace(rulebook, version="1.1.0", fingerprint="def456")
        assert save_version(conn, {**SOURCE, "version": "1.1.0"}, second, None, "second") == 2
        listed = list_versions(conn)
    assert [(v.number, v.version_label, v.comment, v.source) for v in listed] == [
        (2, "1.1.0", "second", None),
        (1, "1.0.0", "first", None),
    ]
    assert listed[1].fingerprint == "abc123" and listed[1].created_at.tzinfo is not None


def test_activate_switches_the_active_version(engine, rulebook):
    with engine.begin() as conn:
        save_version(conn, SOURCE, rulebook, None, "first")
        save_version(conn, SOURCE, rulebook, None, "second")
        first = activate(conn, 1)
        assert first.is_active and first.published_at is not None
        activate(conn, 2)
        current = active_version(conn)
    assert current is not None and current.number == 2
    assert current.source == SOURCE  # the source comes back as saved
    with engine.connect() as conn:
        assert [v.is_active for v in list_versions(conn)] == [True, False]
        assert load_version(conn, 1).published_at == first.published_at


def test_unknown_version(engine, rulebook):
    with engine.begin() as conn, pytest.raises(NotFound):
        activate(conn, 7)


def test_only_one_version_can_be_active(engine, rulebook):
    with engine.begin() as conn:
        save_version(conn, SOURCE, rulebook, None)
        save_version(conn, SOURCE, rulebook, None)
        activate(conn, 1)
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.text("UPDATE rulebook_versions SET is_active = true WHERE number = 2"))
