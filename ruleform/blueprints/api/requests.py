"""Reading an API request: its JSON body, the version it claims (If-Match) and list names.

Refusals here are about the request's form, not the record: a body that is not a JSON
object is 400 (415 when it is not declared as JSON), a write without a version is 428.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import request
from werkzeug.exceptions import HTTPException

from ...platform.messages import message

__all__ = ["ApiError", "json_object", "expected_version", "etag", "split_names"]

_DIGITS = re.compile(r"^[0-9]{1,18}$")
_ETAG = re.compile(r'^(?:W/)?"([0-9]{1,18})"$')


class ApiError(HTTPException):
    """A refused request with a status, a message code and optional per-field errors."""

    def __init__(self, status: int, text: str, code: str | None = None,
                 errors: dict[str, list[str]] | None = None) -> None:  # fmt: skip
        super().__init__(text)
        self.code = status
        self.text = text
        self.api_code = code
        self.errors = errors or {}


def json_object(locale: str) -> dict[str, Any]:
    """The request body as a JSON object, or an ApiError (415 / 400)."""
    if not request.is_json:
        raise ApiError(415, message("json_required", locale), "unsupported_media_type")
    raw = request.get_data(cache=False)  # 413 above MAX_CONTENT_LENGTH (werkzeug)
    try:
        body = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates,
                          parse_constant=_no_constants)  # fmt: skip
    except UnicodeDecodeError:
        raise _malformed(locale, "the body is not UTF-8") from None
    except (ValueError, RecursionError) as exc:
        raise _malformed(locale, _json_problem(exc)) from None
    if not isinstance(body, dict):
        raise _malformed(locale, "the body must be a JSON object")
    return body


def _malformed(locale: str, detail: str) -> ApiError:
    return ApiError(400, message("malformed", locale, detail=detail), "malformed")


def _json_problem(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON at line {exc.lineno} column {exc.colno} ({exc.msg})"
    if isinstance(exc, RecursionError):
        return "the JSON is nested too deeply"
    return str(exc)[:200]


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"the key {key!r} appears twice")
        result[key] = value
    return result


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def etag(version: int) -> str:
    """The weak entity tag of a record version: ``W/"3"``."""
    return f'W/"{version}"'


def expected_version(body: dict[str, Any] | None, locale: str) -> int:
    """The version a write claims to change: If-Match, else ``row_version`` in the body
    (removed from it); 428 when neither is given, 400 when they are unreadable or disagree."""
    header = request.headers.get("If-Match")
    from_header = _parse_if_match(header, locale) if header is not None else None
    from_body = None
    if body is not None and "row_version" in body:
        raw = body.pop("row_version")
        if isinstance(raw, bool) or not isinstance(raw, int | str) or not _DIGITS.match(str(raw)):
            raise ApiError(422, message("not_integer", locale), "validation_failed",
                           {"row_version": [message("not_integer", locale)]})  # fmt: skip
        from_body = int(raw)
    if from_header is not None and from_body is not None and from_header != from_body:
        raise _malformed(locale, "If-Match and row_version disagree")
    version = from_header if from_header is not None else from_body
    if version is None:
        raise ApiError(428, message("version_required", locale), "precondition_required")
    return version


def _parse_if_match(header: str, locale: str) -> int:
    match = _ETAG.match(header.strip())
    if match is None:  # "*", a list of tags or garbage: we need exactly one version
        raise _malformed(locale, 'If-Match must be one entity tag such as W/"3"')
    return int(match.group(1))


def split_names(raw: str | None) -> list[str]:
    """``"a, b,,c"`` → ``["a", "b", "c"]``."""
    return [part.strip() for part in (raw or "").split(",") if part.strip()]
