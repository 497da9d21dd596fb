"""Widget kind → form input: one registered factory per kind (``FieldType.widget`` of
``metadata.field_types``; ``tests/metadata/test_field_type_registry.py`` keeps every type's
kind known here, and ``formatting.DISPLAYS`` shows values by the same kinds).

Every input keeps the raw text the user typed: parsing and every rule belong to the record
service, which answers in the user's language. So number, date and choice inputs are
text-valued WTForms fields with the right HTML widget, never coercing fields whose own
error messages would compete with the service's.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms import widgets as w

from ...metadata.field_types import type_of
from ...metadata.model import Field

__all__ = ["WIDGETS", "unbound_field", "step_for", "SELECT_WIDGETS", "widget_of"]

#: Widget kinds rendered as a ``<select>`` (options filled by ``forms.fill_options``).
SELECT_WIDGETS = frozenset({"select", "reference_picker", "user_picker", "department_picker"})


def widget_of(f: Field) -> str | None:
    """The widget kind of ``f`` (None: never an input, e.g. computed)."""
    return type_of(f).widget


def _text(widget: w.Input, maxlength: int | None = None, **extra: str) -> Callable[[Field], Any]:
    def build(f: Field) -> Any:
        limit = f.max_length or maxlength
        attrs: dict[str, Any] = {"maxlength": limit} if limit else {}
        attrs.update(extra)
        return StringField(widget=widget, render_kw=attrs)

    return build


def step_for(f: Field) -> str:
    """The ``step`` of a number input: 1 for whole numbers, 10^-scale for decimals and money."""
    if type_of(f).storage == "integer":
        return "1"
    scale = f.scale if f.scale is not None else 2
    return str(Decimal(1).scaleb(-scale)) if scale > 0 else "1"


def _number(f: Field) -> Any:
    attrs: dict[str, Any] = {
        "step": step_for(f),
        "inputmode": "numeric" if type_of(f).storage == "integer" else "decimal",
    }
    for key in ("min", "max"):
        bound = getattr(f, key)
        if isinstance(bound, int | float | Decimal) and not isinstance(bound, bool):
            attrs[key] = str(bound)
    return StringField(widget=w.NumberInput(), render_kw=attrs)


def _date(f: Field) -> Any:
    attrs = {k: str(getattr(f, k)) for k in ("min", "max") if getattr(f, k) is not None}
    return StringField(widget=w.DateInput(), render_kw=attrs)


def _datetime(f: Field) -> Any:
    return StringField(widget=w.DateTimeLocalInput())


def _select(f: Field) -> Any:
    return SelectField(choices=[], validate_choice=False)


def _multi(f: Field) -> Any:
    return SelectMultipleField(choices=[], validate_choice=False,
                               widget=w.ListWidget(prefix_label=False),
                               option_widget=w.CheckboxInput())  # fmt: skip


def _tags(f: Field) -> Any:
    return StringField(widget=w.TextInput(), render_kw={"list": f"dl-{f.name}",
                                                        "autocomplete": "off"})  # fmt: skip


def _textarea(f: Field) -> Any:
    attrs = {"rows": 4}
    if f.max_length:
        attrs["maxlength"] = f.max_length
    return TextAreaField(render_kw=attrs)


#: widget kind → factory of an unbound WTForms field (computed fields have no widget).
WIDGETS: dict[str, Callable[[Field], Any]] = {
    "input": _text(w.TextInput(), maxlength=255),
    "email": _text(w.EmailInput(), autocomplete="email"),
    "url": _text(w.URLInput()),
    "phone": _text(w.TelInput()),
    "textarea": _textarea,
    "number": _number,
    "money": _number,
    "checkbox": lambda f: BooleanField(),
    "date": _date,
    "datetime": _datetime,
    "select": _select,
    "multi_select": _multi,
    "tags": _tags,
    "reference_picker": _select,
    "user_picker": _select,
    "department_picker": _select,
}


def unbound_field(f: Field) -> Any | None:
    """The unbound WTForms field for ``f``, or None for types that are never inputs."""
    factory = WIDGETS.get(widget_of(f) or "")
    return factory(f) if factory is not None else None
