"""The generated pages on the CRM rulebook, as a salesperson uses them."""

from __future__ import annotations

import html as htmllib

import pytest
import sqlalchemy as sa

from ruleform.app import state
from tests.pages.conftest import field_block, record_id, row_version

pytestmark = pytest.mark.app

CUSTOMER = {
    "company_name": "上海恒远精密机械有限公司",
    "contact_name": "张三",
    "mobile": "13800138000",
    "source": "trade_show",
    "company_type_score": "3", "size_score": "4", "brand_score": "2",
    "demand_score": "5", "industry_position_score": "3", "market_share_score": "1",
}  # fmt: skip


def form_data(values: dict) -> dict:
    """A submitted form: the values plus the ``_fields`` markers the page renders."""
    return {**values, "_fields": list(values)}


def create(client, **extra) -> int:
    response = client.post("/customer/new", data=form_data({**CUSTOMER, **extra}))
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return record_id(response.headers["Location"])


def test_home_sends_a_salesperson_to_their_start_page(pages):
    response = pages.client("sales1").get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/customer")  # R30: role.start_page


def test_anonymous_visitors_are_sent_to_login(pages):
    response = pages.client().get("/customer")
    assert response.status_code in (302, 401)
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]


def test_created_customer_appears_in_list_and_detail(pages):
    sales1 = pages.client("sales1")
    new_page = sales1.get("/customer/new").get_data(as_text=True)
    assert 'name="company_name"' in new_page and "客户公司全称" in new_page
    customer = create(sales1)
    listing = sales1.get("/customer").get_data(as_text=True)
    assert CUSTOMER["company_name"] in listing
    assert f'href="/customer/{customer}"' in listing
    assert "待审核" in listing  # the status as its label, not its name
    detail = sales1.get(f"/customer/{customer}")
    assert detail.status_code == 200
    body = detail.get_data(as_text=True)
    assert CUSTOMER["company_name"] in body and "展会" in body  # choice label
    assert "13800138000" not in body and "••••00" in body  # sensitive: masked


def test_R28_another_salesperson_gets_404(pages):
    customer = create(pages.client("sales1"))
    sales2 = pages.client("sales2")
    assert sales2.get(f"/customer/{customer}").status_code == 404
    assert sales2.get(f"/customer/{customer}/edit").status_code == 404
    assert CUSTOMER["company_name"] not in sales2.get("/customer?view=all_customers").get_data(
        as_text=True
    )


def test_unknown_or_unreadable_entity_is_404(pages):
    sales1 = pages.client("sales1")
    assert sales1.get("/no_such_thing").status_code == 404
    assert pages.client("finance").get("/lead").status_code == 404  # finance may not read leads


def test_bad_phone_is_shown_next_to_the_field_and_input_is_kept(pages, app):
    sales1 = pages.client("sales1")
    response = sales1.post("/customer/new", data=form_data({**CUSTOMER, "mobile": "12345"}))
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    mobile = field_block(body, "mobile")
    assert 'aria-invalid="true"' in mobile and "f-mobile-error" in mobile
    assert "请输入有效的电话号码" in mobile
    assert 'value="12345"' in mobile  # what the user typed stays
    assert f'value="{CUSTOMER["company_name"]}"' in field_block(body, "company_name")
    assert 'class="alert alert--error error-summary"' in body and 'href="#f-mobile"' in body
    with state(app).engine.connect() as conn:  # nothing half-saved
        assert conn.execute(sa.text("select count(*) from e_customer")).scalar() == 0


def test_edit_and_history(pages):
    sales1 = pages.client("sales1")
    customer = create(sales1)
    edit = sales1.get(f"/customer/{customer}/edit").get_data(as_text=True)
    version = row_version(edit)
    # company_name is append-only (R12) and filled: read-only with a supplement box
    assert 'name="supplements-company_name"' in edit
    assert 'name="company_name"' not in edit
    response = sales1.post(f"/customer/{customer}/edit", data={
        **form_data({"qq": "123456", "source": "online"}), "row_version": version,
        "supplements-company_name": "更名为 恒远机械"})  # fmt: skip
    assert response.status_code == 303
    detail = sales1.get(f"/customer/{customer}").get_data(as_text=True)
    assert "更名为 恒远机械" in detail  # the supplement under the original value
    assert "线上推广" in detail  # choice label of the new value
    assert "张伟" in detail  # history names who did it
    timeline = detail[detail.index('class="timeline"') :]
    assert "展会" in timeline and "线上推广" in timeline  # from → to, as labels


