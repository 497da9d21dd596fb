"""SQL constructs whose spelling differs between PostgreSQL and SQLite.

Each is a SQLAlchemy ``FunctionElement`` whose arguments are ordinary expressions (values
are bound parameters); ``@compiles`` renders it per dialect by building plain SQLAlchemy
expressions from those arguments. The default rendering is PostgreSQL's; SQLite has its
own. Other databases are not supported.

=================  ==========================================  =================================
construct          PostgreSQL                                  SQLite
=================  ==========================================  =================================
bytewise(x)        ``(x) COLLATE "C"`` (code-point order)      ``x`` (BINARY is code-point order)
text_contains      ``h LIKE pattern ESCAPE '\\'``              ``instr(h, n) > 0``
text_starts        ``h LIKE pattern ESCAPE '\\'``              ``substr(h, 1, length(n)) = n``
text_ends          ``h LIKE pattern ESCAPE '\\'``              ``substr(h, len(h)-len(n)+1) = n``
list_contains      ``l @> array``                              ``EXISTS (SELECT 1 FROM json_each(l)
                                                               WHERE value = n)``
list_empty         array length of l (null / JSON null → 0)    ``coalesce(json_array_length(l), 0)``
=================  ==========================================  =================================

SQLite's ``LIKE`` ignores ASCII case, so text matching there uses ``instr``/``substr``
(case-sensitive, and no wildcards to escape).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

__all__ = [
    "bytewise",
    "text_contains",
    "text_starts",
    "text_ends",
    "list_contains",
    "list_empty",
    "like_pattern",
]

ESCAPE = "\\"


def escape_like(text: str) -> str:
    """Escape LIKE wildcards (and the escape character) in ``text``."""
    return text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


def like_pattern(op: str, needle: Any, *, literal: bool) -> Any:
    """The LIKE pattern for ``contains``/``starts_with``/``ends_with``.

    For a literal needle the escaped pattern is computed here and bound; for an expression
    it is built in SQL with ``replace()``.
    """
    before = "%" if op in ("contains", "ends_with") else ""
    after = "%" if op in ("contains", "starts_with") else ""
    if literal:
        return sa.literal(before + escape_like(needle) + after, sa.String())
    escaped = needle
    for char, repl in ((ESCAPE, ESCAPE * 2), ("%", ESCAPE + "%"), ("_", ESCAPE + "_")):
        escaped = sa.func.replace(escaped, sa.literal(char), sa.literal(repl), type_=sa.String())
    return sa.literal(before, sa.String()) + escaped + sa.literal(after, sa.String())


class bytewise(FunctionElement[str]):  # noqa: N801 - SQL functions are lower case
    """A text compared by code point (for ``< <= > >=``)."""

    type = sa.String()
    inherit_cache = True
    name = "rf_bytewise"


class _BooleanFunction(FunctionElement[bool]):
    type = sa.Boolean()
    inherit_cache = True


class text_contains(_BooleanFunction):  # noqa: N801
    """``text_contains(haystack, needle, like_pattern)``: case-sensitive substring test."""

    name = "rf_text_contains"
    inherit_cache = True


class text_starts(_BooleanFunction):  # noqa: N801
    """``text_starts(haystack, needle, like_pattern)``."""

    name = "rf_text_starts"
    inherit_cache = True


class text_ends(_BooleanFunction):  # noqa: N801
    """``text_ends(haystack, needle, like_pattern)``."""

    name = "rf_text_ends"
    inherit_cache = True


class list_contains(_BooleanFunction):  # noqa: N801
    """``list_contains(json_list, needle, jsonb_array_of_needle)``: membership in a JSON list."""

    name = "rf_list_contains"
    inherit_cache = True


class list_empty(_BooleanFunction):  # noqa: N801
    """``list_empty(json_list)``: SQL NULL, JSON null or ``[]``."""

    name = "rf_list_empty"
    inherit_cache = True


def _args(element: FunctionElement[Any]) -> list[Any]:
    return list(element.clauses)


def _wrap(sql: str) -> str:
    """Parenthesised, so the rendering stays one operand wherever it is placed."""
    return f"({sql})"


@compiles(bytewise)
def _bytewise_pg(element: bytewise, compiler: Any, **kw: Any) -> str:
    (arg,) = _args(element)
    return f'({compiler.process(arg, **kw)}) COLLATE "C"'


@compiles(bytewise, "sqlite")
def _bytewise_sqlite(element: bytewise, compiler: Any, **kw: Any) -> str:
    (arg,) = _args(element)
    return _wrap(compiler.process(arg, **kw))


@compiles(text_contains)
@compiles(text_starts)
@compiles(text_ends)
def _text_match_pg(element: FunctionElement[Any], compiler: Any, **kw: Any) -> str:
    haystack, _needle, pattern = _args(element)
    return _wrap(compiler.process(haystack.like(pattern, escape=ESCAPE), **kw))


@compiles(text_contains, "sqlite")
def _contains_sqlite(element: text_contains, compiler: Any, **kw: Any) -> str:
    haystack, needle, _pattern = _args(element)
    return _wrap(compiler.process(sa.func.instr(haystack, needle) > 0, **kw))


@compiles(text_starts, "sqlite")
def _starts_sqlite(element: text_starts, compiler: Any, **kw: Any) -> str:
    haystack, needle, _pattern = _args(element)
    head = sa.func.substr(haystack, 1, sa.func.length(needle), type_=sa.String())
    return _wrap(compiler.process(head == needle, **kw))


@compiles(text_ends, "sqlite")
def _ends_sqlite(element: text_ends, compiler: Any, **kw: Any) -> str:
    haystack, needle, _pattern = _args(element)
    start = sa.func.length(haystack) - sa.func.length(needle) + 1
    tail = sa.func.substr(haystack, start, type_=sa.String())
    return _wrap(compiler.process(tail == needle, **kw))


@compiles(list_contains)
def _list_contains_pg(element: list_contains, compiler: Any, **kw: Any) -> str:
    values, _needle, array = _args(element)
    return _wrap(compiler.process(values.op("@>", is_comparison=True)(array), **kw))


@compiles(list_contains, "sqlite")
def _list_contains_sqlite(element: list_contains, compiler: Any, **kw: Any) -> str:
    values, needle, _array = _args(element)
    each = sa.func.json_each(values).table_valued("value")
    found = sa.select(sa.literal_column("1")).select_from(each).where(each.c.value == needle)
    return _wrap(compiler.process(found.exists(), **kw))


@compiles(list_empty)
def _list_empty_pg(element: list_empty, compiler: Any, **kw: Any) -> str:
    (values,) = _args(element)
    is_array = sa.func.jsonb_typeof(values) == sa.literal("array")
    length = sa.case((is_array, sa.func.jsonb_array_length(values)))
    return _wrap(compiler.process(sa.func.coalesce(length, 0) == 0, **kw))


@compiles(list_empty, "sqlite")
def _list_empty_sqlite(element: list_empty, compiler: Any, **kw: Any) -> str:
    (values,) = _args(element)
    return _wrap(
        compiler.process(sa.func.coalesce(sa.func.json_array_length(values), 0) == 0, **kw)
    )
