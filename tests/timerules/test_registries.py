"""A timing kind is a module of the language and a sweep of the engine: the two lists agree,
and every kind has its schema, its explanation in both locales and its sweep."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruleform.metadata.compiler import check_rulebook
from ruleform.metadata.explain import explain_entity
from ruleform.metadata.schema import rulebook_schema
from ruleform.metadata.timings import TIMING_KINDS
from ruleform.workflow_engine.timerules.sweep import Sweep
from ruleform.workflow_engine.timerules.timings import SWEEPS

CRM = Path(__file__).resolve().parents[2] / "metadata" / "crm"


def _time_rule_schemas() -> list[dict]:
    """Every schema node that describes a time rule (it declares the timing kinds)."""
    found: list[dict] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("description") == "A time rule: where + one timing + actions":
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(rulebook_schema())
    assert found
    return found


def test_the_language_and_the_engine_know_the_same_timing_kinds():
    assert set(TIMING_KINDS) == set(SWEEPS)
    for name, sweep in SWEEPS.items():
        assert issubclass(sweep, Sweep) and sweep is not Sweep, name


def test_every_timing_kind_is_in_the_schema():
    for schema in _time_rule_schemas():
        for name in TIMING_KINDS:
            assert name in schema["properties"], name
            assert {"required": [name]} in schema["anyOf"], name


def test_every_timing_kind_reads_in_both_locales():
    crm_rulebook = check_rulebook(CRM).rulebook
    assert crm_rulebook is not None
    used = {rule.timing.kind for entity in crm_rulebook.entities.values()
            for rule in entity.time_rules.values()}  # fmt: skip
    assert used == set(TIMING_KINDS), "the CRM rulebook shows every kind at work"
    for locale in ("zh-CN", "en"):
        for entity in crm_rulebook.entities.values():
            if entity.time_rules:
                assert explain_entity(crm_rulebook, entity, locale)
