"""The REST API: ``/api/v1/<entity>`` for every entity of the model, generated, not written.

Rules this package keeps (see docs/api.md for the client's view):

- **One view for all entities.** ``RecordAPI`` is registered once with the entity as a URL
  variable; nothing here names an entity of a rulebook.
- **The service decides.** Access, parsing, validation, history and audit are
  ``RecordService``'s; lists are ``run_list``'s. The API checks the *form* of a request
  (JSON object, known keys, parameter syntax and bounds) and maps outcomes to HTTP. The
  same payload has the same outcome here as through the form (tests/contract_payloads.py).
- **Authentication is ``auth``'s.** ``platform.auth.request_auth`` sets the actor from
  ``Authorization: Bearer`` (or the session cookie, with CSRF checked) and answers 401 for
  ``/api`` requests without one; the blueprint refuses any request without an actor too,
  and takes no user from parameters (``?user=``, ``?as_user=`` mean nothing).
- **One error shape** ``{code, status, message, errors}`` (``blueprints/errors.py``).
- **Nothing per request but the work**: schemas and the OpenAPI document are built once per
  runtime version (``runtime.cached``); no metadata query runs per request.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Flask

from ...errors import VersionConflict
from ...platform.http_errors import error_response
from ...platform.web import current_actor
from . import access
from .requests import ApiError, etag
from .views import RecordAPI, form_state, openapi_json, record_history, related_list

__all__ = ["init_app", "API_PREFIX", "blueprint"]

API_PREFIX = "/api/v1"
_ID = "<int(min=1, max=9223372036854775807):record_id>"


def blueprint() -> Any:
    """A fresh API blueprint with every route, hook and error handler."""
    bp = Blueprint("api", __name__, url_prefix=API_PREFIX)
    bp.add_url_rule("/openapi.json", view_func=openapi_json, methods=["GET"])
    # permissions (docs/permissions.md): aggregates, exports, transfers, read audit, why
    bp.add_url_rule("/read-audit", view_func=access.read_audit, methods=["GET"])
    bp.add_url_rule("/why", view_func=access.why, methods=["GET"])
    bp.add_url_rule("/<entity>/aggregate", view_func=access.aggregate, methods=["GET"])
    bp.add_url_rule("/<entity>/export", view_func=access.export, methods=["GET"])
    bp.add_url_rule("/<entity>/transfer", view_func=access.transfer, methods=["POST"])
    # one class for every entity; two endpoint names so url_for builds either URL
    bp.add_url_rule("/<entity>", view_func=RecordAPI.as_view("records"), methods=["GET", "POST"])
    bp.add_url_rule(f"/<entity>/{_ID}", view_func=RecordAPI.as_view("record"),
                    methods=["GET", "PATCH", "DELETE"])  # fmt: skip
    bp.add_url_rule(f"/<entity>/{_ID}/history", view_func=record_history, methods=["GET"])
    bp.add_url_rule(f"/<entity>/{_ID}/related/<related>", view_func=related_list, methods=["GET"])
    bp.add_url_rule("/<entity>/form-state", view_func=form_state, methods=["POST"])
    bp.add_url_rule(f"/<entity>/{_ID}/form-state", view_func=form_state, methods=["POST"])
    bp.before_request(_authenticate)
    bp.after_request(_no_store)
    bp.register_error_handler(ApiError, _api_error)
    bp.register_error_handler(VersionConflict, _version_conflict)
    return bp


def init_app(app: Flask) -> None:
    """Register the API blueprint (CSRF stays as ``auth`` decides: never exempted here)."""
    app.register_blueprint(blueprint())


def _authenticate() -> Any:
    if current_actor() is None:
        return error_response(401, headers={"WWW-Authenticate": 'Bearer realm="ruleform"'})
    return None


def _no_store(response: Any) -> Any:
    response.headers.setdefault("Cache-Control", "no-store")
    response.vary.add("Authorization")
    return response


def _api_error(exc: ApiError) -> Any:
    return error_response(exc.code or 400, exc.text, exc.errors or None, code=exc.api_code)


def _version_conflict(exc: VersionConflict) -> Any:
    current = exc.current_version
    headers = {"ETag": etag(current)} if current is not None else None
    response = error_response(409, str(exc), {"row_version": [str(exc)]}, headers=headers)
    if current is not None:
        body = response.get_json()
        body["current_version"] = current
        response.set_data(json.dumps(body, ensure_ascii=False))
    return response
