"""``ruleform migrate`` and ``ruleform rulebook …``: publishing a rulebook version from the
command line — the plan in plain words, one transaction, refusals, archives, round trips.

Runs on the backend chosen by RULEFORM_TEST_BACKEND (the ``database_url`` fixture: the CRM
rulebook as version 1 and the standard organisation).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from ruleform.cli import _register_extensions, cli
from ruleform.errors import UsageError
from ruleform.metadata.compiler import compile_rulebook
from ruleform.platform.actors import load_actor
from ruleform.platform.bootstrap import load_runtime
from ruleform.platform.database import create_engine
from ruleform.platform.records import RecordService
from ruleform.platform.storage import active_version, list_versions
from tests.conftest import CRM

pytestmark = pytest.mark.app

LINKEDIN = """      linkedin:
        type: string
        label: {zh-CN: 领英主页, en: LinkedIn profile}
        max_length: 100
"""

CUSTOMER = {"company_name": "上海恒远精密机械有限公司", "contact_name": "张三",
            "mobile": "13800138000", "source": "trade_show"}  # fmt: skip


@pytest.fixture
def run(database_url, tmp_path):
    """``ruleform ARGS… --database <test database>`` → click Result."""
    _register_extensions()
    runner = CliRunner()
    env = {"RULEFORM_DATABASE_URL": None, "RULEFORM_RULEBOOK": None,
           "RULEFORM_INSTANCE_PATH": str(tmp_path / "instance")}  # fmt: skip

    def invoke(*args: str):
        return runner.invoke(cli, [*args, "--database", database_url], env=env,
                             catch_exceptions=False)  # fmt: skip

    return invoke


@pytest.fixture
def engine(database_url):
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def with_linkedin(tmp_path) -> Path:
    """A copy of the CRM rulebook whose customer has one more field, ``linkedin``."""
    folder = tmp_path / "crm-linkedin"
    shutil.copytree(CRM, folder)
    path = folder / "customer.yaml"
    text = path.read_text(encoding="utf-8")
    anchor = "      wechat:\n"
    assert anchor in text
    path.write_text(text.replace(anchor, LINKEDIN + anchor, 1), encoding="utf-8")
    return folder


def columns(engine, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(engine).get_columns(table)}


def active_number(engine) -> int:
    with engine.connect() as conn:
        return active_version(conn).number


def test_plan_prints_the_change_in_chinese_and_its_sql_and_changes_nothing(
    run, engine, with_linkedin
):
    result = run("migrate", "--rulebook", str(with_linkedin), "--plan")
    assert result.exit_code == 0, result.output
    assert "为「客户」添加字段 'linkedin'（领英主页）" in result.output
    assert "[安全]" in result.output
    assert "ALTER TABLE e_customer ADD COLUMN linkedin VARCHAR(100)" in result.output
    assert "当前生效版本：1" in result.output
    assert "linkedin" not in columns(engine, "e_customer")
    assert active_number(engine) == 1


def test_plan_in_english(run, with_linkedin):
    result = run("migrate", "--rulebook", str(with_linkedin), "--plan", "--locale", "en")
    assert result.exit_code == 0, result.output
    assert "Add field 'linkedin' (LinkedIn profile) to Customer" in result.output
    assert "[safe]" in result.output
    assert "The plan may be applied" in result.output


def test_plan_of_the_active_rulebook_is_empty(run):
    result = run("migrate", "--rulebook", CRM, "--plan", "--locale", "en")
    assert result.exit_code == 0, result.output
    assert "No database changes" in result.output or "no change" in result.output.lower()


def test_migrate_adds_the_column_and_activates_a_new_version(run, engine, with_linkedin):
    result = run("migrate", "--rulebook", str(with_linkedin), "--comment", "LinkedIn for R01")
    assert result.exit_code == 0, result.output
    assert "制度版本 2" in result.output
    assert "linkedin" in columns(engine, "e_customer")
    with engine.connect() as conn:
        active = active_version(conn)
        assert (active.number, active.comment) == (2, "LinkedIn for R01")
        assert active.fingerprint == compile_rulebook(with_linkedin).fingerprint
        assert active.author_id is None  # published from the command line
        assert [v.number for v in list_versions(conn)] == [2, 1]
    again = run("migrate", "--rulebook", str(with_linkedin), "--locale", "en")
    assert again.exit_code == 0 and "Nothing to change: version 2" in again.output


def _customer_with_linkedin(engine, org, value: str) -> int:
    runtime = load_runtime(engine, None)
    with engine.begin() as conn:
        service = RecordService(runtime, conn, load_actor(conn, org.user("sales1")))
        return service.create("customer", {**CUSTOMER, "linkedin": value}).id


def test_dropping_a_field_with_data_is_refused_without_archive(run, engine, org, with_linkedin):
    assert run("migrate", "--rulebook", str(with_linkedin)).exit_code == 0
    record = _customer_with_linkedin(engine, org, "linkedin.com/in/zhangsan")
    result = run("migrate", "--rulebook", CRM, "--locale", "en")
    assert result.exit_code == 1
    assert "Remove field 'linkedin'" in result.output
    assert "1 records hold a value" in result.output
    assert "--archive" in result.output
    assert active_number(engine) == 2  # nothing changed: neither the version nor the table
    with engine.connect() as conn:
        query = sa.text("select linkedin from e_customer where id = :id")
        kept = conn.execute(query, {"id": record})
        assert kept.scalar() == "linkedin.com/in/zhangsan"
    planned = run("migrate", "--rulebook", CRM, "--plan")
    assert planned.exit_code == 1  # --plan says it would be refused


def test_dropping_a_field_with_archive_keeps_the_values_in_archived_values(
    run, engine, org, with_linkedin
):
    assert run("migrate", "--rulebook", str(with_linkedin)).exit_code == 0
    record = _customer_with_linkedin(engine, org, "linkedin.com/in/zhangsan")
    assert run("migrate", "--rulebook", CRM, "--plan", "--archive").exit_code == 0
    result = run("migrate", "--rulebook", CRM, "--archive", "--locale", "en")
    assert result.exit_code == 0, result.output
    assert "linkedin" not in columns(engine, "e_customer")
    assert active_number(engine) == 3
    with engine.connect() as conn:
        rows = conn.execute(sa.text("select entity, record_id, field, value, rulebook_version "
                                    "from archived_values")).all()  # fmt: skip
    assert [(r.entity, r.record_id, r.field, r.rulebook_version) for r in rows] == [
        ("customer", record, "linkedin", 3)
    ]
    assert rows[0].value in ("linkedin.com/in/zhangsan", '"linkedin.com/in/zhangsan"')


def test_an_invalid_rulebook_is_refused_with_file_and_line(run, engine, tmp_path):
    folder = tmp_path / "broken"
    shutil.copytree(CRM, folder)
    path = folder / "opportunity.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("to: proposal", "to: proposl", 1),
                    encoding="utf-8")  # fmt: skip
    result = run("migrate", "--rulebook", str(folder))
    assert result.exit_code == 1
    assert "opportunity.yaml:" in result.output and "proposl" in result.output
    assert active_number(engine) == 1


def test_export_then_import_gives_the_same_rulebook(run, engine, tmp_path):
    out = tmp_path / "exported"
    result = run("rulebook", "export", str(out))
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert "rulebook.yaml" in names and "customer.yaml" in names and "ticket.yaml" in names
    rulebook_text = (out / "rulebook.yaml").read_text(encoding="utf-8")
    assert "from: 2026-01-01" in rulebook_text  # a YAML date, not a quoted string
    assert "客户信息管理制度" in rulebook_text  # Chinese as is
    assert compile_rulebook(out).fingerprint == compile_rulebook(CRM).fingerprint
    result = run("rulebook", "import", str(out), "--locale", "en")
    assert result.exit_code == 0, result.output
    assert "Nothing to change: version 1" in result.output
    with pytest.raises(UsageError, match="not empty"):  # exit status 2 from `ruleform`
        run("rulebook", "export", str(out))
    assert run("rulebook", "export", "--force", str(out)).exit_code == 0


def test_an_older_version_can_be_exported_and_imported_again(run, engine, with_linkedin, tmp_path):
    assert run("migrate", "--rulebook", str(with_linkedin)).exit_code == 0
    assert run("migrate", "--rulebook", CRM, "--archive").exit_code == 0
    out = tmp_path / "v2"
    assert run("rulebook", "export", "--version", "2", str(out)).exit_code == 0
    assert compile_rulebook(out).fingerprint == compile_rulebook(with_linkedin).fingerprint
    result = run("rulebook", "import", str(out))
    assert result.exit_code == 0, result.output
    assert active_number(engine) == 4 and "linkedin" in columns(engine, "e_customer")
    listing = run("rulebook", "versions")
    lines = listing.output.splitlines()
    assert lines[0].startswith("*") and " 4 " in lines[0] and len(lines) == 4


def test_import_refuses_a_destructive_change(run, engine, org, with_linkedin):
    assert run("rulebook", "import", str(with_linkedin)).exit_code == 0
    _customer_with_linkedin(engine, org, "x")
    result = run("rulebook", "import", CRM)
    assert result.exit_code == 1 and "--archive" in result.output
    assert active_number(engine) == 2


def test_migrate_on_an_empty_database_creates_everything_as_version_1(tmp_path):
    _register_extensions()
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = CliRunner().invoke(cli, ["migrate", "--rulebook", CRM, "--database", url],
                                catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 0, result.output
    engine = create_engine(url)
    try:
        assert active_number(engine) == 1
        tables = set(sa.inspect(engine).get_table_names())
        assert {"e_customer", "users", "rulebook_versions"} <= tables
    finally:
        engine.dispose()


def test_schema_change_and_new_version_commit_together_or_not_at_all(
    engine, with_linkedin, monkeypatch
):
    from ruleform.platform import publish

    def broken_activate(conn, number):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(publish, "activate", broken_activate)
    with pytest.raises(RuntimeError, match="disk is full"):
        publish.publish_rulebook(engine, with_linkedin)
    assert "linkedin" not in columns(engine, "e_customer")  # the ALTER was rolled back too
    with engine.connect() as conn:
        assert [v.number for v in list_versions(conn)] == [1]


ON_HOLD_STATE = "        on_hold: {label: {zh-CN: 暂停跟进, en: On hold}}\n"
ON_HOLD_TRANSITION = """      hold:
        from: prospect
        to: on_hold
        label: {zh-CN: 暂停跟进, en: Put on hold}
