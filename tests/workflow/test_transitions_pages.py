"""The workflow pages: the transition panel of the detail page, the transition form, the
approval inbox and request page, the status diagram (HTTP and ``ruleform explain``)."""

from __future__ import annotations

import xml.dom.minidom

import pytest
from click.testing import CliRunner
from flask import g

from ruleform.blueprints.workflow.panel import transition_panel
from ruleform.cli import cli
from ruleform.platform.actors import load_actor
from tests.auth import sign_in
from tests.conftest import CRM
from tests.workflow.wf_helpers import CUSTOMER, wf  # noqa: F401

pytestmark = pytest.mark.app


def panel(wf, username, entity, record_id):  # noqa: F811
    with wf.app.test_request_context("/"):
        with wf.st.engine.connect() as conn:
            g.rf_actor = load_actor(conn, wf.uid(username))
        return str(transition_panel(wf.rt.entity(entity), {"id": record_id}))


def test_the_panel_shows_what_this_user_may_do_and_why_not_the_rest(wf):  # noqa: F811
    customer = wf.customer()
    html = panel(wf, "sales1", "customer", customer.id)
    assert 'data-transition="submit_review"' in html and "需审批" in html
    request_id = wf.take("sales1", "customer", customer.id, "submit_review").request_id
    html = panel(wf, "sales1", "customer", customer.id)
    assert "审批中" in html and f"/approvals/{request_id}" in html and "撤回" in html
    assert "此记录有待处理的审批申请" in html  # why the transition is unavailable
    wf.decide("service", request_id)
    html = panel(wf, "sales1", "customer", customer.id)
    assert "须先有已签订的合同" in html  # win: the guard's message
    assert 'name="lost_reason"' in html  # lose asks for the reason
    assert panel(wf, "sales2", "customer", customer.id) == ""  # cannot see the record


def test_the_panel_escapes_what_users_typed(wf):  # noqa: F811
    customer = wf.customer()
    request_id = wf.take("sales1", "customer", customer.id, "submit_review").request_id
    wf.decide("service", request_id)
    html = panel(wf, "sales1", "customer", customer.id)
    assert "<script" not in html
    with wf.app.test_request_context("/"):
        g.rf_actor = None
        assert str(transition_panel("customer", customer.id)) == ""


def test_a_transition_through_the_page_form(wf, client):  # noqa: F811
    customer = wf.customer()
    sign_in(client, "sales1")
    form = client.get(f"/customer/{customer.id}/transitions/submit_review")
    assert form.status_code == 200 and "提交客服审核" in form.get_data(as_text=True)
    response = client.post(
        f"/customer/{customer.id}/transitions/submit_review",
        data={"row_version": "1", "comment": "请审核"},
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/customer/{customer.id}"
    )
    (request,) = wf.rows("select * from approval_requests")
    assert request["comment"] == "请审核"
    stale = client.post(
        f"/customer/{customer.id}/transitions/submit_review", data={"row_version": "1"}
    )
    assert stale.status_code == 302  # refused: flashed on the detail page
    assert len(wf.rows("select id from approval_requests")) == 1


def test_a_page_form_with_errors_is_shown_again(wf, client):  # noqa: F811
    customer = wf.customer()
    request_id = wf.take("sales1", "customer", customer.id, "submit_review").request_id
    wf.decide("service", request_id)
    sign_in(client, "sales1")
    response = client.post(
        f"/customer/{customer.id}/transitions/lose", data={"row_version": "3", "lost_reason": ""}
    )
    assert response.status_code == 422
    assert "此项为必填项" in response.get_data(as_text=True)
    response = client.post(
        f"/customer/{customer.id}/transitions/lose",
        data={"row_version": "3", "lost_reason": "预算取消"},
    )
    assert response.status_code == 302
    assert wf.record("customer", customer.id)["status"] == "lost"


def test_the_inbox_page_approves(wf, client):  # noqa: F811
    quote = wf.quote()
    request_id = wf.take("sales1", "quote", quote.id, "submit", comment="请批").request_id
    sign_in(client, "manager")
    inbox = client.get("/approvals")
    text = inbox.get_data(as_text=True)
    assert inbox.status_code == 200 and "BJ-202603001" in text and "请批" in text
    page = client.get(f"/approvals/{request_id}")
    assert page.status_code == 200 and "加签" in page.get_data(as_text=True)
    done = client.post(
        f"/approvals/{request_id}/approve", data={"comment": "可以", "back": "inbox"}
    )
    assert done.status_code == 302 and done.headers["Location"].endswith("/approvals")
    assert wf.record("quote", quote.id)["status"] == "approved"
    assert client.get(f"/approvals/{request_id}").status_code == 200
    sign_in(client, "sales2")
    assert client.get(f"/approvals/{request_id}").status_code == 404


def test_delegation_through_the_inbox_page(wf, client):  # noqa: F811
    sign_in(client, "manager")
    response = client.post(
        "/approvals/delegations",
        data={"delegate": str(wf.uid("gm")), "ends_at": "2099-01-01T18:00", "reason": "出差"},
    )
    assert response.status_code == 302
    (row,) = wf.rows("select * from delegations")
    assert (row["user_id"], row["delegate_id"]) == (wf.uid("manager"), wf.uid("gm"))
    listed = wf.get("gm", "/api/v1/delegations").get_json()["items"]
    assert listed[0]["user"] == wf.uid("manager") and not listed[0]["mine"]
    client.post(f"/approvals/delegations/{row['id']}/revoke")
    assert wf.rows("select revoked_at from delegations")[0]["revoked_at"] is not None


def test_the_status_diagram_is_a_safe_standalone_svg(wf, client):  # noqa: F811
    sign_in(client, "sales1")
    response = client.get("/quote/diagram.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    xml.dom.minidom.parseString(svg)
    assert "<script" not in svg and "href" not in svg
    assert "提交报价审批" in svg and "✓ 审批: 销售主管审核 → 财务核定" in svg
    assert 'data-transition="send_unapproved"' in svg and "stroke-dasharray" in svg
    assert client.get("/no_such_entity/diagram.svg").status_code == 404


def test_explain_prints_the_diagram():
    result = CliRunner().invoke(cli, ["explain", CRM, "quote", "--diagram", "--locale", "en"])
    assert result.exit_code == 0, result.output
    xml.dom.minidom.parseString(result.output)
    assert "Submit for approval" in result.output
    everything = CliRunner().invoke(cli, ["explain", CRM, "--diagram"])
    assert everything.exit_code == 0 and everything.output.count('data-status="draft"') >= 2


def test_workflow_endpoints_need_a_login(client):
    assert client.get("/api/v1/approvals").status_code == 401
    assert client.get("/approvals").status_code in (302, 401)
