"""Logging in, for every test that drives pages: one helper instead of a copy per file.

``login(client, "sales1")`` posts the real login form (with its CSRF token when the app
checks CSRF) and returns the response; ``sign_in(client, "sales1")`` and
``logged_in_client(app, "sales1")`` return a client with a session and fail the test if the
login was refused; ``logged_in(client)``
tells whether the client's session is a logged-in one. Every demo user's password is
``demo`` (``ruleform/demo/organisation.py``).
"""

from __future__ import annotations

import re
from typing import Any

from ruleform.demo.organisation import DEMO_PASSWORD

__all__ = ["login", "sign_in", "logged_in_client", "logged_in", "DEMO_PASSWORD"]

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def login(client: Any, username: str = "sales1", password: str = DEMO_PASSWORD,
          address: str | None = None, **kw: Any) -> Any:  # fmt: skip
    """Post the login form as ``username`` (from ``address``: sessions are bound to it)."""
    if address is not None:
        kw["environ_base"] = {"REMOTE_ADDR": address}
    data = {"username": username, "password": password}
    if client.application.config.get("WTF_CSRF_ENABLED", True):
        page = client.get("/login", **kw).get_data(as_text=True)
        found = _CSRF.search(page)
        if found:
            data["csrf_token"] = found.group(1)
    return client.post("/login", data=data, **kw)


def sign_in(client: Any, username: str, password: str = DEMO_PASSWORD) -> Any:
    """Log ``client`` in as ``username``; the test fails if the login is refused."""
    response = login(client, username, password)
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:300]
    return client


def logged_in_client(app: Any, username: str) -> Any:
    """A new test client logged in as ``username``."""
    return sign_in(app.test_client(), username)


def logged_in(client: Any) -> bool:
    """Whether the client's session is a logged-in one (an own-account page answers)."""
    return client.get("/account/password").status_code == 200
