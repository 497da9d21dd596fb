"""Naming time rules: ``<entity>.<rule>`` is a rule's key everywhere (ledger, runs, states),
because two entities may declare rules of the same name (``birthday_reminder`` is on both
``customer`` and ``contact``)."""

from __future__ import annotations

from ...errors import UsageError
from ...metadata.model import Rulebook, TimeRule

__all__ = ["rule_key", "find_rule", "all_rules"]


def rule_key(rule: TimeRule) -> str:
    return f"{rule.entity}.{rule.name}"


def all_rules(rulebook: Rulebook) -> list[TimeRule]:
    """Every time rule of the rulebook, in declaration order."""
    return rulebook.all_time_rules()


def find_rule(rulebook: Rulebook, name: str) -> TimeRule:
    """The rule ``entity.rule``, or ``rule`` when only one entity declares it."""
    rules = all_rules(rulebook)
    exact = [r for r in rules if rule_key(r) == name]
    if exact:
        return exact[0]
    short = [r for r in rules if r.name == name]
    if len(short) == 1:
        return short[0]
    if short:
        keys = ", ".join(rule_key(r) for r in short)
        raise UsageError(f"'{name}' is declared on several entities; name one of: {keys}")
    raise UsageError(f"no time rule '{name}'; rules: {', '.join(rule_key(r) for r in rules)}")
