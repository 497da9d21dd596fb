"""What a condition is compiled against: the entities, their fields and the roles.

The rulebook compiler builds a :class:`Scope` from the compiled entities (system columns
included) and hands it to :func:`compile_condition`. Field types here are *condition*
types, coarser than field types:

==============  ============================================================
condition type  field types
==============  ============================================================
``string``      string, text, email, phone, url, choice (with ``choices``)
``number``      integer, decimal, money, computed numbers, the ``id`` column
``boolean``     boolean
``date``        date
``datetime``    datetime, ``created_at``, ``updated_at``
``list``        tags, multi_choice (``choices`` only when the set is closed)
``user``        user, ``owner``, ``created_by``, ``updated_by``
``department``  department, ``department``
``reference``   reference (``target`` = the entity referred to)
==============  ============================================================
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = ["FIELD_TYPES", "FieldInfo", "EntityInfo", "Scope", "suggest", "known_list"]

FIELD_TYPES = frozenset(
    {"string", "number", "boolean", "date", "datetime", "list", "user", "department", "reference"}
)


@dataclass(frozen=True)
class FieldInfo:
    """A field as conditions see it: its condition type, closed choices, reference target."""

    name: str
    type: str
    choices: tuple[str, ...] | None = None
    target: str | None = None

    @property
    def usable(self) -> bool:
        """Whether conditions can use it (a known type; a reference with a target).

        Fields the compiler could not type (an unknown field type, already reported) may
        still be described; a condition naming them gets a ConditionError.
        """
        return self.type in FIELD_TYPES and (self.type != "reference" or bool(self.target))


@dataclass(frozen=True)
class EntityInfo:
    """An entity: its fields, and which entities point at it (entity -> their reference field)."""

    name: str
    fields: Mapping[str, FieldInfo]
    related: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Scope:
    """All entities of the rulebook, the entity a condition is written on, and the roles."""

    entities: Mapping[str, EntityInfo]
    entity: str
    roles: frozenset[str] = frozenset()

    @property
    def info(self) -> EntityInfo:
        """The entity the condition is written on."""
        return self.entities[self.entity]

    def for_entity(self, name: str) -> Scope:
        """The same rulebook, seen from another entity (for ``count(x where ...)``)."""
        return Scope(self.entities, name, self.roles)


def suggest(name: str, known: Iterable[str]) -> str:
    """`` — did you mean 'x'?`` for the closest known name, or an empty string."""
    candidates = sorted(set(known))
    match = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    if not match:
        match = difflib.get_close_matches(name.lower(), candidates, n=1, cutoff=0.6)
    return f" — did you mean '{match[0]}'?" if match else ""


def known_list(known: Iterable[str], limit: int = 30) -> str:
    """``a, b, c`` (at most ``limit`` names, sorted) for error hints."""
    names = sorted(set(known))
    shown = ", ".join(names[:limit])
    more = f", … ({len(names) - limit} more)" if len(names) > limit else ""
    return f"{shown}{more}" if names else "none are declared"
