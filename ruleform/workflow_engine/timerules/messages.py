"""What a firing hands to delivery: the outbox payload (templates, never rendered text), and
the two places this package does render — task titles and dry-run previews.

The payload of a ``notify`` / ``escalate`` / ``task`` / ``webhook`` outbox row::

    {"rule": "stale_customer", "rule_key": "customer.stale_customer",
     "rule_label": {"zh-CN": …, "en": …}, "entity": "customer", "record_id": 42,
     "occurrence": "stale-since:2026-01-02T01:00:00Z", "action": "notify", "level": null,
     "recipient": {"user_id": 7} | {"address": "+8613…", "field": "buyer_mobile"}
                  | {"target": "wecom"},
     "locale": "zh-CN", "message": {"subject": {locale: template}, "body": {…}},
     "audience": "internal" | "customers", "path": "/customer/42",
     "due_at": "…Z", "fired_at": "…Z", "mode": "active" | "canary",
     "task_id": 5, "task_due_at": "…Z"}          # task only

Delivery renders ``message`` in Jinja's sandbox at delivery time with only the fields the
recipient may read (``delivery/render.py``). A rule that declares no message gets a short
default naming the rule (and the level, for escalations).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ...metadata.message_templates import render_template
from ...metadata.model import Action, Text, TimeRule
from ...platform.actors import Actor
from ...platform.records.values import mask
from .occurrences import Due, iso
from .plan import Item
from .recipients import Directory, Target

__all__ = ["payload_for", "message_texts", "task_title", "render_preview"]

_DEFAULT_SUBJECT = {"zh-CN": "{{ rule.label }}", "en": "{{ rule.label }}"}
_DEFAULT_BODY = {
    "zh-CN": "「{{ rule.label }}」已触发：{{ entity.label }} #{{ record.id }} {{ link }}",
    "en": "“{{ rule.label }}” fired for {{ entity.label }} #{{ record.id }} {{ link }}",
}
_ESCALATION = {"zh-CN": "升级（第{n}级）：", "en": "Escalation (level {n}): "}


def message_texts(action: Action, due: Due) -> dict[str, dict[str, str]]:
    """The subject and body templates per locale (a default when the rule has none)."""
    subject = dict(action.message.subject.translations) or dict(_DEFAULT_SUBJECT)
    body = dict(action.message.body.translations) or dict(_DEFAULT_BODY)
    if action.kind == "escalate" and due.step:
        prefix = {k: v.format(n=due.step) for k, v in _ESCALATION.items()}
        subject = {k: _prefix(prefix, k) + v for k, v in subject.items()}
    return {"subject": subject, "body": body}


def _prefix(prefixes: Mapping[str, str], locale: str) -> str:
    return prefixes.get(locale) or prefixes.get(locale.split("-")[0]) or prefixes["en"]


def recipient_spec(item: Item) -> dict[str, Any]:
    if item.kind == "webhook":
        return {"target": item.action.target}
    target = item.target
    assert target is not None
    if target.kind == "user":
        return {"user_id": target.user_id}
    return {"address": target.address, "field": target.field}


def payload_for(rule: TimeRule, key: str, due: Due, item: Item, *, locale: str, mode: str,
                now: datetime, record_based: bool) -> dict[str, Any]:  # fmt: skip
    """The outbox payload of one item (see the module docstring)."""
    payload: dict[str, Any] = {
        "rule": rule.name, "rule_key": key, "rule_label": dict(rule.label.translations),
        "entity": rule.entity, "record_id": due.record_id if record_based else None,
        "occurrence": due.occurrence, "action": item.kind, "level": due.step or None,
        "recipient": recipient_spec(item), "locale": locale,
        "message": message_texts(item.action, due), "audience": rule.audience,
        "path": f"/{rule.entity}/{due.record_id}" if record_based else f"/{rule.entity}",
        "due_at": iso(due.due_at), "fired_at": iso(now), "mode": mode,
    }  # fmt: skip
    if due.detail:
        payload["detail"] = {k: v for k, v in due.detail.items() if v is not None}
    return payload


def readable_values(runtime: Any, entity_name: str, stored: Mapping[str, Any] | None,
                    actor: Actor | None, timezone: str,
                    conn: Any = None) -> dict[str, Any]:  # fmt: skip
    """Plain values of the fields ``actor`` may read on this record (sensitive ones masked;
    only ``id`` when the record is outside their read scope — checked when ``conn`` is
    given, as every caller writing for a user does)."""
    if stored is None or entity_name not in runtime.rulebook.entities:
        return {"id": (stored or {}).get("id")}
    entity = runtime.entity(entity_name)
    if actor is None:
        readable = frozenset(n for n, f in entity.fields.items() if not f.sensitive) | {"id"}
    elif conn is not None and stored.get("id") is not None:
        readable = runtime.policy.record_fields(conn, actor, entity, runtime.tables, stored["id"])
    else:
        readable = runtime.policy.readable_fields(actor, entity)
    tz = ZoneInfo(timezone)
    values: dict[str, Any] = {}
    for name in readable:
        if name not in stored:
            continue
        value, model = stored[name], entity.fields.get(name)
        values[name] = mask(value) if model is not None and model.sensitive else _plain(value, tz)
    return values


def _plain(value: Any, tz: ZoneInfo) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v, tz) for v in value]
    return str(value)


def actor_of(directory: Directory, target: Target | None) -> Actor | None:
    if target is None or target.user_id is None:
        return None
    user = directory.users[target.user_id]
    return Actor(user_id=user.id, username=user.username, display_name=user.display_name,
                 roles=directory.roles_of(user.id), department_id=user.department_id,
                 departments=directory.department_subtree(user.department_id),
                 manager_id=user.manager_id, locale=user.locale,
                 is_admin=user.is_admin)  # fmt: skip


def task_title(runtime: Any, rule: TimeRule, item: Item, due: Due, stored: Mapping | None,
               directory: Directory, base_url: str, conn: Any = None) -> str:  # fmt: skip
    """The task's title in the assignee's language, from the fields they may read."""
    locale = (item.target.locale if item.target else None) or runtime.rulebook.default_locale
    source = item.action.message.subject.get(locale) or rule.label.get(locale, rule.name)
    context = _context(runtime, rule, due, stored, actor_of(directory, item.target), locale,
                       base_url, conn)  # fmt: skip
    try:
        return " ".join(render_template(source, context).split())[:500] or rule.name
    except Exception:  # a template that cannot render for this record: the rule's label
        return rule.label.get(locale, rule.name)


def _context(runtime: Any, rule: TimeRule, due: Due, stored: Mapping | None, actor: Actor | None,
             locale: str, base_url: str, conn: Any = None) -> dict[str, Any]:  # fmt: skip
    entity = runtime.rulebook.entities.get(rule.entity)
    record = readable_values(runtime, rule.entity, stored, actor, runtime.rulebook.timezone, conn)
    return {
        "record": record,
        "recipient": {"name": actor.display_name if actor else "", "locale": locale},
        "rule": {"name": rule.name, "label": rule.label.get(locale, rule.name)},
        "entity": {"name": rule.entity,
                   "label": entity.label.get(locale, rule.entity) if entity else rule.entity},
        "link": f"{base_url.rstrip('/')}/{rule.entity}/{due.record_id}",
    }  # fmt: skip


def render_preview(runtime: Any, rule: TimeRule, item: Item, due: Due, stored: Mapping | None,
                   directory: Directory, base_url: str,
                   conn: Any = None) -> tuple[str, str, str]:  # fmt: skip
    """(locale, subject, body) as the recipient would get it — for dry runs."""
    locale = (item.target.locale if item.target else None) or runtime.rulebook.default_locale
    if item.kind in ("set", "reassign"):
        return locale, f"{item.kind}", _describe(item)
    texts = message_texts(item.action, due)
    customers = item.target is None or item.target.kind != "user"
    actor = None if customers else actor_of(directory, item.target)
    context = _context(runtime, rule, due, stored, actor, locale, base_url, conn)
    try:
        subject = render_template(Text(texts["subject"]).get(locale), context)
        body = render_template(Text(texts["body"]).get(locale), context)
    except Exception as exc:  # shown to the admin reviewing the dry run
        return locale, "(cannot be rendered)", str(exc)
    return locale, " ".join(subject.split())[:500], body[:20000]


def _describe(item: Item) -> str:
    if item.kind == "set":
        return ", ".join(f"{k} = {v.text}" for k, v in item.action.set.items())
    return "reassign to the least loaded of: " + ", ".join(
        p.role or p.field or p.kind for p in item.action.recipients)  # fmt: skip
