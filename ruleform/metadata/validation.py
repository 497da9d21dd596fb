"""Check a source tree against the JSON Schema and explain each mistake in plain words.

jsonschema *yields* errors; this module *enriches* them with the place they were found
(file, line, column, path) and a suggestion ("did you mean 'phone'?"). Every error is
collected; none stops the run.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from datetime import date
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from ..errors import Problem
from .channels import on_change
from .field_types import on_change as on_field_types_change
from .schema import IDENT, rulebook_schema
from .schema_check import Check, compile_schema
from .source import SourceTree, format_path

__all__ = ["jsonable", "validate_shape", "suggest"]

_TYPE_WORDS = {
    "object": "a mapping (key: value)",
    "array": "a list",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "nothing (null)",
}


def jsonable(value: Any) -> Any:
    """The source data with dates as ISO text, so YAML and JSON sources look the same."""
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, date) else k.isoformat(): jsonable(v)
                for k, v in value.items()}  # fmt: skip
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def suggest(word: str, candidates: Iterable[str]) -> str:
    """``did you mean 'x'?`` for the closest candidate, or ''."""
    match = difflib.get_close_matches(str(word), [str(c) for c in candidates], n=1, cutoff=0.6)
    return f"did you mean '{match[0]}'?" if match else ""


@cache
def _validator() -> Draft202012Validator:
    schema = rulebook_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@cache
def _is_valid() -> Check:
    return compile_schema(rulebook_schema())


on_change(_validator.cache_clear)
on_change(_is_valid.cache_clear)
on_field_types_change(_validator.cache_clear)
on_field_types_change(_is_valid.cache_clear)


def validate_shape(tree: SourceTree, data: Any | None = None) -> list[Problem]:
    """Every shape error of the (jsonable) rulebook data, located in the source.

    A fast yes/no check (``schema_check``) runs first; jsonschema, which explains each
    mistake but is several times slower, runs only when there is something to explain.
    """
    data = jsonable(tree.data) if data is None else data
    if _is_valid()(data):
        return []
    problems: list[Problem] = []
    for error in _validator().iter_errors(data):
        problems.extend(_explain(tree, error))
    return _dedupe(problems)


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen, unique = set(), []
    for p in problems:
        key = (p.file, p.line, p.column, p.message)
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return sorted(unique, key=lambda p: (p.file, p.line, p.column))


def _explain(tree: SourceTree, error: ValidationError) -> list[Problem]:
    if error.validator in ("anyOf", "oneOf") and error.context:
        alternatives = _required_alternatives(error)
        if alternatives:
            path = tuple(error.absolute_path)
            return [_problem(tree, path, f"needs one of the keys {', '.join(alternatives)}; "
                                         "found none", prefer="key")]  # fmt: skip
        branch = _closest_branch(error)
        if branch is not None:
            problems: list[Problem] = []
            for sub in branch:
                problems.extend(_explain(tree, sub))
            return problems
        return [_problem(tree, tuple(error.absolute_path), _any_of_message(error))]
    path = tuple(error.absolute_path)
    handler = _HANDLERS.get(str(error.validator))
    if handler is None:
        return [_problem(tree, path, error.message)]
    return handler(tree, path, error)


def _required_alternatives(error: ValidationError) -> list[str]:
    """The keys of an ``anyOf`` of ``{required: [key]}`` branches when none is present."""
    subs = error.context or []
    if not all(s.validator == "required" and s.absolute_path == error.absolute_path
               for s in subs):  # fmt: skip
        return []
    return list(dict.fromkeys(k for s in subs for k in s.validator_value))


def _closest_branch(error: ValidationError) -> list[ValidationError] | None:
    """The errors of the anyOf branch that got furthest, or None if all failed at the top."""
    branches: dict[int, list[ValidationError]] = {}
    for sub in error.context or []:
        branches.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
    depth0 = len(error.absolute_path)

    def progress(errs: list[ValidationError]) -> tuple[int, int]:
        deepest = max(len(e.absolute_path) for e in errs)
        shallow_type = any(
            e.validator in ("type", "const", "enum") and len(e.absolute_path) == depth0
            for e in errs
        )
        return (0 if shallow_type else 1) + deepest - depth0, -len(errs)

    best = max(branches.values(), key=progress)
    score = progress(best)
    if score[0] == 0:
        return None
    return best


def _any_of_message(error: ValidationError) -> str:
    described = error.schema.get("description")
    got = _describe_value(error.instance)
    if described:
        return f"{got} is not allowed here. Expected: {described}"
    kinds = []
    for sub in error.schema.get(error.validator, []):
        if "const" in sub:
            kinds.append(repr(sub["const"]))
        elif "enum" in sub:
            kinds.extend(repr(v) for v in sub["enum"])
        elif "type" in sub:
            kinds.append(_TYPE_WORDS.get(str(sub["type"]), str(sub["type"])))
    return f"{got} is not allowed here; expected " + " or ".join(dict.fromkeys(kinds))


def _describe_value(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value)


def _problem(tree: SourceTree, path: tuple, message: str, hint: str = "",
             prefer: str = "value") -> Problem:  # fmt: skip
    ref = tree.where(path, prefer=prefer)
    return Problem(message, ref.file, ref.line, ref.column, ref.path or _fmt(path), hint)


def _fmt(path: tuple) -> str:
    return format_path(path)


def _additional(tree: SourceTree, path: tuple, error: ValidationError) -> list[Problem]:
    allowed = sorted(error.schema.get("properties", {}))
    unknown = [k for k in error.instance if k not in allowed]
    problems = []
    for key in unknown:
        hint = suggest(key, allowed)
        message = f"unknown key '{key}'"
        if not hint:
            message += f"; allowed keys are: {', '.join(allowed)}"
        problems.append(_problem(tree, (*path, key), message, hint, prefer="key"))
    return problems


def _required(tree: SourceTree, path: tuple, error: ValidationError) -> list[Problem]:
    missing = [k for k in error.validator_value if k not in error.instance]
    return [_problem(tree, path, f"'{k}' is missing (it is required here)", prefer="key")
            for k in missing]  # fmt: skip


def _enum(tree: SourceTree, path: tuple, error: ValidationError) -> list[Problem]:
    options = [str(v) for v in error.validator_value]
    hint = suggest(error.instance, options)
    shown = ", ".join(options) if len(options) <= 20 else ", ".join(options[:20]) + ", …"
    what = path[-1] if path and isinstance(path[-1], str) else "value"
    return [_problem(tree, path, f"{_describe_value(error.instance)} is not a valid {what}; "
                                 f"choose one of: {shown}.", hint)]  # fmt: skip


def _const(tree: SourceTree, path: tuple, error: ValidationError) -> list[Problem]:
    return [_problem(tree, path, f"must be {error.validator_value!r}, "
                                 f"not {_describe_value(error.instance)}")]  # fmt: skip


def _type(tree: SourceTree, path: tuple, error: ValidationError) -> list[Problem]:
    want = error.validator_value
    words = " or ".join(_TYPE_WORDS.get(t, t) for t in (want if isinstance(want, list) else [want]))
    return [_problem(tree, path, f"expected {words}, got {_describe_value(error.instance)}")]


def _pattern(tree: SourceTree, path: tuple, error: ValidationError) -> list[Problem]:
    if error.validator_value == IDENT:
        message = (f"{error.instance!r} is not a valid name: use lowercase letters, digits "
                   "and '_', starting with a letter (at most 48 characters)")  # fmt: skip
    elif "working" in str(error.validator_value):
        message = f"{error.instance!r} is not a duration; write e.g. '3 days' or '24 working hours'"
    else:
        message = f"{error.instance!r} does not have the expected form"
        if error.schema.get("description"):
            message += f" ({error.schema['description']})"
    return [_problem(tree, path, message)]


def _property_names(tree: SourceTree, path: tuple, error: ValidationError) -> list[Problem]:
    problems = []
    for sub in error.context or [error]:
        key = sub.instance
        if isinstance(key, str) and key in (error.instance if isinstance(error.instance, dict)
                                            else {}):  # fmt: skip
            problems.extend(
                _problem(tree, (*path, key), p.message, prefer="key")
                for p in _pattern(tree, (*path, key), sub)
            )
    if not problems:
        problems.append(_problem(tree, path, error.message, prefer="key"))
    return problems


def _bounds(tree: SourceTree, path: tuple, error: ValidationError) -> list[Problem]:
    texts = {
        "minItems": f"needs at least {error.validator_value} item(s)",
        "maxItems": f"allows at most {error.validator_value} items",
        "minProperties": f"needs at least {error.validator_value} entry",
        "maxProperties": f"allows at most {error.validator_value} entries",
        "minimum": f"must be at least {error.validator_value}",
        "maximum": f"must be at most {error.validator_value}",
        "minLength": "must not be empty",
        "maxLength": f"is too long (at most {error.validator_value} characters)",
        "uniqueItems": "lists the same item twice",
    }
    return [_problem(tree, path, texts.get(str(error.validator), error.message))]


_HANDLERS = {
    "additionalProperties": _additional,
    "required": _required,
    "enum": _enum,
    "const": _const,
    "type": _type,
    "pattern": _pattern,
    "propertyNames": _property_names,
    **{
        k: _bounds
        for k in (
            "minItems",
            "maxItems",
            "minProperties",
            "maxProperties",
            "minimum",
            "maximum",
            "minLength",
            "maxLength",
            "uniqueItems",
        )
    },
}
