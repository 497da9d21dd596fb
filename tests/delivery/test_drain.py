"""The drain with a real Redis and real RQ jobs: deterministic job ids (a re-drain never
double-enqueues), leases, concurrent drains that never claim one row twice, and Redis
being away (the outbox holds; the inbox keeps flowing)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from redis import Redis
from rq import Queue, SimpleWorker

from ruleform.platform.runtime import utcnow
from ruleform.workflow_engine.delivery import context as delivery_context
from ruleform.workflow_engine.delivery.context import from_app
from ruleform.workflow_engine.delivery.drain import claim_external, drain_once, job_id
from tests.delivery.sink import SmtpSink, free_port

pytestmark = pytest.mark.app


@pytest.fixture
def real(dl, redis_url, queue_name):
    """A delivery context on a real Redis queue; jobs find it as the process's context."""
    with SmtpSink() as sink:
        dl.configure(SMTP_HOST="127.0.0.1", SMTP_PORT=sink.port, DELIVERY_QUEUE=queue_name,
                     DELIVERY_LEASE=30)  # fmt: skip
        ctx = from_app(dl.app, redis_url)
        delivery_context.install(ctx)
        yield ctx, sink
        delivery_context.install(None)
        Queue(queue_name, connection=Redis.from_url(redis_url)).delete(delete_jobs=True)


def test_redrain_never_double_enqueues_and_rq_delivers_each_row_once(dl, real, queue_name):
    ctx, sink = real
    start = utcnow()
    rows = [dl.notify("email", dl.user(u), subject=f"to {u}", now=start)
            for u in ("sales1", "sales2", "manager")]  # fmt: skip
    assert drain_once(ctx, start).enqueued == 3
    queue = ctx.queue()
    assert sorted(queue.job_ids) == sorted(job_id(queue_name, r, 0) for r in rows)
    # the leases run out before any worker ran: claimed again under the same ids, not re-queued
    later = start + timedelta(seconds=31)
    assert drain_once(ctx, later).enqueued == 3
    assert len(queue) == 3
    worker = SimpleWorker([queue], connection=queue.connection)
    assert worker.work(burst=True)
    assert sorted(m["Subject"] for m in sink.messages) == ["to manager", "to sales1", "to sales2"]
    assert not sink.duplicates()
    assert {dl.row(r)["status"] for r in rows} == {"delivered"}
    assert drain_once(ctx, later).enqueued == 0


def test_a_finished_job_id_can_be_reused_and_a_queued_one_is_left_alone(dl, real):
    ctx, sink = real
    row = dl.notify("email", dl.user("sales1"), subject="x")
    token = job_id(ctx.settings["DELIVERY_QUEUE"], row, 0)
    queue = ctx.queue()
    from ruleform.workflow_engine.delivery.jobs import deliver

    queue.enqueue(deliver, row, "someone-else", job_id=token)  # a leftover with this id
    assert drain_once(ctx).enqueued == 1 and len(queue) == 1  # queued: left alone
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    # the leftover was a stale job (wrong claim): nothing sent; the row is still claimed
    assert sink.messages == [] and dl.row(row)["status"] == "pending"
    assert drain_once(ctx, utcnow() + timedelta(seconds=31)).enqueued == 1
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    assert len(sink.messages) == 1 and dl.row(row)["status"] == "delivered"


def test_concurrent_drains_never_claim_the_same_row(dl):
    dl.configure(DELIVERY_BATCH=20)
    now = utcnow()
    ids = {dl.notify("webhook", {"target": "t"}, now=now) for _ in range(120)}
    claims: list[list[str]] = []
    barrier = threading.Barrier(4)

    def drain() -> None:
        barrier.wait()
        for _ in range(4):
            claims.append(claim_external(dl.ctx, now))

    threads = [threading.Thread(target=drain) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    tokens = [token for batch in claims for token in batch]
    assert len(tokens) == len(set(tokens)) == 120
    assert {int(t.rsplit("-", 2)[-2]) for t in tokens} == ids


def test_redis_down_the_outbox_holds_and_the_inbox_keeps_flowing(dl):
    ctx = from_app(dl.app, f"redis://127.0.0.1:{free_port()}/0")  # nobody listens there
    email = dl.notify("email", dl.user("sales1"), subject="waits")
    inbox = dl.notify("inbox", dl.user("sales1"), subject="arrives")
    report = drain_once(ctx)
    assert report.redis_error and report.enqueued == 0 and report.inline == 1
    row = dl.row(email)
    assert row["status"] == "pending" and row["claimed_by"] is None and row["attempts"] == 0
    assert dl.row(inbox)["status"] == "delivered"
