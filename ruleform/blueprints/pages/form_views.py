"""New and edit forms, and the form-state endpoint the form asks as the user types.

Submitting calls ``RecordService.create`` / ``update`` inside one transaction; the service
enforces every rule and raises before writing, so a refused submit saves nothing. On
``FieldErrors`` the form comes back (422) with each message next to its field and a summary
at the top; on a stale ``row_version`` (409) it comes back with the conflict message, the
user's input kept and the values saved meanwhile shown beside the inputs they differ from.
"""

from __future__ import annotations

from typing import Any

from flask import flash, jsonify, redirect, request, url_for

from ...errors import FieldErrors, VersionConflict
from ...metadata.model import Entity
from ...platform.i18n import label, t
from ...platform.records import RecordView
from ...platform.web import reading, records
from .common import entity_of, locale, render, require
from .editor import Editor
from .layout import Block

__all__ = ["new_record", "edit_record", "form_state"]


def new_record(entity: str) -> Any:
    """GET: the empty form (query arguments prefill inputs); POST: create."""
    if request.method == "POST":
        try:
            with records() as service:
                ent = entity_of(service, entity)
                editor = Editor(service, ent, None, locale())
                form = editor.form(submitted=True, options=False)
                view = service.create(ent.name, editor.payload(form))
        except FieldErrors as exc:
            return _again(entity, None, exc.errors, 422)
        flash(t("created"), "success")
        return redirect(url_for("pages.detail", entity=entity, record_id=view.id), 303)
    with reading() as service:
        ent = entity_of(service, entity)
        require(service, ent, "create")
        editor = Editor(service, ent, None, locale())
        prefill = {k: v for k, v in request.args.items() if k in editor.input_names}
        form = editor.form(submitted=False, initial=prefill)
        return _page(editor, form, editor.first_state(prefill), {}, 200)


def edit_record(entity: str, record_id: int) -> Any:
    """GET: the form with the record's values; POST: update with optimistic locking."""
    if request.method == "POST":
        version = request.form.get("row_version", "")
        try:
            with records() as service:
                ent = entity_of(service, entity)
                editor = Editor(service, ent, service.get(ent.name, record_id), locale())
                payload = editor.payload(editor.form(submitted=True, options=False))
                service.update(ent.name, record_id, payload,
                               int(version) if version.isdigit() else None)  # fmt: skip
        except FieldErrors as exc:
            return _again(entity, record_id, exc.errors, 422)
        except VersionConflict as exc:
            return _again(entity, record_id, {"_record": [str(exc)]}, 409, conflict=True)
        flash(t("saved"), "success")
        return redirect(url_for("pages.detail", entity=entity, record_id=record_id), 303)
    with reading() as service:
        ent = entity_of(service, entity)
        record = service.get(ent.name, record_id)
        require(service, ent, "update", record.id)
        editor = Editor(service, ent, record, locale())
        form = editor.form(submitted=False)
        return _page(editor, form, editor.first_state({}), {}, 200)


def _again(entity: str, record_id: int | None, errors: dict[str, list[str]], status: int,
           conflict: bool = False) -> Any:  # fmt: skip
    """The submitted form again, with the user's input, the errors and the current state."""
    with reading() as service:
        ent = entity_of(service, entity)
        record = service.get(ent.name, record_id) if record_id is not None else None
        editor = Editor(service, ent, record, locale())
        form = editor.form(submitted=True)
        if conflict and record is not None:
            form.row_version.data = str(record.version)  # resubmitting now is a deliberate act
        state = editor.state(editor.payload(form))
        return _page(editor, form, state, errors, status, conflict)


def _page(editor: Editor, form: Any, state: dict, errors: dict[str, list[str]], status: int,
          conflict: bool = False) -> Any:  # fmt: skip
    sections = editor.blocks(form, state, errors, conflict)
    ent, record = editor.entity, editor.record
    return render("pages/form.html", status, entity=ent, record=record, form=form,
                  sections=sections, summary=_summary(ent, sections, errors),
                  title=_title(ent, record), conflict=conflict,
                  state_url=_state_url(ent, record))  # fmt: skip


def _title(entity: Entity, record: RecordView | None) -> str:
    if record is None:
        return t("page.new_title", entity=label(entity.label, entity.name))
    value = record.values.get(entity.title_field)
    name = str(value) if value not in (None, "") and entity.title_field not in record.masked \
        else f"#{record.id}"  # fmt: skip
    return t("page.edit_title", title=name)


def _state_url(entity: Entity, record: RecordView | None) -> str:
    if record is None:
        return url_for("pages.form_state", entity=entity.name)
    return url_for("pages.record_form_state", entity=entity.name, record_id=record.id)


def _summary(entity: Entity, sections: list[Block], errors: dict[str, list[str]]) -> list[dict]:
    """Every error message, linked to its field when the field is on the page."""
    on_page = {s.name: s for block in sections for s in block.slots}
    order = [*(n for n in on_page if n in errors), *(n for n in errors if n not in on_page)]
    items = []
    for name in order:
        messages, slot = errors[name], on_page.get(name)
        for text in messages:
            items.append({"text": text, "href": f"#{slot.id}" if slot else None,
                          "label": slot.label if slot else None})  # fmt: skip
    return items


def form_state(entity: str, record_id: int | None = None) -> Any:
    """``{field: {visible, required, editable}}`` for the values the form holds now."""
    with reading() as service:
        ent = entity_of(service, entity)
        # no service.get here: it would audit a read on every keystroke; form_state reads
        # the stored record itself (inside the actor's read scope)
        editor = Editor(service, ent, None, locale(), record_id=record_id)
        form = editor.form(submitted=True, options=False)
        return jsonify(editor.state(editor.payload(form)))
