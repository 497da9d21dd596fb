"""What every compile step shares: the source (for locations), collected problems, text,
durations and condition compilation with errors located inside the YAML scalar.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConditionError, Problem
from .conditions import compile_condition, compile_expression
from .conditions.scope import Scope
from .model import Duration, SourceRef, Text, frozen_map
from .source import SourceTree, format_path

_DURATION = re.compile(
    r"^\s*(\d+(?:\.\d+)?)\s+(working\s+)?(minute|minutes|hour|hours|day|days|week|weeks)\s*$"
)


@dataclass
class BuildContext:
    """Shared state of one compilation: source locations, problems, locales, scopes."""

    tree: SourceTree
    locales: tuple[str, ...] = ("zh-CN", "en")
    default_locale: str = "zh-CN"
    scopes: dict[str, Scope] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    _missing_translations: int = 0

    # --- reporting -----------------------------------------------------------------

    def ref(self, path: tuple, prefer: str = "key") -> SourceRef:
        return self.tree.where(path, prefer=prefer)

    def error(self, path: tuple, message: str, hint: str = "", prefer: str = "value",
              code: str = "invalid") -> None:  # fmt: skip
        """Record a mistake at ``path``."""
        self._add(path, message, hint, prefer, "error", code)

    def warn(self, path: tuple, message: str, hint: str = "", prefer: str = "value",
             code: str = "warning") -> None:  # fmt: skip
        """Record something that works but probably is not what the author meant."""
        self._add(path, message, hint, prefer, "warning", code)

    def _add(self, path: tuple, message: str, hint: str, prefer: str, severity: str,
             code: str) -> None:  # fmt: skip
        ref = self.tree.where(path, prefer=prefer)
        self.problems.append(
            Problem(
                message, ref.file, ref.line, ref.column, format_path(path), hint, severity, code
            )  # fmt: skip
        )

    # --- values ----------------------------------------------------------------------

    def text(self, value: Any, path: tuple, required: bool = False) -> Text:
        """Text for people; warns when a declared locale is missing."""
        if value is None:
            if required:
                self.error(path, "needs a label (text for people)", prefer="key")
            return Text()
        if isinstance(value, str):
            return Text(frozen_map({loc: value for loc in self.locales}))
        missing = [loc for loc in self.locales if loc not in value]
        if missing:
            self.warn(path, f"missing translation for {', '.join(missing)}",
                      code="missing_translation")  # fmt: skip
        return Text(frozen_map(value))

    def duration(self, value: Any, path: tuple) -> Duration | None:
        """``'3 days'`` → Duration(3, 'days'); ``'24 working hours'`` → working_hours."""
        if value is None:
            return None
        match = _DURATION.match(str(value))
        if not match:
            self.error(
                path, f"{value!r} is not a duration", "Write e.g. '3 days' or '24 working hours'."
            )
            return None
        amount, working, unit = match.groups()
        unit = unit if unit.endswith("s") else unit + "s"
        if working:
            if unit not in ("days", "hours"):
                self.error(path, "working time is counted in working days or working hours")
                return None
            unit = "working_" + unit
            if unit == "working_days" and not float(amount).is_integer():
                self.error(
                    path,
                    "working days are counted in whole days",
                    "Write e.g. '2 working days' or '12 working hours'.",
                )
                return None
        return Duration(float(amount), unit, str(value).strip())

    # --- conditions --------------------------------------------------------------------

    def condition(self, text: Any, entity: str, path: tuple) -> Any:
        """Compile a condition for ``entity``; problems located inside the scalar."""
        return self._compile(compile_condition, text, entity, path)

    def expression(self, text: Any, entity: str, path: tuple, expected: str | None = None) -> Any:
        """Compile an expression (defaults, computed fields, ``set:`` updates)."""
        if expected is None:
            return self._compile(compile_expression, text, entity, path)
        return self._compile(lambda t, s: compile_expression(t, s, expected), text, entity, path)

    def _compile(self, fn: Any, text: Any, entity: str, path: tuple) -> Any:
        if text is None:
            return None
        scope = self.scopes.get(entity)
        if scope is None:
            return None
        try:
            return fn(str(text), scope)
        except ConditionError as exc:
            ref = self.tree.where_in_scalar(path, exc.offset)
            self.problems.append(
                Problem(
                    exc.message,
                    ref.file,
                    ref.line,
                    ref.column,
                    format_path(path),
                    exc.hint,
                    code="condition",
                )  # fmt: skip
            )
            return None

    def names(self, mapping: Mapping[str, Any] | None) -> list[str]:
        return list(mapping or {})
