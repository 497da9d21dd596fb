"""Fixtures for the page tests: clients logged in as a user of the standard organisation,
on the CRM app or on an app built from a small rulebook written for the test.

Logging in posts the real login form (``tests/auth.py``).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import shutil
from contextlib import ExitStack
from pathlib import Path

import pytest
from flask import Flask

from tests.auth import sign_in
from tests.conftest import backend


class Pages:
    """Log a test client in as a user, and read pages from it."""

    def __init__(self, app: Flask):
        self.app = app

    def client(self, username: str | None = None, **headers: str):
        client = self.app.test_client()
        for key, value in headers.items():
            client.environ_base[f"HTTP_{key.upper().replace('-', '_')}"] = value
        if username is None:
            return client
        return sign_in(client, username)


@pytest.fixture
def pages(app):
    """Clients logged in to the CRM app: ``pages.client("sales1")``."""
    return Pages(app)


@pytest.fixture(scope="session")
def rulebook_templates(tmp_path_factory):
    """Databases holding a rulebook and the standard organisation, built once per session and
    rulebook (seeding hashes twelve passwords), copied for each test."""
    from ruleform.app import create_app, state
    from ruleform.demo.organisation import seed_organisation
    from tests.databases import temporary_postgres_database

    stack = ExitStack()
    built: dict[str, dict] = {}
    root = tmp_path_factory.mktemp("rulebook-templates")

    def template(rulebook: dict) -> dict:
        source = json.dumps(rulebook, ensure_ascii=False, sort_keys=True)
        key = hashlib.sha256(source.encode()).hexdigest()[:16]
        if key in built:
            return built[key]
        path = root / f"{key}.json"
        path.write_text(source, encoding="utf-8")
        if backend() == "postgres":
            url = stack.enter_context(temporary_postgres_database())
        else:
            url = f"sqlite:///{root / f'{key}.db'}"
        app = create_app(
            {
                "INSTANCE_PATH": str(root / f"instance-{key}"),
                "DATABASE_URL": url,
                "RULEBOOK": str(path),
                "TESTING": True,
            }
        )
        st = state(app)
        seed_organisation(st.engine, set(st.runtime.rulebook.roles))
        st.engine.dispose()
        built[key] = {"url": url, "rulebook": str(path)}
        return built[key]

    yield template
    stack.close()


@pytest.fixture
def make_app(tmp_path, rulebook_templates):
    """``make_app(rulebook_dict, **config)`` → (app, Pages) on a fresh copy of its database."""
    from ruleform.app import create_app, state

    apps = []
    databases = []

    def build(rulebook: dict, **config):
        n = len(apps)
        template = rulebook_templates(rulebook)
        url = _copy_database(template["url"], tmp_path / f"app{n}.db", databases)
        app = create_app(
            {
                "INSTANCE_PATH": str(tmp_path / f"instance{n}"),
                "DATABASE_URL": url,
                "RULEBOOK": template["rulebook"],
                "TESTING": True,
                "WTF_CSRF_ENABLED": False,
                "SESSION_COOKIE_SECURE": False,
                **config,
            }
        )
        apps.append(app)
        return app, Pages(app)

    yield build
    for app in apps:
        state(app).engine.dispose()
    for name in databases:
        _drop_postgres(name)


def _copy_database(url: str, target: Path, databases: list[str]) -> str:
    if url.startswith("sqlite:///"):
        shutil.copyfile(url[len("sqlite:///") :], target)
        return f"sqlite:///{target}"
    import sqlalchemy as sa

    from tests.databases import ADMIN_URL

    name = "rf_p_" + secrets.token_hex(6)
    template = sa.engine.make_url(url).database
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    admin.dispose()
    databases.append(name)
    return sa.engine.make_url(url).set(database=name).render_as_string(hide_password=False)


def _drop_postgres(name: str) -> None:
    import sqlalchemy as sa

    from tests.databases import ADMIN_URL

    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = :n"), {"n": name})  # fmt: skip
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


# --- reading pages ------------------------------------------------------------------------


def csrf_from(html: str) -> str | None:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    return match.group(1) if match else None


def row_version(html: str) -> str:
    match = re.search(r'name="row_version" type="hidden" value="(\d+)"', html) or re.search(
        r'name="row_version" value="(\d+)"', html
    )
    assert match, "no row_version in the page"
    return match.group(1)


def record_id(location: str) -> int:
    match = re.search(r"/(\d+)$", location)
    assert match, location
    return int(match.group(1))


def field_block(html: str, name: str) -> str:
    """The HTML of the ``data-field="<name>"`` wrapper (up to the next field wrapper)."""
    start = html.index(f'data-field="{name}"')
    end = html.find('data-field="', start + 10)
    return html[start : end if end != -1 else len(html)]


def field_classes(html: str, name: str) -> str:
    """The ``class`` of the field wrapper of ``name``."""
    match = re.search(r'class="([^"]*)"\s+data-field="' + re.escape(name) + '"', html)
    assert match, f"no field wrapper for {name}"
    return match.group(1)
