"""The one wiring list: everything Ruleform is made of, named once, in order.

The composition root (``app.py``, ``cli.py``, ``worker.py``) reads these lists; nothing
is found by a module name in a string and nothing missing is skipped silently. A new
feature adds its module here:

* ``TABLE_MODULES`` — modules whose import registers system tables (``@system_table``);
* ``RECORD_HOOKS`` — what every write of an entity row runs (``platform.records.hooks``);
* ``APP_FEATURES`` — ``init_app(app)`` in this order: Flask extensions, blueprints (each
  registers its own navigation links, ``platform.navigation``), error handlers.

The command line's registry is ``cli.COMMANDS`` (it runs the app, so it sits above this
list). ``install()`` registers the hooks for this process; ``create_app``, the command
line and the worker call it (it is idempotent).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, Protocol

from flask import Flask

from .blueprints import access, api, pages
from .blueprints.delivery import web as delivery_web
from .blueprints.timerules import web as timerules_web
from .blueprints.workflow import web as workflow_web
from .platform import http_errors, i18n, version_follower
from .platform import outbox as platform_outbox
from .platform.auth import setup as auth
from .platform.records.hooks import RecordHooks, register_record_hooks
from .workflow_engine import tables as workflow_tables
from .workflow_engine.record_hooks import HOOKS as WORKFLOW_HOOKS

__all__ = ["TABLE_MODULES", "RECORD_HOOKS", "APP_FEATURES", "install"]


class Feature(Protocol):
    """A module that plugs into the app."""

    def init_app(self, app: Flask) -> Any: ...


#: Importing these registered their system tables (listed so the plan says where they are).
TABLE_MODULES: tuple[ModuleType, ...] = (platform_outbox, workflow_tables)

#: Run on every write of an entity row, in this order.
RECORD_HOOKS: tuple[RecordHooks, ...] = (WORKFLOW_HOOKS,)

#: ``init_app(app)`` of each, in this order.
APP_FEATURES: tuple[Feature, ...] = (
    version_follower,  # follow a newly published rulebook version
    i18n,  # locales, time zones, number and date filters
    auth,  # login, sessions, tokens, CSRF, accounts admin
    http_errors,  # one JSON error shape under /api, error pages elsewhere
    pages,  # generated lists, forms, detail pages
    api,  # REST API and OpenAPI
    access,  # read audit, access requests, why
    workflow_web,  # transitions, approvals, diagrams
    timerules_web,  # time rules, tasks
    delivery_web,  # inbox, outbox, sandbox, webhook targets
)


def install() -> None:
    """Register the record hooks of this process (the tables registered on import)."""
    for hooks in RECORD_HOOKS:
        register_record_hooks(hooks)
