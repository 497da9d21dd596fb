"""Email over SMTP against an aiosmtpd server on loopback: Message-IDs, the two-phase
``sending`` marker, in-doubt resolution, refusals, retries with backoff."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ruleform.platform.runtime import utcnow
from ruleform.workflow_engine.delivery import jobs
from ruleform.workflow_engine.delivery.channels.email import message_id_for
from tests.delivery.sink import SmtpSink, free_port

pytestmark = pytest.mark.app


@pytest.fixture
def smtp(dl, tmp_path):
    with SmtpSink(file=tmp_path / "received.txt", refuse=("nobody@example.com",)) as sink:
        dl.configure(SMTP_HOST="127.0.0.1", SMTP_PORT=sink.port, SMTP_FROM="CRM <crm@example.com>",
                     BASE_URL="https://crm.example.com", DELIVERY_LEASE=60)  # fmt: skip
        yield sink


def test_email_to_a_user_carries_a_message_id_derived_from_the_outbox_key(dl, smtp):
    customer = dl.customer()
    row_id = dl.notify("email", dl.user("manager"), subject="Overdue: {{ record.company_name }}",
                       body="See {{ link }}", entity="customer", record_id=customer)  # fmt: skip
    assert dl.deliver() == ["sent"]
    (mail,) = smtp.messages
    key = dl.row(row_id)["idempotency_key"]
    assert mail["Message-ID"] == message_id_for(key, "crm@example.com")
    assert mail["To"] == "manager@example.com" and mail["From"] == "CRM <crm@example.com>"
    assert mail["Subject"] == "Overdue: 上海恒远精密机械有限公司"
    assert f"See https://crm.example.com/customer/{customer}" in mail.get_content()
    row, delivery = dl.row(row_id), dl.delivery(row_id)
    assert row["status"] == "delivered" and row["attempts"] == 1 and row["claimed_by"] is None
    assert delivery["status"] == "sent" and delivery["message_id"] == mail["Message-ID"]
    assert delivery["response"].startswith("250")


def test_a_stale_or_duplicate_job_is_a_no_op(dl, smtp):
    dl.notify("email", {"address": "client@example.com"}, subject="Once", audience="customers")
    dl.drain()
    (job,) = dl.queue.jobs
    _func, args, job_id = job
    queue = dl.ctx.settings["DELIVERY_QUEUE"]
    assert job_id == args[1] and job_id.startswith(f"rf-{queue}-outbox-")
    assert jobs.run(dl.ctx, *args) == "sent"
    assert jobs.run(dl.ctx, *args) == "stale"  # RQ ran it twice: nothing happens
    assert len(smtp.messages) == 1 and dl.drain().enqueued == 0


def test_a_job_that_cannot_decide_backs_off_instead_of_looping(dl, smtp, monkeypatch):
    from ruleform.workflow_engine.delivery.prepare import Preparer

    def broken(self, row, now):
        raise RuntimeError("a bug")

    monkeypatch.setattr(Preparer, "decide", broken)
    row_id = dl.notify("email", dl.user("sales1"), subject="x")
    assert dl.deliver() == ["retry"]
    row = dl.row(row_id)
    assert row["attempts"] == 1 and row["claimed_by"] is None
    assert row["last_error"] == "RuntimeError: a bug" and smtp.messages == []


class Killed(BaseException):
    """Stands for the process dying (SIGKILL): no except clause of the job sees it."""


def _die_after_sending(monkeypatch):
    real = jobs.sender_for

    def dying(channel):
        send = real(channel)

        def send_then_die(outgoing, settings):
            send(outgoing, settings)
            raise Killed

        return send_then_die

    monkeypatch.setattr(jobs, "sender_for", dying)
    return lambda: monkeypatch.setattr(jobs, "sender_for", real)


@pytest.mark.parametrize("mode", ["resend", "confirm"])
def test_a_worker_dying_after_the_server_accepted_leaves_the_message_in_doubt(
        dl, smtp, monkeypatch, tmp_path, mode):  # fmt: skip
    monkeypatch.setenv("RF_TEST_SINK_FILE", str(tmp_path / "received.txt"))
    dl.configure(DELIVERY_EMAIL_IN_DOUBT=mode,
                 DELIVERY_EMAIL_CONFIRM="tests.delivery.sink:confirm")  # fmt: skip
    row_id = dl.notify("email", dl.user("sales2"), subject="Important")
    revive = _die_after_sending(monkeypatch)
    with pytest.raises(Killed):
        dl.deliver()
    revive()
    assert dl.delivery(row_id)["status"] == "sending"  # phase one committed, phase two never
    assert dl.drain().enqueued == 0  # the lease still holds the row
    later = utcnow() + timedelta(seconds=61)  # the lease ran out: claimed again
    assert dl.deliver(later) == ["sent" if mode == "resend" else "confirmed"]
    row = dl.row(row_id)
    assert row["status"] == "delivered" and row["attempts"] == 2
    ids = smtp.message_ids
    if mode == "resend":  # at least once — with the same Message-ID, so receivers dedupe
        assert len(ids) == 2 and ids[0] == ids[1]
    else:  # the server confirmed it has the message: not sent again
        assert len(ids) == 1 and "confirmed" in dl.delivery(row_id)["response"]


def test_refused_recipient_fails_for_good_and_unreachable_server_backs_off(dl, smtp):
    refused = dl.notify("email", {"address": "nobody@example.com"}, subject="x",
                        audience="customers")  # fmt: skip
    assert dl.deliver() == ["failed"]
    assert dl.row(refused)["status"] == "failed" and "550" in dl.row(refused)["last_error"]
    assert dl.delivery(refused)["status"] == "failed"

    dl.configure(SMTP_PORT=free_port(), DELIVERY_MAX_ATTEMPTS=2, DELIVERY_BACKOFF=[60, 600])
    row_id = dl.notify("email", dl.user("sales1"), subject="Later")
    start = utcnow()
    assert dl.deliver(start) == ["retry"]
    row = dl.row(row_id)
    assert row["status"] == "pending" and row["attempts"] == 1
    assert "cannot reach" in row["last_error"]
    assert dl.drain(start + timedelta(seconds=10)).enqueued == 0  # backing off (30–60 s)
    assert dl.deliver(start + timedelta(seconds=61)) == ["failed"]
    row = dl.row(row_id)
    assert row["status"] == "failed" and row["last_error"].startswith("gave up after 2 attempts")

    dl.configure(SMTP_PORT=smtp.port)  # an administrator retries it once the server is back
    with dl.st.engine.begin() as conn:
        from ruleform.workflow_engine.delivery.outcomes import retry_now

        assert retry_now(conn, dl.ctx.outbox, row_id, utcnow())
    assert dl.deliver() == ["sent"] and dl.row(row_id)["status"] == "delivered"
