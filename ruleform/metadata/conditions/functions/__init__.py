"""The functions of the condition language, one module each, and their registry.

Each module defines ``FUNCTION``, a :class:`~.base.ConditionFunction` holding how the
function's arguments are parsed into its node, its type check, its Python evaluation, its
SQL and its explanation in every locale. The parser, the type checker, the evaluator, the
SQL builder and the explainer find a function here — by name (the parser) or by its node
(everything after) — and call its hooks; none of them knows a function by name.

Adding a function: write ``functions/<name>.py`` (a node class, if no existing one fits,
and ``FUNCTION``), add it to :data:`_BUILT_IN` below, and describe it in
docs/conditions-grammar.md (``tests/conditions/test_function_registry.py`` checks all
three). :func:`register_function` adds one at run time (tests, experiments); the parser's
``KEYWORDS`` list only the built-in ones.
"""

from __future__ import annotations

from .. import ast as a
from . import changed, count, date, datetime, now, today
from .base import LOCALES, ConditionFunction

__all__ = [
    "FUNCTIONS",
    "LOCALES",
    "ConditionFunction",
    "function_for",
    "register_function",
    "unregister_function",
]

_BUILT_IN = (
    today.FUNCTION,
    now.FUNCTION,
    date.FUNCTION,
    datetime.FUNCTION,
    changed.FUNCTION,
    count.FUNCTION,
)
"""The functions of the language, in the order error hints and the docs list them."""

FUNCTIONS: dict[str, ConditionFunction] = {}
"""Every function by name (lower case), in a fixed order."""

_BY_NODE: dict[type[a.Node], ConditionFunction] = {}


def register_function(function: ConditionFunction) -> ConditionFunction:
    """Add ``function`` to the language; ValueError if its name or node is taken."""
    name = function.name
    if not name.isidentifier() or name != name.lower():
        raise ValueError(f"a function name is a lower-case word, not {name!r}")
    if name in FUNCTIONS:
        raise ValueError(f"the function {name}() is already registered")
    if function.node in _BY_NODE:
        raise ValueError(
            f"{function.node.__name__} is already the node of {_BY_NODE[function.node].name}()"
        )
    for hooks in (function.explain, function.explain_compare or dict.fromkeys(LOCALES)):
        missing = [locale for locale in LOCALES if locale not in hooks]
        if missing:
            raise ValueError(f"{name}() has no explanation in {', '.join(missing)}")
    FUNCTIONS[name] = function
    _BY_NODE[function.node] = function
    return function


def unregister_function(name: str) -> None:
    """Remove a function added with :func:`register_function` (KeyError if unknown)."""
    function = FUNCTIONS.pop(name)
    del _BY_NODE[function.node]


def function_for(node: a.Node) -> ConditionFunction | None:
    """The function whose node ``node`` is (None for the other nodes)."""
    return _BY_NODE.get(type(node))


for _function in _BUILT_IN:
    register_function(_function)
