"""Administrators: the outbox page and API (filter, last error, retry, kill switch) and the
webhook targets (an address the SSRF rules refuse needs the allow-list box)."""

from __future__ import annotations

import pytest

from ruleform.platform.auth.tokens import create_token
from tests.delivery.sink import HttpSink

pytestmark = pytest.mark.app


def _headers(dl, username: str) -> dict[str, str]:
    with dl.st.engine.begin() as conn:
        token = create_token(conn, dl.org.user(username), "tests").token
    return {"Authorization": f"Bearer {token}"}


def test_webhook_targets_are_managed_by_admins_and_called_with_the_message(dl, app):
    from tests.pages.conftest import Pages

    pages = Pages(app)
    admin = pages.client("admin")
    assert pages.client("sales1").get("/admin/webhooks").status_code == 403
    with HttpSink(body=b'{"errcode": 0}') as sink:
        form = {"name": "sales_group", "kind": "wecom", "url": sink.url, "active": "1"}
        refused = admin.post("/admin/webhooks", data=form)
        assert refused.status_code == 422
        assert "loopback" in refused.get_data(as_text=True)
        saved = admin.post("/admin/webhooks", data={**form, "allow_private": "1"})
        assert saved.status_code == 302
        assert 'data-target="sales_group"' in admin.get("/admin/webhooks").get_data(as_text=True)

        customer = dl.customer()
        row_id = dl.notify("webhook", {"target": "sales_group"}, entity="customer",
                           record_id=customer, subject="New lead {{ record.company_name }}",
                           body="{{ entity.label }} {{ record.id }}")  # fmt: skip
        assert dl.deliver() == ["sent"]
        (request,) = sink.requests
    assert request["body"]["msgtype"] == "text"
    assert request["body"]["text"]["content"].startswith("New lead 上海恒远精密机械有限公司\n")
    assert dl.row(row_id)["status"] == "delivered"
    missing = dl.notify("webhook", {"target": "nowhere"})
    assert dl.deliver() == ["fail"]
    assert "no active webhook target 'nowhere'" in dl.row(missing)["last_error"]


def test_the_outbox_page_shows_failures_and_retries_them(dl, app):
    from tests.pages.conftest import Pages

    failed = dl.notify("inbox", {"user_id": 999_999}, subject="lost")
    done = dl.notify("inbox", dl.user("sales1"), subject="fine")
    dl.drain()
    pages = Pages(app)
    admin = pages.client("admin")
    html = admin.get("/admin/outbox?status=failed").get_data(as_text=True)
    assert f'data-row="{failed}" data-status="failed"' in html and f'data-row="{done}"' not in html
    assert "user 999999 does not exist or is deactivated" in html
    assert 'data-kill-switch="off"' in html
    assert pages.client("sales1").get("/admin/outbox").status_code == 403
    back = admin.post(f"/admin/outbox/{failed}/retry", data={"back": "//evil.example/"})
    assert back.status_code == 302 and back.headers["Location"].startswith("/admin/outbox")
    row = dl.row(failed)
    assert row["status"] == "pending" and row["attempts"] == 0
    assert "[retried by admin at" in row["last_error"]
    admin.post("/admin/outbox/kill-switch", data={"state": "on"})
    assert 'data-kill-switch="on"' in admin.get("/admin/outbox").get_data(as_text=True)


def test_the_outbox_command_line(dl, app, capsys):
    from ruleform.cli import main

    failed = dl.notify("inbox", {"user_id": 999_999}, subject="lost")
    dl.notify("inbox", dl.user("sales1"), subject="fine")
    dl.drain()
    url = app.config["DATABASE_URL"]
    for argv in (["outbox", "status"], ["outbox", "retry", str(failed)]):
        with pytest.raises(SystemExit) as done:
            main([*argv, "--database", url])
        assert done.value.code == 0
    out = capsys.readouterr().out
    assert "kill switch: off" in out and "delivered  inbox" in out and "failed     inbox" in out
    assert f"1 of 1 row(s) back to pending: {failed}" in out
    assert dl.row(failed)["status"] == "pending"
    with pytest.raises(SystemExit) as refused:
        main(["outbox", "retry", str(failed), "--database", url])  # pending: not retryable
    assert refused.value.code == 1


def test_the_outbox_api_for_admins(dl, client):
    failed = dl.notify("inbox", {"user_id": 999_999}, subject="lost")
    done = dl.notify("inbox", dl.user("sales1"), subject="fine")
    dl.drain()
    admin, sales = _headers(dl, "admin"), _headers(dl, "sales1")
    assert client.get("/api/v1/outbox", headers=sales).status_code == 403
    body = client.get("/api/v1/outbox?status=failed", headers=admin).get_json()
    assert [r["id"] for r in body["data"]] == [failed]
    assert body["counts"]["failed"] == 1 and body["counts"]["delivered"] == 1
    assert body["kill_switch"] is False and "does not exist" in body["data"][0]["last_error"]
    assert client.get("/api/v1/outbox?status=nope", headers=admin).status_code == 422
    detail = client.get(f"/api/v1/outbox/{done}", headers=admin).get_json()["data"]
    assert detail["status"] == "delivered" and detail["delivery"]["status"] == "sent"
    assert detail["payload"]["message"]["subject"] == {"en": "fine"}
    assert client.post(f"/api/v1/outbox/{done}/retry", headers=admin).status_code == 409
    retried = client.post(f"/api/v1/outbox/{failed}/retry", headers=admin)
    assert retried.get_json() == {"data": {"id": failed, "status": "pending"}}
    assert client.get("/api/v1/outbox/424242", headers=admin).status_code == 404
    switched = client.post("/api/v1/outbox/kill-switch", json={"on": True}, headers=admin)
    assert switched.get_json()["on"] is True
    assert client.post("/api/v1/outbox/kill-switch", json={"on": "yes"},
                       headers=admin).status_code == 422  # fmt: skip
    assert client.get("/api/v1/outbox/kill-switch", headers=admin).get_json()["on"] is True
    assert client.get("/api/v1/outbox/sandbox", headers=admin).get_json()["data"] == []
