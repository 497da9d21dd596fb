"""Browser-facing safety: security headers, the CSRF check of page POSTs, safe redirects and
which stored URLs may become links.

Pages run no inline script and load nothing from other origins, so the Content Security
Policy can be strict: everything from ``'self'``, no ``unsafe-inline``, no framing.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request
from flask_wtf.csrf import CSRFError, ValidationError, generate_csrf, validate_csrf

__all__ = ["install_headers", "check_csrf", "safe_next", "linkable_url", "CSP",
           "install_csrf_helpers"]  # fmt: skip

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
       "base-uri 'none'; object-src 'none'")  # fmt: skip

_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}

LINK_SCHEMES = frozenset({"http", "https", "mailto"})


def _add_headers(response: Response) -> Response:
    """Security headers on every page response (the API keeps its own)."""
    if request.path.startswith("/api/"):
        return response
    for key, value in _HEADERS.items():
        response.headers.setdefault(key, value)
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CSP)
    return response


def install_headers(app: Flask) -> None:
    app.after_request(_add_headers)


def install_csrf_helpers(app: Flask) -> None:
    """``csrf_token()`` in templates (Flask-WTF's CSRFProtect adds the same when installed)."""
    app.jinja_env.globals.setdefault("csrf_token", generate_csrf)


def check_csrf() -> None:
    """Refuse a page POST without a valid CSRF token (form field or ``X-CSRFToken``)."""
    if request.method != "POST" or not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    token = request.form.get("csrf_token") or request.headers.get("X-CSRFToken")
    try:
        validate_csrf(token)
    except ValidationError as exc:
        raise CSRFError(str(exc)) from None  # one handler for every CSRF failure (a 400)


def safe_next(target: Any, default: str = "/") -> str:
    """A same-site path to go back to; anything else (other hosts, ``//x``, schemes) → default."""
    if not isinstance(target, str) or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return default
    parts = urlsplit(target)
    return default if parts.scheme or parts.netloc else target


def linkable_url(value: Any) -> str | None:
    """``value`` if it may be rendered as a link (http, https or mailto), else None."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if any(ord(ch) < 33 for ch in text) or '"' in text or "<" in text or ">" in text:
        return None
    try:
        scheme = urlsplit(text).scheme.lower()
    except ValueError:
        return None
    return text if scheme in LINK_SCHEMES else None
