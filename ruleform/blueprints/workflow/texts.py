"""The workflow's texts in the language of the current request (pages and templates)."""

from __future__ import annotations

from typing import Any

from ...platform.i18n import current_locale
from ...workflow_engine.texts import wf_text

__all__ = ["ui_text"]


def ui_text(code: str, **params: Any) -> str:
    """``wf_text`` in the request's locale."""
    return wf_text(code, current_locale(), **params)
