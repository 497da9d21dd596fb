"""Decorators for views, and the one rule for where a login may send people next."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import current_app

from ...errors import PermissionDenied
from ..web import current_actor

__all__ = ["login_required", "admin_required", "public_api", "safe_next"]

F = TypeVar("F", bound=Callable[..., Any])


def login_required(view: F) -> F:
    """Anonymous visitors go to the login page (401 JSON under ``/api``)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_actor() is None:
            return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def admin_required(view: F) -> F:
    """Administrators only (``Actor.is_admin``); anyone else logged in gets 403."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        actor = current_actor()
        if actor is None:
            return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
        if not actor.is_admin:
            raise PermissionDenied("administrators only")
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def public_api(view: F) -> F:
    """An ``/api`` endpoint that answers without authentication (e.g. getting a token)."""
    view.rf_public = True  # type: ignore[attr-defined]
    return view


def safe_next(target: str | None, default: str = "/") -> str:
    """``target`` if it is a path on this site (``/customers?x=1``), else ``default``.

    Refused: absolute URLs, scheme-relative ``//host``, backslashes (browsers read
    ``/\\host`` as ``//host``), control characters and anything not starting with ``/``.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
