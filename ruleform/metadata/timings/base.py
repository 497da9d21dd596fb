"""What a timing kind of the language is: its schema, how it is built, how it reads.

A timing kind is one module of this package defining ``KIND = TimingKind(...)``; the
workflow engine's sweep of the same name (``workflow_engine/timerules/timings/``) runs
it. The three parts get their helpers handed in, so a kind module imports nothing from
the modules that use it:

* ``schema(parts)`` — the JSON Schema of its block (``parts``: the schema's building blocks);
* ``build(at, block, rule)`` — the compiled ``Timing``; ``at`` checks names against the
  entity and reports errors at the right place (``at.error``, ``at.date_field`` …);
* ``explain(words, timing)`` — the timing in words (``words.t`` are the phrases of the
  locale, ``words.label`` a field's label …).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from croniter import croniter

from ..model import Duration, Timing

__all__ = ["TimingKind", "SchemaParts", "TimingBuild", "TimingWords"]

DATE_KINDS = frozenset({"date", "datetime"})


@dataclass(frozen=True)
class SchemaParts:
    """The building blocks of the language's JSON Schema a timing kind's block uses."""

    obj: Callable[..., dict]
    list_of: Callable[..., dict]
    ident: dict
    ident_list: dict
    duration: dict
    condition: dict
    actions: dict
    sort: dict


@dataclass
class TimingBuild:
    """One time rule's timing being compiled: checks with located errors."""

    ctx: Any  # BuildContext
    entity: str
    entity_spec: dict
    path: tuple
    known: set[str]
    types: dict[str, str]
    related: dict[str, Any]
    states: set[str]
    build_actions: Callable[[Any, tuple], tuple]
    suggest: Callable[[str, Iterable[str]], str]

    def where(self, *parts: Any) -> tuple:
        return (*self.path, *parts)

    def error(self, where: tuple, text: str, hint: str = "", prefer: str = "value") -> None:
        """A mistake at ``where`` (``prefer="key"``: point at the key, not its value)."""
        self.ctx.error(where, text, hint, prefer=prefer)

    def duration(self, value: Any, where: tuple) -> Duration | None:
        return self.ctx.duration(value, where)

    def condition(self, text: str | None, entity: str, where: tuple) -> Any:
        return self.ctx.condition(text, entity, where)

    def date_field(self, name: str | None, where: tuple) -> None:
        if name is not None and self.types.get(name) not in DATE_KINDS:
            self.error(where, f"'{name}' is not a date or datetime field of {self.entity}",
                       self.suggest(name, [n for n, t in self.types.items() if t in DATE_KINDS]))  # fmt: skip

    def status(self, name: str, where: tuple) -> None:
        if name not in self.states:
            self.error(where, f"'{name}' is not a status of {self.entity}",
                       self.suggest(name, self.states))  # fmt: skip

    def related_entity(self, name: str | None, where: tuple) -> None:
        if name is not None and name not in self.related:
            self.error(where, f"'{name}' has no reference to {self.entity}, so it cannot be "
                              "counted per record", self.suggest(name, self.related))  # fmt: skip

    def transition(self, name: str, where: tuple) -> None:
        transitions = set(self.entity_spec.get("transitions") or {})
        if name not in transitions:
            self.error(where, f"unknown transition '{name}'", self.suggest(name, transitions))

    def cron(self, expr: str | None, where: tuple) -> str | None:
        if expr is not None and not croniter.is_valid(expr):
            self.error(
                where,
                f"{expr!r} is not a valid cron expression",
                "Five fields: minute hour day-of-month month day-of-week, e.g. '0 9 1 * *'.",
            )
            return None
        return expr


@dataclass(frozen=True)
class TimingWords:
    """What explaining a timing needs, in one locale."""

    t: dict  # the timing phrases of the locale
    p: dict  # all phrases of the locale
    label: Callable[[str | None], str]  # a field's label
    entity_label: Callable[[str | None], str]
    duration: Callable[[Duration | None], str]
    status: Callable[[str], str]
    transition: Callable[[str | None], str]
    sort: Callable[[Any], str]
    join: Callable[[Iterable[str]], str]


@dataclass(frozen=True)
class TimingKind:
    """A timing kind of the language (see the module docstring)."""

    name: str
    schema: Callable[[SchemaParts], dict]
    build: Callable[[TimingBuild, dict, dict], Timing]
    explain: Callable[[TimingWords, Timing], str]
    carries: frozenset[str] = frozenset()  # kinds declared beside it that only refine it
