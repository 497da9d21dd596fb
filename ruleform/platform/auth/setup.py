"""``init_app``: Flask-Login, CSRF, the authentication hook, the pages and the token API."""

from __future__ import annotations

from typing import Any

from flask import Flask, redirect, request, url_for
from flask_login import LoginManager
from flask_wtf.csrf import CSRFError

from ..http_errors import error_response
from ..navigation import NavLink, add_link
from ..web import current_actor
from . import (
    admin,
    admin_departments,  # noqa: F401  its routes join the admin blueprint on import
    api,
    views,
)
from .forms import say
from .request_auth import authenticate, csrf, is_api_request, load_session_user

__all__ = ["init_app"]


def _unauthorized() -> Any:
    if is_api_request():
        return error_response(401, headers={"WWW-Authenticate": 'Bearer realm="ruleform"'})
    here = request.full_path if request.query_string else request.path
    return redirect(url_for("auth.login", next=here))


def _csrf_failed(exc: CSRFError) -> Any:
    return error_response(400, say("csrf_failed"), code="csrf_failed")


def init_app(app: Flask) -> None:
    """Sessions (Flask-Login, strong protection), bearer tokens for ``/api``, CSRF, and
    the ``auth``, ``accounts_admin`` and ``auth_api`` blueprints."""
    manager = LoginManager()
    manager.session_protection = "strong"
    manager.login_view = "auth.login"
    manager.user_loader(load_session_user)
    manager.unauthorized_handler(_unauthorized)
    manager.init_app(app)

    # Our hook decides when CSRF is checked (not for bearer tokens); see request_auth.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)
    app.before_request(authenticate)
    app.register_error_handler(CSRFError, _csrf_failed)

    app.register_blueprint(views.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(api.bp)
    add_link(app, NavLink("/admin/users", "page.admin_users", "admin"))
    app.jinja_env.globals.setdefault("current_actor", current_actor)
