"""``department``: a department of the organisation (its id)."""

from __future__ import annotations

from .base import FieldType, record_id

FIELD_TYPE = FieldType(
    "department", "department", frozenset(), record_id, label=("部门", "department"),
    storage="department", widget="department_picker", api="department", groupable=True,
)  # fmt: skip
