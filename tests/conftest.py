"""Shared fixtures: database engines on SQLite and PostgreSQL.

The test process is wired as the app, the command line and the worker are
(``ruleform.wiring.install``): tests that build services without an app see the same
record hooks and system tables.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ruleform import wiring
from tests.databases import postgres_available, postgres_required, temporary_postgres_database

wiring.install()


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


# --- the app, on the backend chosen by RULEFORM_TEST_BACKEND (sqlite | postgres) ----------

import os  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

from tests.databases import ADMIN_URL  # noqa: E402

CRM = str(Path(__file__).resolve().parent.parent / "metadata" / "crm")


def backend() -> str:
    return os.environ.get("RULEFORM_TEST_BACKEND", "sqlite")


def _build_template(url: str, instance: Path) -> dict:
    """Bootstrap the CRM rulebook and the standard organisation into ``url``."""
    from ruleform.app import create_app, state
    from ruleform.demo.organisation import seed_organisation

    app = create_app(
        {"INSTANCE_PATH": str(instance), "DATABASE_URL": url, "RULEBOOK": CRM, "TESTING": True}
    )
    st = state(app)
    org = seed_organisation(st.engine, set(st.runtime.rulebook.roles))
    st.engine.dispose()
    return {"departments": org.departments, "users": org.users}


@pytest.fixture(scope="session")
def crm_template(tmp_path_factory):
    """A database holding the CRM rulebook and the standard organisation, cloned per test."""
    instance = tmp_path_factory.mktemp("instance")
    if backend() == "postgres":
        if not postgres_available():
            pytest.fail("RULEFORM_TEST_BACKEND=postgres but PostgreSQL is unreachable")
        with temporary_postgres_database() as url:
            org = _build_template(url, instance)
            yield {"kind": "postgres", "url": url, "org": org, "instance": instance}
        return
    path = tmp_path_factory.mktemp("template") / "crm.db"
    org = _build_template(f"sqlite:///{path}", instance)
    yield {"kind": "sqlite", "path": path, "org": org, "instance": instance}


@pytest.fixture
def database_url(crm_template, tmp_path):
    """A fresh copy of the CRM template database for one test."""
    if crm_template["kind"] == "sqlite":
        target = tmp_path / "crm.db"
        shutil.copyfile(crm_template["path"], target)
        yield f"sqlite:///{target}"
        return
    name = "rf_t_" + secrets.token_hex(6)
    template = sa.engine.make_url(crm_template["url"]).database
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield (
            sa.engine.make_url(crm_template["url"])
            .set(database=name)
            .render_as_string(hide_password=False)
        )
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


@pytest.fixture
def app(database_url, tmp_path):
    """The CRM app on a fresh database with the standard organisation (CSRF off; see
    tests/platform/test_csrf.py for CSRF on)."""
    from ruleform.app import create_app, state

    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "DATABASE_URL": database_url,
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "RULEBOOK_CHECK_SECONDS": 0,
            "SESSION_COOKIE_SECURE": False,
            "REMEMBER_COOKIE_SECURE": False,
        }
    )
    yield app
    state(app).engine.dispose()


@pytest.fixture
def org(crm_template):
    """Ids of the standard organisation's departments and users."""
    from ruleform.demo.organisation import Organisation

    return Organisation(
        dict(crm_template["org"]["departments"]), dict(crm_template["org"]["users"])
    )


@pytest.fixture
def client(app):
    return app.test_client()
