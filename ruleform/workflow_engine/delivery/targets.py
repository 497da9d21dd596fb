"""Webhook targets: named URLs that rules call (``webhook: {target: sales_group}``).

Administrators keep them in the ``webhook_targets`` table (``/admin/webhooks``) or in the
``WEBHOOK_TARGETS`` setting; the table wins on a name in both. ``kind`` chooses the body:
``generic`` (JSON), ``wecom`` (企业微信群机器人), ``dingtalk`` (钉钉机器人) or ``sms``
(an SMS gateway that takes ``{"to", "text", "id"}``). A target pointing at a private,
loopback or link-local address is refused at send time unless ``allow_private`` is set —
the administrator's allow-list (see ``ssrf.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ...metadata.sqltypes import UTCDateTime
from ...platform.storage.system_tables import add_index, id_column, primary_key, system_table

__all__ = ["webhook_targets_table", "Target", "find_target", "list_targets", "save_target",
           "delete_target", "KINDS"]  # fmt: skip

KINDS = ("generic", "wecom", "dingtalk", "sms")


@system_table("webhook_targets")
def webhook_targets_table(metadata: sa.MetaData) -> sa.Table:
    t = sa.Table(
        "webhook_targets",
        metadata,
        id_column(),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False, server_default="generic"),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("secret", sa.String(200)),  # HMAC signature (generic) / 加签 (DingTalk)
        sa.Column("allow_private", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("updated_by", sa.BigInteger),
        primary_key("webhook_targets", "id"),
    )
    add_index(t, "name", unique=True)
    return t


_TARGETS = webhook_targets_table(sa.MetaData())


@dataclass(frozen=True)
class Target:
    """One webhook target, wherever it was configured."""

    name: str
    url: str
    kind: str = "generic"
    secret: str | None = None
    allow_private: bool = False
    active: bool = True
    source: str = "table"  # table | settings


def _from_settings(name: str, spec: Any) -> Target:
    if isinstance(spec, str):
        return Target(name, spec, source="settings")
    return Target(name, str(spec["url"]), str(spec.get("kind", "generic")), spec.get("secret"),
                  bool(spec.get("allow_private", False)), bool(spec.get("active", True)),
                  "settings")  # fmt: skip


def find_target(conn: Connection, name: str, configured: Mapping[str, Any]) -> Target | None:
    """The active target ``name`` (table first, then settings), or None."""
    row = conn.execute(sa.select(_TARGETS).where(_TARGETS.c.name == name)).mappings().first()
    if row is not None:
        return Target(row["name"], row["url"], row["kind"], row["secret"],
                      bool(row["allow_private"]), bool(row["active"]))  # fmt: skip
    spec = (configured or {}).get(name)
    return _from_settings(name, spec) if spec else None


def list_targets(conn: Connection, configured: Mapping[str, Any]) -> list[Target]:
    rows = conn.execute(sa.select(_TARGETS).order_by(_TARGETS.c.name)).mappings()
    found = {r["name"]: Target(r["name"], r["url"], r["kind"], r["secret"],
                               bool(r["allow_private"]), bool(r["active"]))
             for r in rows}  # fmt: skip
    for name, spec in (configured or {}).items():
        found.setdefault(name, _from_settings(name, spec))
    return sorted(found.values(), key=lambda t: t.name)


def save_target(conn: Connection, target: Target, now: datetime, user_id: int | None) -> None:
    values = {"kind": target.kind, "url": target.url, "secret": target.secret or None,
              "allow_private": target.allow_private, "active": target.active,
              "updated_at": now, "updated_by": user_id}  # fmt: skip
    changed = conn.execute(_TARGETS.update().where(_TARGETS.c.name == target.name).values(**values))
    if changed.rowcount == 0:
        conn.execute(_TARGETS.insert().values(name=target.name, **values))


def delete_target(conn: Connection, name: str) -> bool:
    return conn.execute(_TARGETS.delete().where(_TARGETS.c.name == name)).rowcount > 0
