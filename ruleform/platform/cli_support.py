"""What the commands that touch a database share: how it is named, and how it is opened.

Every such command takes the same three options, with the same environment variables the
app factory reads, so ``ruleform serve``, ``ruleform migrate``, ``ruleform users …`` and a
``gunicorn`` started with only environment variables all find the same database::

    --database URL    RULEFORM_DATABASE_URL   (default: the instance's config.py, else
                                               SQLite file <instance>/ruleform.db)
    --instance DIR    RULEFORM_INSTANCE_PATH  (default: ./instance)
    --rulebook PATH   RULEFORM_RULEBOOK       (imported as version 1 on the first start)

Use ``@database_options`` on a click command; it receives ``db`` (a ``DatabaseOptions``).
``open_engine(database, instance)`` is the same resolution for code that has the two values.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from sqlalchemy.engine import Engine

from .database import create_engine

__all__ = [
    "DatabaseOptions",
    "database_options",
    "open_engine",
    "resolve_database_url",
    "default_rulebook",
    "show_url",
]


def resolve_database_url(database: str | None, instance: str | os.PathLike[str] | None) -> str:
    """The URL the app would use: explicit, else the instance's ``config.py``, else SQLite."""
    if database:
        return database
    folder = Path(instance or os.environ.get("RULEFORM_INSTANCE_PATH") or "instance").resolve()
    configured = _instance_setting(folder, "DATABASE_URL")
    if configured:
        return str(configured)
    return f"sqlite:///{folder / 'ruleform.db'}"


def _instance_setting(folder: Path, key: str) -> Any:
    from flask import Config

    config = Config(str(folder))
    config.from_pyfile("config.py", silent=True)
    return config.get(key)


def open_engine(database: str | None, instance: str | os.PathLike[str] | None = None) -> Engine:
    """An engine on the configured database (SQLite: the instance folder is created)."""
    url = resolve_database_url(database, instance)
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return create_engine(url)


def default_rulebook() -> Path | None:
    """The shipped CRM rulebook (``metadata/crm`` beside the package in a source checkout)."""
    path = Path(__file__).resolve().parents[2] / "metadata" / "crm"
    return path if (path / "rulebook.yaml").is_file() else None


def show_url(url: str) -> str:
    """``url`` with any password hidden, for printing."""
    import sqlalchemy as sa

    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable database URL>"


@dataclass(frozen=True)
class DatabaseOptions:
    """The values of ``--database``, ``--instance`` and ``--rulebook``."""

    database: str | None
    instance: Path
    rulebook: str | None

    @property
    def url(self) -> str:
        return resolve_database_url(self.database, self.instance)

    def engine(self) -> Engine:
        return open_engine(self.database, self.instance)

    def app_config(self, **extra: Any) -> dict[str, Any]:
        """``test_config`` for ``create_app``: only what was given, so other layers still apply."""
        config: dict[str, Any] = {"INSTANCE_PATH": str(self.instance)}
        if self.database:
            config["DATABASE_URL"] = self.database
        if self.rulebook:
            config["RULEBOOK"] = self.rulebook
        config.update(extra)
        return config

    def environment(self) -> dict[str, str]:
        """The same settings as ``RULEFORM_*`` variables, for a child process."""
        env = {"RULEFORM_INSTANCE_PATH": str(self.instance)}
        if self.database:
            env["RULEFORM_DATABASE_URL"] = self.database
        if self.rulebook:
            env["RULEFORM_RULEBOOK"] = self.rulebook
        return env


def database_options(command: Callable[..., Any] | None = None, *,
                     rulebook: bool = True) -> Any:  # fmt: skip
    """Add ``--database``, ``--instance`` (and ``--rulebook``); pass them on as ``db``.

    Use as ``@database_options`` or, for commands that take no rulebook,
    ``@database_options(rulebook=False)``.
    """
    if command is None:
        return functools.partial(database_options, rulebook=rulebook)

    @functools.wraps(command)
    def wrapper(*args: Any, database: str | None, instance: Path,
                rulebook_path: str | None = None, **kwargs: Any) -> Any:  # fmt: skip
        db = DatabaseOptions(database or None, instance.resolve(), rulebook_path or None)
        return command(*args, db=db, **kwargs)

    decorated: Any = wrapper
    if rulebook:
        decorated = click.option(
            "--rulebook", "rulebook_path", envvar="RULEFORM_RULEBOOK", metavar="PATH",
            type=click.Path(exists=True), help="Rulebook folder or file [env RULEFORM_RULEBOOK].",
        )(decorated)  # fmt: skip
    decorated = click.option(
        "--instance", "instance", envvar="RULEFORM_INSTANCE_PATH", metavar="DIR",
        default="instance", show_default=True, type=click.Path(file_okay=False, path_type=Path),
        help="Instance folder: config.py, secret key, default SQLite file "
             "[env RULEFORM_INSTANCE_PATH].",
    )(decorated)  # fmt: skip
    return click.option(
        "--database", "database", envvar="RULEFORM_DATABASE_URL", metavar="URL",
        help="SQLAlchemy URL, e.g. postgresql://ruleform@db.example/ruleform "
             "[env RULEFORM_DATABASE_URL; default: SQLite in the instance folder].",
    )(decorated)  # fmt: skip
