"""Model → WTForms: one form class per entity and set of input fields, built once per
runtime version (``runtime.cached``), and the way back from submitted form data to the
payload the record service takes.

The class holds structure only. Labels, help texts and options depend on the request's
locale and on the records the actor may see, so they are filled in per request
(``fill_options``) and the templates render labels from the model, not from WTForms.

A field goes into the payload only when its form control was submitted enabled: each input
carries a hidden ``_fields`` marker inside its wrapper, and disabled wrappers (fields not
editable now) submit nothing. An unchecked checkbox therefore still means ``false``, while a
field the user could not edit is left to the stored value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField

from ...metadata.model import Entity
from ...platform.i18n import label
from ...platform.records import RecordService
from ...platform.runtime import Runtime
from .lookups import department_options, record_options, user_options
from .widgets import unbound_field, widget_of

__all__ = ["form_class", "attr", "supplement_attr", "fill_options", "payload_from",
           "MARKER", "bound_field", "bound_supplement"]  # fmt: skip

MARKER = "_fields"


def attr(name: str) -> str:
    """The Python attribute of field ``name`` (prefixed: a field may be called ``data``)."""
    return f"f_{name}"


def supplement_attr(name: str) -> str:
    return f"s_{name}"


def form_class(runtime: Runtime, entity: Entity, inputs: frozenset[str],
               supplements: frozenset[str]) -> type[FlaskForm]:  # fmt: skip
    """The form class with ``inputs`` (and supplement boxes for ``supplements``), cached."""
    key = ("form", entity.name, inputs, supplements)
    return runtime.cached(key, lambda: _build(entity, inputs, supplements))


def _build(entity: Entity, inputs: frozenset[str], supplements: frozenset[str]) -> type[FlaskForm]:
    attrs: dict[str, Any] = {}
    for name, f in entity.fields.items():
        if name in inputs:
            unbound = unbound_field(f)
            if unbound is not None:
                unbound.name = name  # the HTML name; the attribute is prefixed
                attrs[attr(name)] = unbound
        if name in supplements:
            attrs[supplement_attr(name)] = TextAreaField(name=f"supplements-{name}",
                                                         render_kw={"rows": 2})  # fmt: skip
    attrs["row_version"] = HiddenField(name="row_version")
    return type(f"{entity.name.title().replace('_', '')}Form", (FlaskForm,), attrs)


def bound_field(form: FlaskForm, name: str) -> Any | None:
    return form._fields.get(attr(name))


def bound_supplement(form: FlaskForm, name: str) -> Any | None:
    return form._fields.get(supplement_attr(name))


def fill_options(form: FlaskForm, entity: Entity, service: RecordService, locale: str) -> None:
    """Options of the selects in ``form``, in ``locale`` and as the actor may see them."""
    cache: dict[str, list[tuple[str, str]]] = {}
    for name, f in entity.fields.items():
        field = bound_field(form, name)
        if field is None:
            continue
        widget = widget_of(f)
        if widget in ("select", "multi_select"):
            options = [(c.value, label(c.label, c.value)) for c in f.choices]
        elif widget == "user_picker":
            if "user" not in cache:
                cache["user"] = user_options(service)
            options = cache["user"]
        elif widget == "department_picker":
            if "department" not in cache:
                cache["department"] = department_options(service, locale)
            options = cache["department"]
        elif widget == "reference_picker":
            key = f"ref:{f.target}"
            if key not in cache:
                cache[key] = record_options(service, f.target or "")
            options = _with_current(cache[key], field.data)
        else:
            continue
        if widget == "multi_select":
            field.choices = options
        else:
            field.choices = [("", "—"), *options]


def _with_current(options: list[tuple[str, str]], current: Any) -> list[tuple[str, str]]:
    """Keep the record's current reference selectable even when not among the options."""
    if current in (None, "") or any(value == str(current) for value, _ in options):
        return options
    return [*options, (str(current), f"#{current}")]


def payload_from(form: FlaskForm, entity: Entity, inputs: Iterable[str],
                 submitted: Iterable[str], keep_blank: Iterable[str] = (),
                 supplements: Iterable[str] = ()) -> dict[str, Any]:  # fmt: skip
    """The service payload from a submitted ``form``.

    ``inputs``: fields rendered as inputs; ``submitted``: the ``_fields`` markers received;
    ``keep_blank``: fields whose blank input means "unchanged" (masked sensitive values);
    ``supplements``: append-only fields offering a supplement box.
    """
    sent = set(submitted)
    keep = set(keep_blank)
    payload: dict[str, Any] = {}
    for name in inputs:
        field = bound_field(form, name)
        if field is None or name not in sent:
            continue
        data = field.data
        if name in keep and data in (None, ""):
            continue
        payload[name] = data
    extra = _supplements(form, supplements)
    if extra:
        payload["supplements"] = extra
    return payload


def _supplements(form: FlaskForm, names: Iterable[str]) -> Mapping[str, str]:
    result = {}
    for name in names:
        field = bound_supplement(form, name)
        if field is not None and isinstance(field.data, str) and field.data.strip():
            result[name] = field.data
    return result
