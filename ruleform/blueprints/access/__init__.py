"""Permission pages: export downloads, bulk transfer, the read audit and "why".

    GET        /<entity>/export?format=csv|xlsx&…list params…   download (export right)
    GET, POST  /<entity>/transfer                               bulk transfer (managers)
    GET        /admin/read-audit                                the read audit (admins)
    GET        /admin/why?user=&entity=&record=&field=          why may U see this? (admins)

Views translate HTTP; the record services decide (``records.exports``, ``records.transfer``,
``records.read_audit``, ``Policy.explain``). Every POST carries a CSRF token.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, redirect, request

from ...platform.navigation import NavLink, add_link
from ...platform.web import current_actor
from ..pages.chrome import login_url
from ..pages.security import check_csrf
from . import views

__all__ = ["bp", "init_app"]

bp = Blueprint("access", __name__, template_folder="templates")


@bp.before_request
def _guard() -> Any:
    check_csrf()
    if current_actor() is not None:
        return None
    target = login_url(request.full_path.rstrip("?"))
    if target is not None:
        return redirect(target)
    abort(401)


bp.add_url_rule("/<entity>/export", "export", views.export, methods=["GET"])
bp.add_url_rule("/<entity>/transfer", "transfer", views.transfer, methods=["GET", "POST"])
bp.add_url_rule("/admin/read-audit", "read_audit", views.read_audit, methods=["GET"])
bp.add_url_rule("/admin/why", "why", views.why, methods=["GET"])


def init_app(app: Flask) -> None:
    """The access pages, and their links in the administrators' menu."""
    app.register_blueprint(bp)
    add_link(app, NavLink("/admin/read-audit", "access.read_audit", "admin"))
    add_link(app, NavLink("/admin/why", "access.why", "admin"))
