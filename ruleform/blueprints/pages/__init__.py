"""Generated pages: server-rendered lists, forms and detail pages for every entity.

One blueprint, URL rules with the entity name as a variable (no per-entity functions):

    GET        /                               home (the role's start page or a dashboard)
    GET        /<entity>                       list view
    GET, POST  /<entity>/new                   create form
    POST       /<entity>/form-state            visible / required / editable as the user types
    GET        /<entity>/<id>                  detail (``?reveal=<field>`` shows a sensitive value)
    GET, POST  /<entity>/<id>/edit             edit form
    POST       /<entity>/<id>/form-state       the same, for an existing record
    POST       /<entity>/<id>/archive          archive
    POST       /lang                           language switch

The blueprint ships ``templates/`` (``base.html`` and ``error.html`` are found by every
blueprint) and ``static/``. Every page POST carries a CSRF token; responses carry a strict
Content-Security-Policy (no inline scripts) and the usual hardening headers.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, abort, redirect, request, url_for

from ...platform.web import current_actor
from . import form_views, record_views, views
from .chrome import chrome_context, login_url
from .security import check_csrf, install_csrf_helpers, install_headers

__all__ = ["init_app", "bp"]

STATIC = Path(__file__).parent / "static"

bp = Blueprint("pages", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/pages")  # fmt: skip

_PUBLIC = frozenset({"pages.set_language", "pages.static"})


@bp.before_request
def _guard() -> Any:
    """CSRF on every POST; a logged-in actor on every page but the language switch."""
    check_csrf()
    if request.endpoint in _PUBLIC or current_actor() is not None:
        return None
    target = login_url(request.full_path.rstrip("?"))
    if target is not None:
        return redirect(target)
    abort(401)


_RULES = [
    ("/", "home", views.home, ["GET"]),
    ("/lang", "set_language", views.set_language, ["POST"]),
    ("/<entity>", "list_records", views.list_records, ["GET"]),
    ("/<entity>/new", "new_record", form_views.new_record, ["GET", "POST"]),
    ("/<entity>/form-state", "form_state", form_views.form_state, ["POST"]),
    ("/<entity>/<int:record_id>", "detail", record_views.detail, ["GET"]),
    ("/<entity>/<int:record_id>/edit", "edit_record", form_views.edit_record, ["GET", "POST"]),
    ("/<entity>/<int:record_id>/form-state", "record_form_state", form_views.form_state,
     ["POST"]),
    ("/<entity>/<int:record_id>/archive", "archive", record_views.archive, ["POST"]),
]  # fmt: skip

for _rule, _endpoint, _view, _methods in _RULES:
    bp.add_url_rule(_rule, _endpoint, _view, methods=_methods)


def _asset_versions() -> dict[str, str]:
    """Content hashes of the static files, for cache-busting URLs."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:10]
            for p in STATIC.iterdir() if p.is_file()}  # fmt: skip


def init_app(app: Flask) -> None:
    """Register the pages blueprint, its template helpers and the security headers."""
    app.register_blueprint(bp)
    install_headers(app)
    install_csrf_helpers(app)
    versions = _asset_versions()

    def asset(name: str) -> str:
        return url_for("pages.static", filename=name, v=versions.get(name, "0"))

    app.jinja_env.globals["asset"] = asset
    app.context_processor(chrome_context)
