"""The transitions panel of a record's detail page, and the inputs of a transition form.

The pages blueprint calls, inside ``{% block transitions %}`` of ``pages/detail.html``::

    {% block transitions %}{{ transition_panel(entity, record) }}{% endblock %}

``transition_panel`` is a Jinja global (installed by ``web.init_app``). It renders
``workflow/_panel.html`` (autoescaped) and returns it as ``Markup``: the transitions this
user may take now (a button, or a small form asking for the required fields, a comment
and — for an exception — the reason), the others greyed with the reason they are
unavailable, a pending approval request (with withdraw when allowed), and a link to the
status diagram. It reads in its own short read transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import render_template
from markupsafe import Markup

from ...errors import NotFound
from ...metadata.field_types import type_of
from ...metadata.model import Entity, Transition
from ...platform.database import read_connection
from ...platform.i18n import current_locale
from ...platform.web import current_actor, current_runtime
from ...workflow_engine.approval_queries import ApprovalQueries
from ...workflow_engine.service import WorkflowService

__all__ = ["transition_panel", "form_fields", "FieldInput", "can_withdraw"]

#: widget kind (``FieldType.widget``) → the input of ``workflow/_panel.html`` (else text)
_INPUTS = {
    "select": "select",
    "multi_select": "multiselect",
    "checkbox": "checkbox",
    "textarea": "textarea",
    "user_picker": "select",
    "date": "date",
    "datetime": "datetime-local",
    "number": "number",
    "money": "number",
    "email": "email",
    "url": "url",
    "phone": "tel",
}


def transition_panel(entity: Any, record: Any) -> Markup:
    """The panel for ``record`` (a RecordView, a mapping with ``id`` or an id) of ``entity``."""
    who = current_actor()
    runtime = current_runtime()
    name = entity if isinstance(entity, str) else getattr(entity, "name", "")
    model = runtime.rulebook.entities.get(name)
    if who is None or model is None or model.statuses is None:
        return Markup("")
    actor = replace(who, locale=current_locale())
    with read_connection() as conn:
        wf = WorkflowService(runtime, conn, actor)
        try:
            stored, options = wf.options(name, _record_id(record))
        except NotFound:
            return Markup("")
        pending = wf.pending_request(name, stored["id"])
        queries = ApprovalQueries(runtime, conn, actor)
        request_info = queries.request(pending["id"]) if pending else None
        people = (
            queries.people() if any(_needs_people(model, o.transition) for o in options) else []
        )
    html = render_template(
        "workflow/_panel.html",
        entity=model,
        record=stored,
        options=options,
        pending=request_info,
        can_withdraw=can_withdraw(request_info, actor.user_id),
        fields={
            o.name: form_fields(
                model,
                o.transition,
                stored,
                actor.locale,
                people,
                timezone=runtime.rulebook.timezone,
            )
            for o in options
            if o.allowed
        },
        locale=actor.locale,
    )
    return Markup(html)


def _record_id(record: Any) -> Any:
    if isinstance(record, Mapping):
        return record.get("id")
    return getattr(record, "id", record)


def _needs_people(entity: Entity, t: Transition) -> bool:
    return any(type_of(entity.fields[f]).widget == "user_picker"
               for f in t.require if f in entity.fields)  # fmt: skip


def can_withdraw(info: Mapping[str, Any] | None, user_id: int | None) -> bool:
    if not info or info["status"] != "pending" or info["requested_by"] != user_id:
        return False
    if info["withdraw"] == "never":
        return False
    decided = any(
        t["decision"] in ("approved", "rejected", "returned")
        for s in info["steps"]
        for t in s["tasks"]
    )
    return info["withdraw"] == "any_time" or not decided


class FieldInput(dict):
    """One input of a transition form: name, label, widget, choices, value, help."""


def form_fields(
    entity: Entity,
    t: Transition,
    record: Mapping[str, Any],
    locale: str,
    people: list[tuple[int, str]],
    given: Mapping[str, Any] | None = None,
    timezone: str = "UTC",
) -> list[FieldInput]:
    """The inputs a transition asks for, prefilled with the record's (or the given) values."""
    result = []
    for name in t.require:
        f = entity.fields.get(name)
        if f is None:
            continue
        value = (given or {}).get(name, record.get(name))
        ftype = type_of(f)
        widget, choices = _INPUTS.get(ftype.widget or "", "text"), []
        if ftype.widget in ("select", "multi_select"):
            choices = [(c.value, c.label.get(locale, c.value)) for c in f.choices]
        elif ftype.widget == "user_picker":
            choices = [(str(i), text) for i, text in people]
        result.append(
            FieldInput(
                name=name,
                label=f.label.get(locale, name),
                help=f.help.get(locale) if f.help else "",
                widget=widget,
                choices=choices,
                value=_shown(value, timezone),
                step="any" if widget == "number" and ftype.storage == "decimal" else None,
            )
        )
    return result


def _shown(value: Any, timezone: str) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%dT%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [str(v) for v in value]
    return "" if value is None else str(value)
