"""A fast yes/no check of plain data against the language's JSON Schema.

jsonschema builds a validator object for every pair of instance node and schema node it
visits, which makes checking a large, valid rulebook slow. :func:`compile_schema` turns
the schema once into plain Python predicates that answer only "valid or not".
``validate_shape`` asks this first and runs jsonschema (to explain each mistake) only
when the answer is "not valid".

It implements exactly the keywords ``schema.py`` uses, with jsonschema's semantics
(``1`` is not ``true``, ``1.0`` is an integer, keywords apply only to their own types);
a schema with any other keyword is refused when it is compiled, so the two never
silently disagree. ``tests/metadata/test_schema_check.py`` compares them.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable
from typing import Any

__all__ = ["compile_schema", "Check"]

Check = Callable[[Any], bool]

_ANNOTATIONS = frozenset({"description", "title", "$schema", "$id", "format"})
_TYPES: dict[str, Check] = {
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "number": lambda v: isinstance(v, numbers.Number) and not isinstance(v, bool),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer())
    ),
}


def compile_schema(schema: Any) -> Check:
    """A predicate that is true exactly when jsonschema finds no error in the instance."""
    if schema is True:
        return lambda v: True
    if schema is False:
        return lambda v: False
    checks = []
    for key, value in schema.items():
        if key in _ANNOTATIONS or key == "additionalProperties" and "properties" in schema:
            continue  # additionalProperties is compiled together with properties
        build = _KEYWORDS.get(key)
        if build is None:
            raise ValueError(f"the fast schema check does not support the keyword {key!r}")
        checks.append(build(value, schema))
    return _all(checks)


def _all(checks: list[Check]) -> Check:
    """One predicate for several (plain calls: this runs for every node of a rulebook)."""
    if not checks:
        return lambda v: True
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda v: first(v) and second(v)

    def every(v: Any) -> bool:
        for check in checks:
            if not check(v):
                return False
        return True

    return every


def _type(value: Any, schema: dict) -> Check:
    names = value if isinstance(value, list) else [value]
    if len(names) == 1:
        return _TYPES[names[0]]
    tests = [_TYPES[t] for t in names]
    return lambda v: any(test(v) for test in tests)


def _equal(a: Any, b: Any) -> bool:
    """jsonschema's equality: booleans differ from numbers, containers compare deeply."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b or (_is_number(a) and _is_number(b) and a == b)


def _is_number(v: Any) -> bool:
    return isinstance(v, numbers.Number) and not isinstance(v, bool)


def _enum(value: Any, schema: dict) -> Check:
    if all(isinstance(option, str) for option in value):  # the usual case: a set lookup
        options = frozenset(value)
        return lambda v: isinstance(v, str) and v in options
    return lambda v: any(_equal(v, option) for option in value)


def _const(value: Any, schema: dict) -> Check:
    return lambda v: _equal(v, value)


_PLAIN = {"string": str, "array": list, "object": dict}


def _for(kind: str, test: Callable[[Any], bool]) -> Check:
    """``test`` applied only to values of JSON type ``kind``; others pass."""
    plain = _PLAIN.get(kind)
    if plain is not None:
        return lambda v: not isinstance(v, plain) or test(v)
    is_kind = _TYPES[kind]
    return lambda v: not is_kind(v) or test(v)


def _pattern(value: str, schema: dict) -> Check:
    search = re.compile(value).search
    return lambda v: not isinstance(v, str) or search(v) is not None


def _properties(value: dict, schema: dict) -> Check:
    known = {name: compile_schema(sub) for name, sub in value.items()}
    extra = schema.get("additionalProperties", True)
    other = compile_schema(extra)

    def check(v: Any) -> bool:
        if not isinstance(v, dict):
            return True
        for key, item in v.items():
            test = known.get(key)
            if test is None:
                if extra is False or not other(item):
                    return False
            elif not test(item):
                return False
        return True

    return check


def _additional(value: Any, schema: dict) -> Check:
    other = compile_schema(value)

    def check(v: Any) -> bool:
        if isinstance(v, dict):
            for item in v.values():
                if not other(item):
                    return False
        return True

    return check


def _property_names(value: Any, schema: dict) -> Check:
    test = compile_schema(value)

    def check(v: Any) -> bool:
        if isinstance(v, dict):
            for key in v:
                if not test(key):
                    return False
        return True

    return check


def _items(value: Any, schema: dict) -> Check:
    test = compile_schema(value)

    def check(v: Any) -> bool:
        if isinstance(v, list):
            for item in v:
                if not test(item):
                    return False
        return True

    return check


def _unique(value: bool, schema: dict) -> Check:
    def unique(v: list) -> bool:
        if all(isinstance(item, str) for item in v):
            return len(set(v)) == len(v)
        return all(not _equal(a, b) for i, a in enumerate(v) for b in v[i + 1 :])

    return _for("array", unique) if value else (lambda v: True)


def _any_of(value: list, schema: dict) -> Check:
    branches = [compile_schema(sub) for sub in value]
    return lambda v: any(branch(v) for branch in branches)


def _bound(kind: str, size: Callable[[Any], Any], ok: Callable[[Any, Any], bool]) -> Any:
    def build(value: Any, schema: dict) -> Check:
        return _for(kind, lambda v: ok(size(v), value))

    return build


def _at_least(a: Any, b: Any) -> bool:
    return a >= b


def _at_most(a: Any, b: Any) -> bool:
    return a <= b


_KEYWORDS: dict[str, Callable[[Any, dict], Check]] = {
    "type": _type,
    "enum": _enum,
    "const": _const,
    "pattern": _pattern,
    "properties": _properties,
    "additionalProperties": _additional,
    "required": lambda value, schema: _for("object", lambda v: all(k in v for k in value)),
    "propertyNames": _property_names,
    "items": _items,
    "uniqueItems": _unique,
    "anyOf": _any_of,
    "minLength": _bound("string", len, _at_least),
    "maxLength": _bound("string", len, _at_most),
    "minItems": _bound("array", len, _at_least),
    "maxItems": _bound("array", len, _at_most),
    "minProperties": _bound("object", len, _at_least),
    "maxProperties": _bound("object", len, _at_most),
    "minimum": _bound("number", lambda v: v, _at_least),
    "maximum": _bound("number", lambda v: v, _at_most),
}
