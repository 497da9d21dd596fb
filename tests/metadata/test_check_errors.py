"""Each broken fixture states where `ruleform check` must point and what it must say.

A fixture's first lines are ``# expect: LINE:COL path | fragment | fragment``; every
expectation must match one reported problem (file, line, column, path and each fragment).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ruleform.metadata.compiler import check_rulebook

FIXTURES = Path(__file__).parent / "fixtures" / "invalid"


def _expectations(path: Path) -> list[tuple[int, int, str, list[str]]]:
    result = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("# expect:"):
            break
        where, rest = line.removeprefix("# expect:").strip().split(" ", 1)
        parts = [p.strip() for p in rest.split("|")]
        line_no, col = (int(x) for x in where.split(":"))
        result.append((line_no, col, parts[0], [p for p in parts[1:] if p]))
    return result


@pytest.mark.parametrize("fixture", sorted(FIXTURES.glob("*.*")), ids=lambda p: p.stem)
def test_broken_fixture_reports_file_line_and_path(fixture: Path) -> None:
    result = check_rulebook(fixture)
    assert not result.ok, "a broken rulebook must not compile"
    expected = _expectations(fixture)
    assert expected, f"{fixture.name} has no '# expect:' line"
    for line_no, col, path, fragments in expected:
        matches = [
            p for p in result.errors
            if p.line == line_no and p.column == col and p.path == path
            and all(f in p.format() for f in fragments)
        ]  # fmt: skip
        shown = "\n".join(p.format() for p in result.problems)
        assert matches, f"expected {line_no}:{col} {path} {fragments} among:\n{shown}"
        assert all(m.file.endswith(fixture.name) for m in matches)

