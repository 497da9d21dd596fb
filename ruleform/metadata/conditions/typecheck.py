"""The type checker: an unchecked tree + a Scope -> a typed tree, or ConditionError.

It resolves every name (fields, references, related entities, roles, choices), types every
node, folds string literals compared with dates into date literals, and decides what can
run in the database. Decisions (see docs/conditions-grammar.md):

- ``=``/``!=`` compare equal types; numbers also compare with user, department and
  reference ids; a date compares with a datetime (the start of that day, rulebook time).
- ``< <= > >=`` order numbers, texts (by code point), dates and datetimes.
- A text literal compared with a date or datetime must spell one (``'2026-01-01'``).
- ``x = null`` is refused: write ``x is empty``.
- Arithmetic on a date field (``purchased_at + 3 days``) must be compared with a value
  that does not depend on the record, so it can be rewritten for the database; working
  time only on such values (``today() - 2 working days``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal

from ...errors import ConditionError
from . import ast as a
from .functions import function_for
from .literals import parse_date_text, parse_datetime_text
from .scope import FieldInfo, Scope, known_list, suggest
from .timemath import MAX_DURATION_DAYS, UNIT_DAYS
from .typerules import (
    ORDERED,
    TIME_TYPES,
    WORKING_DAY_MESSAGE,
    arith_hint,
    arith_message,
    boolean_hint,
    check_number,
    comparable,
    compare_hint,
    describe_type,
)

__all__ = ["CheckResult", "check", "describe_type"]


@dataclass
class CheckResult:
    """The typed tree and what it depends on."""

    node: a.Node
    fields_used: set[str] = field(default_factory=set)
    uses_current_user: bool = False
    uses_changed: bool = False
    related_entities: set[str] = field(default_factory=set)
    referenced_entities: set[str] = field(default_factory=set)
    sql_problem: ConditionError | None = None


def check(node: a.Node, scope: Scope, *, condition: bool) -> CheckResult:
    """Type-check ``node`` in ``scope``; ``condition`` makes database problems errors."""
    if scope.entity not in scope.entities:
        raise ConditionError(f"unknown entity '{scope.entity}'", 0)
    checker = _Checker(scope, condition)
    typed = checker.visit(node)
    checker.check_date_arithmetic(typed)
    checker.result.node = typed
    return checker.result


def _is_field_date_arith(node: a.Node) -> bool:
    return isinstance(node, a.Arith) and node.type in TIME_TYPES and not node.const


class _Checker:
    def __init__(self, scope: Scope, condition: bool):
        self.scope = scope
        self.condition = condition
        self.count_depth = 0
        self.result = CheckResult(node=a.Literal(pos=0, value=None))

    # --- plumbing ------------------------------------------------------------------------

    def visit(self, node: a.Node) -> a.Node:
        function = function_for(node)
        if function is not None:
            return function.type_of(self, node)
        method: Callable[[a.Node], a.Node] = getattr(self, f"_{type(node).__name__}")
        return method(node)

    def sql_problem(self, message: str, pos: int, hint: str = "") -> None:
        """Something only the Python side can run: an error in conditions, a flag otherwise."""
        error = ConditionError(message, pos, hint)
        if self.condition:
            raise error
        if self.result.sql_problem is None:
            self.result.sql_problem = error

    def require(self, node: a.Node, type_: str, what: str) -> None:
        if node.type != type_:
            raise ConditionError(
                f"{what} needs {describe_type(type_)}, not {describe_type(node.type)}",
                node.pos,
                boolean_hint(node) if type_ == "boolean" else "",
            )

    # --- leaves ---------------------------------------------------------------------------

    def _Literal(self, node: a.Literal) -> a.Node:
        value = node.value
        if isinstance(value, bool):
            type_ = "boolean"
        elif isinstance(value, int | Decimal):
            type_ = "number"
            check_number(value, node.pos)
        elif isinstance(value, str):
            type_ = "string"
        else:
            type_ = "null"
        return replace(node, type=type_, const=True)

    def _DurationLiteral(self, node: a.DurationLiteral) -> a.Node:
        if abs(node.amount) * UNIT_DAYS[node.unit] > MAX_DURATION_DAYS:
            raise ConditionError("this duration is too long (more than 100 years)", node.pos)
        return replace(node, type="duration", const=True)

    def _CurrentUser(self, node: a.CurrentUser) -> a.Node:
        self.result.uses_current_user = True
        type_ = {"id": "user", "department": "department", "departments": "departments"}
        return replace(node, type=type_[node.attr], const=True)

    def _ListLiteral(self, node: a.ListLiteral) -> a.Node:
        items = tuple(self.visit(item) for item in node.items)
        for item in items:
            if item.type != "string":
                raise ConditionError(
                    f"a list value holds texts, not {describe_type(item.type)}",
                    item.pos,
                    "lists of other values may only follow 'in'",
                )
        return replace(node, items=items, type="list", const=all(i.const for i in items))

    def _Field(self, node: a.Field) -> a.Node:
        info = self.scope.info
        fi = info.fields.get(node.name)
        if fi is None:
            raise ConditionError(
                f"unknown field '{node.name}'{suggest(node.name, info.fields)}",
                node.pos,
                f"fields of {info.name}: {known_list(info.fields)}",
            )
        _require_usable(fi, node.pos)
        if not self.count_depth:
            self.result.fields_used.add(node.name)
        return replace(node, type=fi.type, choices=fi.choices)

    def _Traverse(self, node: a.Traverse) -> a.Node:
        info = self.scope.info
        ref = info.fields.get(node.ref)
        if ref is None:
            raise ConditionError(
                f"unknown field '{node.ref}'{suggest(node.ref, info.fields)}",
                node.pos,
                f"fields of {info.name}: {known_list(info.fields)}",
            )
        if ref.type == "reference" and not ref.target:
            _require_usable(ref, node.pos)
        if ref.type != "reference" or not ref.target:
            raise ConditionError(
                f"'{node.ref}' is {describe_type(ref.type)}, not a reference to another record",
                node.pos,
                "only reference fields can be followed with '.'",
            )
        target = self.scope.entities.get(ref.target)
        if target is None:
            raise ConditionError(
                f"'{node.ref}' refers to an unknown entity '{ref.target}'", node.pos
            )
        fi = target.fields.get(node.name)
        if fi is None:
            raise ConditionError(
                f"unknown field '{node.name}' of {target.name}{suggest(node.name, target.fields)}",
                node.name_pos,
                f"fields of {target.name}: {known_list(target.fields)}",
            )
        _require_usable(fi, node.name_pos)
        if not self.count_depth:
            self.result.fields_used.add(node.ref)
        self.result.referenced_entities.add(target.name)
        return replace(node, type=fi.type, target=target.name, choices=fi.choices)

    # --- predicates -------------------------------------------------------------------------

    def _HasRole(self, node: a.HasRole) -> a.Node:
        self.result.uses_current_user = True
        if node.role not in self.scope.roles:
            raise ConditionError(
                f"unknown role '{node.role}'{suggest(node.role, self.scope.roles)}",
                node.role_pos,
                f"roles: {known_list(self.scope.roles)}",
            )
        return replace(node, type="boolean", const=True)

    def _Not(self, node: a.Not) -> a.Node:
        operand = self.visit(node.operand)
        self.require(operand, "boolean", "'not'")
        return replace(node, operand=operand, type="boolean", const=operand.const)

    def _BoolOp(self, node: a.BoolOp) -> a.Node:
        items = tuple(self.visit(item) for item in node.items)
        for item in items:
            self.require(item, "boolean", f"'{node.op}'")
        return replace(node, items=items, type="boolean", const=all(i.const for i in items))

    def _Compare(self, node: a.Compare) -> a.Node:
        left, right = self.visit(node.left), self.visit(node.right)
        left, right = self._coerce_pair(left, right)
        for side in (left, right):
            if side.type == "null":
                fix = "is empty" if node.op == "=" else "is not empty"
                raise ConditionError(
                    f"comparing with null ({node.op}) is never true",
                    node.pos,
                    f"write `x {fix}`",
                )
        self._comparable(left, right, node.op, node.pos)
        if node.op not in ("=", "!=") and left.type not in ORDERED:
            raise ConditionError(
                f"'{node.op}' orders numbers, texts and dates, not {describe_type(left.type)}",
                node.pos,
            )
        self._check_choice(left, right)
        self._check_choice(right, left)
        if not left.const and not right.const and {left.type, right.type} == TIME_TYPES:
            self.sql_problem(
                "comparing a date field with a datetime field cannot run in the database",
                node.pos,
                "compare each of them with today() or now() instead",
            )
        return replace(
            node, left=left, right=right, type="boolean", const=left.const and right.const
        )

    def _InList(self, node: a.InList) -> a.Node:
        left = self.visit(node.left)
        if isinstance(node.right, a.CurrentUser) and node.right.attr == "departments":
            right = self.visit(node.right)
            if left.type not in ("department", "number"):
                raise ConditionError(
                    f"current_user.departments holds departments, not {describe_type(left.type)}",
                    node.pos,
                )
            return replace(node, left=left, right=right, type="boolean", const=left.const)
        if not isinstance(node.right, a.ListLiteral):
            hint = "write x in ['a', 'b']"
            if node.right.__class__ in (a.Field, a.Traverse):
                hint = "for a tags or multi-choice field write `tags contains 'vip'`"
            raise ConditionError("'in' needs a list in [brackets]", node.right.pos, hint)
        if not node.right.items:
            raise ConditionError("an empty list never matches", node.right.pos)
        if left.type in ("list", "null", "duration", "departments"):
            raise ConditionError(
                f"'in' cannot test {describe_type(left.type)}",
                node.pos,
                "for a tags or multi-choice field write `tags contains 'vip'`",
            )
        items = []
        for raw in node.right.items:
            item = self._coerce(self.visit(raw), left.type)
            if item.type == "null":
                raise ConditionError(
                    "null in a list never matches", item.pos, "write `x is empty or x in [...]`"
                )
            self._comparable(left, item, "in", item.pos)
            if {left.type, item.type} == TIME_TYPES:
                raise ConditionError(
                    f"this list mixes dates and datetimes: {describe_type(item.type)} "
                    f"for {describe_type(left.type)}",
                    item.pos,
                )
            self._check_choice(left, item)
            items.append(item)
        right = replace(
            node.right, items=tuple(items), type="list", const=all(i.const for i in items)
        )
        return replace(
            node, left=left, right=right, type="boolean", const=left.const and right.const
        )

    def _IsEmpty(self, node: a.IsEmpty) -> a.Node:
        operand = self.visit(node.operand)
        if operand.type == "duration":
            raise ConditionError("a duration is never empty", node.pos)
        return replace(node, operand=operand, type="boolean", const=operand.const)

    def _TextMatch(self, node: a.TextMatch) -> a.Node:
        left, right = self.visit(node.left), self.visit(node.right)
        words = node.op.replace("_", " ")
        if right.type == "null":
            raise ConditionError(f"'{words}' null is never true", right.pos, "write `x is empty`")
        if node.op == "contains" and left.type == "list":
            self.require(right, "string", "'contains' on a list")
            self._check_choice(left, right)
        elif left.type != "string":
            what = "texts and lists (tags, multi-choice)" if node.op == "contains" else "texts"
            raise ConditionError(
                f"'{words}' works on {what}, not {describe_type(left.type)}", node.pos
            )
        else:
            self.require(right, "string", f"'{words}'")
        return replace(
            node, left=left, right=right, type="boolean", const=left.const and right.const
        )

    # --- arithmetic -----------------------------------------------------------------------------

    def _Negate(self, node: a.Negate) -> a.Node:
        operand = self.visit(node.operand)
        if operand.type != "number":
            raise ConditionError(f"'-' needs a number, not {describe_type(operand.type)}", node.pos)
        return replace(node, operand=operand, type="number", const=operand.const)

    def _Arith(self, node: a.Arith) -> a.Node:
        left, right = self.visit(node.left), self.visit(node.right)
        const = left.const and right.const
        if left.type == "number" and right.type == "number":
            return replace(node, left=left, right=right, type="number", const=const)
        if node.op in "+-" and left.type in TIME_TYPES and right.type == "duration":
            return self._time_arith(node, left, right, left, right)
        if node.op == "+" and left.type == "duration" and right.type in TIME_TYPES:
            return self._time_arith(node, left, right, right, left)
        raise ConditionError(arith_message(node.op, left, right), node.pos, arith_hint(left, right))

    def _time_arith(
        self, node: a.Arith, left: a.Node, right: a.Node, when: a.Node, span: a.Node
    ) -> a.Node:
        assert isinstance(span, a.DurationLiteral)
        unit, amount = span.unit, span.amount
        words = unit.replace("_", " ")
        if when.type == "date" and unit in ("minutes", "hours", "working_hours"):
            raise ConditionError(
                f"{words} need a date and time, not a date",
                span.pos,
                "use now() (a datetime) or a datetime field, or count in days",
            )
        if amount != amount.to_integral_value() and (when.type == "date" or unit == "working_days"):
            raise ConditionError(f"'{amount} {words}' must be a whole number here", span.pos)
        if unit.startswith("working_") and not when.const:
            raise ConditionError(WORKING_DAY_MESSAGE, node.pos)
        return replace(
            node, left=left, right=right, type=when.type, const=left.const and right.const
        )

    # --- helpers ----------------------------------------------------------------------------------

    def _coerce_pair(self, left: a.Node, right: a.Node) -> tuple[a.Node, a.Node]:
        return self._coerce(left, right.type), self._coerce(right, left.type)

    def _coerce(self, node: a.Node, other_type: str) -> a.Node:
        """A text literal next to a date or datetime becomes a date/datetime literal."""
        if not (isinstance(node, a.Literal) and isinstance(node.value, str)):
            return node
        if other_type not in TIME_TYPES:
            return node
        text = node.value
        if len(text) == 10:
            return a.DateLiteral(
                pos=node.pos, value=parse_date_text(text, node.pos), type="date", const=True
            )
        value = parse_datetime_text(text, node.pos)
        return a.DateTimeLiteral(pos=node.pos, value=value, type="datetime", const=True)

    def _comparable(self, left: a.Node, right: a.Node, op: str, pos: int) -> None:
        same_target = self._target(left) == self._target(right)
        if not comparable(left.type, right.type, same_target):
            raise ConditionError(
                f"cannot compare {describe_type(left.type)} with {describe_type(right.type)} "
                f"('{op}')",
                pos,
                compare_hint(left.type, right.type),
            )

    def _target(self, node: a.Node) -> str | None:
        if isinstance(node, a.Field):
            return self.scope.info.fields[node.name].target
        if isinstance(node, a.Traverse):
            return self.scope.entities[node.target].fields[node.name].target
        return None

    def _check_choice(self, field_node: a.Node, value: a.Node) -> None:
        choices = getattr(field_node, "choices", None)
        if not choices or not isinstance(value, a.Literal) or not isinstance(value.value, str):
            return
        if value.value not in choices:
            name = field_node.name if isinstance(field_node, a.Field | a.Traverse) else "it"
            raise ConditionError(
                f"'{value.value}' is not a choice of {name}{suggest(value.value, choices)}",
                value.pos,
                f"choices: {', '.join(choices)}",
            )

    def check_date_arithmetic(self, root: a.Node) -> None:
        """Arithmetic on a date field is allowed only inside a comparison with a constant."""
        stack: list[tuple[a.Node, bool]] = [(root, False)]
        while stack:
            node, allowed = stack.pop()
            if _is_field_date_arith(node) and not allowed:
                self.sql_problem(
                    "arithmetic on a date field can run in the database only when it is compared "
                    "with a value that does not depend on the record",
                    node.pos,
                    "write e.g. `purchased_at + 3 days <= today()`",
                )
            for child in a.children(node):
                stack.append((child, _allows_date_arith(node, child, allowed)))


def _require_usable(info: FieldInfo, pos: int) -> None:
    if not info.usable:
        what = (
            "a reference without a target" if info.type == "reference" else f"of type {info.type!r}"
        )
        raise ConditionError(f"the field '{info.name}' ({what}) cannot be used in conditions", pos)


def _allows_date_arith(parent: a.Node, child: a.Node, parent_allowed: bool) -> bool:
    if isinstance(parent, a.Compare):
        other = parent.right if child is parent.left else parent.left
        return other.const
    return _is_field_date_arith(parent) and parent_allowed
