"""API tokens: ``Authorization: Bearer rf_…`` for scripts and integrations.

A token is 32 random bytes (URL-safe base64) prefixed ``rf_``; only its SHA-256 is
stored, so a database dump reveals no usable token and verifying is one indexed lookup of
the hash (the comparison happens on a hash of a high-entropy secret, so its timing tells
nothing). A token works while it is not revoked, not expired and its user is active;
``last_used_at`` is written at most once a minute. The token text is shown once, at
creation.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .users import api_tokens_table, users_table

__all__ = [
    "NewToken", "PREFIX", "TOUCH_INTERVAL", "create_token", "verify_token", "revoke_token",
    "list_tokens", "get_token", "token_hash", "usable", "touch_token", "needs_touch",
]  # fmt: skip

PREFIX = "rf_"
#: ``last_used_at`` is updated at most this often.
TOUCH_INTERVAL = timedelta(minutes=1)
_MAX_LENGTH = 100


@dataclass(frozen=True)
class NewToken:
    """A token just created: ``token`` is the secret, shown once."""

    id: int
    token: str
    name: str
    expires_at: datetime | None


def token_hash(token: str) -> str | None:
    """The stored form of ``token`` (None if it cannot be one of ours)."""
    if not token.startswith(PREFIX) or len(token) > _MAX_LENGTH:
        return None
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def usable(table: sa.Table, now: datetime) -> sa.ColumnElement[bool]:
    """Not revoked and not expired at ``now`` (SQL)."""
    return sa.and_(table.c.revoked_at.is_(None),
                   sa.or_(table.c.expires_at.is_(None), table.c.expires_at > now))  # fmt: skip


def create_token(conn: Connection, user_id: int, name: str = "",
                 expires_at: datetime | None = None) -> NewToken:  # fmt: skip
    """Create a token for ``user_id``; the returned ``token`` is never stored."""
    token = PREFIX + secrets.token_urlsafe(32)
    name = (name or "").strip()[:200] or "API token"
    table = api_tokens_table()
    token_id = conn.execute(
        table.insert().values(user_id=user_id, token_hash=token_hash(token), name=name,
                              expires_at=expires_at, created_at=datetime.now(UTC))
        .returning(table.c.id)
    ).scalar_one()  # fmt: skip
    return NewToken(token_id, token, name, expires_at)


def verify_token(conn: Connection, token: str, now: datetime | None = None) -> dict | None:
    """The token row (``id``, ``user_id``, ``name`` …) if ``token`` works now, else None.

    Updates ``last_used_at`` (at most once a minute). The request path uses
    ``identity.load_token_actor`` instead, which loads the user in the same query.
    """
    digest = token_hash(token)
    if digest is None:
        return None
    now = now or datetime.now(UTC)
    tokens, users = api_tokens_table(), users_table()
    row = conn.execute(
        sa.select(tokens).join(users, users.c.id == tokens.c.user_id)
        .where(tokens.c.token_hash == digest, usable(tokens, now), users.c.active.is_(True))
    ).mappings().first()  # fmt: skip
    if row is None:
        return None
    touch_token(conn, row["id"], row["last_used_at"], now)
    return dict(row)


def needs_touch(last_used_at: datetime | None, now: datetime) -> bool:
    return last_used_at is None or now - last_used_at >= TOUCH_INTERVAL


def touch_token(conn: Connection, token_id: int, last_used_at: datetime | None,
                now: datetime) -> None:  # fmt: skip
    """Record a use of the token unless one was recorded less than a minute ago."""
    if not needs_touch(last_used_at, now):
        return
    table = api_tokens_table()
    conn.execute(table.update().where(
        table.c.id == token_id,
        sa.or_(table.c.last_used_at.is_(None), table.c.last_used_at <= now - TOUCH_INTERVAL),
    ).values(last_used_at=now))  # fmt: skip


def get_token(conn: Connection, token_id: int) -> dict | None:
    table = api_tokens_table()
    row = conn.execute(sa.select(table).where(table.c.id == token_id)).mappings().first()
    return dict(row) if row else None


def revoke_token(conn: Connection, token_id: int, user_id: int | None = None) -> bool:
    """Revoke a token (only if it belongs to ``user_id``, when given); False if none was."""
    table = api_tokens_table()
    query = table.update().where(table.c.id == token_id, table.c.revoked_at.is_(None))
    if user_id is not None:
        query = query.where(table.c.user_id == user_id)
    return conn.execute(query.values(revoked_at=datetime.now(UTC))).rowcount > 0


def list_tokens(conn: Connection, user_id: int | None = None,
                include_revoked: bool = False) -> list[dict]:  # fmt: skip
    """Tokens (never their secret or hash), newest first, with the owner's username."""
    tokens, users = api_tokens_table(), users_table()
    query = (
        sa.select(tokens.c.id, tokens.c.user_id, users.c.username, tokens.c.name,
                  tokens.c.created_at, tokens.c.last_used_at, tokens.c.expires_at,
                  tokens.c.revoked_at)
        .join(users, users.c.id == tokens.c.user_id).order_by(tokens.c.id.desc())
    )  # fmt: skip
    if user_id is not None:
        query = query.where(tokens.c.user_id == user_id)
    if not include_revoked:
        query = query.where(tokens.c.revoked_at.is_(None))
    return [dict(r) for r in conn.execute(query).mappings()]
