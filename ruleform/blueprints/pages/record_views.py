"""The detail page of a record and archiving it.

The detail page shows the record's sections as the actor may read them (sensitive values
masked, with a "show" button: ``?reveal=<field>``, audited by the service), supplements
under append-only fields, related lists (``entity.related``, up to 20 rows each, only for
entities and link fields the actor may read), the history timeline, and edit / archive
buttons when the actor may do so *on this record*.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, request, url_for

from ...errors import VersionConflict
from ...metadata.model import Entity, Relation
from ...platform.i18n import label, t
from ...platform.records import ListQuery, RecordService, RecordView, run_list
from ...platform.web import reading, records
from .common import entity_of, locale, may, render
from .formatting import Shown, column_label, present_column
from .history import timeline
from .layout import Slot, blocks
from .lookups import Lookups

__all__ = ["detail", "archive"]

RELATED_ROWS = 20


@dataclass
class Related:
    entity: Entity
    title: str
    columns: list[tuple[str, str]]  # (name, label)
    rows: list[tuple[int, list[Shown]]]
    more: bool
    new_href: str | None


def detail(entity: str, record_id: int) -> Any:
    """The record, its related lists and its history."""
    reveal = request.args.getlist("reveal")[:10]
    with reading() as service:
        ent = entity_of(service, entity)
        view = service.get(ent.name, record_id, reveal=reveal)
        lookups = Lookups(service, locale())
        lookups.prefetch(ent, [view.values], list(view.values))
        archived = bool(view.values.get("archived"))
        state = service.form_state(ent.name, {}, view.id)  # visible_when, as stored
        hidden = {name for name, s in state.items() if not s["visible"]}
        sections = blocks(ent, _slots(ent, view, lookups, hidden))
        return render(
            "pages/detail.html", entity=ent, record=view, sections=sections,
            title=_title(ent, view),
            status=present_column(ent, "status", view.values.get("status"), lookups),
            meta=_meta(ent, view, lookups), related=_related(service, ent, view, lookups),
            history=timeline(service, ent, view.id, lookups),
            can_edit=not archived and may(service, ent, "update", view.id),
            can_archive=not archived and may(service, ent, "archive", view.id),
        )  # fmt: skip


def _title(entity: Entity, view: RecordView) -> str:
    value = view.values.get(entity.title_field)
    if value in (None, "") or entity.title_field in view.masked:
        return f"{label(entity.label, entity.name)} #{view.id}"
    return str(value)


def _slots(entity: Entity, view: RecordView, lookups: Lookups,
           hidden: set[str]) -> dict[str, Slot]:  # fmt: skip
    slots = {}
    for name, f in entity.fields.items():
        if name not in view.values or name in hidden:
            continue  # not readable, or not visible for this record (visible_when)
        masked = name in view.masked
        slot = Slot(f, "readonly", present_column(entity, name, view.values[name], lookups, masked),
                    masked=masked)  # fmt: skip
        items = view.supplements.get(name, [])
        lookups.load_users({i["user_id"] for i in items if i.get("user_id") is not None})
        slot.supplements = [{**i, "user_name": lookups.user(i["user_id"]) if i.get("user_id")
                             else ""} for i in items]  # fmt: skip
        slots[name] = slot
    return slots


def _meta(entity: Entity, view: RecordView, lookups: Lookups) -> list[tuple[str, Shown]]:
    names = [n for n in ("owner", "department", "created_by", "created_at", "updated_by",
                         "updated_at") if n in view.values]  # fmt: skip
    if not entity.owner:
        names = [n for n in names if n != "owner"]
    if not entity.department:
        names = [n for n in names if n != "department"]
    return [(column_label(entity, n), present_column(entity, n, view.values.get(n), lookups))
            for n in names]  # fmt: skip


def _related(service: RecordService, entity: Entity, view: RecordView,
             lookups: Lookups) -> list[Related]:  # fmt: skip
    result = []
    for relation in service.policy.related_lists(service.actor, entity):
        related = _related_list(service, relation, view.id, lookups)
        if related is not None:
            result.append(related)
    return result


def _related_list(service: RecordService, relation: Relation, record_id: int,
                  lookups: Lookups) -> Related | None:  # fmt: skip
    target = service.rt.entity(relation.entity)  # readable, with its link field (policy)
    readable = service.policy.readable_fields(service.actor, target)
    view = target.default_view()
    wanted = [c for c in (view.columns if view else (target.title_field,))
              if c != relation.field and c in readable] or [target.title_field]  # fmt: skip
    clause = service.rt.table(target).c[relation.field] == record_id
    where = service.policy.field_clause(service.actor, target, service.rt.tables, relation.field)
    if where is not None:  # only the children where the actor may read the link
        clause = sa.and_(clause, where)
    query = ListQuery(
        default_view=False, columns=wanted, count=False, page_size=RELATED_ROWS, extra_clause=clause
    )
    page = run_list(service, target, query)
    lookups.prefetch(target, page.rows, wanted)
    rows = [(r["id"], [present_column(target, c, r.get(c), lookups, c in page.masked)
                       for c in wanted]) for r in page.rows]  # fmt: skip
    new_href = None
    if may(service, target, "create") and relation.field in service.policy.writable_fields(
            service.actor, target, "create"):  # fmt: skip
        new_href = url_for("pages.new_record", entity=target.name, **{relation.field: record_id})
    title = label(relation.label, "") or label(target.plural, target.name)
    return Related(target, title, [(c, column_label(target, c)) for c in wanted], rows,
                   page.next_cursor is not None, new_href)  # fmt: skip


def archive(entity: str, record_id: int) -> Any:
    """Archive the record (it leaves lists, keeps its history)."""
    version = request.form.get("row_version")
    try:
        with records() as service:
            ent = entity_of(service, entity)
            service.archive(ent.name, record_id, int(version) if version and version.isdigit()
                            else None)  # fmt: skip
    except VersionConflict as exc:
        flash(str(exc), "error")
        return redirect(url_for("pages.detail", entity=entity, record_id=record_id), 303)
    flash(t("archived"), "success")
    return redirect(url_for("pages.list_records", entity=entity), 303)
