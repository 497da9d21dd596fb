"""The form page of one record (new or existing): which fields are inputs, which are shown
read-only, the bound form, and the payload it submits.

- inputs: fields the actor may write (``Policy.writable_fields`` for create / update);
- read-only: fields the actor may read but not write (computed, ``read_only``, or not
  granted) — on an existing record only, since a new one has no values yet;
- append-only fields already filled (R12): their value and supplements, read-only, and a
  box for a new supplement (``supplements-<field>``);
- unreadable fields: absent.

Visibility, requiredness and editability come from ``RecordService.form_state`` — the same
evaluator the server enforces with — both for the first render and as the user types.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import request
from flask_wtf import FlaskForm

from ...metadata.model import Entity
from ...platform.records import RecordService, RecordView
from ...platform.records.write_rules import FORM_STATE_KEYS
from .formatting import Shown, form_value, present_column
from .forms import MARKER, bound_field, bound_supplement, fill_options, form_class, payload_from
from .layout import Block, Slot, blocks
from .lookups import Lookups
from .widgets import widget_of

__all__ = ["Editor"]


class Editor:
    """Builds and reads the form of ``entity`` for the service's actor."""

    def __init__(self, service: RecordService, entity: Entity, record: RecordView | None,
                 locale: str, record_id: int | None = None):  # fmt: skip
        self.service = service
        self.entity = entity
        self.record = record
        self.record_id = record.id if record is not None else record_id
        self.locale = locale
        self.lookups = Lookups(service, locale)
        policy, actor = service.policy, service.actor
        self.readable = (
            policy.readable_fields(actor, entity)
            if record is None
            else service.readable(entity, record.id)
        )  # the roles reaching this record
        updating = self.record_id is not None
        writable = policy.writable_fields(actor, entity, "update" if updating else "create")
        self.inputs: dict[str, str] = {}  # name → input | append
        for name, f in entity.fields.items():
            if name not in writable or widget_of(f) is None:  # computed: never an input
                continue
            filled = record is not None and record.values.get(name) not in (None, "", [])
            self.inputs[name] = "append" if f.append_only and filled else "input"
        self.input_names = frozenset(n for n, k in self.inputs.items() if k == "input")
        self.append_names = frozenset(n for n, k in self.inputs.items() if k == "append")
        self.masked = frozenset(record.masked) if record else frozenset()
        # sensitive values are never put into inputs, so on an existing record a blank
        # sensitive input means "unchanged"
        self.keep_blank = frozenset(n for n in self.input_names if entity.fields[n].sensitive) \
            if updating else frozenset()  # fmt: skip

    # --- the form ------------------------------------------------------------------------

    def form(self, submitted: bool, initial: Mapping[str, Any] | None = None,
             options: bool = True) -> FlaskForm:  # fmt: skip
        """The bound form: from the request's data when ``submitted``, else from the record.
        ``options=False`` skips loading select options (the form is only read, not shown)."""
        cls = form_class(self.service.rt, self.entity, self.input_names, self.append_names)
        if submitted:
            form = cls(formdata=request.form)
        else:
            form = cls(formdata=None, data=self._initial(initial or {}))
        if options:
            fill_options(form, self.entity, self.service, self.locale)
        return form

    def _initial(self, given: Mapping[str, Any]) -> dict[str, Any]:
        tz = self.service.rt.rulebook.timezone
        data: dict[str, Any] = {}
        values = self.record.values if self.record else self._defaults()
        for name in self.input_names:
            f = self.entity.fields[name]
            if name in given:  # prefilled from the query string (``?customer=12``)
                data[f"f_{name}"] = _raw_initial(widget_of(f), given[name])
            elif name not in self.masked:  # a masked value is never put back into an input
                data[f"f_{name}"] = form_value(f, values.get(name), tz)
        if self.record is not None:
            data["row_version"] = str(self.record.version)
        return data

    def _defaults(self) -> dict[str, Any]:
        """The fields' defaults for a new record, shown in its inputs (the user sees what
        will be saved; a blank input stays blank)."""
        ctx = self.service.rt.eval_context(self.service.actor)
        result: dict[str, Any] = {}
        for name in self.input_names:
            default = self.entity.fields[name].default
            if default is None:
                continue
            if default.expression is None:
                result[name] = default.value
                continue
            try:
                result[name] = default.expression.evaluate({}, ctx)
            except (ArithmeticError, TypeError, ValueError, KeyError):
                continue  # depends on other fields: the service fills it on save
        return result

    def payload(self, form: FlaskForm) -> dict[str, Any]:
        """What the submitted form asks the service to write."""
        return payload_from(form, self.entity, self.input_names, request.form.getlist(MARKER),
                            keep_blank=self.keep_blank, supplements=self.append_names)  # fmt: skip

    def state(self, payload: Mapping[str, Any]) -> dict[str, dict[str, bool]]:
        """Visible / required / editable per readable field for the form's current values."""
        values = {k: v for k, v in payload.items() if k != "supplements"}
        state = self.service.form_state(self.entity.name, values, self.record_id)
        return {name: {k: bool(s[k]) for k in FORM_STATE_KEYS}
                for name, s in state.items() if name in self.readable}  # fmt: skip

    def first_state(self, prefill: Mapping[str, Any]) -> dict[str, dict[str, bool]]:
        """The state of the form as first shown: a new record's defaults and prefills, or
        the stored record."""
        values = {} if self.record_id is not None else self._defaults()
        return self.state({**values, **prefill})

    # --- the page --------------------------------------------------------------------------

    def blocks(self, form: FlaskForm, state: Mapping[str, Mapping[str, bool]],
               errors: Mapping[str, list[str]] | None = None,
               conflict: bool = False) -> list[Block]:  # fmt: skip
        """The sections of the form page with a slot per readable field.

        After a version conflict (``conflict``) the record is the one saved now, and inputs
        whose typed value differs from it show the saved value beside them.
        """
        errors = errors or {}
        values = self.record.values if self.record else {}
        if values:
            self.lookups.prefetch(self.entity, [values], list(values))
        slots: dict[str, Slot] = {}
        for name, f in self.entity.fields.items():
            if name not in self.readable:
                continue
            kind = self.inputs.get(name, "readonly")
            if kind == "readonly" and self.record is None:
                continue
            s = state.get(name, {})
            slot = Slot(f, kind, visible=s.get("visible", True),
                        required=s.get("required", False), editable=s.get("editable", True),
                        errors=list(errors.get(name, [])))  # fmt: skip
            if kind == "input":
                slot.input = bound_field(form, name)
                slot.masked = name in self.masked
                if slot.masked:
                    slot.masked_text = str(values.get(name) or "")
                if widget_of(f) == "tags":
                    slot.suggestions = [(c.value, c.label.get(self.locale, c.value))
                                        for c in f.choices]  # fmt: skip
                if conflict:
                    slot.current = self._saved_if_different(name, slot.input)
            else:
                slot.shown = present_column(self.entity, name, values.get(name), self.lookups,
                                            name in self.masked)  # fmt: skip
                slot.supplements = self._supplements(name)
                slot.supplement_input = bound_supplement(form, name)
            slots[name] = slot
        return blocks(self.entity, slots)

    def _supplements(self, name: str) -> list[dict[str, Any]]:
        if self.record is None:
            return []
        items = self.record.supplements.get(name, [])
        self.lookups.load_users({i["user_id"] for i in items if i.get("user_id") is not None})
        return [{**i, "user_name": self.lookups.user(i["user_id"]) if i.get("user_id") else ""}
                for i in items]  # fmt: skip

    def _saved_if_different(self, name: str, field: Any) -> Shown | None:
        if self.record is None or field is None or name in self.masked:
            return None
        f = self.entity.fields[name]
        saved = self.record.values.get(name)
        if _same(form_value(f, saved, self.service.rt.rulebook.timezone), field.data):
            return None
        return present_column(self.entity, name, saved, self.lookups)


def _raw_initial(widget: str | None, raw: str) -> Any:
    if widget == "multi_select":
        return [raw]
    if widget == "checkbox":
        return raw.lower() in ("1", "true", "on", "yes")
    return raw


def _same(saved: Any, typed: Any) -> bool:
    """Equal as form values (blank equals missing; lists compare as sets)."""
    if saved in (None, "", []) and typed in (None, "", []):
        return True
    if isinstance(saved, list) or isinstance(typed, list):
        return set(saved or []) == set(typed or [])
    if isinstance(saved, bool) or isinstance(typed, bool):
        return bool(saved) == bool(typed)
    return str(saved).strip() == str(typed).strip()
