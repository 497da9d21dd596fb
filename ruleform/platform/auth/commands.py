"""``ruleform users …`` and ``ruleform tokens …``: accounts from the command line.

Each command takes ``--database`` / ``--instance`` (``cli_support.database_options``) and
creates the platform's tables if the database is new, so the first administrator can be
made before the first start. Exit status: 0 done, 1 refused (unknown user, role,
department; a taken username; a too short password), 2 usage error.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, NoReturn

import click
from sqlalchemy.engine import Connection, Engine

from ...errors import FieldErrors
from ..bootstrap import ensure_system_tables
from ..cli_support import DatabaseOptions, database_options
from ..messages import SUPPORTED_LOCALES, message
from ..runtime import utcnow
from ..storage import active_version
from .passwords import MIN_PASSWORD_LENGTH, password_problems
from .tokens import create_token, list_tokens, revoke_token
from .users import (
    create_user,
    deactivate_user,
    find_user,
    list_departments,
    list_users,
    reactivate_user,
    set_password,
    set_roles,
)

__all__ = ["users", "tokens"]


def _fail(text: str) -> NoReturn:
    click.echo(f"error: {text}", err=True)
    sys.exit(1)


def _say(code: str, **params: Any) -> str:
    return message(code, "en", min=MIN_PASSWORD_LENGTH, **params)


@contextmanager
def _database(db: DatabaseOptions) -> Iterator[Engine]:
    engine = db.engine()
    try:
        ensure_system_tables(engine)
        yield engine
    finally:
        engine.dispose()


@contextmanager
def _writing(db: DatabaseOptions) -> Iterator[Connection]:
    """One transaction; a refusal from ``users.py`` ends the command with status 1."""
    with _database(db) as engine:
        try:
            with engine.begin() as conn:
                yield conn
        except FieldErrors as exc:
            _fail("; ".join(f"{key}: {', '.join(_say(c) for c in codes)}"
                            for key, codes in exc.errors.items()))  # fmt: skip


def _user(conn: Connection, username: str) -> dict:
    user = find_user(conn, username)
    if user is None:
        _fail(f"no user '{username}'")
    return user


def _check_password(password: str, username: str) -> str:
    problems = password_problems(password, username)
    if problems:
        _fail("password: " + " ".join(_say(code) for code in problems))
    return password


def _known_roles(conn: Connection) -> list[str] | None:
    """Roles of the active rulebook version (None before the first version is stored)."""
    version = active_version(conn)
    roles = (version.source or {}).get("roles") if version is not None else None
    return sorted(roles) if isinstance(roles, dict) else None


def _check_roles(conn: Connection, roles: tuple[str, ...]) -> list[str]:
    known = _known_roles(conn)
    unknown = sorted(set(roles) - set(known)) if known is not None else []
    if unknown:
        _fail(
            f"unknown role(s) {', '.join(unknown)}; the rulebook's roles: {', '.join(known or [])}"
        )
    return list(roles)


def _department_id(conn: Connection, name: str | None) -> int | None:
    if not name:
        return None
    departments = list_departments(conn)
    for dept in departments:
        if name.lower() in {dept["name"].lower(), (dept["label_zh"] or "").lower(),
                            (dept["label_en"] or "").lower()}:  # fmt: skip
            return dept["id"]
    _fail(f"no department '{name}'; departments: {', '.join(d['name'] for d in departments)}")


# --- users -----------------------------------------------------------------------------------


@click.group()
def users() -> None:
    """Accounts: create, list, deactivate; passwords and roles."""


def _password_option(command: Any) -> Any:
    return click.option("--password", help="The password (asked for when not given).")(command)


def _password(password: str | None, username: str) -> str:
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return _check_password(password, username)


@users.command("create")
@click.argument("username")
@_password_option
@click.option("--role", "roles", multiple=True, metavar="ROLE", help="A role (repeatable).")
@click.option("--department", metavar="NAME", help="Department identifier or name.")
@click.option("--manager", metavar="USERNAME", help="The user's manager.")
@click.option("--admin", is_flag=True, help="A superuser (besides the rulebook's admin roles).")
@click.option("--locale", type=click.Choice(SUPPORTED_LOCALES), help="Language of the user.")
@click.option("--display-name", help="Name shown to others (default: the username).")
@click.option("--email")
@database_options
def users_create(db: DatabaseOptions, username: str, password: str | None, roles: tuple[str, ...],
                 department: str | None, manager: str | None, admin: bool, locale: str | None,
                 display_name: str | None, email: str | None) -> None:  # fmt: skip
    """Create the account USERNAME (one per person)."""
    password = _password(password, username)
    with _writing(db) as conn:
        manager_id = _user(conn, manager)["id"] if manager else None
        user_id = create_user(conn, username, password, display_name=display_name, email=email,
                              department_id=_department_id(conn, department),
                              manager_id=manager_id, roles=_check_roles(conn, roles),
                              locale=locale, is_admin=admin)  # fmt: skip
    click.echo(f"created user '{username}' (id {user_id})")


@users.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include deactivated accounts.")
@database_options
def users_list(db: DatabaseOptions, show_all: bool) -> None:
    """List accounts (active ones unless --all)."""
    with _database(db) as engine, engine.connect() as conn:
        rows, _ = list_users(conn, active=None if show_all else True, limit=100_000)
        departments = {d["id"]: d["name"] for d in list_departments(conn)}
    for row in rows:
        flags = "" if row["active"] else " [deactivated]"
        flags += " [admin]" if row["is_admin"] else ""
        click.echo(f"{row['id']:>5}  {row['username']:<20} {row['display_name']:<16} "
                   f"{departments.get(row['department_id'], '-'):<14} "
                   f"{','.join(row['roles']) or '-'}{flags}")  # fmt: skip


@users.command("deactivate")
@click.argument("username")
@database_options
def users_deactivate(db: DatabaseOptions, username: str) -> None:
    """Deactivate USERNAME: their sessions and tokens stop working at once."""
    with _writing(db) as conn:
        deactivate_user(conn, _user(conn, username)["id"])
    click.echo(f"deactivated '{username}'")


@users.command("reactivate")
@click.argument("username")
@database_options
def users_reactivate(db: DatabaseOptions, username: str) -> None:
    """Let USERNAME log in again."""
    with _writing(db) as conn:
        reactivate_user(conn, _user(conn, username)["id"])
    click.echo(f"reactivated '{username}'")


@users.command("set-password")
@click.argument("username")
@_password_option
@database_options
def users_set_password(db: DatabaseOptions, username: str, password: str | None) -> None:
    """Set USERNAME's password (ends their sessions)."""
    with _database(db) as engine, engine.connect() as conn:
        _user(conn, username)
    password = _password(password, username)
    with _writing(db) as conn:
        set_password(conn, _user(conn, username)["id"], password)
    click.echo(f"password of '{username}' set; their sessions have ended")


