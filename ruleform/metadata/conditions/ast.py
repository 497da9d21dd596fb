"""The syntax tree of conditions: frozen, slotted dataclasses.

The parser fills ``pos`` (character offset) and leaves ``type`` empty; the type checker
returns a copy of the tree with ``type`` (a condition type, see ``scope.py``, or
``null``/``duration``/``departments``) and ``const`` (True when the value does not depend
on the record, so it can be computed in Python and bound as a parameter) filled in.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

__all__ = [
    "Node",
    "Literal",
    "DateLiteral",
    "DateTimeLiteral",
    "DurationLiteral",
    "ListLiteral",
    "Field",
    "Traverse",
    "CurrentUser",
    "HasRole",
    "Today",
    "Now",
    "Changed",
    "Count",
    "Negate",
    "Not",
    "BoolOp",
    "Arith",
    "Compare",
    "InList",
    "IsEmpty",
    "TextMatch",
    "children",
    "walk",
    "depth",
    "PREDICATES",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Node:
    """Base of every node: where it starts in the text, and its checked type."""

    pos: int
    type: str = ""
    const: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Literal(Node):
    """``'text'``, ``12``, ``3.5`` (a Decimal), ``true``, ``false``, ``null``."""

    value: str | int | Decimal | bool | None


@dataclass(frozen=True, slots=True, kw_only=True)
class DateLiteral(Node):
    """``date('2026-01-01')``."""

    value: date


@dataclass(frozen=True, slots=True, kw_only=True)
class DateTimeLiteral(Node):
    """``datetime('2026-01-01T09:00:00+08:00')``; without an offset it is rulebook time."""

    value: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class DurationLiteral(Node):
    """``3 days``, ``24 working hours``.

    ``unit`` is minutes, hours, days, weeks, working_days or working_hours.
    """

    amount: Decimal
    unit: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ListLiteral(Node):
    """``['a', 'b']``."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Field(Node):
    """A field of the entity the condition is written on."""

    name: str
    choices: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Traverse(Node):
    """``customer.level``: one step through a reference field into the referenced record."""

    ref: str
    name: str
    name_pos: int
    target: str = ""  # the referenced entity (filled by the type checker)
    choices: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CurrentUser(Node):
    """``current_user`` (its id), ``current_user.id``, ``.department``, ``.departments``."""

    attr: str = "id"


@dataclass(frozen=True, slots=True, kw_only=True)
class HasRole(Node):
    """``current_user has role 'r'``."""

    role: str
    role_pos: int


# --- the nodes of the built-in functions (their hooks are in functions/) ------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Today(Node):
    """``today()``: the date in the rulebook's time zone."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Now(Node):
    """``now()``: the current instant (aware, UTC)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Changed(Node):
    """``changed(field)``: on save, the value differs from the stored one."""

    field: str
    field_pos: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Count(Node):
    """``count(entity)`` / ``count(entity where condition)``: related records pointing here."""

    entity: str
    entity_pos: int
    where: Node | None = None
    fk: str = ""  # the reference field of ``entity`` that points here (type checker)


@dataclass(frozen=True, slots=True, kw_only=True)
class Negate(Node):
    """Unary minus."""

    operand: Node


@dataclass(frozen=True, slots=True, kw_only=True)
class Not(Node):
    """``not condition``."""

    operand: Node


@dataclass(frozen=True, slots=True, kw_only=True)
class BoolOp(Node):
    """``a and b and c`` / ``a or b``: n-ary, so long chains stay shallow."""

    op: str  # and | or
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Arith(Node):
    """``+ - * /`` on numbers; ``date ± duration``."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True, kw_only=True)
class Compare(Node):
    """``= != < <= > >=``."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True, kw_only=True)
class InList(Node):
    """``x in [..]`` / ``x not in [..]`` (also ``department in current_user.departments``)."""

    left: Node
    right: Node
    negated: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class IsEmpty(Node):
    """``x is empty`` / ``x is not empty``: null, '' or an empty list."""

    operand: Node
    negated: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class TextMatch(Node):
    """``contains`` (text or list), ``starts with``, ``ends with``; case-sensitive."""

    op: str  # contains | starts_with | ends_with
    left: Node
    right: Node


PREDICATES = (HasRole, Not, BoolOp, Compare, InList, IsEmpty, TextMatch)
"""Nodes that are true or false by construction (never null); a function says so itself
(``ConditionFunction.predicate``, e.g. ``changed()``)."""


def children(node: Node) -> list[Node]:
    """The direct sub-nodes of ``node`` (a count's where-condition included)."""
    found: list[Node] = []
    for name in _field_names(type(node)):
        value: Any = getattr(node, name)
        if isinstance(value, Node):
            found.append(value)
        elif isinstance(value, tuple):
            found.extend(v for v in value if isinstance(v, Node))
    return found


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    """The fields of a node class that may hold sub-nodes (``fields()`` is slow per node)."""
    return tuple(f.name for f in fields(cls) if f.name not in ("pos", "type", "const"))


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, without recursion (trees may be deep before they are checked)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(children(current))


def depth(node: Node) -> int:
    """The depth of the tree (a single node has depth 1), computed without recursion."""
    best = 0
    stack = [(node, 1)]
    while stack:
        current, d = stack.pop()
        best = max(best, d)
        stack.extend((child, d + 1) for child in children(current))
    return best
