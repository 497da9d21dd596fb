"""Errors as users see them: JSON with one stable shape under ``/api``, pages elsewhere.

API shape: ``{"code": "validation_failed", "status": 422, "message": "...",
"errors": {"field": ["..."]}}``. No stack trace ever reaches a user; a database outage
is 503 with ``Retry-After`` and recovers by itself when the database returns.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from ..errors import FieldErrors, NotFound, PermissionDenied, TransitionNotAllowed, VersionConflict
from .database import is_unavailable
from .i18n import current_locale
from .messages import message

__all__ = ["init_app", "error_response", "wants_json"]

log = logging.getLogger("ruleform.errors")

_CODES = {400: "malformed", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 409: "version_conflict", 413: "too_large_request",
          415: "malformed", 422: "validation_failed", 429: "rate_limited", 503: "unavailable"}  # fmt: skip
_MESSAGE_KEYS = {400: "malformed", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                 409: "version_conflict", 413: "too_large_request", 503: "unavailable"}  # fmt: skip


def wants_json() -> bool:
    """API requests (and clients that ask for JSON) get JSON errors."""
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _locale() -> str:
    try:
        return current_locale()
    except Exception:  # no app context details available (e.g. database down)
        return request.accept_languages.best_match(["zh-CN", "zh", "en"]) or "zh-CN"


def error_response(status: int, text: str | None = None, errors: dict[str, list[str]] | None = None,
                   code: str | None = None, headers: dict[str, str] | None = None) -> Any:  # fmt: skip
    """The error response for this request, JSON or page."""
    locale = _locale()
    text = text or message(_MESSAGE_KEYS.get(status, "malformed"), locale, detail="")
    if wants_json():
        body = {"code": code or _CODES.get(status, "error"), "status": status, "message": text,
                "errors": errors or {}}  # fmt: skip
        response = jsonify(body)
    else:
        try:
            response = Response(render_template("error.html", status=status, message=text,
                                                errors=errors or {}), mimetype="text/html")  # fmt: skip
        except Exception:  # templates not available: plain text, still no stack trace
            response = Response(text, mimetype="text/plain")
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def init_app(app: Flask) -> None:
    """Register the error handlers."""

    @app.errorhandler(FieldErrors)
    def _field_errors(exc: FieldErrors) -> Any:
        return error_response(422, _summary(exc), errors=exc.errors)

    @app.errorhandler(NotFound)
    def _not_found(exc: NotFound) -> Any:
        return error_response(404)

    @app.errorhandler(PermissionDenied)
    def _denied(exc: PermissionDenied) -> Any:
        return error_response(403)

    @app.errorhandler(VersionConflict)
    def _conflict(exc: VersionConflict) -> Any:
        return error_response(409, str(exc))

    @app.errorhandler(TransitionNotAllowed)
    def _transition(exc: TransitionNotAllowed) -> Any:
        return error_response(
            409, str(exc), {"_transition": exc.reasons}, code="transition_not_allowed"
        )

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        status = exc.code or 500
        headers = {"Retry-After": "5"} if status == 503 else None
        if status in _MESSAGE_KEYS:
            return error_response(status, headers=headers)
        return error_response(status, exc.description, headers=headers)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        if is_unavailable(exc):
            log.warning("database unavailable: %s", exc)
            return error_response(503, headers={"Retry-After": "5"})
        log.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(
            500, "Internal error; it has been logged. 内部错误，已记录。", code="internal_error"
        )


def _summary(exc: FieldErrors) -> str:
    locale = _locale()
    count = sum(len(v) for v in exc.errors.values())
    if locale.startswith("zh"):
        return f"有 {count} 处需要修改。"
    return f"{count} problem(s) need fixing."
