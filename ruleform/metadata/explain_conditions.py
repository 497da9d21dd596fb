"""A checked condition read back in words, for process owners (``ruleform explain``).

``condition_words`` turns ``owner = current_user or customer.owner = current_user`` into
``负责人是本人，或 客户的负责人是本人`` (zh-CN) / ``Owner is the user, or Owner of Customer
is the user`` (en): fields by their labels, statuses and choices by theirs, the current
user, today, counts of related records. ``condition_alternatives`` splits a condition
joined by ``or`` into its alternatives, so a row scope reads as a list. Anything without
words (an arithmetic step, say) is shown as written. The words are in ``PHRASES[…]["cond"]``;
a function (``today()``, ``count(…)``) brings its own (``conditions/functions/``).
"""

from __future__ import annotations

from collections.abc import Callable

from .conditions import ast as a
from .conditions.functions import function_for
from .explain_phrases import PHRASES, duration_text
from .model import Duration, Entity, Rulebook

__all__ = ["condition_words", "condition_alternatives"]

_DATES = ("date", "datetime")


def _is_en(locale: str) -> bool:
    return locale.split("-")[0].lower() == "en"


def _table(locale: str) -> str:
    """The phrase table of ``locale``: its language's (``en-GB`` → ``en``), else zh-CN."""
    return "en" if _is_en(locale) else "zh-CN"


def condition_alternatives(node: a.Node) -> list[a.Node]:
    """The alternatives of a condition joined by ``or`` (the condition itself otherwise)."""
    if isinstance(node, a.BoolOp) and node.op == "or":
        return list(node.items)
    return [node]


def condition_words(rb: Rulebook, entity: Entity, node: a.Node, locale: str = "zh-CN") -> str:
    """``node`` (a checked condition on ``entity``) in plain words."""
    return _Words(rb, locale).text(node, entity)


class _Words:
    def __init__(self, rb: Rulebook, locale: str) -> None:
        self.rb = rb
        self.locale = locale
        self.table = _table(locale)
        self.p = PHRASES[self.table]["cond"]
        self.system = PHRASES[self.table]["system"]

    # --- values --------------------------------------------------------------------------

    def field_label(self, entity: Entity | None, name: str) -> str:
        f = entity.fields.get(name) if entity is not None else None
        return f.label.get(self.locale) if f is not None else self.system.get(name, name)

    def related(self, name: str) -> tuple[Entity | None, str]:
        """The entity ``name`` and its label (the name when it is unknown)."""
        entity = self.rb.entities.get(name)
        return entity, entity.label.get(self.locale) if entity is not None else name

    def value(self, node: a.Node, entity: Entity | None, about: a.Node | None = None) -> str:
        """A value in words; ``about`` is the other side of a comparison (for choices)."""
        p = self.p
        function = function_for(node)
        if function is not None:
            return function.explain[self.table](self, node, entity)
        if isinstance(node, a.Field):
            return self.field_label(entity, node.name)
        if isinstance(node, a.Traverse):
            target = self.rb.entities.get(node.target)
            return p["traverse"].format(ref=self.field_label(entity, node.ref),
                                        f=self.field_label(target, node.name))  # fmt: skip
        if isinstance(node, a.CurrentUser):
            return p["user"][node.attr]
        if isinstance(node, a.Literal):
            return self.literal(node, entity, about)
        if isinstance(node, a.DurationLiteral):
            return duration_text(Duration(node.amount, node.unit), self.locale)
        if isinstance(node, a.ListLiteral):
            sep = ", " if _is_en(self.locale) else "、"
            return sep.join(self.value(i, entity, about) for i in node.items)
        if isinstance(node, a.Arith):
            return (f"{self.value(node.left, entity)} {node.op} "
                    f"{self.value(node.right, entity)}")  # fmt: skip
        if isinstance(node, a.Negate):
            return f"-{self.value(node.operand, entity)}"
        return self.text(node, entity)

    def literal(self, node: a.Literal, entity: Entity | None, about: a.Node | None) -> str:
        p = self.p
        v = node.value
        if v is None:
            return p["null"]
        if isinstance(v, bool):
            return p["true" if v else "false"]
        if not isinstance(v, str):
            return str(v)
        return p["quote"].format(v=self.choice_label(v, entity, about))

    def choice_label(self, value: str, entity: Entity | None, about: a.Node | None) -> str:
        """A status or choice by its label (``'granted'`` → ``已授权``)."""
        owner, name = entity, None
        if isinstance(about, a.Field):
            name = about.name
        elif isinstance(about, a.Traverse):
            owner, name = self.rb.entities.get(about.target), about.name
        if owner is None or name is None:
            return value
        if name == "status" and owner.statuses and value in owner.statuses.states:
            return owner.statuses.states[value].label.get(self.locale)
        f = owner.fields.get(name)
        for choice in (f.choices if f is not None else ()) or ():
            if choice.value == value:
                return choice.label.get(self.locale)
        return value

    # --- conditions ----------------------------------------------------------------------

    def text(self, node: a.Node, entity: Entity | None) -> str:
        p = self.p
        if isinstance(node, a.BoolOp):
            parts = [self.text(i, entity) for i in node.items]
            return p[node.op].join(parts)
        if isinstance(node, a.Not):
            return p["not"].format(c=self.text(node.operand, entity))
        if isinstance(node, a.Compare):
            return self.compare(node, entity)
        if isinstance(node, a.InList):
            key = "not_in" if node.negated else "in"
            if isinstance(node.right, a.CurrentUser):
                key += "_depts"
            return p[key].format(x=self.value(node.left, entity),
                                 v=self.value(node.right, entity, node.left))  # fmt: skip
        if isinstance(node, a.IsEmpty):
            key = "not_empty" if node.negated else "empty"
            return p[key].format(x=self.value(node.operand, entity))
        if isinstance(node, a.TextMatch):
            return p[node.op].format(x=self.value(node.left, entity),
                                     v=self.value(node.right, entity, node.left))  # fmt: skip
        if isinstance(node, a.HasRole):
            role = self.rb.roles.get(node.role)
            return p["has_role"].format(r=role.label.get(self.locale) if role else node.role)
        if isinstance(node, a.Field) and node.type == "boolean":
            return p["is_true"].format(x=self.value(node, entity))
        return self.value(node, entity)

    def compare(self, node: a.Compare, entity: Entity | None) -> str:
        p = self.p
        left, right, op = node.left, node.right, node.op
        if self._compare_words(right) and not self._compare_words(left):
            flipped = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
            left, right, op = right, left, flipped.get(op, op)
        words = self._compare_words(left)
        if words is not None:
            said = words(self, left, op, right, entity)
            if said is not None:
                return said
        kind = "date" if left.type in _DATES or right.type in _DATES else "plain"
        return p["cmp"][kind][op].format(x=self.value(left, entity, right),
                                         y=self.value(right, entity, left))  # fmt: skip

    def _compare_words(self, node: a.Node) -> Callable[..., str | None] | None:
        """How the function ``node`` reads in a comparison (``count(…) = 0``), if it says."""
        function = function_for(node)
        return None if function is None else function.explain_compare.get(self.table)
