"""The metadata commands of the ``ruleform`` CLI: check, explain, schema.

Exit status: 0 valid, 1 invalid, 2 usage error. Run through click's ``CliRunner`` (fast),
and once through a real process to prove the entry point and the exit codes.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from ruleform.metadata.compiler import compile_rulebook
from ruleform.metadata.field_types import COMPUTED_RETURNS, FIELD_TYPES
from ruleform.platform.cli import cli
from ruleform.platform.storage import COLUMN_TYPES

ROOT = Path(__file__).resolve().parents[2]
CRM = ROOT / "metadata" / "crm"
INVALID = Path(__file__).parent / "fixtures" / "invalid"
LOCATED = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+):(?P<col>\d+): (?P<rest>.+)$")


def run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


# --- check -------------------------------------------------------------------------------------


def test_check_a_valid_rulebook_exits_0_with_a_summary():
    result = run("check", CRM)
    assert result.exit_code == 0, result.output
    (summary,) = result.stdout.strip().splitlines()
    assert summary.startswith("✓ ")
    assert "rulebook 'crm' 1.0.0, 16 entities, 12 roles" in summary
    assert "0 error(s), 0 warning(s)" in summary
    assert result.stderr == ""


def test_check_a_broken_rulebook_exits_1_listing_file_line_col():
    fixture = INVALID / "view_unknown_fields.yaml"
    result = run("check", fixture)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    located = [LOCATED.match(line) for line in lines[:-1]]
    assert len(located) == 3 and all(located)
    assert {(m["line"], m["col"]) for m in located} == {("18", "25"), ("19", "18"), ("20", "29")}
    assert all(m["file"].endswith("view_unknown_fields.yaml") for m in located)
    assert located[0]["rest"].startswith("entities.customer.views.all.columns[1]: unknown field")
    assert lines[-1].startswith("✗ ") and "3 error(s)" in lines[-1]


def test_check_reports_loader_problems_too():
    result = run("check", INVALID / "duplicate_key.yaml")
    assert result.exit_code == 1
    assert re.search(r"duplicate_key\.yaml:14:7: .*duplicate key 'name'", result.stderr)


def test_check_json_output_lists_problems_as_objects():
    result = run("check", "--json", INVALID / "time_rules_misc.yaml")
    assert result.exit_code == 1
    problems = json.loads(result.stdout)
    assert len(problems) >= 10
    first = problems[0]
    assert set(first) >= {"message", "file", "line", "column", "path", "hint", "severity"}
    assert first["severity"] == "error" and isinstance(first["line"], int)


def test_check_json_of_a_valid_rulebook_is_an_empty_list():
    result = run("check", "--json", CRM)
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []


def test_warnings_can_be_hidden(tmp_path):
    fixture = Path(__file__).parent / "fixtures" / "warnings" / "missing_translation.yaml"
    shown = run("check", fixture)
    assert shown.exit_code == 0 and "warning: " in shown.output
    hidden = run("check", "--no-warnings", fixture)
    assert hidden.exit_code == 0 and "warning: " not in hidden.output
    assert "2 warning(s)" in hidden.output  # still counted


@pytest.mark.parametrize(
    "args",
    [("check",), ("check", "--bogus", "x"), ("check", "/no/such/rulebook"), ("explain",)],
    ids=["missing-path", "unknown-option", "no-such-path", "explain-missing-path"],
)
def test_usage_errors_exit_2(args):
    result = run(*args)
    assert result.exit_code == 2
    assert "Usage:" in result.stderr


def test_explain_an_unknown_entity_is_a_usage_error():
    result = run("explain", CRM, "custmer")
    assert result.exit_code == 2
    assert "no entity 'custmer'" in result.stderr


def test_the_installed_entry_point_uses_the_same_exit_codes():
    def code(*args: str) -> tuple[int, str]:
        command = [sys.executable, "-c", "from ruleform.platform.cli import main; main()", *args]
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)
        return done.returncode, done.stdout[-2000:] + done.stderr[-2000:]

    assert code("check", "metadata/crm")[0] == 0, code("check", "metadata/crm")[1]
    assert code("check", str(INVALID / "bad_cron.yaml"))[0] == 1
    assert code("check")[0] == 2


# --- schema ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def printed_schema() -> dict:
    result = run("schema")
    assert result.exit_code == 0
    return json.loads(result.stdout)


def test_schema_is_a_valid_draft_2020_12_schema(printed_schema):
    Draft202012Validator.check_schema(printed_schema)
    assert printed_schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def _field_type_enum(schema: dict) -> list[str]:
    entity = schema["properties"]["entities"]["additionalProperties"]
    field = entity["properties"]["fields"]["additionalProperties"]
    return field["properties"]["type"]["enum"]


def test_schema_field_types_match_the_registries(printed_schema):
    types = set(_field_type_enum(printed_schema))
    assert types == set(FIELD_TYPES)
    # storage has a column type for every field type; a computed field is stored in the
    # column type of what it returns
    assert types - {"computed"} == set(COLUMN_TYPES)
    assert set(COMPUTED_RETURNS) <= set(COLUMN_TYPES)


def test_the_crm_rulebook_validates_against_the_printed_schema(printed_schema):
    from ruleform.metadata.source import load_source
    from ruleform.metadata.validation import jsonable

    data = jsonable(load_source(CRM).data)
    assert list(Draft202012Validator(printed_schema).iter_errors(data)) == []


# --- explain -----------------------------------------------------------------------------------


def test_explain_in_zh_CN_is_the_default_locale():
    result = run("explain", CRM)
    assert result.exit_code == 0
    text = result.stdout
    assert "【客户】（customer）" in text
    assert "状态：待审核、潜在客户、意向客户、成交客户、流失客户（终态）" in text
    assert "状态流转：" in text and "转为意向客户：从 潜在客户 到 意向客户" in text


def test_explain_in_en():
    result = run("explain", CRM, "--locale", "en")
    assert result.exit_code == 0
    text = result.stdout
    assert "[Customer] (customer)" in text
    assert "Statuses: Awaiting review, Prospect, Interested, Won, Lost (final)" in text
    assert "Mark interested: from Prospect to Interested" in text


def test_explain_one_entity():
    result = run("explain", CRM, "quote", "--locale", "en")
    assert result.exit_code == 0
    assert result.stdout.startswith("[Quote] (quote)")
    assert "[Customer]" not in result.stdout
    assert "needs approval: Sales manager review" in result.stdout


def test_explain_permissions_prints_a_row_per_role_and_entity():
    rulebook = compile_rulebook(CRM)
    result = run("explain", CRM, "--permissions")
    assert result.exit_code == 0
    header, *rows = result.stdout.strip().splitlines()
    assert header.split()[:8] == [
        "role", "entity", "read", "create", "update", "archive", "export", "import",
    ]  # fmt: skip
    expected = {
        (role, name) for name, entity in rulebook.entities.items() for role in entity.permissions
    }
    assert {tuple(row.split()[:2]) for row in rows} == expected
    assert len(rows) == len(expected)
    finance = next(r for r in rows if r.split()[:2] == ["finance", "customer"])
    assert "read:only(8)" in finance


# --- the session shown in docs/metadata.md is real ---------------------------------------------


def _docs_blocks() -> tuple[str, list[list[str]]]:
    text = (ROOT / "docs" / "metadata.md").read_text("utf-8")
    checking = text[text.index("## Checking") :]
    shop = re.search(r"```yaml\n# shop.yaml\n(.*?)```", checking, re.DOTALL)
    consoles = re.findall(r"```console\n(.*?)```", checking, re.DOTALL)
    assert shop and len(consoles) >= 2
    outputs = []
    for block in consoles:
        lines = block.splitlines()
        cut = next((i for i, line in enumerate(lines[1:], 1) if line.startswith("$")), None)
        outputs.append(lines[1:cut])
    return shop.group(1), outputs


def test_the_checking_session_in_the_docs_is_real_output(tmp_path, monkeypatch):
    shop, (first, second, *_rest) = _docs_blocks()
    monkeypatch.chdir(tmp_path)  # the session runs in the file's folder
    Path("shop.yaml").write_text(shop, "utf-8")
    result = run("check", "shop.yaml")
    assert result.exit_code == 1
    assert result.output.splitlines() == first
    fixed = shop.replace("type: phon,", "type: phone,").replace("45 dayz", "45 days")
    Path("shop.yaml").write_text(fixed, "utf-8")
    result = run("check", "shop.yaml")
    assert result.exit_code == 1
    assert result.output.splitlines() == second
