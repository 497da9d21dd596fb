"""Format parity: the same rulebook written as YAML or as JSON compiles to the same model.

The CRM rulebook's YAML files are converted one by one to JSON (dates as ISO text, exactly
as the loader reads them) and compiled again; everything but where things were written
must be equal. Also: ``on``/``off``/``yes``/``no`` stay names, never booleans.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from ruleform.metadata.compiler import check_rulebook, compile_rulebook
from ruleform.metadata.explain import explain_rulebook, permission_matrix
from ruleform.metadata.model import Rulebook, SourceRef
from ruleform.metadata.source import load_text
from ruleform.metadata.validation import jsonable

ROOT = Path(__file__).resolve().parents[2]
CRM = ROOT / "metadata" / "crm"
MINIMAL = Path(__file__).parent / "fixtures" / "valid" / "minimal.yaml"


def _to_json(source: Path, target: Path) -> None:
    """Every YAML file of ``source`` as a JSON file of the same name in ``target``."""
    target.mkdir()
    for path in sorted(source.glob("*.yaml")):
        data = jsonable(load_text(path.read_bytes(), path.name).data)
        text = json.dumps(data, ensure_ascii=False, indent=2)
        (target / path.with_suffix(".json").name).write_text(text, "utf-8")


def plain(value: Any) -> Any:
    """The model as plain data, without source positions (they differ between formats)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if isinstance(value, SourceRef):
            return None
        return {
            f.name: plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.name != "source"
        }
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, frozenset | set):
        return sorted(map(repr, value))
    return value


@pytest.fixture(scope="module")
def yaml_rulebook() -> Rulebook:
    return compile_rulebook(CRM)


@pytest.fixture(scope="module")
def json_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("parity") / "crm"
    _to_json(CRM, folder)
    return folder


@pytest.fixture(scope="module")
def json_rulebook(json_folder) -> Rulebook:
    result = check_rulebook(json_folder)
    assert result.ok, "\n".join(p.format() for p in result.problems)
    return result.rulebook


def test_the_json_copy_is_json_only_with_dates_as_iso_text(json_folder):
    names = sorted(p.name for p in json_folder.iterdir())
    assert names == sorted(p.with_suffix(".json").name for p in CRM.glob("*.yaml"))
    settings = json.loads((json_folder / "rulebook.json").read_text("utf-8"))
    assert settings["effective"] == {"from": "2026-01-01", "trial_until": "2026-03-31"}


def test_same_fingerprint(yaml_rulebook, json_rulebook):
    assert yaml_rulebook.fingerprint == json_rulebook.fingerprint
    assert len(yaml_rulebook.fingerprint) == 16


def test_same_entities_fields_and_transitions(yaml_rulebook, json_rulebook):
    assert list(yaml_rulebook.entities) == list(json_rulebook.entities)
    for name, entity in yaml_rulebook.entities.items():
        other = json_rulebook.entities[name]
        assert list(entity.fields) == list(other.fields)
        assert plain(entity.fields) == plain(other.fields), name
        assert plain(entity.transitions) == plain(other.transitions), name
        assert plain(entity.statuses) == plain(other.statuses), name


def test_the_whole_model_is_equal_apart_from_positions(yaml_rulebook, json_rulebook):
    assert plain(yaml_rulebook) == plain(json_rulebook)


def test_source_positions_name_the_json_files(json_rulebook):
    source = json_rulebook.entities["customer"].source
    assert source.file.endswith("customer.json") and source.line > 1


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_explain_reads_the_same(yaml_rulebook, json_rulebook, locale):
    assert explain_rulebook(yaml_rulebook, locale) == explain_rulebook(json_rulebook, locale)
    assert permission_matrix(yaml_rulebook, locale) == permission_matrix(json_rulebook, locale)


# --- names that YAML 1.1 would have turned into booleans ---------------------------------------


def test_a_choice_named_off_stays_the_word_off():
    rulebook = compile_rulebook(MINIMAL)
    level = rulebook.entities["customer"].fields["level"]
    assert [c.value for c in level.choices] == ["a", "off"]
    assert all(type(c.value) is str for c in level.choices)
    assert level.choice("off").label.get("zh-CN") == "关闭"


ON_OFF = """\
language: ruleform/v1
name: switches
version: "1"
locales: [en]
default_locale: en
timezone: UTC
entities:
  switch:
    label: Switch
    fields:
      answer:
        type: choice
        choices: {yes: Yes, no: No, y: Y, n: N}
    statuses:
      initial: off
      states:
        off: {label: Off}
        on: {label: On}
    transitions:
      yes: {from: off, to: on, when: "answer in ['yes', 'y']"}
      no: {from: on, to: off}
    validations:
      answered_when_on:
        when: "status = 'on'"
        require: [answer]
        message: Answer first
        examples:
          pass: [{status: on, answer: yes}, {status: off}]
          fail: [{status: on}]
"""


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_on_off_yes_no_stay_strings_through_the_compiler(tmp_path, suffix):
    path = tmp_path / f"switches{suffix}"
    if suffix == ".yaml":
        path.write_text(ON_OFF, "utf-8")
    else:
        data = jsonable(load_text(ON_OFF, "switches.yaml").data)
        path.write_text(json.dumps(data), "utf-8")
    result = check_rulebook(path)
    assert result.ok, "\n".join(p.format() for p in result.problems)
    switch = result.rulebook.entities["switch"]
    assert switch.statuses.initial == "off"
    assert list(switch.statuses.states) == ["off", "on"]
    assert [c.value for c in switch.fields["answer"].choices] == ["yes", "no", "y", "n"]
    assert list(switch.transitions) == ["yes", "no"]
    assert switch.transitions["yes"].sources == ("off",)
    assert switch.transitions["yes"].target == "on"
    examples = switch.validations[0].examples
    assert examples[0].record == {"status": "on", "answer": "yes"}
