"""Navigation links: each feature registers the pages it adds to the frame.

``add_link(app, NavLink("/approvals", "page.approvals"))`` in a feature's ``init_app``
puts its page in the work links above the entities (every signed-in user);
``area="admin"`` puts it in the administrators' menu. The page frame
(``blueprints/pages/chrome.py``) lists the links of its app in registration order, which
is the order of the wiring list (``ruleform/wiring.py``). ``start_page`` names a role's
``start_page`` value (R30) that means this page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from flask import Flask

__all__ = ["NavLink", "add_link", "links", "start_page"]

Area = Literal["work", "admin"]


@dataclass(frozen=True)
class NavLink:
    """A page in the frame: its path, the message code of its label, and where it goes."""

    path: str
    message: str
    area: Area = "work"
    start_page: str | None = None


def _registry(app: Flask) -> list[NavLink]:
    return app.extensions.setdefault("ruleform_navigation", [])


def add_link(app: Flask, link: NavLink) -> None:
    """Add ``link`` to ``app``'s frame (once per path and area)."""
    registry = _registry(app)
    if not any(x.path == link.path and x.area == link.area for x in registry):
        registry.append(link)


def links(app: Flask, area: Area) -> list[NavLink]:
    """The links of ``area``, in registration order."""
    return [link for link in _registry(app) if link.area == area]


def start_page(app: Flask, name: str) -> str | None:
    """The path a role's ``start_page: <name>`` means, if a feature registered one."""
    return next((x.path for x in _registry(app) if x.start_page == name), None)
