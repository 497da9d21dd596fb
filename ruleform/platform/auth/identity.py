"""Loading the actor of a request in few statements.

A session request costs two SELECTs (the user joined with their roles; the department
subtree); a token request the same two (the token joined in the first) plus, at most
once a minute per token, one UPDATE of ``last_used_at``. The result is the same ``Actor``
``actors.load_actor`` builds (a test checks both agree). Nothing is cached across
requests: a deactivation or a role change counts from the next request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from ...metadata.model import Rulebook
from ..actors import Actor, department_subtree
from .tokens import token_hash, usable
from .users import api_tokens_table, user_roles_table, users_table

__all__ = ["admin_roles", "load_user_actor", "load_token_actor", "TokenActor"]

_COLUMNS = ("id", "username", "display_name", "department_id", "manager_id", "locale",
            "timezone", "active", "session_epoch", "is_admin")  # fmt: skip


@dataclass(frozen=True)
class TokenActor:
    """The actor behind a bearer token, and what is needed to record the token's use."""

    actor: Actor
    token_id: int
    last_used_at: datetime | None


def admin_roles(rulebook: Rulebook) -> frozenset[str]:
    """The rulebook's roles declared ``admin: true``."""
    return frozenset(name for name, role in rulebook.roles.items() if role.admin)


def _user_query(*extra: Any) -> tuple[sa.Select, sa.Table]:
    users, roles = users_table(), user_roles_table()
    query = sa.select(*(users.c[c] for c in _COLUMNS), roles.c.role, *extra)
    return query, users


def load_user_actor(conn: Connection, user_id: int,
                    admin_roles: frozenset[str] = frozenset()) -> Actor | None:  # fmt: skip
    """The active user ``user_id`` as an Actor (two SELECTs), or None."""
    query, users = _user_query()
    roles = user_roles_table()
    query = query.select_from(users.outerjoin(roles, roles.c.user_id == users.c.id))
    rows = conn.execute(query.where(users.c.id == user_id)).mappings().all()
    return _actor(conn, rows, admin_roles)


def load_token_actor(conn: Connection, token: str, now: datetime,
                     admin_roles: frozenset[str] = frozenset()) -> TokenActor | None:  # fmt: skip
    """The active user owning the usable token ``token`` (two SELECTs), or None."""
    digest = token_hash(token)
    if digest is None:
        return None
    tokens, roles = api_tokens_table(), user_roles_table()
    query, users = _user_query(tokens.c.id.label("token_id"), tokens.c.last_used_at)
    query = query.select_from(
        tokens.join(users, users.c.id == tokens.c.user_id)
        .outerjoin(roles, roles.c.user_id == users.c.id)
    ).where(tokens.c.token_hash == digest, usable(tokens, now))  # fmt: skip
    rows = conn.execute(query).mappings().all()
    actor = _actor(conn, rows, admin_roles)
    if actor is None:
        return None
    return TokenActor(actor, rows[0]["token_id"], rows[0]["last_used_at"])


def _actor(conn: Connection, rows: Sequence[RowMapping], admin: frozenset[str]) -> Actor | None:
    if not rows or not rows[0]["active"]:
        return None
    row = rows[0]
    roles = frozenset(r["role"] for r in rows if r["role"] is not None)
    return Actor(
        user_id=row["id"],
        username=row["username"],
        display_name=row["display_name"] or row["username"],
        roles=roles,
        department_id=row["department_id"],
        departments=department_subtree(conn, row["department_id"]),
        manager_id=row["manager_id"],
        locale=row["locale"],
        timezone=row["timezone"],
        is_admin=bool(row["is_admin"]) or bool(roles & admin),
        session_epoch=row["session_epoch"] or 0,
    )
