"""Small builders of compiled model objects for tests (no compiler needed).

``make_field("name", "string", max_length=100)``, ``make_entity("customer", [fields…])``,
``make_rulebook([entities…])``; ``with_fields`` / ``without_fields`` / ``replace_field``
derive a changed entity the way a new rulebook version would.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

from ruleform.metadata.model import (
    Choice,
    Entity,
    Field,
    ListView,
    Rulebook,
    SortKey,
    Status,
    StatusMachine,
    Text,
    WorkingCalendar,
    frozen_map,
)

LABELS = {
    "customer": ("客户", "Customer"),
    "contact": ("联系人", "Contact"),
    "store": ("门店", "Store"),
    "company_name": ("客户公司全称", "Company full name"),
    "qq": ("QQ号", "QQ number"),
}


def text(zh: str, en: str | None = None) -> Text:
    return Text(frozen_map({"zh-CN": zh, "en": en if en is not None else zh}))


def label_for(name: str) -> Text:
    zh, en = LABELS.get(name, (name, name.replace("_", " ").capitalize()))
    return text(zh, en)


def make_field(name: str, type: str = "string", **options: Any) -> Field:
    """A field; ``choices=['a', 'b']`` may be plain values."""
    choices = options.pop("choices", ())
    options["choices"] = tuple(
        c if isinstance(c, Choice) else Choice(c, text(c.upper(), c.capitalize())) for c in choices
    )
    options.setdefault("label", label_for(name))
    return Field(name=name, type=type, **options)


def make_entity(
    name: str,
    fields: Iterable[Field] = (),
    *,
    statuses: Sequence[str] = (),
    views: Sequence[ListView] = (),
    **options: Any,
) -> Entity:
    fields = list(fields) or [make_field("name")]
    machine = None
    if statuses:
        states = {s: Status(s, text(s)) for s in statuses}
        machine = StatusMachine(initial=statuses[0], states=frozen_map(states))
    return Entity(
        name=name,
        label=label_for(name),
        plural=label_for(name),
        title_field=fields[0].name,
        fields=frozen_map({f.name: f for f in fields}),
        statuses=machine,
        views=frozen_map({v.name: v for v in views}),
        **options,
    )


def make_view(name: str, filters: Sequence[str] = (), sort: Sequence[str] = ()) -> ListView:
    keys = tuple(SortKey(s.lstrip("-"), s.startswith("-")) for s in sort)
    return ListView(name, text(name), columns=(), filters=tuple(filters), sort=keys)


def make_rulebook(entities: Iterable[Entity], **options: Any) -> Rulebook:
    entities = list(entities)
    options.setdefault("fingerprint", "test-" + "-".join(e.name for e in entities))
    return Rulebook(
        language="ruleform/v1",
        name=options.pop("name", "test"),
        version=options.pop("version", "1.0.0"),
        label=text("测试", "Test"),
        locales=("zh-CN", "en"),
        default_locale="zh-CN",
        timezone="Asia/Shanghai",
        calendar=WorkingCalendar(),
        department_calendars=frozen_map(),
        roles=frozen_map(),
        entities=frozen_map({e.name: e for e in entities}),
        **options,
    )


def with_fields(entity: Entity, *fields: Field) -> Entity:
    """``entity`` with ``fields`` added or replaced (by name)."""
    merged = dict(entity.fields)
    merged.update({f.name: f for f in fields})
    return dataclasses.replace(entity, fields=frozen_map(merged))


def without_fields(entity: Entity, *names: str) -> Entity:
    return dataclasses.replace(
        entity, fields=frozen_map({k: v for k, v in entity.fields.items() if k not in names})
    )


def with_views(entity: Entity, *views: ListView) -> Entity:
    return dataclasses.replace(entity, views=frozen_map({v.name: v for v in views}))


def replace_field(entity: Entity, name: str, **changes: Any) -> Entity:
    choices = changes.pop("choices", None)
    field = dataclasses.replace(entity.fields[name], **changes)
    if choices is not None:
        field = dataclasses.replace(field, choices=make_field("x", choices=choices).choices)
    return with_fields(entity, field)
