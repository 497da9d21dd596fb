"""What layers above the records add to every write of an entity row: record hooks.

The platform knows nothing of workflows; the workflow engine (duplicate rules, status
periods, approval locks) registers a ``RecordHooks`` at start-up through the composition
root's wiring list (``ruleform/wiring.py``). The row writer (``row_writer``) runs the
``after_*`` hooks of every change, whoever makes it; ``RecordService`` runs the
``before_*`` checks of the writes people make.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.engine import Connection

from ...metadata.model import Entity
from ..actors import Actor
from ..runtime import Runtime

__all__ = ["Write", "RecordHooks", "register_record_hooks", "record_hooks"]


class Write(Protocol):
    """The write in progress, as hooks see it (a ``RecordService`` or the row writer's)."""

    rt: Runtime
    conn: Connection
    actor: Actor
    hook_state: dict[str, Any]


class RecordHooks(Protocol):
    """Called in the writing transaction; a ``before_*`` hook returns warnings or raises."""

    def before_create(self, write: Write, entity: Entity, row: Mapping[str, Any]) -> list[str]: ...

    def after_create(self, write: Write, entity: Entity, record: Mapping[str, Any],
                     now: datetime) -> None: ...  # fmt: skip

    def before_update(self, write: Write, entity: Entity, record: Mapping[str, Any],
                      changed: set[str]) -> list[str]: ...  # fmt: skip

    def after_update(self, write: Write, entity: Entity, record: Mapping[str, Any],
                     changed: set[str], now: datetime, action: str) -> None: ...  # fmt: skip

    def after_archive(self, write: Write, entity: Entity, record: Mapping[str, Any],
                      now: datetime) -> None: ...  # fmt: skip


_HOOKS: list[RecordHooks] = []


def register_record_hooks(hooks: RecordHooks) -> None:
    """Add ``hooks`` to every write of this process (once; registering again is a no-op)."""
    if not any(h is hooks for h in _HOOKS):
        _HOOKS.append(hooks)


def record_hooks() -> tuple[RecordHooks, ...]:
    """The registered hooks, in registration order."""
    return tuple(_HOOKS)
