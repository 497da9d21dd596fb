"""Rendering a notify payload at delivery time, for one recipient, with plain values only.

The template (per locale, from the payload the time-rule engine wrote) runs in Jinja's
sandbox (``message_templates.render_template``) with five names:

``record``     the record's fields **this recipient may read** — for a user, the policy's
               ``readable_fields`` of their actor on a row their scope reaches (a row they
               cannot see gives only ``id``); for an outside address (a customer), only the
               fields the template names. Sensitive fields are always masked (``****00``):
               a message leaves the audited application.
``recipient``  ``{"name", "locale"}``
``rule``       ``{"name", "label"}``
``entity``     ``{"name", "label"}``
``link``       ``BASE_URL`` + the path (never the request's Host)

Values are strings, numbers, booleans, lists and None; times are shown in the recipient's
time zone. Nothing from the ORM, the runtime or Python reaches a template.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from jinja2 import TemplateError as JinjaError
from jinja2 import nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment
from sqlalchemy.engine import Connection

from ...metadata.message_templates import TemplateError, check_template
from ...metadata.model import Entity, Text
from ...platform.records.values import mask
from .recipients import Recipient
from .settings import DeliverySettings

__all__ = ["Rendered", "RenderError", "Renderer", "template_fields"]

MAX_SUBJECT, MAX_BODY = 500, 20_000
_parser = ImmutableSandboxedEnvironment()
#: The sandbox of ``message_templates.render_template``, with compiled templates kept: a
#: template is checked (``check_template``) and compiled once, then rendered many times.
_sandbox = ImmutableSandboxedEnvironment(autoescape=False)


@functools.lru_cache(maxsize=1024)
def _compiled(source: str) -> Any:
    check_template(source)
    return _sandbox.from_string(source)


def render_checked(source: str, context: dict[str, Any]) -> str:
    """``message_templates.render_template`` with the checked, compiled template cached."""
    return str(_compiled(source).render(**context))


class RenderError(ValueError):
    """The message cannot be rendered (a broken template, a vanished record): permanent."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    link: str
    locale: str


@functools.lru_cache(maxsize=1024)
def template_fields(sources: tuple[str, ...]) -> frozenset[str]:
    """The ``record`` fields the templates name (``record.x``, ``record['x']``)."""
    names: set[str] = set()
    for source in sources:
        tree = _parser.parse(source)
        for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
            if isinstance(node.node, nodes.Name) and node.node.name == "record":
                if isinstance(node, nodes.Getattr):
                    names.add(node.attr)
                elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
                    names.add(node.arg.value)
    return frozenset(names)


def _plain(value: Any, tz: ZoneInfo) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v, tz) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v, tz) for k, v in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _safe_path(path: Any) -> str | None:
    if not isinstance(path, str) or not path.startswith("/") or path.startswith("//"):
        return None
    if "\\" in path or any(ord(c) <= 32 or ord(c) == 127 for c in path):
        return None
    return path


