"""Delivery policies (R35): quiet hours defer, the frequency cap, the kill switch, sandbox
mode — each asked at delivery time, none of them ever dropping a message silently."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine

from ruleform.platform.runtime import utcnow
from ruleform.workflow_engine.delivery import kill_switch_on, set_kill_switch
from ruleform.workflow_engine.delivery.policy import quiet_until
from tests.delivery.sink import HttpSink, SmtpSink

pytestmark = pytest.mark.app

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def sms_gateway(dl):
    with HttpSink(body=b'{"ok": true}') as sink:
        dl.configure(WEBHOOK_TARGETS={"gateway": {"url": sink.url, "kind": "sms",
                                                  "allow_private": True}},
                     SMS_GATEWAY="gateway")  # fmt: skip
        yield sink


@pytest.fixture
def smtp(dl):
    with SmtpSink() as sink:
        dl.configure(SMTP_HOST="127.0.0.1", SMTP_PORT=sink.port)
        yield sink


def test_quiet_hours_window_arithmetic():
    window = (datetime(2000, 1, 1, 21).time(), datetime(2000, 1, 1, 8).time())
    late = datetime(2026, 3, 2, 22, 30, tzinfo=SHANGHAI).astimezone(UTC)
    early = datetime(2026, 3, 3, 6, 0, tzinfo=SHANGHAI).astimezone(UTC)
    morning = datetime(2026, 3, 3, 8, 0, tzinfo=SHANGHAI).astimezone(UTC)
    assert quiet_until(late, "Asia/Shanghai", window) == morning
    assert quiet_until(early, "Asia/Shanghai", window) == morning
    assert quiet_until(morning, "Asia/Shanghai", window) is None
    day = (datetime(2000, 1, 1, 12).time(), datetime(2000, 1, 1, 14).time())
    assert quiet_until(morning, "Asia/Shanghai", day) is None
    # across the spring-forward night in New York the window still ends at 07:00 local
    ny = ZoneInfo("America/New_York")
    night = datetime(2026, 3, 7, 23, 30, tzinfo=ny)
    window = (datetime(2000, 1, 1, 22).time(), datetime(2000, 1, 1, 7).time())
    end = quiet_until(night.astimezone(UTC), "America/New_York", window)
    assert end == datetime(2026, 3, 8, 7, 0, tzinfo=ny)


def test_an_sms_in_quiet_hours_is_deferred_to_their_end_never_dropped(dl, sms_gateway):
    evening = datetime(2026, 3, 2, 22, 30, tzinfo=SHANGHAI)
    with time_machine.travel(evening, tick=False):
        row_id = dl.notify("sms", {"address": "+8613800138000", "field": "buyer_mobile"},
                           body="Rate us: {{ link }}", audience="customers")  # fmt: skip
        assert dl.deliver() == ["defer"]
    row = dl.row(row_id)
    assert row["status"] == "pending" and "quiet hours" in row["last_error"]
    assert row["attempts"] == 0 and sms_gateway.requests == []  # a deferral is no attempt
    with time_machine.travel(evening + timedelta(hours=8), tick=False):  # 06:30: still quiet
        assert dl.deliver() == []
    with time_machine.travel(evening + timedelta(hours=9, minutes=31), tick=False):
        assert dl.deliver() == ["sent"]
    (request,) = sms_gateway.requests
    assert request["body"]["to"] == "+8613800138000" and request["body"]["text"].startswith("Rate")
    assert request["headers"]["Idempotency-Key"] == request["body"]["id"]
    assert dl.row(row_id)["status"] == "delivered"


def test_quiet_hours_follow_the_recipients_time_zone(dl, smtp):
    with dl.st.engine.begin() as conn:
        conn.execute(sa.text("update users set timezone = 'America/New_York' "
                             "where username = 'sales2'"))  # fmt: skip
    dl.configure(DELIVERY_QUIET_HOURS={"email": ["22:00", "07:00"]})
    now = datetime(2026, 3, 3, 3, 30, tzinfo=UTC)  # 22:30 in New York, 11:30 in Shanghai
    far = dl.notify("email", dl.user("sales2"), subject="far", now=now)
    near = dl.notify("email", dl.user("manager"), subject="near", now=now)
    assert sorted(dl.deliver(now)) == ["defer", "sent"]
    assert dl.row(near)["status"] == "delivered"
    assert dl.rows("select not_before from outbox where id = :i", i=far)[0]["not_before"]
    assert dl.drain(now + timedelta(hours=8)).enqueued == 0  # 06:30 in New York
    assert dl.deliver(now + timedelta(hours=8, minutes=31)) == ["sent"]
    assert [m["Subject"] for m in smtp.messages] == ["near", "far"]


def test_the_frequency_cap_counts_one_person_across_rules_and_channels(dl, smtp):
    dl.configure(DELIVERY_FREQUENCY_CAP=[2, 3600],
                 DELIVERY_FREQUENCY_CAP_CHANNELS=["inbox", "email"])  # fmt: skip
    start = utcnow()
    dl.notify("inbox", dl.user("sales1"), subject="one", rule="rule_a", now=start)
    dl.notify("inbox", dl.user("sales1"), subject="two", rule="rule_b", now=start)
    capped = dl.notify("email", dl.user("sales1"), subject="three", rule="rule_c", now=start)
    other = dl.notify("email", dl.user("sales2"), subject="someone else", rule="rule_c", now=start)
    assert sorted(dl.deliver(start)) == ["defer", "sent"]
    row = dl.row(capped)
    assert row["status"] == "pending"
    assert "frequency cap: 2 per 3600 s for user:" in row["last_error"]
    assert dl.row(other)["status"] == "delivered"
    assert dl.deliver(start + timedelta(minutes=30)) == []  # not before a slot frees
    assert dl.deliver(start + timedelta(minutes=61)) == ["sent"]
    assert dl.row(capped)["status"] == "delivered"

    dl.configure(DELIVERY_FREQUENCY_CAP_ACTION="skip")
    later = start + timedelta(minutes=62)
    for subject in ("a", "b", "c"):
        dl.notify("email", dl.user("sales2"), subject=subject, now=later)
    assert sorted(dl.deliver(later)) == ["sent", "sent", "skip"]
    (skipped,) = dl.rows("select * from outbox where status = 'skipped'")
    assert skipped["last_error"].startswith("frequency cap: 2 per 3600 s for user:")


def test_the_kill_switch_holds_everything_until_it_is_switched_off(dl, smtp, app):
    from ruleform.cli import main

    url = app.config["DATABASE_URL"]
    with pytest.raises(SystemExit) as done:
        main(["outbox", "kill-switch", "on", "--database", url])
    assert done.value.code == 0
    with dl.st.engine.connect() as conn:
        assert kill_switch_on(conn)
    inbox = dl.notify("inbox", dl.user("sales1"), subject="held")
    email = dl.notify("email", dl.user("sales1"), subject="held")
    report = dl.drain()
    assert report.held and dl.queue.jobs == [] and dl.inbox("sales1") == []
    assert dl.row(inbox)["status"] == dl.row(email)["status"] == "pending"

    with dl.st.engine.begin() as conn:  # switched off: a job is queued …
        set_kill_switch(conn, False, utcnow())
    dl.drain()
    assert len(dl.queue.jobs) == 1 and len(dl.inbox("sales1")) == 1
    with dl.st.engine.begin() as conn:  # … and the switch goes on before it runs
        set_kill_switch(conn, True, utcnow())
    assert dl.run_jobs() == ["held"]
    row = dl.row(email)
    assert row["status"] == "pending" and row["claimed_by"] is None and smtp.messages == []
    with pytest.raises(SystemExit):
        main(["outbox", "kill-switch", "off", "--database", url])
    assert dl.deliver() == ["sent"] and len(smtp.messages) == 1


def test_sandbox_mode_delivers_only_to_the_allow_list_and_shows_the_rest(dl, smtp, app):
    from tests.pages.conftest import Pages

    dl.configure(DELIVERY_MODE="sandbox", DELIVERY_ALLOWLIST=["*@example.com", "user:sales2"])
    customer = dl.customer()
    held = dl.notify("email", {"address": "buyer@customer.cn"}, audience="customers",
                     subject="Survey for {{ record.company_name }}", body="Order survey",
                     entity="customer", record_id=customer, rule="satisfaction_survey")  # fmt: skip
    allowed = dl.notify("email", {"address": "tester@example.com"}, subject="to a tester",
                        audience="customers")  # fmt: skip
    inbox = dl.notify("inbox", dl.user("sales1"), subject="internal")  # the inbox stays open
    assert sorted(dl.deliver()) == ["sandbox", "sent"]
    assert dl.row(held)["status"] == "sandboxed" and dl.row(allowed)["status"] == "delivered"
    assert dl.row(inbox)["status"] == "delivered"
    assert [m["To"] for m in smtp.messages] == ["tester@example.com"]

    pages = Pages(app)
    html = pages.client("admin").get("/admin/sandbox").get_data(as_text=True)
    assert "buyer@customer.cn" in html and "Survey for 上海恒远精密机械有限公司" in html
    assert 'data-mode="sandbox"' in html and "tester@example.com" not in html
    assert pages.client("sales1").get("/admin/sandbox").status_code == 403


def test_an_sms_carries_the_body_not_the_internal_subject(dl, sms_gateway):
    noon = datetime(2026, 3, 2, 12, 0, tzinfo=SHANGHAI)
    with time_machine.travel(noon, tick=False):
        dl.notify(
            "sms",
            {"address": "+8613800138000", "field": "buyer_mobile"},
            subject="购买后第3天满意度调查",
            body="请为我们的服务打分",
            audience="customers",
        )
        assert dl.deliver() == ["sent"]
    (request,) = sms_gateway.requests
    assert request["body"]["text"].startswith("请为我们的服务打分")
    assert "满意度调查" not in request["body"]["text"]
