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

from ruleform.cli import cli
from ruleform.metadata.compiler import compile_rulebook
from ruleform.metadata.field_types import COMPUTED_RETURNS, FIELD_TYPES
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
        command = [sys.executable, "-c", "from ruleform.cli import main; main()", *args]
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
    # storage has a column type for every field type's storage kind; a computed field is
    # stored in the column type of what it returns
    assert {FIELD_TYPES[t].storage for t in types - {"computed"}} <= set(COLUMN_TYPES)
    assert {FIELD_TYPES[t].storage for t in COMPUTED_RETURNS} <= set(COLUMN_TYPES)


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


def _cjk(ch: str) -> bool:
    return ord(ch) > 0x2E80


def _role_block(text: str, entity: str, role: str) -> list[str]:
    """The lines of one role's block under one entity, wrapped lines joined back."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.endswith(f"（{entity}）")
                 or line.endswith(f"({entity})"))  # fmt: skip
    title = next(i for i in range(start, len(lines)) if lines[i].strip().endswith(
        (f"（{role}）", f"({role})")))  # fmt: skip
    block: list[str] = []
    for line in lines[title + 1 :]:
        if not line.strip():
            break
        if line.startswith(" " * 8) and block:  # a wrapped line
            prev, rest = block[-1], line.strip()
            sep = "" if _cjk(prev[-1]) or _cjk(rest[0]) else " "
            block[-1] = prev + sep + rest
        else:
            block.append(line.strip())
    return block


def _width(line: str) -> int:
    return sum(2 if _cjk(ch) else 1 for ch in line)


def test_explain_permissions_has_a_table_and_a_block_per_role_and_entity():
    rulebook = compile_rulebook(CRM)
    result = run("explain", CRM, "--permissions")
    assert result.exit_code == 0
    text = result.stdout
    for name, entity in rulebook.entities.items():
        if not entity.permissions:
            continue
        section = text[text.index(f"（{name}）\n") :]
        header = section.splitlines()[1].split()
        assert header == ["角色", "查看", "新建", "修改", "归档", "导出", "导入"]
        for role, perm in entity.permissions.items():
            label = rulebook.roles[role].label.get("zh-CN")
            row = next(line for line in section.splitlines() if line.split()[:2] == [label, role])
            marks = row.split()[2:]
            assert marks == [
                "✓" if a in perm.actions else "·"
                for a in ("read", "create", "update", "archive", "export", "import")
            ]
            assert _role_block(text, name, role)[0].startswith("操作：")


def test_explain_permissions_names_fields_and_scopes_in_words():
    zh = run("explain", CRM, "--permissions").stdout
    finance = _role_block(zh, "customer", "finance")
    assert finance == [
        "操作：查看、修改",
        "状态变更：无",
        "数据范围：全部记录",
        "只能查看：客户公司全称、客户公司简称、开票抬头、纳税人识别号、开户银行、银行账号*、付款条件、"
        "信用额度",
        "只能修改：信用额度",
        "可查看的敏感字段：银行账号*",
    ]  # fmt: skip
    sales = _role_block(zh, "customer", "sales")
    assert "数据范围：满足下列任一条件的记录" in sales
    assert "· 负责人是本人" in sales
    assert ("· 该记录有关联的数据调取申请（负责人是本人，且状态是“已批准”，且使用期限至不早于今天）"
            in sales)  # fmt: skip
    assert (
        "条件原文：owner = current_user or count(access_request where owner = current_user "
        "and status = 'granted' and valid_until >= today()) > 0"
    ) in sales
    assert "可修改：全部字段，除了 交接时间、交接原因、原负责人、信用额度" in sales
    service = _role_block(zh, "customer", "customer_service")
    assert "可查看：全部字段，除了 纳税人识别号、开户银行、银行账号*、信用额度" in service
    assert "可修改：无（没有新建或修改权限）" in service
    assert "· 状态是“待受理”" in _role_block(zh, "ticket", "customer_service")
    assert "· 所属客户的负责人是本人" in _role_block(zh, "contact", "sales")


def test_explain_permissions_in_english():
    en = run("explain", CRM, "--permissions", "--locale", "en").stdout
    finance = _role_block(en, "customer", "finance")
    assert (
        "reads only: Company full name, Company short name, Invoice title, Taxpayer ID, Bank, "
        "Bank account*, Payment terms, Credit limit"
    ) in finance
    assert "writes only: Credit limit" in finance
    sales = _role_block(en, "customer", "sales")
    assert "rows: records where any of these holds" in sales
    assert "· Owner is the user" in sales
    assert (
        "· the record has a related Data access request (Owner is the user, and Status is "
        "“Granted”, and Access until is on or after today)"
    ) in sales
    assert (
        "writes all fields except: Handed over at, Reason for handover, Previous owner, "
        "Credit limit"
    ) in sales
    technical = _role_block(en, "customer", "technical")
    assert (
        "rows: records where the record has a related Ticket (Technical assignee is the user)"
    ) in technical
    assert "writes: nothing (no create or update right)" in technical


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_explain_permissions_fits_a_terminal(locale):
    text = run("explain", CRM, "--permissions", "--locale", locale).stdout
    assert max(_width(line) for line in text.splitlines()) <= 100


def test_explain_permissions_of_one_entity():
    text = run("explain", CRM, "customer", "--permissions", "--locale", "en").stdout
    assert "[Customer] (customer)" in text
    assert "[Ticket]" not in text and "(ticket)" not in text


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