@users.command("roles")
@click.argument("username")
@click.argument("roles", nargs=-1, required=True)
@database_options
def users_roles(db: DatabaseOptions, username: str, roles: tuple[str, ...]) -> None:
    """Replace USERNAME's roles with ROLES."""
    with _writing(db) as conn:
        set_roles(conn, _user(conn, username)["id"], _check_roles(conn, roles))
    click.echo(f"roles of '{username}': {', '.join(sorted(set(roles)))}")


# --- tokens ----------------------------------------------------------------------------------


@click.group()
def tokens() -> None:
    """API tokens: create (shown once), list, revoke."""


@tokens.command("create")
@click.option("--user", "username", required=True, metavar="USERNAME")
@click.option("--name", default="", help="What the token is for.")
@click.option("--expires-days", type=click.IntRange(1, 3650), metavar="DAYS",
              help="Expire after DAYS days (default: never).")  # fmt: skip
@database_options
def tokens_create(db: DatabaseOptions, username: str, name: str, expires_days: int | None) -> None:
    """Create a token for USERNAME and print it (it cannot be shown again)."""
    expires_at = utcnow() + timedelta(days=expires_days) if expires_days else None
    with _writing(db) as conn:
        user = _user(conn, username)
        if not user["active"]:
            _fail(f"'{username}' is deactivated")
        new = create_token(conn, user["id"], name, expires_at)
    when = "no expiry"
    if new.expires_at:
        when = f"expires {new.expires_at.isoformat(timespec='seconds')}"
    click.echo(f"token {new.id} for '{username}' ({when}); it is shown only now:", err=True)
    click.echo(new.token)


@tokens.command("list")
@click.option("--user", "username", metavar="USERNAME", help="Only this user's tokens.")
@database_options
def tokens_list(db: DatabaseOptions, username: str | None) -> None:
    """List tokens that are not revoked (never their secret)."""
    with _database(db) as engine, engine.connect() as conn:
        user_id = _user(conn, username)["id"] if username else None
        rows = list_tokens(conn, user_id)
    for row in rows:
        expires = row["expires_at"].isoformat(timespec="seconds") if row["expires_at"] else "-"
        used = row["last_used_at"].isoformat(timespec="seconds") if row["last_used_at"] else "-"
        click.echo(f"{row['id']:>5}  {row['username']:<20} {row['name']:<24} "
                   f"expires {expires}  last used {used}")  # fmt: skip


@tokens.command("revoke")
@click.argument("token_id", type=int)
@database_options
def tokens_revoke(db: DatabaseOptions, token_id: int) -> None:
    """Revoke the token with id TOKEN_ID."""
    with _writing(db) as conn:
        if not revoke_token(conn, token_id):
            _fail(f"no active token {token_id}")
    click.echo(f"revoked token {token_id}")
