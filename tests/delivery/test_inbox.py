"""The in-app inbox: delivered inline by the drain, exactly once; read on /inbox and the API."""

from __future__ import annotations

import pytest

from ruleform.platform.auth.tokens import create_token
from ruleform.platform.runtime import utcnow

pytestmark = pytest.mark.app


def _token(dl, username: str) -> dict[str, str]:
    with dl.st.engine.begin() as conn:
        token = create_token(conn, dl.org.user(username), "tests").token
    return {"Authorization": f"Bearer {token}"}


def test_inbox_rows_are_delivered_inline_exactly_once(dl):
    first = dl.notify(
        "inbox",
        dl.user("sales1"),
        subject="Call {{ recipient.name }}",
        body="Body for {{ recipient.name }}",
    )
    second = dl.notify("inbox", dl.user("manager"), subject="Second")
    report = dl.drain()
    assert report.inline == 2 and report.enqueued == 0 and dl.queue.jobs == []
    again = dl.drain()  # a second drain finds nothing: the rows are delivered
    assert again.inline == 0
    (message,) = dl.inbox("sales1")
    assert message["subject"] == "Call 张伟" and message["body"] == "Body for 张伟"
    assert dl.row(first)["status"] == "delivered" and dl.row(first)["attempts"] == 1
    assert dl.row(second)["status"] == "delivered"
    assert dl.delivery(first)["status"] == "sent"


def test_the_unique_outbox_key_makes_a_replayed_delivery_a_no_op(dl):
    from ruleform.workflow_engine.delivery.channels import Outgoing
    from ruleform.workflow_engine.delivery.channels.inbox import deliver

    row_id = dl.notify("inbox", dl.user("sales1"), subject="Once")
    dl.drain()
    row = dl.row(row_id)
    outgoing = Outgoing(row["idempotency_key"], "inbox", "x", "Once", "", "", "id")
    with dl.st.engine.begin() as conn:
        assert deliver(conn, outgoing, dl.org.user("sales1"), row, utcnow()) is False
    assert len(dl.inbox("sales1")) == 1


def test_a_row_that_cannot_be_delivered_fails_without_blocking_the_batch(dl):
    bad = dl.notify("inbox", {"user_id": 999_999}, subject="Nobody")
    broken = dl.notify("inbox", dl.user("sales1"), subject="{{ record.x | nosuchfilter }}")
    good = dl.notify("inbox", dl.user("sales1"), subject="Fine")
    dl.drain()
    assert dl.row(bad)["status"] == "failed" and "does not exist" in dl.row(bad)["last_error"]
    assert dl.row(broken)["status"] == "failed" and "template" in dl.row(broken)["last_error"]
    assert dl.row(good)["status"] == "delivered"


def test_inbox_page_and_api(dl, client):
    dl.notify("inbox", dl.user("sales1"), subject="First message")
    dl.notify("inbox", dl.user("sales1"), subject="Second message")
    dl.notify("inbox", dl.user("manager"), subject="Not for sales1")
    dl.drain()
    sales1, manager = _token(dl, "sales1"), _token(dl, "manager")
    body = client.get("/api/v1/inbox", headers=sales1).get_json()
    assert [m["subject"] for m in body["data"]] == ["Second message", "First message"]
    assert body["unread"] == 2
    ids = [m["id"] for m in body["data"]]
    # someone else's ids change nothing
    assert client.post("/api/v1/inbox/read", json={"ids": ids}, headers=manager).get_json() == {
        "marked": 0
    }
    assert client.post("/api/v1/inbox/read", json={"ids": ids[:1]},
                       headers=sales1).get_json() == {"marked": 1}  # fmt: skip
    unread = client.get("/api/v1/inbox?unread=1", headers=sales1).get_json()
    assert [m["subject"] for m in unread["data"]] == ["First message"] and unread["unread"] == 1
    bad = client.post("/api/v1/inbox/read", json={"ids": "all"}, headers=sales1)
    assert bad.status_code == 422
    assert client.post("/api/v1/inbox/read", json={"all": True}, headers=sales1).get_json() == {
        "marked": 1
    }
    assert client.get("/api/v1/inbox").status_code == 401


def test_inbox_page_lists_my_messages(dl, app):
    from tests.pages.conftest import Pages

    dl.notify("inbox", dl.user("sales1"), subject="<b>Escaped</b> subject")
    dl.drain()
    client = Pages(app).client("sales1")
    page = client.get("/inbox")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "&lt;b&gt;Escaped&lt;/b&gt; subject" in html and 'data-unread="1"' in html
    message_id = dl.inbox("sales1")[0]["id"]
    done = client.post("/inbox/read", data={"id": str(message_id)})
    assert done.status_code == 302
    assert dl.inbox("sales1")[0]["read_at"] is not None
    assert 'data-unread="0"' in client.get("/inbox").get_data(as_text=True)
