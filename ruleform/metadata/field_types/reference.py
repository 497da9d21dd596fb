"""``reference``: a link to a record of another ``entity`` (its id)."""

from __future__ import annotations

from .base import FieldType, record_id

FIELD_TYPE = FieldType(
    "reference", "reference",
    frozenset({"entity", "on_delete", "related_label", "unique", "reference_scope"}), record_id,
    label=("关联记录", "link to a record"),
    storage="reference", widget="reference_picker", api="reference",
)  # fmt: skip
