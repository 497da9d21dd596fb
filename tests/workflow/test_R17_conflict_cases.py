"""R17 (004 §6.2 客户冲突): the duplicate rules find the customer another salesperson entered
(normalised company name; one company's different departments are different customers)
and open a conflict case, settled by time priority or by a manager (efficiency priority)."""

from __future__ import annotations

import pytest

from ruleform.metadata.compiler import check_rulebook
from ruleform.workflow_engine.normalise import normalise, rule_key
from tests.workflow.wf_helpers import CUSTOMER, wf  # noqa: F401


@pytest.mark.parametrize(
    "a, b",
    [
        ("上海恒远精密机械有限公司", "上海恒远精密机械股份有限公司"),
        (
            "上海恒远精密机械有限公司",
            "上海 恒远精密机械（集团）有限公司".replace("（集团）", "集团"),
        ),
        ("ＡＢＣ科技有限公司", "abc科技"),
        ("Hengyuan Co., Ltd.", "HENGYUAN LIMITED"),
        ("上海恒远精密机械有限公司上海分公司", "上海恒远精密机械有限公司上海"),
    ],
)
def test_R17_company_names_normalise_to_the_same_key(a, b):
    assert normalise("company_name", a) == normalise("company_name", b)


def test_R17_other_normalisers():
    assert normalise("text", "  采购　部 ") == "采购 部"
    assert normalise("phone", "138 0013 8000") == normalise("phone", "+86 13800138000")
    assert normalise("email", " Zhang@Example.COM ") == "zhang@example.com"
    assert normalise("company_name", "上海恒远") != normalise("company_name", "北京恒远")


@pytest.mark.app
def test_R17_second_salesperson_entering_the_same_customer_opens_a_conflict_case(wf):  # noqa: F811
    first = wf.api_create("sales1", "customer", CUSTOMER)
    second = wf.api_create(
        "sales2",
        "customer",
        {
            **CUSTOMER,
            "mobile": "13900139000",
            "company_name": "上海恒远精密机械股份有限公司",
            "contact_department": "采购部 ",
        },
    )
    (case,) = wf.rows("select * from e_conflict_case")
    assert (case["customer"], case["duplicate_customer"]) == (first["id"], second["id"])
    assert (case["existing_owner"], case["claimant"]) == (wf.uid("sales1"), wf.uid("sales2"))
    assert case["matched_rule"] == "same_company_department" and case["status"] == "open_case"
    assert case["owner"] == wf.uid("sales1") and case["subject"].endswith("股份有限公司")
    assert "conflict:same_company_department" in wf.events("customer", second["id"])

    visible = wf.get("sales2", "/api/v1/conflict_case").get_json()
    assert [r["id"] for r in visible["data"]] == [case["id"]]
    decided = wf.api_take("manager", "conflict_case", case["id"], "decide_by_time")
    assert decided.status_code == 200 and decided.get_json()["status"] == "decided"
    stored = wf.record("conflict_case", case["id"])
    assert (stored["principle"], stored["decision"], stored["decided_by"]) == (
        "time_priority",
        "keep_existing",
        wf.uid("manager"),
    )
    assert wf.api_take("sales2", "conflict_case", case["id"], "decide_by_time").status_code == 403


@pytest.mark.app
def test_R17_the_conflict_warning_reaches_the_person_entering(wf):  # noqa: F811
    wf.customer("sales1")
    view = wf.customer("sales2", mobile="13900139000")
    assert view.warnings == [
        "This department of the company was already entered by someone else; "
        "a conflict case has been opened"
    ]
    own = wf.customer("sales1", mobile="13600136000")
    assert own.warnings == ["您已录入过此记录（同一公司同一部门）。"]  # sales1 reads zh-CN
    assert len(wf.rows("select id from e_conflict_case")) == 1


@pytest.mark.app
def test_R17_different_departments_are_different_customers(wf):  # noqa: F811
    wf.api_create("sales1", "customer", CUSTOMER)
    wf.api_create(
        "sales2", "customer", {**CUSTOMER, "contact_department": "技术部", "mobile": "13900139000"}
    )
    assert wf.rows("select id from e_conflict_case") == []


