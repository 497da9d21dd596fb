"""``ruleform worker`` as a real process: RQ worker + drain in one process, delivering the
inbox inline and email and webhooks through RQ jobs, stopping cleanly on SIGTERM."""

from __future__ import annotations

import pytest

from tests.delivery.conftest import wait_until
from tests.delivery.sink import HttpSink, SmtpSink

pytestmark = [pytest.mark.app, pytest.mark.slow]


def test_the_worker_delivers_every_channel(dl, database_url, redis_url, queue_name,
                                           worker_process):  # fmt: skip
    with SmtpSink() as smtp, HttpSink() as hook:
        targets = {"ops": {"url": hook.url, "kind": "generic", "allow_private": True}}
        worker = worker_process(database_url, redis_url, SMTP_HOST="127.0.0.1",
                                SMTP_PORT=smtp.port, DELIVERY_QUEUE=queue_name,
                                WEBHOOK_TARGETS=targets)  # fmt: skip
        customer = dl.customer()
        rows = [
            dl.notify("inbox", dl.user("sales1"), subject="inbox {{ record.company_name }}",
                      entity="customer", record_id=customer),
            dl.notify("email", dl.user("manager"), subject="email {{ record.company_name }}",
                      body="{{ link }}", entity="customer", record_id=customer),
            dl.notify("webhook", {"target": "ops"}, subject="hook", entity="customer",
                      record_id=customer),
        ]  # fmt: skip
        done = wait_until(lambda: {dl.row(r)["status"] for r in rows} == {"delivered"}, 40)
        assert done, worker.output()[-3000:]
        assert len(smtp.messages) == 1 and len(hook.requests) == 1
    (mail,) = smtp.messages
    assert mail["Subject"] == "email 上海恒远精密机械有限公司"
    assert f"https://crm.example.com/customer/{customer}" in mail.get_content()
    assert dl.inbox("sales1")[0]["subject"] == "inbox 上海恒远精密机械有限公司"
    worker.stop()
    assert worker.process.returncode == 0, worker.output()[-3000:]
