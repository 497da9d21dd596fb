"""HTTP for the workflow engine: one blueprint with the transition and approval endpoints of
the API (``/api/v1/…``, JSON) and of the pages (forms, the approval inbox, the exception
report, the status diagram), plus the ``transition_panel`` the detail page embeds.

    GET   /api/v1/<entity>/<id>/transitions             transitions from the status, with reasons
    POST  /api/v1/<entity>/<id>/transitions/<name>      take it (If-Match: W/"<row_version>")
    GET   /api/v1/<entity>/<id>/approvals               the record's approval requests
    GET   /api/v1/approvals                             my open tasks (?view=mine: my requests)
    GET   /api/v1/approvals/exceptions                  exception requests (R48) (?entity=)
    GET   /api/v1/approvals/<request_id>                one request, its steps and tasks
    POST  /api/v1/approvals/<request_id>/<action>       approve reject return add_approver
                                                        transfer withdraw
    GET   /api/v1/delegations  POST /api/v1/delegations  DELETE /api/v1/delegations/<id>
    GET   /<entity>/diagram.svg                          the status diagram
    GET   /<entity>/<id>/transitions/<name>              the form (required fields, comment)
    POST  /<entity>/<id>/transitions/<name>              take it (CSRF, row_version)
    GET   /approvals  /approvals/<id>  /approvals/exceptions        inbox, request, report
    POST  /approvals/<id>/<action>  /approvals/delegations  /approvals/delegations/<id>/revoke

Authentication and CSRF are ``auth``'s (``g.rf_actor``; page POSTs and session-cookie API
POSTs carry a CSRF token). Errors are the typed exceptions (``blueprints/errors.py``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, redirect, request

from ...platform.http_errors import error_response
from ...platform.navigation import NavLink, add_link
from ...platform.web import current_actor
from ..pages.chrome import login_url
from . import api as web_api
from . import pages as web_pages
from .panel import transition_panel
from .texts import ui_text

__all__ = ["init_app", "bp"]

bp = Blueprint(
    "workflow",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/workflow",
)

_ID = "<int(min=1, max=9223372036854775807):record_id>"
_REQ = "<int(min=1, max=9223372036854775807):request_id>"

_RULES = [
    (f"/api/v1/<entity>/{_ID}/transitions", "api_transitions", web_api.transitions, ["GET"]),
    (f"/api/v1/<entity>/{_ID}/transitions/<name>", "api_take", web_api.take, ["POST"]),
    (
        f"/api/v1/<entity>/{_ID}/approvals",
        "api_record_approvals",
        web_api.record_approvals,
        ["GET"],
    ),
    ("/api/v1/approvals", "api_inbox", web_api.inbox, ["GET"]),
    ("/api/v1/approvals/exceptions", "api_exceptions", web_api.exceptions, ["GET"]),
    (f"/api/v1/approvals/{_REQ}", "api_request", web_api.request_detail, ["GET"]),
    (f"/api/v1/approvals/{_REQ}/<action>", "api_act", web_api.act, ["POST"]),
    ("/api/v1/delegations", "api_delegations", web_api.delegations, ["GET", "POST"]),
    ("/api/v1/delegations/<int:delegation_id>", "api_revoke", web_api.revoke, ["DELETE"]),
    ("/<entity>/diagram.svg", "diagram", web_pages.diagram, ["GET"]),
    (
        f"/<entity>/{_ID}/transitions/<name>",
        "transition_form",
        web_pages.transition_form,
        ["GET", "POST"],
    ),
    ("/approvals", "inbox", web_pages.inbox, ["GET"]),
    ("/approvals/exceptions", "exceptions", web_pages.exceptions, ["GET"]),
    (f"/approvals/{_REQ}", "request_page", web_pages.request_page, ["GET"]),
    (f"/approvals/{_REQ}/<action>", "act", web_pages.act, ["POST"]),
    ("/approvals/delegations", "delegate", web_pages.delegate, ["POST"]),
    ("/approvals/delegations/<int:delegation_id>/revoke", "revoke", web_pages.revoke, ["POST"]),
]

for _rule, _endpoint, _view, _methods in _RULES:
    bp.add_url_rule(_rule, _endpoint, _view, methods=_methods)


@bp.before_request
def _guard() -> Any:
    """Every endpoint needs an actor: 401 JSON under /api, the login page elsewhere."""
    if request.endpoint == "workflow.static" or current_actor() is not None:
        return None
    if request.path.startswith("/api/"):
        return error_response(401, headers={"WWW-Authenticate": 'Bearer realm="ruleform"'})
    return redirect(login_url(request.full_path.rstrip("?")) or "/login")


bp.register_error_handler(web_api.ApiError, web_api.api_error)
bp.register_error_handler(web_api.VersionConflict, web_api.version_conflict)


def init_app(app: Flask) -> None:
    """Register the blueprint and the template helpers ``transition_panel`` and ``wf_t``."""
    app.register_blueprint(bp)
    add_link(app, NavLink("/approvals", "page.approvals", start_page="inbox"))
    app.jinja_env.globals["transition_panel"] = transition_panel
    app.jinja_env.globals["wf_t"] = ui_text
