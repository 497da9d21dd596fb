"""Who sends this request: the ``before_request`` that sets ``g.rf_actor``.

- ``/api/…`` with ``Authorization: Bearer rf_…``: the token's user; the session cookie is
  not consulted, and the request is exempt from CSRF (a browser cannot attach the header
  cross-site). A bad token is 401, even with a valid session cookie beside it.
- Otherwise the Flask-Login session: the user must be active and the session's
  ``session_epoch`` equal to the user's (a password change or a deactivation raises the
  epoch, so older sessions end on their next request).
- CSRF (Flask-WTF) is then checked on POST, PUT, PATCH and DELETE of every page request
  and of API requests authenticated by the session cookie. Anonymous API requests are not
  checked: they carry no ambient authority (they are refused, or reach a public endpoint
  such as ``POST /api/v1/tokens`` that sets no cookie).
- ``/api/…`` without a valid identity is 401 JSON, except endpoints marked ``public_api``.

``g.rf_auth_method`` is ``"session"``, ``"token"`` or None; ``g.rf_token_id`` is set for
tokens. One connection, two SELECTs (plus a ``last_used_at`` UPDATE at most once a minute
per token).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g, request, session
from flask_login import AnonymousUserMixin, UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFProtect

from ..actors import Actor
from ..database import read_connection
from ..http_errors import error_response
from ..runtime import utcnow
from ..web import current_runtime
from .identity import admin_roles, load_token_actor, load_user_actor
from .tokens import needs_touch, touch_token

__all__ = ["SessionUser", "SESSION_EPOCH", "csrf", "authenticate", "load_session_user",
           "start_session", "end_session", "is_api_request", "client_address",
           "request_admin_roles"]  # fmt: skip

#: The session key holding the user's session epoch at login.
SESSION_EPOCH = "session_epoch"

#: Flask-WTF's CSRF extension; ``authenticate`` decides when it checks (see above).
csrf = CSRFProtect()


class SessionUser(UserMixin):
    """What Flask-Login knows of the logged-in user: their ``Actor``."""

    def __init__(self, actor: Actor):
        self.actor = actor
        self.id = actor.user_id

    def get_id(self) -> str:
        return str(self.actor.user_id)


def is_api_request() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def client_address() -> str:
    """The client's address (behind a proxy, configure ``ProxyFix`` so this is right)."""
    return (request.remote_addr or "")[:64]


def request_admin_roles() -> frozenset[str]:
    """Roles the active rulebook declares ``admin: true`` (computed once per version)."""
    runtime = current_runtime()
    return runtime.cached(("auth", "admin_roles"), lambda: admin_roles(runtime.rulebook))


def load_session_user(user_id: str) -> SessionUser | None:
    """Flask-Login's user loader: the active user whose session epoch is still current."""
    try:
        uid = int(user_id)
    except (TypeError, ValueError):
        return None
    with read_connection() as conn:
        actor = load_user_actor(conn, uid, request_admin_roles())
    if actor is None or session.get(SESSION_EPOCH) != actor.session_epoch:
        return None
    return SessionUser(actor)


def start_session(user_id: int) -> Actor | None:
    """Log ``user_id`` in on a fresh session (nothing from before login survives)."""
    with read_connection() as conn:
        actor = load_user_actor(conn, user_id, request_admin_roles())
    if actor is None:
        return None
    session.clear()
    login_user(SessionUser(actor))
    session[SESSION_EPOCH] = actor.session_epoch
    g.rf_actor, g.rf_auth_method = actor, "session"
    return actor


def end_session() -> None:
    logout_user()
    session.clear()
    g.pop("rf_actor", None)
    g.rf_auth_method = None


def _bearer_token() -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def _authenticate_token(token: str) -> None:
    g.rf_bearer = True
    now = utcnow()
    with current_app.extensions["ruleform"].engine.connect() as conn:
        conn.info["write"] = False
        try:
            with conn.begin():
                found = load_token_actor(conn, token, now, request_admin_roles())
        finally:
            conn.info["write"] = True
        if found is not None and needs_touch(found.last_used_at, now):
            with conn.begin():
                touch_token(conn, found.token_id, found.last_used_at, now)
    if found is None:
        g._login_user = AnonymousUserMixin()
        return
    g._login_user = SessionUser(found.actor)
    g.rf_actor, g.rf_auth_method, g.rf_token_id = found.actor, "token", found.token_id


def _authenticate_session() -> None:
    user = current_user._get_current_object()  # runs load_session_user when logged in
    if user.is_authenticated:
        g.rf_actor, g.rf_auth_method = user.actor, "session"
    elif "_user_id" in session:  # deactivated, password changed or epoch raised
        logout_user()
        session.pop(SESSION_EPOCH, None)


def _check_csrf() -> None:
    if not current_app.config.get("WTF_CSRF_ENABLED", True) or g.get("rf_bearer"):
        return
    if is_api_request() and g.rf_auth_method != "session":
        return
    csrf.protect(apply_exemptions=True)


def _is_static() -> bool:
    """Static files (``static``, ``<blueprint>.static``): no user needed, no query spent."""
    endpoint = request.endpoint or ""
    return endpoint == "static" or endpoint.endswith(".static")


def _is_public() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "rf_public", False))


def authenticate() -> Any:
    """The ``before_request`` hook (see the module docstring)."""
    g.rf_auth_method = None
    if _is_static():
        return None
    token = _bearer_token() if is_api_request() else None
    if token is not None:
        _authenticate_token(token)
    else:
        _authenticate_session()
    _check_csrf()
    if is_api_request() and g.get("rf_actor") is None and not _is_public():
        return error_response(401, headers={"WWW-Authenticate": 'Bearer realm="ruleform"'})
    return None
