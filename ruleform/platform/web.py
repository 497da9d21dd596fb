"""Request helpers shared by pages and the API: the runtime and actor of this request."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app, g

from .actors import Actor
from .records import RecordService
from .records.read_audit import Thresholds
from .runtime import Runtime

__all__ = ["current_runtime", "current_actor", "records", "reading", "access_limits"]


def current_runtime() -> Runtime:
    """The runtime this request started with (a publish mid-request does not change it)."""
    if "rf_runtime" not in g:
        g.rf_runtime = current_app.extensions["ruleform"].runtime
    return g.rf_runtime


def current_actor() -> Actor | None:
    """The logged-in (or token-authenticated) actor, or None."""
    return g.get("rf_actor")


@contextmanager
def records() -> Iterator[RecordService]:
    """A record service for this request's actor inside one write transaction."""
    actor = current_actor()
    assert actor is not None, "records() needs an authenticated actor"
    with current_app.extensions["ruleform"].engine.begin() as conn:
        yield RecordService(current_runtime(), conn, actor, access_limits())


def access_limits() -> Thresholds:
    """R47's thresholds from the settings (``EXPORT_ALERT_ROWS``, ``VIEW_ALERT_RECORDS``)."""
    config = current_app.config
    return Thresholds(int(config.get("EXPORT_ALERT_ROWS", 1000)),
                      int(config.get("VIEW_ALERT_RECORDS", 500)))  # fmt: skip


@contextmanager
def reading() -> Iterator[RecordService]:
    """A record service for reads (may still write the read audit, in the same transaction)."""
    with records() as service:
        yield service
