"""Rendering at delivery time: only what the recipient may read, plain values, masked
sensitive fields, the configured base URL, the recipient's locale."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.app

DUMP = "{% for k, v in record|dictsort %}{{ k }}={{ v }};{% endfor %}"


def _fields(body: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in body.split(";") if part)


def test_a_notification_to_finance_never_contains_a_customer_field_finance_cannot_read(dl):
    customer = dl.customer(bank_account="6222020200112233", tax_id="91310000MA1FL8XX1X")
    template = DUMP + "|{{ record.contact_name }}|{{ record.mobile }}|{{ record.bank_account }}"
    finance = dl.notify("inbox", dl.user("finance"), subject="{{ record.company_name }}",
                        body=template, entity="customer", record_id=customer)  # fmt: skip
    owner = dl.notify("inbox", dl.user("sales1"), subject="{{ record.company_name }}",
                      body=template, entity="customer", record_id=customer)  # fmt: skip
    dl.drain()
    (to_finance,) = dl.inbox("finance")
    body = to_finance["body"]
    assert to_finance["subject"] == "上海恒远精密机械有限公司"
    for secret in ("张三", "13800138000", "采购部", "trade_show"):
        assert secret not in body
    runtime = dl.st.runtime
    readable = runtime.policy.readable_fields(
        _actor(dl, "finance"), runtime.entity("customer"))  # fmt: skip
    shown = _fields(body.split("|")[0])
    assert set(shown) <= readable and "contact_name" not in shown and "mobile" not in shown
    assert shown["tax_id"] == "91310000MA1FL8XX1X"
    assert shown["bank_account"] == "••••33"  # sensitive: masked even for finance
    assert body.endswith("||••••33")
    (to_owner,) = dl.inbox("sales1")
    assert "张三" in to_owner["body"] and "13800138000" not in to_owner["body"]
    assert "|张三|••••00|" in to_owner["body"]
    assert dl.row(finance)["status"] == dl.row(owner)["status"] == "delivered"


def _actor(dl, username):
    from ruleform.platform.actors import load_actor

    with dl.st.engine.connect() as conn:
        return load_actor(conn, dl.org.user(username))


def test_a_recipient_who_cannot_see_the_record_gets_only_its_id(dl):
    customer = dl.customer()  # owned by sales1; sales2 has no access
    dl.notify("inbox", dl.user("sales2"), subject="[{{ record.company_name }}] {{ record.id }}",
              body=DUMP, entity="customer", record_id=customer)  # fmt: skip
    dl.drain()
    (message,) = dl.inbox("sales2")
    assert message["subject"] == f"[] {customer}" and message["body"] == f"id={customer};"


def test_customers_get_only_the_fields_the_template_names_and_never_sensitive_values(dl):
    customer = dl.customer(bank_account="6222020200112233")
    dl.configure(DELIVERY_MODE="sandbox")  # keep it: the sandbox shows the rendered message
    row_id = dl.notify("email", {"address": "buyer@example.com", "field": "email"},
                       subject="Hi {{ record.contact_name }}",
                       body=DUMP + "|{{ record.bank_account }}|{{ link }}",
                       entity="customer", record_id=customer, audience="customers",
                       path="/survey/abc")  # fmt: skip
    assert dl.deliver() == ["sandbox"]
    delivery = dl.delivery(row_id)
    assert delivery["status"] == "sandboxed" and delivery["subject"] == "Hi 张三"
    fields = _fields(delivery["body"].split("|")[0])
    assert fields == {"bank_account": "••••33", "contact_name": "张三"}
    assert delivery["body"].endswith("|••••33|http://127.0.0.1:5000/survey/abc")


def test_links_use_the_configured_base_url_never_the_request_host(dl, app):
    dl.configure(BASE_URL="https://crm.example.com/")
    customer = dl.customer()
    dl.notify("inbox", dl.user("sales1"), subject="x", body="{{ link }}", entity="customer",
              record_id=customer)  # fmt: skip
    dl.notify("inbox", dl.user("sales1"), subject="y", body="{{ link }}", path="//evil.example/x")
    with app.test_request_context("/", base_url="http://evil.example"):
        dl.drain()
    first, second = dl.inbox("sales1")
    assert first["body"] == f"https://crm.example.com/customer/{customer}" == first["link"]
    assert second["body"] == "https://crm.example.com/"  # a path that is not ours is dropped


def test_the_recipients_locale_picks_the_text_and_times_are_in_their_time_zone(dl):
    from zoneinfo import ZoneInfo

    import sqlalchemy as sa

    customer = dl.customer("sales2")
    with dl.st.engine.begin() as conn:
        conn.execute(sa.text("update users set timezone = 'America/New_York' where username = "
                             "'sales2'"))  # fmt: skip
        table = dl.st.runtime.table("customer")
        created = conn.execute(sa.select(table.c.created_at).where(table.c.id == customer)).scalar()
    texts = {"zh-CN": "创建于 {{ record.created_at }}", "en": "Created {{ record.created_at }}"}
    for username in ("manager", "sales2"):  # zh-CN, Asia/Shanghai (the rulebook's) / en, New York
        dl.notify("inbox", dl.user(username), subject="s", body=texts, entity="customer",
                  record_id=customer)  # fmt: skip
    dl.drain()
    (zh,), (en,) = dl.inbox("manager"), dl.inbox("sales2")
    shanghai = created.astimezone(ZoneInfo(dl.st.runtime.rulebook.timezone))
    new_york = created.astimezone(ZoneInfo("America/New_York"))
    assert zh["body"] == f"创建于 {shanghai:%Y-%m-%d %H:%M}"
    assert en["body"] == f"Created {new_york:%Y-%m-%d %H:%M}"
