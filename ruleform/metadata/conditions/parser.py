"""The parser: tokens -> syntax tree, by recursive descent (one function per precedence level).

Precedence, loosest first::

    or  <  and  <  not  <  predicate (= != < <= > >= in, not in, is [not] empty,
                                      contains, starts with, ends with, has role)
        <  + -  <  * /  <  unary -  <  primary

Comparisons do not chain (``a < b < c`` is an error). ``and``/``or`` chains become one
n-ary node, so long chains stay shallow. Nesting deeper than :data:`MAX_DEPTH` is an
error, never a ``RecursionError``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal

from ...errors import ConditionError
from . import ast as a
from .functions import FUNCTIONS
from .scope import suggest
from .tokens import Token, tokenize

__all__ = [
    "MAX_DEPTH",
    "RESERVED_WORDS",
    "KEYWORDS",
    "FUNCTIONS",
    "UNITS",
    "parse",
]

MAX_DEPTH = 32
"""The deepest nesting accepted (parentheses, not, lists, calls, and the tree's depth)."""

RESERVED_WORDS = frozenset(
    {"and", "or", "not", "in", "is", "empty", "true", "false", "null", "current_user"}
    | {"contains", "starts", "ends", "with", "has", "where"}
)
"""Words that can never name a field in a condition."""

UNITS = {
    "minute": "minutes",
    "minutes": "minutes",
    "hour": "hours",
    "hours": "hours",
    "day": "days",
    "days": "days",
    "week": "weeks",
    "weeks": "weeks",
}
_WORKING_UNITS = {"day": "working_days", "days": "working_days"} | {
    "hour": "working_hours",
    "hours": "working_hours",
}

KEYWORDS = RESERVED_WORDS | set(FUNCTIONS) | set(UNITS) | {"role", "working"}
"""Every word with a meaning in the language (the loader may refuse them as identifiers);
the function names are those of the registry (``functions/``) when this module loads."""

_COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")


def parse(text: str) -> a.Node:
    """Parse condition text into an (unchecked) syntax tree; raise ConditionError."""
    return _Parser(text).parse()


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.nesting = 0

    # --- helpers -----------------------------------------------------------------------

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, ahead: int = 1) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return tok

    def at_word(self, *words: str) -> bool:
        return self.tok.word in words

    def at_op(self, *ops: str) -> bool:
        return self.tok.kind == "op" and self.tok.text in ops

    def expect_op(self, op: str, what: str) -> Token:
        if not self.at_op(op):
            raise ConditionError(
                f"expected '{op}' {what}, found {self.tok.describe()}", self.tok.pos
            )
        return self.advance()

    def expect_word(self, word: str, after: str) -> Token:
        if not self.at_word(word):
            raise ConditionError(
                f"expected '{word}' after '{after}', found {self.tok.describe()}", self.tok.pos
            )
        return self.advance()

    @contextmanager
    def nested(self, pos: int) -> Iterator[None]:
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            raise ConditionError(
                f"the condition is nested too deeply (more than {MAX_DEPTH} levels)",
                pos,
                "simplify it or split it into several rules",
            )
        try:
            yield
        finally:
            self.nesting -= 1

    # --- grammar -------------------------------------------------------------------------

    def parse(self) -> a.Node:
        if self.tok.kind == "end":
            raise ConditionError("the condition is empty", 0, "write e.g. status = 'won'")
        node = self.or_expr()
        if self.tok.kind != "end":
            raise self._unexpected_tail()
        if a.depth(node) > MAX_DEPTH:
            raise ConditionError(
                f"the condition is nested too deeply (more than {MAX_DEPTH} levels)",
                node.pos,
                "simplify it or split it into several rules",
            )
        return node

    def _unexpected_tail(self) -> ConditionError:
        tok = self.tok
        if tok.kind == "op" and tok.text == ")":
            return ConditionError("this ')' has no matching '('", tok.pos)
        if tok.kind == "op" and tok.text in _COMPARISONS:
            return ConditionError("comparisons cannot be chained", tok.pos, "write a < b and b < c")
        hint = "is an 'and' or 'or' missing before it?"
        what = "text" if tok.kind == "string" else tok.describe()
        return ConditionError(f"unexpected {what}", tok.pos, hint)

    def or_expr(self) -> a.Node:
        return self._chain("or", self.and_expr)

    def and_expr(self) -> a.Node:
        return self._chain("and", self.not_expr)

    def _chain(self, word: str, operand: Callable[[], a.Node]) -> a.Node:
        first = operand()
        items = [first]
        while self.at_word(word):
            self.advance()
            items.append(operand())
        if len(items) == 1:
            return first
        return a.BoolOp(pos=first.pos, op=word, items=tuple(items))

    def not_expr(self) -> a.Node:
        if self.at_word("not"):
            tok = self.advance()
            with self.nested(tok.pos):
                return a.Not(pos=tok.pos, operand=self.not_expr())
        return self.predicate()

    def predicate(self) -> a.Node:
        left = self.additive()
        tok = self.tok
        if tok.kind == "op" and tok.text in _COMPARISONS:
            self.advance()
            node: a.Node = a.Compare(pos=tok.pos, op=tok.text, left=left, right=self.additive())
            if self.at_op(*_COMPARISONS):
                raise ConditionError(
                    "comparisons cannot be chained", self.tok.pos, "write a < b and b < c"
                )
            return node
        word = tok.word
        if word == "not" and self.peek().word == "in":
            self.advance()
            self.advance()
            return a.InList(pos=tok.pos, left=left, right=self.additive(), negated=True)
        if word == "in":
            self.advance()
            return a.InList(pos=tok.pos, left=left, right=self.additive())
        if word == "is":
            return self._is_empty(left)
        if word in ("contains", "starts", "ends"):
            return self._text_match(left)
        if word == "has":
            return self._has_role(left)
        if word == "not":
            raise ConditionError(
                "'not' cannot follow a value here",
                tok.pos,
                "write not (x contains 'a'), or x not in [...]",
            )
        return left

    def _is_empty(self, left: a.Node) -> a.Node:
        tok = self.advance()
        negated = False
        if self.at_word("not"):
            self.advance()
            negated = True
        if not self.at_word("empty"):
            raise ConditionError(
                f"expected 'empty' after 'is', found {self.tok.describe()}",
                self.tok.pos,
                "write x is empty, x is not empty, or x = value",
            )
        self.advance()
        return a.IsEmpty(pos=tok.pos, operand=left, negated=negated)

    def _text_match(self, left: a.Node) -> a.Node:
        tok = self.advance()
        op = "contains"
        if tok.word in ("starts", "ends"):
            self.expect_word("with", tok.text)
            op = f"{tok.word}_with"
        return a.TextMatch(pos=tok.pos, op=op, left=left, right=self.additive())

    def _has_role(self, left: a.Node) -> a.Node:
        tok = self.advance()
        self.expect_word("role", "has")
        if not isinstance(left, a.CurrentUser) or left.attr != "id":
            raise ConditionError(
                "only current_user can 'have a role'",
                left.pos,
                "write current_user has role 'sales'",
            )
        role = self.tok
        if role.kind != "string":
            raise ConditionError(
                f"expected a role name in quotes after 'has role', found {role.describe()}",
                role.pos,
                "write current_user has role 'sales'",
            )
        self.advance()
        return a.HasRole(pos=tok.pos, role=role.text, role_pos=role.pos)

    def additive(self) -> a.Node:
        left = self.multiplicative()
        while self.at_op("+", "-"):
            tok = self.advance()
            left = a.Arith(pos=tok.pos, op=tok.text, left=left, right=self.multiplicative())
        return left

    def multiplicative(self) -> a.Node:
        left = self.unary()
        while self.at_op("*", "/"):
            tok = self.advance()
            left = a.Arith(pos=tok.pos, op=tok.text, left=left, right=self.unary())
        return left

    def unary(self) -> a.Node:
        if not self.at_op("-"):
            return self.primary()
        tok = self.advance()
        with self.nested(tok.pos):
            operand = self.unary()
        if isinstance(operand, a.Literal) and isinstance(operand.value, int | Decimal):
            if not isinstance(operand.value, bool):
                return a.Literal(pos=tok.pos, value=-operand.value)
        if isinstance(operand, a.DurationLiteral):
            return a.DurationLiteral(pos=tok.pos, amount=-operand.amount, unit=operand.unit)
        return a.Negate(pos=tok.pos, operand=operand)

    def primary(self) -> a.Node:
        tok = self.tok
        if tok.kind == "number":
            return self._number()
        if tok.kind == "string":
            self.advance()
            return a.Literal(pos=tok.pos, value=tok.text)
        if self.at_op("("):
            self.advance()
            with self.nested(tok.pos):
                node = self.or_expr()
            self.expect_op(")", f"to close the '(' at offset {tok.pos}")
            return node
        if self.at_op("["):
            return self._list()
        if tok.kind == "word":
            return self._word()
        raise self._expected_value()

    def _expected_value(self) -> ConditionError:
        tok = self.tok
        if tok.kind == "end":
            return ConditionError("the condition ends too early — expected a value", tok.pos)
        return ConditionError(f"expected a value, found {tok.describe()}", tok.pos)

    def _number(self) -> a.Node:
        tok = self.advance()
        value = tok.value
        assert isinstance(value, int | Decimal)
        unit = self.tok.word
        if unit in UNITS:
            self.advance()
            return a.DurationLiteral(pos=tok.pos, amount=Decimal(value), unit=UNITS[unit])
        if unit == "working":
            self.advance()
            kind = self.tok.word
            if kind not in _WORKING_UNITS:
                raise ConditionError(
                    f"expected 'days' or 'hours' after 'working', found {self.tok.describe()}",
                    self.tok.pos,
                )
            self.advance()
            return a.DurationLiteral(pos=tok.pos, amount=Decimal(value), unit=_WORKING_UNITS[kind])
        if unit in ("month", "months", "year", "years"):
            raise ConditionError(
                f"'{self.tok.text}' is not a unit of time here (their length varies)",
                self.tok.pos,
                "use days or weeks, e.g. 30 days",
            )
        return a.Literal(pos=tok.pos, value=value)

    def _list(self) -> a.Node:
        open_tok = self.advance()
        items: list[a.Node] = []
        with self.nested(open_tok.pos):
            while not self.at_op("]"):
                items.append(self.additive())
                if not self.at_op(","):
                    break
                self.advance()
        self.expect_op("]", f"to close the list started at offset {open_tok.pos}")
        return a.ListLiteral(pos=open_tok.pos, items=tuple(items))

    def _word(self) -> a.Node:
        tok = self.tok
        word = tok.word
        if word in ("true", "false", "null"):
            self.advance()
            return a.Literal(pos=tok.pos, value={"true": True, "false": False}.get(word))
        if word == "current_user":
            return self._current_user()
        if self.peek().kind == "op" and self.peek().text == "(":
            return self._call()
        if word in RESERVED_WORDS:
            raise ConditionError(f"expected a value, found the keyword '{tok.text}'", tok.pos)
        self.advance()
        if self.at_op("."):
            self.advance()
            name = self.tok
            if name.kind != "word":
                raise ConditionError(
                    f"expected a field name after '{tok.text}.', found {name.describe()}", name.pos
                )
            self.advance()
            if self.at_op("."):
                raise ConditionError(
                    "a condition can follow a reference only one step",
                    self.tok.pos,
                    "use a computed field for longer paths",
                )
            return a.Traverse(pos=tok.pos, ref=tok.text, name=name.text, name_pos=name.pos)
        return a.Field(pos=tok.pos, name=tok.text)

    def _current_user(self) -> a.Node:
        tok = self.advance()
        if not self.at_op("."):
            return a.CurrentUser(pos=tok.pos)
        self.advance()
        attr = self.tok
        known = ("id", "department", "departments")
        if attr.word not in known:
            raise ConditionError(
                f"current_user has no '{attr.text}'{suggest(attr.text, known)}",
                attr.pos,
                "known: current_user.id, current_user.department, current_user.departments",
            )
        self.advance()
        return a.CurrentUser(pos=tok.pos, attr=attr.word)

    def _call(self) -> a.Node:
        tok = self.advance()
        name = tok.word
        open_tok = self.advance()
        function = FUNCTIONS.get(name)
        if function is None:
            raise ConditionError(
                f"unknown function '{tok.text}'{suggest(name, FUNCTIONS)}",
                tok.pos,
                "functions: " + ", ".join(f"{f}()" for f in FUNCTIONS),
            )
        with self.nested(open_tok.pos):
            node = function.parse(self, tok)
        self.expect_op(")", f"to close {name}(")
        return node

    # --- for the functions' parse hooks (functions/base.py: ArgParser) -------------------

    def at_name(self) -> bool:
        """Whether the current token is a word that may name a field or an entity."""
        return self.tok.kind == "word" and self.tok.word not in RESERVED_WORDS

    def string_arg(self, name: str, example: str) -> Token:
        """The quoted text argument of ``name(...)``, or an error with an example."""
        arg = self.tok
        if arg.kind != "string":
            raise ConditionError(
                f"{name}() takes a text in quotes, found {arg.describe()}",
                arg.pos,
                f"write {name}('{example}')",
            )
        return self.advance()
