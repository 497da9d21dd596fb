"""What one app keeps between requests (``app.extensions["ruleform"]``).

The engine (held by Flask-SQLAlchemy, see ``database``) and the runtime of the active
rulebook version, swapped atomically when a new version is published.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from sqlalchemy.engine import Engine

from .runtime import Runtime

__all__ = ["RuleformState", "state"]


@dataclass
class RuleformState:
    """Everything the app keeps between requests."""

    engine: Engine
    runtime: Runtime
    lock: threading.Lock = field(default_factory=threading.Lock)
    extras: dict[str, Any] = field(default_factory=dict)

    def swap_runtime(self, runtime: Runtime) -> None:
        """Make ``runtime`` current; requests already running keep the one they started with."""
        with self.lock:
            self.runtime = runtime


def state(app: Flask) -> RuleformState:
    """The Ruleform state of ``app``."""
    return app.extensions["ruleform"]
