"""The entity's layout as a page shows it: sections in order, each with its field slots.

A slot is one field on one page: an input, a read-only value, or an append-only value with
its supplements and a box for a new one. Unreadable fields get no slot at all. Fields no
section names come last, in a section of their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...metadata.model import Entity, Field
from ...platform.i18n import label, t
from .formatting import EMPTY, Shown
from .widgets import SELECT_WIDGETS, widget_of

__all__ = ["Slot", "Block", "sections_of", "blocks"]


@dataclass
class Slot:
    """One field on a page."""

    field: Field
    kind: str  # input | readonly | append
    shown: Shown = EMPTY
    visible: bool = True
    required: bool = False
    editable: bool = True
    masked: bool = False
    masked_text: str = ""  # an input whose stored value is masked shows it as placeholder
    supplements: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    input: Any = None  # the bound WTForms field (kind input)
    supplement_input: Any = None  # the bound supplement box (kind append)
    current: Shown | None = None  # after a version conflict: the value now saved
    suggestions: list[tuple[str, str]] = field(default_factory=list)  # tags datalist

    @property
    def name(self) -> str:
        return self.field.name

    @property
    def id(self) -> str:
        return f"f-{self.field.name}"

    @property
    def label(self) -> str:
        return label(self.field.label, self.field.name)

    @property
    def help(self) -> str:
        return label(self.field.help)

    @property
    def placeholder(self) -> str:
        return label(self.field.placeholder)

    @property
    def group(self) -> bool:
        """Rendered as a fieldset (a group of checkboxes) rather than one labelled input."""
        return self.kind == "input" and widget_of(self.field) == "multi_select"

    @property
    def wide(self) -> bool:
        return widget_of(self.field) in ("textarea", "multi_select") or self.kind == "append"

    def describedby(self) -> str:
        ids = []
        if self.help:
            ids.append(f"{self.id}-help")
        if self.errors:
            ids.append(f"{self.id}-error")
        return " ".join(ids)

    def attrs(self) -> dict[str, Any]:
        """HTML attributes of the input (id, ARIA, placeholder)."""
        result: dict[str, Any] = {"id": self.id, "class_": "input"}
        widget = widget_of(self.field)
        if widget == "checkbox":
            result["class_"] = "checkbox"
        if self.masked_text:
            result["placeholder"] = self.masked_text
        elif self.placeholder and widget != "checkbox" and widget not in SELECT_WIDGETS:
            result["placeholder"] = self.placeholder
        if self.describedby():
            result["aria_describedby"] = self.describedby()
        if self.errors:
            result["aria_invalid"] = "true"
        if self.required:
            result["aria_required"] = "true"
        if not self.editable:
            result["disabled"] = True
        return result


@dataclass
class Block:
    """A section of the form or the detail page."""

    name: str
    title: str
    columns: int
    slots: list[Slot]

    @property
    def visible(self) -> bool:
        return any(s.visible for s in self.slots)


def sections_of(entity: Entity) -> list[tuple[str, str, int, tuple[str, ...]]]:
    """``(name, title, columns, fields)`` per section, with unplaced fields last."""
    result, placed = [], set()
    for section in entity.sections:
        result.append((section.name, label(section.label, section.name), section.columns,
                       section.fields))  # fmt: skip
        placed |= set(section.fields)
    rest = tuple(n for n in entity.fields if n not in placed)
    if rest:
        title = t("page.section_more") if entity.sections else ""
        result.append(("_more", title, 2, rest))
    return result


def blocks(entity: Entity, slots: dict[str, Slot]) -> list[Block]:
    """The sections holding at least one of ``slots``, in layout order."""
    result = []
    for name, title, columns, names in sections_of(entity):
        chosen = [slots[n] for n in names if n in slots]
        if chosen:
            result.append(Block(name, title, max(1, min(columns, 3)), chosen))
    return result
