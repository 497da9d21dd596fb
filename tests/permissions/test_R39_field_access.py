"""R39: finance sees payment information only (field-level permission) — in records,
lists, exports, history, aggregates and the OpenAPI document, through API and pages."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.app

PAYMENT = {"company_name", "short_name", "invoice_title", "tax_id", "bank_name",
           "bank_account", "payment_terms", "credit_limit"}  # fmt: skip
HIDDEN = {"contact_name", "mobile", "email", "wechat", "competition"}


def test_R39_finance_reads_payment_fields_only(api, make_customer):
    customer = make_customer("sales1", email="zhang@example.com", wechat="zhang_wx")
    data = api.get(f"/customer/{customer['id']}", user="finance").get_json()["data"]
    fields = set(data) - {"id", "created_at", "updated_at", "created_by", "updated_by", "owner",
                          "department", "status", "row_version", "archived"}  # fmt: skip
    assert fields <= PAYMENT and "company_name" in fields
    assert not HIDDEN & set(data)
    listed = api.get("/customer", user="finance").get_json()
    assert not HIDDEN & set(listed["meta"]["columns"])
    assert "zhang@example.com" not in str(listed) and "zhang_wx" not in str(listed)


def test_R39_finance_may_write_the_credit_limit_only(api, make_customer):
    customer = make_customer("sales1")
    url = f"/customer/{customer['id']}"
    headers = {"If-Match": f'W/"{customer["row_version"]}"'}
    refused = api.patch(url, user="finance", json={"contact_name": "李四"}, headers=headers)
    assert refused.status_code == 422 and "contact_name" in refused.get_json()["errors"]
    ok = api.patch(url, user="finance", json={"credit_limit": "50000"}, headers=headers)
    assert ok.status_code == 200, ok.get_json()


def test_R39_the_detail_page_shows_finance_no_contact_data(pages, make_customer):
    customer = make_customer("sales1", contact_name="王五", email="wang@example.com")
    page = pages.client("finance").get(f"/customer/{customer['id']}").get_data(as_text=True)
    assert "王五" not in page and "wang@example.com" not in page
    assert customer["company_name"] in page


def test_R39_finance_schema_lists_payment_fields_only(api):
    doc = api.get("/openapi.json", user="finance").get_json()
    props = set(doc["components"]["schemas"]["customer"]["properties"])
    assert not HIDDEN & props and "credit_limit" in props
    update = set(doc["components"]["schemas"]["customer.update"]["properties"])
    assert update - {"row_version"} == {"credit_limit"}  # no owner, no department either
