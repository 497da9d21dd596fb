"""Field type → form input: one registered factory per type (the pages' column of the
type registry; ``tests/pages/test_widgets.py`` keeps it in step with ``FIELD_TYPES``).

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

from ...metadata.model import Field

__all__ = ["WIDGETS", "unbound_field", "step_for", "SELECT_TYPES"]

SELECT_TYPES = frozenset({"choice", "reference", "user", "department"})


def _text(widget: w.Input) -> Callable[[Field], Any]:
    def build(f: Field) -> Any:
        attrs = {"maxlength": f.max_length} if f.max_length else {}
        if f.type == "string" and not f.max_length:
            attrs["maxlength"] = 255
        if f.type == "email":
            attrs["autocomplete"] = "email"
        return StringField(widget=widget, render_kw=attrs)

    return build


def step_for(f: Field) -> str:
    """The ``step`` of a number input: 1 for integers, 10^-scale for decimals and money."""
    if f.type == "integer":
        return "1"
    scale = f.scale if f.scale is not None else 2
    return str(Decimal(1).scaleb(-scale)) if scale > 0 else "1"


def _number(f: Field) -> Any:
    attrs: dict[str, Any] = {
        "step": step_for(f),
        "inputmode": "numeric" if f.type == "integer" else "decimal",
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


#: type → factory of an unbound WTForms field (``computed`` has none: never an input).
WIDGETS: dict[str, Callable[[Field], Any]] = {
    "string": _text(w.TextInput()),
    "email": _text(w.EmailInput()),
    "url": _text(w.URLInput()),
    "phone": _text(w.TelInput()),
    "text": _textarea,
    "integer": _number,
    "decimal": _number,
    "money": _number,
    "boolean": lambda f: BooleanField(),
    "date": _date,
    "datetime": _datetime,
    "choice": _select,
    "multi_choice": _multi,
    "tags": _tags,
    "reference": _select,
    "user": _select,
    "department": _select,
}


def unbound_field(f: Field) -> Any | None:
    """The unbound WTForms field for ``f``, or None for types that are never inputs."""
    factory = WIDGETS.get(f.type)
    return factory(f) if factory is not None else None
