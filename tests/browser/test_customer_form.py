"""The customer form in a real browser: a salesperson fixes a bad phone number and saves."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS, login

pytestmark = [pytest.mark.app, pytest.mark.browser]


def test_sales1_fixes_a_bad_phone_number_and_finds_the_customer(page, live_server):
    login(page, live_server, "sales1")
    page.goto(f"{live_server}/customer/new")
    page.fill("#f-company_name", "杭州青禾文化传媒有限公司")
    page.fill("#f-contact_name", "陈晓")
    page.select_option("#f-source", "trade_show")
    page.fill("#f-mobile", "12345")
    page.click("button.btn--primary[type=submit]")

    error = page.locator("#f-mobile-error")
    error.wait_for()
    assert "电话" in error.inner_text()
    assert page.locator("#f-mobile").get_attribute("aria-invalid") == "true"
    assert page.locator("#f-company_name").input_value() == "杭州青禾文化传媒有限公司"
    page.screenshot(path=str(ARTIFACTS / "customer-form-error.png"), full_page=True)
    page.screenshot(path=str(ARTIFACTS / "customer-form.png"))  # the README's picture

    page.fill("#f-mobile", "13912345678")
    page.click("button.btn--primary[type=submit]")
    page.wait_for_url(lambda url: "/customer/" in url and "/new" not in url)

    page.goto(f"{live_server}/customer")
    assert page.get_by_text("杭州青禾文化传媒有限公司").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "customer-list.png"), full_page=True)
