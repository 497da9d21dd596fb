"""Each broken fixture states where `ruleform check` must point and what it must say.

A YAML fixture's first lines are ``# expect: LINE:COL path | fragment | fragment``; a JSON
fixture (JSON has no comments) keeps the same lines, without ``# expect:``, in a sidecar
``NAME.json.expect``. Every expectation must match one reported problem (file, line,
column, path and each fragment). Line numbers count the expect lines themselves.

``fixtures/invalid`` holds rulebooks that must not compile (the expectations are errors);
``fixtures/warnings`` holds rulebooks that compile with the expected warnings.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ruleform.errors import Problem
from ruleform.metadata.compiler import check_rulebook

FIXTURES = Path(__file__).parent / "fixtures"
INVALID = sorted(p for p in (FIXTURES / "invalid").iterdir() if p.suffix in (".yaml", ".json"))
WARNINGS = sorted(p for p in (FIXTURES / "warnings").iterdir() if p.suffix in (".yaml", ".json"))


def _expectations(path: Path) -> list[tuple[int, int, str, list[str]]]:
    if path.suffix == ".json":
        lines = path.with_name(path.name + ".expect").read_text("utf-8").splitlines()
    else:
        lines = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.startswith("# expect:"):
                break
            lines.append(line.removeprefix("# expect:"))
    result = []
    for line in filter(str.strip, lines):
        where, rest = line.strip().split(" ", 1)
        parts = [p.strip() for p in rest.split("|")]
        line_no, col = (int(x) for x in where.split(":"))
        result.append((line_no, col, parts[0], [p for p in parts[1:] if p]))
    assert result, f"{path.name} states no expectation"
    return result


def _assert_reported(fixture: Path, problems: list[Problem], shown: list[Problem]) -> None:
    listing = "\n".join(p.format() for p in shown)
    for line_no, col, path, fragments in _expectations(fixture):
        matches = [
            p for p in problems
            if p.line == line_no and p.column == col and p.path == path
            and all(f in p.format() for f in fragments)
        ]  # fmt: skip
        assert matches, f"expected {line_no}:{col} {path} {fragments} among:\n{listing}"
        assert all(m.file.endswith(fixture.name) for m in matches)


def test_every_fixture_is_found():
    assert len(INVALID) >= 40
    assert any(p.suffix == ".json" for p in INVALID)


@pytest.mark.parametrize("fixture", INVALID, ids=lambda p: p.name)
def test_broken_fixture_reports_file_line_and_path(fixture: Path) -> None:
    result = check_rulebook(fixture)
    assert not result.ok, "a broken rulebook must not compile"
    assert result.rulebook is None
    _assert_reported(fixture, result.errors, result.problems)


@pytest.mark.parametrize("fixture", WARNINGS, ids=lambda p: p.name)
def test_warning_fixture_compiles_and_warns_at_the_place(fixture: Path) -> None:
    result = check_rulebook(fixture)
    assert result.ok, "\n".join(p.format() for p in result.errors)
    assert result.rulebook is not None
    _assert_reported(fixture, result.warnings, result.problems)


def test_missing_translation_is_a_warning_that_falls_back_to_another_locale():
    result = check_rulebook(FIXTURES / "warnings" / "missing_translation.yaml")
    (warning, *_rest) = [p for p in result.warnings if p.path.endswith("name.label")]
    assert warning.severity == "warning" and warning.code == "missing_translation"
    assert "warning:" in warning.format()
    field = result.rulebook.entities["customer"].fields["name"]
    assert field.label.get("en") == "名称"  # shown in the other locale rather than blank


def test_problems_are_sorted_errors_first_then_by_place():
    result = check_rulebook(FIXTURES / "invalid" / "time_rules_misc.yaml")
    errors = result.errors
    assert [(p.line, p.column) for p in errors] == sorted((p.line, p.column) for p in errors)
    assert result.problems[: len(errors)] == errors


def test_hints_are_kept_apart_from_the_message():
    result = check_rulebook(FIXTURES / "invalid" / "unknown_timezone.yaml")
    (problem,) = result.errors
    assert problem.message == "unknown time zone 'Asia/Shanghia'"
    assert problem.hint == "did you mean 'Asia/Shanghai'?"
    assert problem.format().endswith(
        "timezone: unknown time zone 'Asia/Shanghia' — did you mean 'Asia/Shanghai'?"
    )
