"""The in-app inbox channel: one ``inbox_messages`` row, in the drain's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from ....metadata.channels import BUILT_IN
from ..inbox import write_message
from .base import Channel, Outgoing

__all__ = ["deliver"]


def deliver(conn: Connection, outgoing: Outgoing, user_id: int, row: dict[str, Any],
            now: datetime) -> bool:  # fmt: skip
    """Write the message (a second call with the same key is a no-op); True if new."""
    return write_message(conn, {
        "user_id": user_id, "subject": outgoing.subject or outgoing.body[:120],
        "body": outgoing.body, "link": outgoing.link or None, "entity": row.get("entity"),
        "record_id": row.get("record_id"), "rule": row.get("rule"),
        "outbox_key": outgoing.key, "created_at": now,
    })  # fmt: skip


CHANNEL = Channel("inbox", BUILT_IN["inbox"], external=False,
                  reaches_users=True)  # fmt: skip
