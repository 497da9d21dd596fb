"""Definition changes: a new rulebook version that removes a status records are in is
refused by the migration plan unless the administrator maps them to another status."""

from __future__ import annotations

import copy
import json

import pytest
import sqlalchemy as sa

from ruleform.errors import MigrationRefused
from ruleform.metadata.compiler import compile_tree
from ruleform.metadata.overlays import load_rulebook_source
from ruleform.metadata.source import load_text
from ruleform.metadata.validation import jsonable
from ruleform.platform.storage import apply_plan, plan_migration
from tests.conftest import CRM
from tests.workflow.wf_helpers import wf  # noqa: F401

pytestmark = pytest.mark.app


def without_expired():
    data = copy.deepcopy(jsonable(load_rulebook_source(CRM).data))
    quote = data["entities"]["quote"]
    del quote["statuses"]["states"]["expired"]
    del quote["transitions"]["expire"]
    sales = quote["permissions"]["sales"]
    sales["transitions"] = [t for t in sales["transitions"] if t != "expire"]
    result = compile_tree(load_text(json.dumps(data, ensure_ascii=False), "v2.json"))
    assert result.ok, [p.format() for p in result.errors]
    return result.rulebook


def plan(wf, **kw):  # noqa: F811
    with wf.st.engine.connect() as conn:
        return plan_migration(conn, wf.rt.rulebook, without_expired(), **kw)


def status_steps(found):
    return [s for s in found if s.column == "status"]


def test_removing_an_unused_status_is_a_note(wf):  # noqa: F811
    (step,) = status_steps(plan(wf))
    assert step.kind == "remove_status" and not step.refused and not step.destructive
    assert "expired" in step.describe("en")


def test_records_left_in_a_removed_status_refuse_the_plan(wf):  # noqa: F811
    quote = wf.quote()
    with wf.st.engine.begin() as conn:
        conn.execute(
            sa.text("update e_quote set status = 'expired' where id = :i"), {"i": quote.id}
        )
    found = plan(wf)
    (step,) = status_steps(found)
    assert step.refused and step.details["records"] == 1
    assert "1 records are in it" in step.describe("en") and "无法执行" in step.describe("zh-CN")
    with pytest.raises(MigrationRefused):
        found.check(archive=True)
    assert status_steps(plan(wf, status_map={"quote": {"expired": "nowhere"}}))[0].refused
    mapped = plan(wf, status_map={"quote": {"expired": "declined"}})
    (step,) = status_steps(mapped)
    assert step.kind == "map_status" and step.destructive and not step.refused
    with pytest.raises(MigrationRefused):
        mapped.check()  # destructive: needs archiving
    assert "UPDATE e_quote SET status='declined' WHERE e_quote.status = 'expired'" in mapped.sql()
    apply_plan(wf.st.engine, mapped, archive=True)
    assert wf.record("quote", quote.id)["status"] == "declined"
    (archived,) = wf.rows(
        "select * from archived_values where entity = 'quote' and field = 'status'"
    )
    value = archived["value"]  # JSON text on SQLite, decoded JSONB on PostgreSQL
    assert (json.loads(value) if value.startswith('"') else value) == "expired"


def test_a_pending_request_for_a_removed_status_refuses_the_plan(wf):  # noqa: F811
    quote = wf.quote()
    request_id = wf.take("sales1", "quote", quote.id, "submit").request_id
    with wf.st.engine.begin() as conn:
        conn.execute(
            sa.text("update approval_requests set to_status = 'expired' where id = :i"),
            {"i": request_id},
        )
    (step,) = status_steps(plan(wf, status_map={"quote": {"expired": "declined"}}))
    assert step.refused and step.details["pending_requests"] == 1
