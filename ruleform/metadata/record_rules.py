"""Record-level validation rules, evaluated on plain values (no ORM, no Flask).

Used by the record service on every write path (form, API, import) and by
``ruleform check`` to run the examples a rulebook carries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .model import Entity, ValidationRule

__all__ = ["is_empty", "rule_passes", "failed_rules"]


def is_empty(value: Any) -> bool:
    """None, blank text and empty lists count as empty."""
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def rule_passes(rule: ValidationRule, record: Mapping[str, Any], roles: frozenset[str],
                ctx: Any) -> bool:  # fmt: skip
    """Whether ``record`` satisfies ``rule`` for a user holding ``roles``.

    ``require``: when ``when`` holds (or always), every required field has a value.
    ``forbid``: the condition must not hold, unless the user has one of ``unless_roles``.
    ``assert``: the condition must hold — checked only once every field it reads has a
    value (emptiness is the business of ``required`` and ``require`` rules).
    """
    if rule.unless_roles and roles & set(rule.unless_roles):
        return True
    if rule.kind == "require":
        if rule.when is not None and not rule.when.evaluate(record, ctx):
            return True
        return all(not is_empty(record.get(name)) for name in rule.require)
    assert rule.condition is not None
    if rule.kind == "forbid":
        return not rule.condition.evaluate(record, ctx)
    if any(is_empty(record.get(name)) for name in rule.condition.fields_used):
        return True
    return bool(rule.condition.evaluate(record, ctx))


def failed_rules(entity: Entity, record: Mapping[str, Any], roles: frozenset[str],
                 ctx: Any) -> list[ValidationRule]:  # fmt: skip
    """The validation rules of ``entity`` that ``record`` breaks."""
    return [rule for rule in entity.validations if not rule_passes(rule, record, roles, ctx)]
