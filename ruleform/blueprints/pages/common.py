"""Small helpers the page views share: the entity of the URL, per-record permission checks
asked through the policy, and rendering with the request's entity for error pages."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app, g, render_template

from ...errors import PermissionDenied
from ...metadata.model import Entity
from ...platform.i18n import current_locale
from ...platform.records import ListQuery, RecordService, run_list

__all__ = ["entity_of", "may", "require", "render", "count_cap", "locale"]


def locale() -> str:
    return current_locale()


def entity_of(service: RecordService, name: str) -> Entity:
    """The entity of the URL if the actor may read it; NotFound (404) otherwise."""
    entity = service.entity(name)
    g.rf_entity = entity  # error pages show field labels instead of names
    return entity


def may(service: RecordService, entity: Entity, action: str, record_id: int | None = None) -> bool:
    """May the actor ``action`` on ``entity`` — and on this record, if given?

    The record check asks the policy's row clause for ``action`` through ``run_list``, so it
    is exactly the scope the service will enforce when the user submits.
    """
    policy, actor = service.policy, service.actor
    if not policy.can(actor, entity, action):
        return False
    if record_id is None:
        return True
    table = service.rt.table(entity)
    clause = sa.and_(table.c.id == record_id,
                     policy.row_clause(actor, entity, service.rt.tables, action))  # fmt: skip
    query = ListQuery(
        default_view=False, columns=["id"], page_size=1, count=False, extra_clause=clause
    )
    return bool(run_list(service, entity, query).rows)


def require(service: RecordService, entity: Entity, action: str,
            record_id: int | None = None) -> None:  # fmt: skip
    if not may(service, entity, action, record_id):
        raise PermissionDenied(action)


def count_cap() -> int:
    return int(current_app.config.get("LIST_COUNT_CAP", 10_000))


def render(template: str, status_code: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(template, **context), status_code
