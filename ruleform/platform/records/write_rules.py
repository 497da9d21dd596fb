"""The pure core of every write: payload + stored record + actor → new record or errors.

No I/O here. The same function runs behind the form, the API, imports and the Python
service, so a rule behaves the same on every path (the contract test proves it):

1. unknown, system, status and unwritable fields are refused;
2. values are parsed by their field type;
3. append-only fields keep their first value — later input becomes a supplement;
4. defaults (constants or expressions) fill a new record; computed fields are computed;
5. conditional rules: hidden fields are cleared, ``editable_when`` protects,
   ``required``/``required_when`` demand a value;
6. record-level validation rules run; every failure is collected, none stops the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ...errors import FieldErrors
from ...metadata.build_fields import SYSTEM_COLUMNS
from ...metadata.field_types import ValueError_, parse_value
from ...metadata.model import Entity, Field
from ...metadata.record_rules import failed_rules, is_empty
from ..actors import Actor
from ..messages import message

__all__ = ["WritePlan", "prepare_write", "form_state", "FORM_STATE_KEYS"]

FORM_STATE_KEYS = ("visible", "required", "editable")
OWNERSHIP = ("owner", "department")


@dataclass
class WritePlan:
    """What a write will store: the whole new record, what changed, and supplements."""

    record: dict[str, Any]
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    supplements: dict[str, str] = field(default_factory=dict)


class _Errors:
    def __init__(self, locale: str | None):
        self.locale = locale
        self.by_field: dict[str, list[str]] = {}

    def add(self, name: str, code_or_text: str, **params: Any) -> None:
        text = message(code_or_text, self.locale, **params)
        self.by_field.setdefault(name, []).append(text)

    def raise_if_any(self) -> None:
        if self.by_field:
            raise FieldErrors(self.by_field)


def prepare_write(runtime: Any, entity: Entity, actor: Actor, payload: Mapping[str, Any],
                  stored: Mapping[str, Any] | None, *, writable: frozenset[str],
                  may_assign_owner: bool = False) -> WritePlan:  # fmt: skip
    """Check ``payload`` against the rules; return the plan or raise ``FieldErrors``."""
    errors = _Errors(actor.locale or runtime.rulebook.default_locale)
    creating = stored is None
    record: dict[str, Any] = dict(stored or {})
    supplements: dict[str, str] = {}
    parsed = _parse_payload(runtime, entity, payload, writable, may_assign_owner, errors)
    for name, value in parsed.items():
        f = entity.fields.get(name)
        if f is not None and f.append_only and not creating and not is_empty(record.get(name)):
            if value != record.get(name) and not is_empty(value):
                supplements[name] = value if isinstance(value, str) else str(value)
            continue
        record[name] = value
    for name, text in _supplement_payload(entity, payload, writable, errors).items():
        supplements[name] = text
    if creating:
        _apply_defaults(runtime, entity, actor, record, parsed)
    ctx = runtime.eval_context(actor, previous=dict(stored) if stored else None)
    _compute(entity, record, ctx)
    _conditional_rules(entity, record, stored, parsed, ctx, errors)
    for rule in failed_rules(entity, record, actor.roles, ctx):
        errors.add(rule.field or "_record", rule.message.get(errors.locale))
    errors.raise_if_any()
    changes = {
        name: ((stored or {}).get(name), record.get(name))
        for name in record
        if (stored or {}).get(name) != record.get(name)
    }
    return WritePlan(record, changes, supplements)


def _parse_payload(runtime: Any, entity: Entity, payload: Mapping[str, Any],
                   writable: frozenset[str], may_assign_owner: bool,
                   errors: _Errors) -> dict[str, Any]:  # fmt: skip
    parsed: dict[str, Any] = {}
    tz = runtime.rulebook.timezone
    for name, raw in payload.items():
        if name == "supplements":
            continue
        if name in OWNERSHIP and getattr(entity, name if name == "owner" else "department"):
            if not may_assign_owner:
                errors.add(name, "not_writable")
                continue
            try:
                parsed[name] = None if raw in (None, "") else int(raw)
            except (TypeError, ValueError):
                errors.add(name, "not_reference")
            continue
        if name == "status":
            errors.add(name, "status_field")
            continue
        if name in SYSTEM_COLUMNS:
            errors.add(name, "system_field")
            continue
        f = entity.fields.get(name)
        if f is None:
            errors.add(name, "unknown_field")
            continue
        if f.read_only:
            errors.add(name, "read_only")
            continue
        if name not in writable:
            errors.add(name, "not_writable")
            continue
        try:
            parsed[name] = parse_value(f, raw, tz)
        except ValueError_ as exc:
            if exc.code == "pattern" and f.pattern_message:
                errors.add(name, f.pattern_message.get(errors.locale))
            else:
                errors.add(name, exc.code, **exc.params)
    return parsed


def _supplement_payload(entity: Entity, payload: Mapping[str, Any], writable: frozenset[str],
                        errors: _Errors) -> dict[str, str]:  # fmt: skip
    raw = payload.get("supplements") or {}
    if not isinstance(raw, Mapping):
        errors.add("supplements", "not_list")
        return {}
    result = {}
    for name, text in raw.items():
        f = entity.fields.get(name)
        if f is None or not f.append_only:
            errors.add(name, "unknown_field")
        elif name not in writable:
            errors.add(name, "not_writable")
        elif isinstance(text, str) and text.strip():
            result[name] = text.strip()[:10000]
    return result


def _apply_defaults(runtime: Any, entity: Entity, actor: Actor, record: dict[str, Any],
                    given: Mapping[str, Any]) -> None:  # fmt: skip
    ctx = runtime.eval_context(actor)
    for name, f in entity.fields.items():
        if name in given or f.default is None:
            continue
        if f.default.expression is not None:
            record[name] = f.default.expression.evaluate(record, ctx)
        else:
            record[name] = f.default.value


def _compute(entity: Entity, record: dict[str, Any], ctx: Any) -> None:
    """Computed fields, in dependency order (cycles were refused at check time)."""
    pending = [f for f in entity.fields.values() if f.type == "computed" and f.expression]
    for _ in range(len(pending) + 1):
        if not pending:
            return
        waiting = {f.name for f in pending}
        ready = [f for f in pending if not (f.expression.fields_used & waiting - {f.name})]
        for f in ready or pending:
            record[f.name] = _safe_eval(f, record, ctx)
        pending = [f for f in pending if f not in (ready or pending)]


def _safe_eval(f: Field, record: dict[str, Any], ctx: Any) -> Any:
    try:
        return f.expression.evaluate(record, ctx)  # type: ignore[union-attr]
    except (ArithmeticError, TypeError, ValueError):
        return None  # e.g. a division by zero: the computed value is unknown


def _conditional_rules(entity: Entity, record: dict[str, Any], stored: Mapping | None,
                       parsed: Mapping[str, Any], ctx: Any, errors: _Errors) -> None:  # fmt: skip
    state = form_state(entity, record, ctx)
    for name, f in entity.fields.items():
        visible, required, editable = (state[name][k] for k in FORM_STATE_KEYS)
        if not visible:
            if not is_empty(record.get(name)) and f.type != "computed":
                record[name] = None  # hidden fields keep no value
            continue
        if name in parsed and not editable and stored is not None:
            if parsed[name] != stored.get(name):
                errors.add(name, "not_editable_now")
        if required and is_empty(record.get(name)) and f.type != "computed":
            errors.add(name, "required")


def form_state(entity: Entity, record: Mapping[str, Any], ctx: Any) -> dict[str, dict[str, bool]]:
    """For each field: is it visible, required and editable for this record right now?

    A field is hidden by its own ``visible_when`` or by its section's.

    The browser asks the server for this as the user types (one evaluator, no drift).
    """
    hidden_by_section = {
        name
        for section in entity.sections
        if section.visible_when is not None and not section.visible_when.evaluate(record, ctx)
        for name in section.fields
    }
    state = {}
    for name, f in entity.fields.items():
        visible = name not in hidden_by_section and (
            f.visible_when is None or bool(f.visible_when.evaluate(record, ctx))
        )
        required = f.required or (f.required_when is not None
                                  and bool(f.required_when.evaluate(record, ctx)))  # fmt: skip
        editable = not f.read_only and (f.editable_when is None
                                        or bool(f.editable_when.evaluate(record, ctx)))  # fmt: skip
        state[name] = {"visible": visible, "required": required and visible, "editable": editable}
    return state
