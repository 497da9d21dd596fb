"""What delivery code needs from the app — engine, runtime, settings, Redis — as one object.

``ruleform worker`` builds the context once (engine, runtime and settings — no Flask app)
and installs it for the process; RQ jobs call ``current()``. A job run by a plain
``rq worker`` (nothing installed) builds it from the ``RULEFORM_*`` environment on first
use. After a fork the engine's pool is
replaced (``dispose(close=False)``): a child never reuses its parent's connections.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from ...platform.bootstrap import load_runtime
from ...platform.database import create_engine
from ...platform.records.hooks import register_record_hooks
from ...platform.runtime import Runtime
from ...platform.settings import instance_path, resolve
from .. import tables as _workflow_tables  # noqa: F401  registers the engine's tables
from ..record_hooks import HOOKS
from .settings import DeliverySettings

__all__ = ["DeliveryContext", "install", "current", "from_app", "from_settings"]


@dataclass
class DeliveryContext:
    engine: Engine
    runtime: Runtime
    settings: DeliverySettings
    redis_url: str | None = None
    pid: int = field(default_factory=os.getpid)
    _redis: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def outbox(self) -> Any:
        return self.runtime.system_table("outbox")

    def redis(self) -> Any:
        """A Redis client of this process with short timeouts (never shared across a fork)."""
        with self._lock:
            if self._redis is None or self.pid != os.getpid():
                from redis import Redis

                if not self.redis_url:
                    raise RuntimeError("no REDIS_URL: external channels need Redis")
                self._redis = Redis.from_url(
                    self.redis_url, socket_connect_timeout=2, socket_timeout=10,
                    health_check_interval=15)  # fmt: skip
            return self._redis

    def queue(self) -> Any:
        from rq import Queue

        return Queue(self.settings["DELIVERY_QUEUE"], connection=self.redis())

    def after_fork(self) -> None:
        if self.pid != os.getpid():
            self.engine.dispose(close=False)
            self._redis = None
            self.pid = os.getpid()


_current: DeliveryContext | None = None
_build_lock = threading.Lock()


def from_app(app: Any, redis_url: str | None = None) -> DeliveryContext:
    """The delivery context of a Ruleform app."""
    state = app.extensions["ruleform"]
    settings = DeliverySettings.from_config(app.config)
    return DeliveryContext(state.engine, state.runtime, settings,
                           redis_url or app.config.get("REDIS_URL"))  # fmt: skip


def from_settings(config: Mapping[str, Any], redis_url: str | None = None) -> DeliveryContext:
    """The delivery context of an instance's settings (``settings.resolve``), without an app:
    an engine, the active version's runtime, the delivery settings."""
    engine = create_engine(config["DATABASE_URL"])
    runtime = load_runtime(engine, config.get("RULEBOOK"))
    return DeliveryContext(engine, runtime, DeliverySettings.from_config(config),
                           redis_url or config.get("REDIS_URL"))  # fmt: skip


def install(context: DeliveryContext | None) -> None:
    global _current
    _current = context


def current() -> DeliveryContext:
    """The process's context (built from the environment the first time)."""
    global _current
    with _build_lock:
        if _current is None:
            register_record_hooks(HOOKS)  # a plain ``rq worker``: nobody wired the process
            _current = from_settings(resolve(instance_path()), os.environ.get("RULEFORM_REDIS_URL"))
        _current.after_fork()
        return _current
