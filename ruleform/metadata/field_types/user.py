"""``user``: a user of the organisation (their id)."""

from __future__ import annotations

from .base import FieldType, record_id

FIELD_TYPE = FieldType(
    "user", "user", frozenset({"unique"}), record_id, label=("用户", "user"),
    storage="user", widget="user_picker", api="user", groupable=True,
)  # fmt: skip
