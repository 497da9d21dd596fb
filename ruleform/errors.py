"""The exception tree of Ruleform.

Definition errors (something is wrong in a rulebook) are kept apart from run-time
errors (a user or a request asked for something the rules do not allow). Every
exception carries enough to produce a clear message without a stack trace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class RuleformError(Exception):
    """Base class of every error Ruleform raises on purpose."""


# --- definition errors -------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One mistake (or warning) found in a rulebook, with where it is and how to fix it."""

    message: str
    file: str = "<rulebook>"
    line: int = 0
    column: int = 0
    path: str = ""
    hint: str = ""
    severity: str = "error"  # "error" or "warning"
    code: str = "invalid"

    def format(self) -> str:
        """Render as ``FILE:LINE:COL: path: message (hint)`` — the form editors understand."""
        where = f"{self.file}:{self.line}:{self.column}"
        text = f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        if self.severity == "warning":
            text = f"{where}: warning: " + text[len(where) + 2 :]
        if self.hint:
            text += f" — {self.hint}"
        return text

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


class RulebookError(RuleformError):
    """A rulebook is invalid; ``problems`` lists every mistake found, not only the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        errors = [p for p in self.problems if p.is_error]
        first = errors[0].format() if errors else "invalid rulebook"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(first + more)

    def format(self) -> str:
        """All problems, one per line."""
        return "\n".join(p.format() for p in self.problems)


class ConditionError(RuleformError):
    """A condition expression could not be parsed or does not type-check."""

    def __init__(self, message: str, offset: int = 0, hint: str = ""):
        self.message = message
        self.offset = offset
        self.hint = hint
        super().__init__(message)


class UsageError(RuleformError):
    """A command was called the wrong way (exit status 2)."""


# --- run-time errors ---------------------------------------------------------------


@dataclass
class FieldErrors(RuleformError):
    """A record failed validation: ``errors`` maps field names (or ``_record``) to messages."""

    errors: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in self.errors.items()))


class PermissionDenied(RuleformError):
    """The current user may not do this."""


class NotFound(RuleformError):
    """No such record, or the user may not know it exists."""


class VersionConflict(RuleformError):
    """The record changed since the user read it (optimistic locking)."""

    def __init__(self, message: str = "", current_version: Any = None):
        self.current_version = current_version
        super().__init__(message or "the record was changed by someone else")


class TransitionNotAllowed(RuleformError):
    """A status transition was asked for that the rules do not allow now."""

    def __init__(self, message: str, reasons: list[str] | None = None):
        self.reasons = reasons or []
        super().__init__(message)


class MigrationRefused(RuleformError):
    """A schema change would lose stored data and was not explicitly allowed."""

    def __init__(self, message: str, steps: list[str] | None = None):
        self.steps = steps or []
        super().__init__(message)


class ServiceUnavailable(RuleformError):
    """A backing service (database, Redis) is unreachable for now."""
