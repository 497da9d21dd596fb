"""The application factory: ``create_app(test_config=None)``.

Config is resolved here (``settings.configure``), never at import. Per-app state lives in
``app.extensions["ruleform"]`` (a ``RuleformState``); extensions never store the app. What
the app is made of is the wiring list (``wiring.APP_FEATURES``), set up in its order.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from . import wiring
from .platform import database
from .platform.app_state import RuleformState, state
from .platform.bootstrap import load_runtime
from .platform.settings import configure, instance_path

__all__ = ["create_app", "RuleformState", "state"]


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create a Ruleform app serving the active rulebook version of the configured database."""
    wiring.install()
    app = Flask("ruleform", instance_path=instance_path(test_config),
                instance_relative_config=True, static_folder=None, template_folder=None)  # fmt: skip
    configure(app, test_config)
    engine = database.init_app(app)
    runtime = load_runtime(engine, app.config.get("RULEBOOK"))
    app.extensions["ruleform"] = RuleformState(engine, runtime)
    for feature in wiring.APP_FEATURES:
        feature.init_app(app)
    return app
