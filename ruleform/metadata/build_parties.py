"""Compile "who" specifications: approvers, recipients, assignees and escalation chains."""

from __future__ import annotations

from typing import Any

from .build_context import BuildContext
from .field_types import FIELD_TYPES
from .model import Party
from .validation import suggest

__all__ = ["build_parties", "build_party"]


def build_parties(ctx: BuildContext, spec: Any, path: tuple, fields: dict[str, str],
                  roles: set[str]) -> tuple[Party, ...]:  # fmt: skip
    """A party or a list of parties; ``fields`` maps field names to their field type."""
    items = spec if isinstance(spec, list) else [spec]
    parties = []
    for i, item in enumerate(items):
        party = build_party(
            ctx, item, (*path, i) if isinstance(spec, list) else path, fields, roles
        )
        if party is not None:
            parties.append(party)
    return tuple(parties)


def build_party(ctx: BuildContext, item: Any, path: tuple, fields: dict[str, str],
                roles: set[str]) -> Party | None:  # fmt: skip
    """One party; unknown roles and fields are reported with suggestions."""
    if item in ("owner", "owner_manager", "creator"):
        return Party(item)
    if not isinstance(item, dict):
        return None
    if "role" in item:
        if item["role"] not in roles:
            ctx.error(
                (*path, "role"), f"unknown role '{item['role']}'", suggest(item["role"], roles)
            )
        return Party(
            "role", role=item["role"], in_owner_department=item.get("in") == "owner_department"
        )
    if item.get("owner_manager"):
        return Party("owner_manager")
    if "user_field" in item:
        name = item["user_field"]
        if not _is_user(fields.get(name)):
            ctx.error((*path, "user_field"), f"'{name}' is not a user field of this entity",
                      suggest(name, [f for f, t in fields.items() if _is_user(t)]))  # fmt: skip
        return Party("user_field", field=name)
    if "users" in item:
        return Party("users", users=tuple(str(u) for u in item["users"]))
    if "field" in item:
        name = item["field"]
        if not _is_address(fields.get(name)):
            ctx.error(
                (*path, "field"),
                f"'{name}' is not an email or phone field of this entity",
                suggest(name, [f for f, t in fields.items() if _is_address(t)]),
            )
        return Party("record_field", field=name)
    return None


def _is_user(type_name: str | None) -> bool:
    ftype = FIELD_TYPES.get(type_name) if isinstance(type_name, str) else None
    return ftype is not None and ftype.storage == "user"


def _is_address(type_name: str | None) -> bool:
    """An email or phone field: a message can be sent to its value."""
    ftype = FIELD_TYPES.get(type_name) if isinstance(type_name, str) else None
    return ftype is not None and ftype.address_kind is not None
