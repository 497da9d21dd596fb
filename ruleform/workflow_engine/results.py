"""What a transition request did, as the HTTP layer and the tests read it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["TransitionResult"]


@dataclass
class TransitionResult:
    """What a transition request did: ``done`` (status changed) or ``pending`` (approval)."""

    outcome: str
    entity: str
    record_id: int
    status: str
    row_version: int
    request_id: int | None = None
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "entity": self.entity,
            "id": self.record_id,
            "status": self.status,
            "row_version": self.row_version,
            "request_id": self.request_id,
            "warnings": self.warnings,
        }