class Renderer:
    """Renders outbox rows for one runtime; caches records per batch."""

    def __init__(self, runtime: Any, conn: Connection, settings: DeliverySettings):
        self.rt = runtime
        self.conn = conn
        self.settings = settings
        self._records: dict[tuple[str, int], dict | None] = {}
        self._visible: dict[tuple[str, int, int], bool] = {}
        self._views: dict[tuple, dict[str, Any]] = {}  # the record as one recipient sees it

    def render(self, row: dict[str, Any], recipient: Recipient, now: datetime) -> Rendered:
        payload = row.get("payload") or {}
        message = payload.get("message") or {}
        locale = str(payload.get("locale") or recipient.locale or self.rt.rulebook.default_locale)
        subject_t = Text(dict(message.get("subject") or {})).get(locale)
        body_t = Text(dict(message.get("body") or {})).get(locale)
        customers = recipient.kind != "user" or payload.get("audience") == "customers"
        try:
            context = {
                "record": self._view(row, recipient, (subject_t, body_t), customers, now),
                "recipient": {"name": recipient.name, "locale": locale},
                "rule": self._rule(row, payload, locale),
                "entity": self._entity(row.get("entity"), locale),
                "link": self._link(row, payload, customers),
            }
            subject = render_checked(subject_t, context) if subject_t else ""
            body = render_checked(body_t, context) if body_t else ""
        except (TemplateError, JinjaError, TypeError, ValueError) as exc:
            raise RenderError(f"the message template cannot be rendered: {exc}") from None
        subject = " ".join(subject.split())[:MAX_SUBJECT]
        return Rendered(subject, body[:MAX_BODY], context["link"], locale)

    # --- the pieces of the context ---------------------------------------------------------

    def _view(self, row: dict, recipient: Recipient, sources: tuple[str, ...], customers: bool,
              now: datetime) -> dict[str, Any]:  # fmt: skip
        """``_record``, computed once per record and recipient (and templates, for customers)."""
        key = (row.get("entity"), row.get("record_id"), recipient.key,
               sources if customers else None, recipient.timezone)  # fmt: skip
        if key not in self._views:
            self._views[key] = self._record(row, recipient, sources, customers, now)
        return dict(self._views[key])

    def _record(self, row: dict, recipient: Recipient, sources: tuple[str, ...],
                customers: bool, now: datetime) -> dict[str, Any]:  # fmt: skip
        name, record_id = row.get("entity"), row.get("record_id")
        if not name or record_id is None or name not in self.rt.rulebook.entities:
            return {}
        entity = self.rt.entity(name)
        stored = self._stored(entity, int(record_id))
        if stored is None:
            raise RenderError(f"{name} {record_id} no longer exists")
        if customers:
            allowed = {f for f in template_fields(sources) if f in entity.fields}
        elif recipient.actor is None or not self._can_see(entity, int(record_id), recipient, now):
            return {"id": stored["id"]}
        else:
            allowed = set(
                self.rt.policy.record_readable(
                    self.conn, recipient.actor, entity, self.rt.tables, int(record_id)
                )
            )
        tz = ZoneInfo(recipient.timezone or self.rt.rulebook.timezone)
        values = {}
        for field_name in sorted(allowed):
            if field_name not in stored:
                continue
            value, model = stored[field_name], entity.fields.get(field_name)
            values[field_name] = mask(value) if model is not None and model.sensitive \
                else _plain(value, tz)  # fmt: skip
        return values

    def _stored(self, entity: Entity, record_id: int) -> dict | None:
        key = (entity.name, record_id)
        if key not in self._records:
            table = self.rt.table(entity)
            found = self.conn.execute(sa.select(table).where(table.c.id == record_id)).mappings()
            row = found.first()
            self._records[key] = dict(row) if row else None
        return self._records[key]

    def _can_see(self, entity: Entity, record_id: int, recipient: Recipient, now: datetime) -> bool:
        actor = recipient.actor
        assert actor is not None and recipient.user_id is not None
        key = (entity.name, record_id, recipient.user_id)
        if key not in self._visible:
            if not self.rt.policy.can(actor, entity, "read"):
                self._visible[key] = False
            else:
                table = self.rt.table(entity)
                clause = self.rt.policy.row_clause(actor, entity, self.rt.tables, "read", now)
                query = sa.select(sa.literal(1)).where(table.c.id == record_id, clause)
                self._visible[key] = self.conn.execute(query).first() is not None
        return self._visible[key]

    def _rule(self, row: dict, payload: dict, locale: str) -> dict[str, Any]:
        name = str(payload.get("rule") or row.get("rule") or "")
        label = payload.get("rule_label")
        if isinstance(label, dict):
            return {"name": name, "label": Text(label).get(locale, name)}
        entity = self.rt.rulebook.entities.get(row.get("entity") or "")
        rule = entity.time_rules.get(name) if entity is not None else None
        return {"name": name, "label": rule.label.get(locale, name) if rule else name}

    def _entity(self, name: str | None, locale: str) -> dict[str, Any]:
        entity = self.rt.rulebook.entities.get(name or "")
        if entity is None:
            return {"name": name or "", "label": name or ""}
        return {"name": entity.name, "label": entity.label.get(locale, entity.name)}

    def _link(self, row: dict, payload: dict, customers: bool) -> str:
        path = _safe_path(payload.get("path"))
        if path is None and not customers and row.get("entity") and row.get("record_id"):
            path = f"/{row['entity']}/{int(row['record_id'])}"
        if path is None:
            path = "/" if not customers else ""
        return self.settings.base_url + path if path else ""
