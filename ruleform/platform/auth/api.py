"""``/api/v1/tokens``: get a token with a username and password, list and revoke tokens.

``POST /api/v1/tokens`` is public (it is how a script authenticates first) and
rate-limited like the login page; it sets no cookie, so it needs no CSRF token.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from ..database import read_connection, transaction
from ..http_errors import error_response
from ..runtime import utcnow
from ..web import current_actor
from .forms import say
from .guards import public_api
from .login import attempt_login
from .request_auth import client_address
from .tokens import create_token, get_token, list_tokens, revoke_token
from .views import login_limit

__all__ = ["bp", "MAX_EXPIRY_DAYS"]

bp = Blueprint("auth_api", __name__, url_prefix="/api/v1")

MAX_EXPIRY_DAYS = 3650


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _token_request() -> tuple[dict[str, Any], dict[str, list[str]]]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return {}, {"_body": [say("json_required")]}
    errors: dict[str, list[str]] = {}
    for key in ("username", "password"):
        if not isinstance(body.get(key), str) or not body[key]:
            errors[key] = [say("required")]
    if body.get("name") is not None and not isinstance(body["name"], str):
        errors["name"] = [say("not_text")]
    days = body.get("expires_in_days")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int)
                             or not 1 <= days <= MAX_EXPIRY_DAYS):  # fmt: skip
        errors["expires_in_days"] = [say("expiry_days_range", max=MAX_EXPIRY_DAYS)]
    return body, errors


@bp.post("/tokens")
@public_api
def create() -> Any:
    """Exchange a username and password for a token: 201 ``{token, id, name, expires_at}``."""
    body, errors = _token_request()
    if "_body" in errors:
        return error_response(400, errors["_body"][0])
    if errors:
        return error_response(422, say("fix_fields"), errors)
    result = attempt_login(current_app.extensions["ruleform"].engine, body["username"],
                           body["password"], client_address(), login_limit())  # fmt: skip
    if result.outcome == "throttled":
        wait = str(result.retry_after)
        return error_response(429, say("login_throttled", seconds=wait), code="login_throttled",
                              headers={"Retry-After": wait})  # fmt: skip
    if not result.ok or result.user is None:
        code = "account_inactive" if result.outcome == "inactive" else "login_failed"
        return error_response(401, say(code), code=code)
    days = body.get("expires_in_days")
    expires_at = utcnow() + timedelta(days=days) if days else None
    with transaction() as conn:
        new = create_token(conn, result.user["id"], body.get("name") or "", expires_at)
    return jsonify(token=new.token, id=new.id, name=new.name,
                   expires_at=_iso(new.expires_at)), 201  # fmt: skip


@bp.get("/tokens")
def index() -> Any:
    """The caller's tokens that still work (never their secrets)."""
    actor = current_actor()
    assert actor is not None
    with read_connection() as conn:
        rows = list_tokens(conn, actor.user_id)
    now = utcnow()
    items = [{"id": r["id"], "name": r["name"], "created_at": _iso(r["created_at"]),
              "last_used_at": _iso(r["last_used_at"]), "expires_at": _iso(r["expires_at"])}
             for r in rows if r["expires_at"] is None or r["expires_at"] > now]  # fmt: skip
    return jsonify(items=items)


@bp.delete("/tokens/<int:token_id>")
def revoke(token_id: int) -> Any:
    """Revoke one of one's own tokens (administrators: anyone's): 204."""
    actor = current_actor()
    assert actor is not None
    with transaction() as conn:
        token = get_token(conn, token_id)
        if token is None or (token["user_id"] != actor.user_id and not actor.is_admin):
            return error_response(404)
        revoke_token(conn, token_id)
    return "", 204