def test_sensitive_value_is_kept_when_its_input_is_left_blank(pages, app):
    sales1 = pages.client("sales1")
    customer = create(sales1)
    edit = sales1.get(f"/customer/{customer}/edit").get_data(as_text=True)
    assert "13800138000" not in edit  # never put back into an input
    response = sales1.post(
        f"/customer/{customer}/edit",
        data={**form_data({"mobile": "", "qq": "123456"}), "row_version": row_version(edit)},
    )
    assert response.status_code == 303
    with state(app).engine.connect() as conn:
        stored = conn.execute(sa.text("select mobile from e_customer where id = :i"),
                              {"i": customer}).scalar()  # fmt: skip
    assert stored == "+8613800138000"


def test_reveal_shows_a_sensitive_value_and_is_audited(pages, app):
    sales1 = pages.client("sales1")
    customer = create(sales1)
    body = sales1.get(f"/customer/{customer}?reveal=mobile").get_data(as_text=True)
    assert "+8613800138000" in body
    with state(app).engine.connect() as conn:
        fields = conn.execute(sa.text("select fields from read_audit where record_id = :i"),
                              {"i": customer}).scalars().all()  # fmt: skip
    assert any("mobile" in str(f) for f in fields)


def test_stale_version_gets_409_and_keeps_the_input(pages):
    sales1 = pages.client("sales1")
    customer = create(sales1)
    version = row_version(sales1.get(f"/customer/{customer}/edit").get_data(as_text=True))
    first = sales1.post(
        f"/customer/{customer}/edit", data={**form_data({"qq": "111111"}), "row_version": version}
    )
    assert first.status_code == 303
    second = sales1.post(
        f"/customer/{customer}/edit", data={**form_data({"qq": "222222"}), "row_version": version}
    )
    assert second.status_code == 409
    body = second.get_data(as_text=True)
    assert "其他人修改了它" in body  # the version_conflict message
    qq = field_block(body, "qq")
    assert 'value="222222"' in qq  # the user's input is kept
    assert "111111" in qq  # … and the value saved meanwhile is shown beside it
    assert row_version(body) == str(int(version) + 1)  # resubmitting is now deliberate


def test_archive_needs_the_right(pages, app, org):
    customer = create(pages.client("sales1"))
    sales1_detail = pages.client("sales1").get(f"/customer/{customer}").get_data(as_text=True)
    assert "/archive" not in sales1_detail  # R12: only administrators archive customers
    refused = pages.client("sales1").post(f"/customer/{customer}/archive",
                                          data={"row_version": "1"})  # fmt: skip
    assert refused.status_code == 403
    admin = pages.client("admin")
    detail = admin.get(f"/customer/{customer}").get_data(as_text=True)
    assert f"/customer/{customer}/archive" in detail
    done = admin.post(f"/customer/{customer}/archive", data={"row_version": row_version(detail)})
    assert done.status_code == 303
    assert CUSTOMER["company_name"] not in admin.get("/customer?view=all_customers").get_data(
        as_text=True
    )  # archived records leave lists


def test_detail_hides_fields_the_role_may_not_read(pages):
    customer = create(pages.client("sales1"), tax_id="91310000MA1FL0000X")
    finance = pages.client("finance")
    body = finance.get(f"/customer/{customer}").get_data(as_text=True)
    assert "91310000MA1FL0000X" in body  # finance reads payment information (R39)
    # … and nothing else, not even in the history timeline
    assert "联系人姓名" not in body and "张三" not in body


def test_related_list_shows_the_customers_contacts(pages):
    sales1 = pages.client("sales1")
    customer = create(sales1)
    detail = sales1.get(f"/customer/{customer}").get_data(as_text=True)
    assert f"/contact/new?customer={customer}" in detail
    prefilled = sales1.get(f"/contact/new?customer={customer}").get_data(as_text=True)
    assert f'<option selected value="{customer}">' in prefilled
    response = sales1.post(
        "/contact/new",
        data=form_data(
            {"customer": str(customer), "full_name": "李四", "email": "lisi@example.com"}
        ),
    )
    assert response.status_code == 303, htmllib.unescape(response.get_data(as_text=True))[:3000]
    detail = sales1.get(f"/customer/{customer}").get_data(as_text=True)
    assert "李四" in detail
