"""R20 in a real browser: ``sales1`` requests a quote approval on the quote's page, the
manager approves it from the approval inbox, and ``sales1`` sees the new status and the
timeline."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS, login
from tests.workflow.wf_helpers import wf  # noqa: F401

pytestmark = [pytest.mark.app, pytest.mark.browser]


def test_R20_sales1_requests_approval_and_the_manager_approves_from_the_inbox(
    browser,
    live_server,
    wf,  # noqa: F811
):
    quote = wf.quote(tag="浏览器")
    page_url = f"{live_server}/quote/{quote.id}"

    seller = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    sales1 = seller.new_page()
    sales1.set_default_timeout(15_000)
    sales1.on("dialog", lambda dialog: dialog.accept())  # a transition may ask to confirm
    login(sales1, live_server, "sales1")
    sales1.goto(page_url)
    option = sales1.locator("[data-transition=submit]")
    option.locator("summary").click()
    option.locator("textarea[name=comment]").fill("年度框架客户，请核定")
    option.locator("form button[type=submit]").click()
    sales1.wait_for_load_state()
    pending = sales1.locator(".wf-pending")
    pending.wait_for()
    assert "销售主管审核" in pending.inner_text()
    sales1.screenshot(path=str(ARTIFACTS / "quote-approval-requested.png"), full_page=True)

    approver = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    manager = approver.new_page()  # on a phone-sized screen
    manager.set_default_timeout(15_000)
    login(manager, live_server, "manager")
    manager.goto(f"{live_server}/approvals")
    task = manager.locator(".wf-task").filter(has_text="BJ-202603001")
    assert "年度框架客户，请核定" in task.inner_text()
    task.locator("input[name=comment]").fill("同意报价")
    task.locator("button.btn--primary").click()
    manager.wait_for_load_state()
    assert manager.locator(".wf-task").filter(has_text="BJ-202603001").count() == 0
    manager.screenshot(path=str(ARTIFACTS / "quote-approval-inbox.png"), full_page=True)

    sales1.goto(page_url)
    assert "已核定" in sales1.locator("main").inner_text()
    timeline = sales1.locator("ol.timeline").inner_text()
    assert "处理了审批 · 提交报价审批" in timeline and "意见: 同意报价" in timeline
    assert "提交了审批 · 提交报价审批" in timeline and "年度框架客户，请核定" in timeline
    assert sales1.locator(".wf-pending").count() == 0
    assert sales1.locator("[data-transition=send]").count() == 1  # the next step is open
    sales1.screenshot(path=str(ARTIFACTS / "quote-approved.png"), full_page=True)
    seller.close()
    approver.close()
