"""Home, lists and the language switch.

- ``/``: the start page of the actor's role (R30: ``role.start_page`` when it is an entity
  they may read), else a dashboard of the entities they may read.
- ``/<entity>``: one page of a list view — columns, filters, search, sortable headers,
  keyset pagination and a capped count — all through ``run_list``.
- ``POST /lang``: remember the chosen language (cookie; and the user's preference).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, make_response, redirect, request, url_for

from ...errors import FieldErrors
from ...metadata.field_types import value_type_of
from ...metadata.model import Entity
from ...platform.i18n import LANG_COOKIE, LANG_COOKIE_MAX_AGE, label, remember_locale
from ...platform.messages import SUPPORTED_LOCALES
from ...platform.navigation import start_page
from ...platform.records import ListPage, run_list
from ...platform.web import current_actor, current_runtime, reading
from .common import count_cap, entity_of, locale, may, render
from .formatting import Shown, column_label, present_column
from .listing import Listing, parse_listing, sortable
from .lookups import Lookups
from .security import safe_next

__all__ = ["home", "list_records", "set_language"]


def home() -> Any:
    """The role's start page, or the dashboard."""
    actor = current_actor()
    runtime = current_runtime()
    visible = runtime.policy.visible_entities(actor)
    names = {e.name for e in visible}
    for role in runtime.rulebook.roles.values():
        if role.name not in actor.roles or not role.start_page:
            continue
        if role.start_page in names:
            return redirect(url_for("pages.list_records", entity=role.start_page))
        page = start_page(current_app, role.start_page)
        if page is not None:
            return redirect(page)
    cards = [_card(runtime, actor, e) for e in visible]
    return render("pages/home.html", cards=cards)


def _card(runtime: Any, actor: Any, entity: Entity) -> dict[str, Any]:
    return {
        "name": entity.name,
        "label": label(entity.plural, "") or label(entity.label, entity.name),
        "views": [
            (v.name, label(v.label, v.name))
            for v in runtime.policy.usable_views(actor, entity).values()
        ],  # fmt: skip
        "can_create": runtime.policy.can(actor, entity, "create"),
    }


@dataclass
class Column:
    name: str
    label: str
    sort_href: str | None
    sorted: str | None  # "ascending" | "descending" | None
    numeric: bool = False


@dataclass
class Row:
    id: int
    cells: list[Shown]


def list_records(entity: str) -> Any:
    """One page of a list view of ``entity``."""
    with reading() as service:
        ent = entity_of(service, entity)
        listing = parse_listing(service, ent, request.args, locale())
        errors: dict[str, list[str]] = {}
        try:
            page = run_list(service, ent, listing.query(), count_cap=count_cap())
        except FieldErrors as exc:
            errors, page = exc.errors, ListPage([], [])
        readable = service.policy.readable_fields(service.actor, ent)
        shown = _shown_columns(ent, listing, page, readable)
        service.audit_list(
            ent,
            [r["id"] for r in page.rows],
            [c for c in shown if c not in page.masked],
            page.hidden,
        )  # R40
        lookups = Lookups(service, locale())
        lookups.prefetch(ent, page.rows, shown)
        rows = [Row(r["id"], [present_column(ent, c, r.get(c), lookups, c in page.masked)
                              for c in shown]) for r in page.rows]  # fmt: skip
        columns = [_column(ent, c, listing, readable) for c in shown]
        return render("pages/list.html", 422 if errors else 200, entity=ent, listing=listing,
                      page=page, rows=rows, columns=columns, errors=errors,
                      views=list(service.policy.usable_views(service.actor, ent).values()),
                      can_create=may(service, ent, "create"), cap=count_cap(),
                      can_export=may(service, ent, "export"),
                      can_transfer=ent.owner and service.policy.may_assign_owner(
                          service.actor, ent, "update"))  # fmt: skip


def _shown_columns(entity: Entity, listing: Listing, page: ListPage,
                   readable: frozenset[str]) -> list[str]:  # fmt: skip
    wanted = list(listing.view.columns) if listing.view else []
    if not wanted:
        wanted = [entity.title_field] + (["status"] if entity.statuses else []) + ["updated_at"]
    return [c for c in wanted if c in readable]


def _column(entity: Entity, name: str, listing: Listing, readable: frozenset[str]) -> Column:
    f = entity.fields.get(name)
    numeric = f is not None and value_type_of(f).numeric
    if not sortable(entity, name, readable):
        return Column(name, column_label(entity, name), None, None, numeric)
    current = listing.sort or (listing.view.sort[0] if listing.view and listing.view.sort else None)
    state = None
    if current is not None and current.field == name:
        state = "descending" if current.descending else "ascending"
    flip = "" if state == "descending" else "-" if state == "ascending" else ""
    href = url_for("pages.list_records", entity=entity.name,
                   **listing.params(sort=f"{flip}{name}", cursor=None))  # fmt: skip
    return Column(name, column_label(entity, name), href, state, numeric)


def set_language() -> Any:
    """Remember the chosen language and go back where the user was."""
    choice = request.form.get("lang", "")
    target = safe_next(request.form.get("next"), url_for("pages.home"))
    response = make_response(redirect(target, 303))
    if choice in SUPPORTED_LOCALES:
        secure = bool(current_app.config.get("SESSION_COOKIE_SECURE")) and request.is_secure
        response.set_cookie(LANG_COOKIE, choice, max_age=LANG_COOKIE_MAX_AGE, httponly=True,
                            samesite="Lax", secure=secure)  # fmt: skip
        remember_locale(current_actor(), choice)
    return response
