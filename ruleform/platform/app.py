"""The application factory: ``create_app(test_config=None)``.

Config is resolved here (``settings.configure``), never at import. Per-app state lives in
``app.extensions["ruleform"]`` (a ``RuleformState``); extensions never store the app.
"""

from __future__ import annotations

import importlib
import os
import threading
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from sqlalchemy.engine import Engine

from .bootstrap import load_runtime
from .database import create_engine
from .runtime import Runtime
from .settings import configure

__all__ = ["create_app", "RuleformState", "state"]

#: Feature modules that plug into the app; each has ``init_app(app)``. Missing ones are
#: skipped so the core can start while features are being built.
FEATURES = (
    "ruleform.platform.version_follower",
    "ruleform.platform.i18n",
    "ruleform.platform.auth",
    "ruleform.blueprints.errors",
    "ruleform.blueprints.pages",
    "ruleform.blueprints.api",
    "ruleform.blueprints.access",
    "ruleform.admin_ui",
    "ruleform.workflow_engine.web",
    "ruleform.workflow_engine.timerules.web",
    "ruleform.workflow_engine.delivery.web",
)


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
    return app.extensions["ruleform"]


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create a Ruleform app serving the active rulebook version of the configured database."""
    instance = (test_config or {}).get("INSTANCE_PATH") or os.environ.get(
        "RULEFORM_INSTANCE_PATH", os.path.abspath("instance")
    )
    app = Flask("ruleform", instance_path=str(instance), instance_relative_config=True,
                static_folder=None, template_folder=None)  # fmt: skip
    configure(app, test_config)
    engine = create_engine(app.config["DATABASE_URL"])
    runtime = load_runtime(engine, app.config.get("RULEBOOK"))
    app.extensions["ruleform"] = RuleformState(engine, runtime)
    for module_name in FEATURES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        init = getattr(module, "init_app", None)
        if init is not None:
            init(app)
    return app
