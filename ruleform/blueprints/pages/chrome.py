"""What every page's frame needs: the rulebook's name, the entity navigation, the user
menu (language, logout, admin links) — computed lazily, and safe on error pages.

The work links and the administrators' menu are the links features registered
(``platform.navigation``); ``/login`` and ``/logout`` are found in the URL map, so the frame
shows them only once authentication is installed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from flask import current_app, g, request, url_for

from ...platform.i18n import current_locale, label
from ...platform.navigation import links
from ...platform.web import current_actor, current_runtime
from .formatting import column_label

__all__ = ["Chrome", "path_exists", "login_url"]


def path_exists(path: str, method: str = "GET") -> bool:
    """Does some view answer ``path`` (a fixed path such as ``/logout``)?"""
    adapter = current_app.url_map.bind("localhost")
    try:
        endpoint, _ = adapter.match(path, method=method)
    except Exception:
        return False
    return not str(endpoint).startswith("pages.")


def login_url(next_path: str | None = None) -> str | None:
    if not path_exists("/login"):
        return None
    return "/login" + (f"?next={_quote(next_path)}" if next_path else "")


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="/")


@dataclass
class NavItem:
    name: str
    label: str
    href: str
    active: bool


class Chrome:
    """The frame of one page, computed on first use."""

    @cached_property
    def actor(self) -> Any:
        return current_actor()

    @cached_property
    def rulebook_label(self) -> str:
        rulebook = current_runtime().rulebook
        return label(rulebook.label, rulebook.name)

    @cached_property
    def nav(self) -> list[NavItem]:
        if self.actor is None:
            return []
        runtime = current_runtime()
        current = (request.view_args or {}).get("entity") if request else None
        items = []
        for entity in runtime.policy.visible_entities(self.actor):
            text = label(entity.plural, "") or label(entity.label, entity.name)
            href = url_for("pages.list_records", entity=entity.name)
            items.append(NavItem(entity.name, text, href, entity.name == current))
        return items

    @cached_property
    def work_links(self) -> list[NavItem]:
        if self.actor is None:
            return []
        here = request.path if request else ""
        return [NavItem(link.path, link.message, link.path,
                        here == link.path or here.startswith(link.path + "/"))
                for link in links(current_app, "work")]  # fmt: skip

    @cached_property
    def admin_links(self) -> list[tuple[str, str]]:
        if self.actor is None or not self.actor.is_admin:
            return []
        return [(link.path, link.message) for link in links(current_app, "admin")]

    @cached_property
    def logout_url(self) -> str | None:
        return "/logout" if path_exists("/logout", "POST") else None

    @cached_property
    def login_url(self) -> str | None:
        return login_url()

    def field_label(self, name: str) -> str:
        """A field's label when the page is about an entity (error pages); else ``""``."""
        entity = g.get("rf_entity")
        if entity is None or name.startswith("_"):
            return ""

        return column_label(entity, name)

    @property
    def locale(self) -> str:
        return current_locale()

    @property
    def here(self) -> str:
        return request.full_path.rstrip("?") if request else "/"


def chrome_context() -> dict[str, Any]:
    """The ``chrome`` template variable (one per request)."""
    if "rf_chrome" not in g:
        g.rf_chrome = Chrome()
    return {"chrome": g.rf_chrome}