"""


@pytest.fixture
def with_on_hold(tmp_path) -> Path:
    """A copy of the CRM rulebook whose customers have one more status, ``on_hold``."""
    folder = tmp_path / "crm-on-hold"
    shutil.copytree(CRM, folder)
    path = folder / "customer.yaml"
    text = path.read_text(encoding="utf-8")
    for anchor, addition in (("        prospect: {label:", ON_HOLD_STATE),
                             ("      qualify:\n", ON_HOLD_TRANSITION)):  # fmt: skip
        assert anchor in text
        text = text.replace(anchor, addition + anchor, 1)
    lose = "from: [prospect, interested, won]"
    assert lose in text
    text = text.replace(lose, "from: [prospect, interested, won, on_hold]", 1)
    path.write_text(text, encoding="utf-8")
    return folder


def test_removing_a_status_records_hold_needs_a_move_and_archive(run, engine, org, with_on_hold):
    from ruleform.workflow_engine.service import apply_transition

    assert run("migrate", "--rulebook", str(with_on_hold)).exit_code == 0
    runtime = load_runtime(engine, None)
    with engine.begin() as conn:
        actor = load_actor(conn, org.user("sales1"))
        record = RecordService(runtime, conn, actor).create("customer", CUSTOMER)
        conn.execute(
            sa.text("update e_customer set status = 'prospect' where id = :id"), {"id": record.id}
        )  # test setup: the review is not what this test is about
        manager = load_actor(conn, org.user("manager"))  # sales may not take `hold`
        apply_transition(runtime, conn, manager, "customer", record.id, "hold", {}, 1)
    refused = run("migrate", "--rulebook", CRM, "--locale", "en")
    assert refused.exit_code == 1 and "on_hold" in refused.output
    moved = run("migrate", "--rulebook", CRM, "--locale", "en", "--archive",
                "--move-status", "customer.on_hold=prospect")  # fmt: skip
    assert moved.exit_code == 0, moved.output
    assert "Move 1 records of Customer from the removed status 'on_hold'" in moved.output
    with engine.connect() as conn:
        status = conn.execute(sa.text("select status from e_customer where id = :id"),
                              {"id": record.id}).scalar()  # fmt: skip
    assert status == "prospect" and active_number(engine) == 3


def test_move_status_must_name_entity_old_and_new(run):
    with pytest.raises(UsageError, match="ENTITY.OLD_STATUS=NEW_STATUS"):
        run("migrate", "--rulebook", CRM, "--move-status", "on_hold")


def test_a_running_server_serves_a_newly_published_version_without_a_restart(
    database_url, tmp_path, org, with_linkedin
):
    """The admin publishes a new field while the server runs: the next requests (after
    ``RULEBOOK_CHECK_SECONDS``) show it on the form and accept it in the API."""
    import time

    from ruleform.app import create_app, state
    from ruleform.platform import publish
    from ruleform.platform.auth.tokens import create_token

    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "DATABASE_URL": database_url,
            "TESTING": True,
            "RULEBOOK_CHECK_SECONDS": 0.05,
        }
    )
    st = state(app)
    with st.engine.begin() as conn:
        token = create_token(conn, org.user("sales1"), "follower test").token
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    assert "linkedin" not in client.get("/api/v1/openapi.json", headers=headers).get_data(True)
    publish.publish_rulebook(st.engine, with_linkedin)
    time.sleep(0.1)
    client.get("/api/v1/openapi.json", headers=headers)  # this request notices the new version
    assert st.runtime.version == 2
    assert "linkedin" in client.get("/api/v1/openapi.json", headers=headers).get_data(True)
    st.engine.dispose()