@pytest.mark.app
def test_R17_efficiency_priority_is_a_managers_reasoned_decision(wf):  # noqa: F811
    wf.api_create("sales1", "customer", CUSTOMER)
    wf.api_create("sales2", "customer", {**CUSTOMER, "mobile": "13900139000"})
    (case,) = wf.rows("select id from e_conflict_case")
    missing = wf.api_take("manager", "conflict_case", case["id"], "decide_by_efficiency")
    assert missing.status_code == 422
    assert set(missing.get_json()["errors"]) == {"decision", "evidence", "decision_reason"}
    done = wf.api_take(
        "manager",
        "conflict_case",
        case["id"],
        "decide_by_efficiency",
        {
            "fields": {
                "decision": "transfer_to_claimant",
                "evidence": "后录入方已完成两次技术交流",
                "decision_reason": "客户明确选择后录入方",
            }
        },
    )
    assert done.status_code == 200
    assert wf.record("conflict_case", case["id"])["principle"] == "efficiency_priority"


@pytest.mark.app
def test_R17_matching_is_an_indexed_lookup_of_stored_keys(wf):  # noqa: F811
    first = wf.customer("sales1")
    keys = wf.rows(
        "select rule, key_hash from duplicate_keys where entity = 'customer' and "
        "record_id = :r order by rule",
        r=first.id,
    )
    assert [k["rule"] for k in keys] == ["same_company_department", "same_mobile"]
    rule = wf.rt.entity("customer").duplicates[0]
    assert keys[0]["key_hash"] == rule_key(rule, {**CUSTOMER, "mobile": None})
    indexes = {
        ix.name: [c.name for c in ix.columns] for ix in wf.rt.system_table("duplicate_keys").indexes
    }
    assert ["entity", "rule", "key_hash"] in indexes.values()


def test_R17_the_case_key_is_checked(tmp_path):
    (tmp_path / "rb.yaml").write_text(
        """\
language: ruleform/v1
name: t
version: 1
locales: [en]
default_locale: en
timezone: UTC
entities:
  customer:
    label: Customer
    fields:
      name: {type: string, label: Name}
    duplicates:
      same:
        match: [{field: name, normalize: company_name}]
        on_match: conflict
        case:
          entity: dispute
          fields: {customer: existing, claimant: new.owner, note: new.nme, txt: existing.owner}
          auto_transition: decid
  dispute:
    label: Dispute
    fields:
      customer: {type: reference, entity: customer, label: C}
      claimant: {type: user, label: C}
      note: {type: string, label: N}
      txt: {type: string, label: T}
      must: {type: string, label: M, required: true}
    statuses: {initial: open, states: {open: {label: O}, done: {label: D, final: true}}}
    transitions: {decide: {from: open, to: done}}
""",
        encoding="utf-8",
    )
    problems = [p.format() for p in check_rulebook(tmp_path / "rb.yaml").errors]
    assert any("required fields of dispute empty: must" in p for p in problems)
    assert any("'nme' is not a field of customer — did you mean 'name'?" in p for p in problems)
    assert any("'existing.owner' is user, but 'txt' is string" in p for p in problems)
    assert any("'decid' is not a transition of dispute" in p for p in problems)


@pytest.mark.app
@pytest.mark.parametrize("on_match", ["allow", "warn", "block"])
def test_R17_what_a_match_does(wf, on_match):  # noqa: F811
    import dataclasses

    from ruleform.errors import FieldErrors
    from ruleform.platform.actors import load_actor
    from ruleform.workflow_engine.duplicates import check_write

    wf.customer("sales1")
    customer = wf.rt.entity("customer")
    mobile = next(r for r in customer.duplicates if r.name == "same_mobile")
    rule = dataclasses.replace(mobile, on_match=on_match)
    entity = dataclasses.replace(customer, duplicates=(rule,))
    record = {**CUSTOMER, "mobile": "+8613800138000"}
    with wf.st.engine.connect() as conn:
        actor = load_actor(conn, wf.uid("sales2"))
        if on_match == "block":
            with pytest.raises(FieldErrors) as err:
                check_write(wf.rt, conn, actor, entity, record, None)
            assert err.value.errors == {"mobile": ["Another customer has this mobile number"]}
        else:
            found = check_write(wf.rt, conn, actor, entity, record, None)
            assert found == (
                [] if on_match == "allow" else ["Another customer has this mobile number"]
            )
            assert check_write(wf.rt, conn, actor, entity, record, {"email"}) == []
