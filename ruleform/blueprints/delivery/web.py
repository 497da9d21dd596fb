"""HTTP for delivery: one blueprint with the pages and the API.

    GET   /inbox                         my messages          POST /inbox/read
    GET   /admin/outbox                  (admins) filter by status and channel, retry,
                                         last error, the kill switch
    POST  /admin/outbox/<id>/retry       POST /admin/outbox/kill-switch
    GET   /admin/sandbox                 (admins) messages held by sandbox mode, rendered
    GET   /admin/webhooks                (admins) webhook targets; POST saves one
    POST  /admin/webhooks/<name>/delete
    …and the API of ``web_api.py`` under /api/v1/inbox and /api/v1/outbox.

Authentication and CSRF are ``auth``'s; administrators are ``Actor.is_admin``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask

from ...platform.auth.guards import admin_required, login_required
from ...platform.i18n import current_locale
from ...platform.navigation import NavLink, add_link
from ...workflow_engine.delivery.texts import text
from . import api as web_api
from . import pages as web_pages

__all__ = ["init_app", "bp"]

bp = Blueprint("delivery", __name__, template_folder="templates")

_ID = "<int(min=1, max=9223372036854775807):row_id>"

_USER_RULES: list[tuple[str, str, Callable[..., Any], list[str]]] = [
    ("/inbox", "inbox", web_pages.inbox, ["GET"]),
    ("/inbox/read", "inbox_read", web_pages.inbox_read, ["POST"]),
    ("/api/v1/inbox", "api_inbox", web_api.inbox, ["GET"]),
    ("/api/v1/inbox/read", "api_inbox_read", web_api.inbox_read, ["POST"]),
]
_ADMIN_RULES: list[tuple[str, str, Callable[..., Any], list[str]]] = [
    ("/admin/outbox", "outbox", web_pages.outbox, ["GET"]),
    (f"/admin/outbox/{_ID}/retry", "outbox_retry", web_pages.outbox_retry, ["POST"]),
    ("/admin/outbox/kill-switch", "kill_switch", web_pages.kill_switch, ["POST"]),
    ("/admin/sandbox", "sandbox", web_pages.sandbox, ["GET"]),
    ("/admin/webhooks", "webhooks", web_pages.webhooks, ["GET", "POST"]),
    ("/admin/webhooks/<name>/delete", "webhook_delete", web_pages.webhook_delete, ["POST"]),
    ("/api/v1/outbox", "api_outbox", web_api.outbox, ["GET"]),
    (f"/api/v1/outbox/{_ID}", "api_outbox_detail", web_api.outbox_detail, ["GET"]),
    (f"/api/v1/outbox/{_ID}/retry", "api_outbox_retry", web_api.outbox_retry, ["POST"]),
    ("/api/v1/outbox/kill-switch", "api_kill_switch", web_api.kill_switch, ["GET", "POST"]),
    ("/api/v1/outbox/sandbox", "api_sandbox", web_api.sandbox, ["GET"]),
]


def _guarded(guard: Callable[..., Any], view: Callable[..., Any]) -> Callable[..., Any]:
    return functools.wraps(view)(guard(view))


for _rule, _endpoint, _view, _methods in _USER_RULES:
    bp.add_url_rule(_rule, _endpoint, _guarded(login_required, _view), methods=_methods)
for _rule, _endpoint, _view, _methods in _ADMIN_RULES:
    bp.add_url_rule(_rule, _endpoint, _guarded(admin_required, _view), methods=_methods)


def delivery_text(key: str, **params: Any) -> str:
    """Template helper: a delivery text in the request's locale."""
    return text(key, current_locale(), **params)


def init_app(app: Flask) -> None:
    """Register the blueprint and the template helper ``delivery_t``."""
    app.register_blueprint(bp)
    add_link(app, NavLink("/inbox", "page.inbox"))
    for path, message in (("/admin/outbox", "page.admin_outbox"),
                          ("/admin/sandbox", "page.admin_sandbox"),
                          ("/admin/webhooks", "page.admin_webhooks")):  # fmt: skip
        add_link(app, NavLink(path, message, "admin"))
    app.jinja_env.globals["delivery_t"] = delivery_text
