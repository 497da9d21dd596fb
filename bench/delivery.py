"""In-app deliveries per second with two ``ruleform worker`` processes.

    python bench/delivery.py [--quick] [--database URL]   # URL: an EMPTY database

Writes N inbox notifications (each rendered at delivery time against a customer record,
for one of six users, as the time-rule engine would write them) with the kill switch ON,
starts two real ``ruleform worker`` processes (RQ worker + drain) on an embedded Redis,
waits until both are registered, then switches the kill switch OFF and times until every
row is delivered: rendering with the recipient's readable fields, policies, the inbox row,
the deliveries record and the outbox update, in batches of ``DELIVERY_BATCH``.

Baseline: the same rows copied by two hand-written set-based statements (INSERT … SELECT
into inbox_messages and one UPDATE of the outbox) — no rendering, no policies: the
floor of what the database can do.

Figures: ``inbox_per_s`` (target ≥ 500/s) and ``handwritten_per_s``. Prints a table, then
as its LAST line one JSON object (see bench/run_all.py). A missed target is reported,
never an error.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._table import print_table  # noqa: E402
from ruleform.app import create_app, state  # noqa: E402
from ruleform.demo import processes  # noqa: E402
from ruleform.demo.organisation import seed_organisation  # noqa: E402
from ruleform.platform.actors import load_actor  # noqa: E402
from ruleform.platform.outbox import OutboxMessage, enqueue  # noqa: E402
from ruleform.platform.records import RecordService  # noqa: E402
from ruleform.platform.runtime import utcnow  # noqa: E402
from ruleform.workflow_engine.delivery.flags import set_kill_switch  # noqa: E402

CRM = ROOT / "metadata" / "crm"
USERS = ("sales1", "sales2", "manager", "service", "finance", "gm")

#: name → (baseline, target, comparison, unit). Baselines: a full run (10,000 rows) on SQLite
#: on the reference machine; PostgreSQL gave 1,755 and 32,561 /s (docs/delivery.md).
FIGURES = {
    "inbox_per_s": (1680.0, 500.0, ">=", "/s"),
    "handwritten_per_s": (51600.0, 500.0, ">=", "/s"),
}


def setup(url: str | None) -> tuple:
    instance = tempfile.mkdtemp(prefix="ruleform-bench-")
    url = url or f"sqlite:///{instance}/bench.db"
    probe = sa.create_engine(url)
    if sa.inspect(probe).get_table_names():
        raise SystemExit(f"{url}: not empty; the bench needs an empty database of its own")
    probe.dispose()
    app = create_app({"INSTANCE_PATH": instance, "DATABASE_URL": url, "RULEBOOK": str(CRM),
                      "TESTING": True})  # fmt: skip
    st = state(app)
    org = seed_organisation(st.engine, set(st.runtime.rulebook.roles))
    with st.engine.begin() as conn:
        sales = RecordService(st.runtime, conn, load_actor(conn, org.user("sales1")))
        customer = sales.create("customer", {"company_name": "压测客户", "contact_name": "王五",
                                             "contact_department": "采购部", "source": "other",
                                             "mobile": "13900000000"}).id  # fmt: skip
    return app, st, org, customer, Path(instance), url


def write_rows(st, org, customer: int, count: int, prefix: str) -> None:
    outbox = st.runtime.system_table("outbox")
    subject = {
        "zh-CN": "请跟进客户 {{ record.company_name }}",
        "en": "Follow up {{ record.company_name }}",
    }
    body = {
        "zh-CN": "客户 {{ record.company_name }}（{{ record.status }}）需要跟进：{{ link }}",
        "en": "{{ record.company_name }} ({{ record.status }}) needs a follow-up: {{ link }}",
    }
    now = utcnow()
    with st.engine.begin() as conn:
        for i in range(count):
            user = org.user(USERS[i % len(USERS)])
            enqueue(conn, outbox, OutboxMessage(
                key=f"{prefix}:{i}", kind="notify", channel="inbox", recipient=str(user),
                entity="customer", record_id=customer, rule="bench_rule",
                payload={"v": 1, "action": "notify", "rule": "bench_rule", "entity": "customer",
                         "record_id": customer, "recipient": {"user_id": user},
                         "message": {"subject": subject, "body": body}}), now)  # fmt: skip


def pending(st, prefix: str) -> int:
    with st.engine.connect() as conn:
        query = sa.text(
            "select count(*) from outbox where status = 'pending' and idempotency_key like :p"
        )
        return conn.execute(query, {"p": f"{prefix}:%"}).scalar()


def measure_workers(app, st, org, customer, folder: Path, url: str, count: int) -> float:
    from redis import Redis
    from rq import Worker

    with st.engine.begin() as conn:
        set_kill_switch(conn, True, utcnow())
    write_rows(st, org, customer, count, "w")
    redis = processes.start_redis(folder)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RULEFORM_")}
    env.update({"RULEFORM_TIMERULES_TICK": "", "RULEFORM_DELIVERY_DRAIN_INTERVAL": "0.05",
                "RULEFORM_DELIVERY_BATCH": "200"})  # fmt: skip
    workers = []
    try:
        for n in range(2):
            log = open(folder / f"worker{n}.log", "ab")  # noqa: SIM115  the child keeps it
            workers.append(subprocess.Popen(
                [*processes.ruleform_command(), "worker", "--redis-url", redis.url,
                 "--database", url, "--instance", str(folder / f"instance{n}")],
                env=env, stdout=log, stderr=log, cwd=ROOT, start_new_session=True))  # fmt: skip
            log.close()
        client = Redis.from_url(redis.url)
        deadline = time.monotonic() + 60
        while len(Worker.all(connection=client)) < 2:
            if time.monotonic() > deadline:
                raise SystemExit("the workers did not start; see " + str(folder))
            time.sleep(0.1)
        client.close()
        started = time.perf_counter()
        with st.engine.begin() as conn:
            set_kill_switch(conn, False, utcnow())
        while pending(st, "w"):
            time.sleep(0.02)
        return count / (time.perf_counter() - started)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(20)
        processes.stop(redis)


def measure_handwritten(st, org, customer, count: int) -> float:
    write_rows(st, org, customer, count, "h")
    started = time.perf_counter()
    with st.engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into inbox_messages (user_id, subject, body, link, entity, record_id, rule, "
                "outbox_key, created_at) select cast(recipient as integer), 'subject', 'body', "
                "'/customer/1', entity, record_id, rule, idempotency_key, created_at from outbox "
                "where status = 'pending' and channel = 'inbox' and idempotency_key like 'h:%'"
            )
        )
        conn.execute(
            sa.text(
                "update outbox set status = 'delivered', delivered_at = created_at "
                "where status = 'pending' and channel = 'inbox' and idempotency_key like 'h:%'"
            )
        )
    return count / (time.perf_counter() - started)


def report(values: dict[str, float], quick: bool, backend: str, count: int) -> dict:
    figures = {}
    for name, value in values.items():
        baseline, target, comparison, unit = FIGURES[name]
        met = value >= target if comparison == ">=" else value <= target
        figures[name] = {"value": round(value, 1), "baseline": baseline, "target": target,
                         "comparison": comparison, "unit": unit, "met": met}  # fmt: skip
    return {"bench": "delivery", "quick": quick, "backend": backend, "rows": count,
            "figures": figures}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rows (CI smoke)")
    parser.add_argument("--database", default=None, help="an EMPTY database URL (default: SQLite)")
    args = parser.parse_args(argv)
    count = 1000 if args.quick else 10_000
    backend = sa.engine.make_url(args.database).get_backend_name() if args.database else "sqlite"
    app, st, org, customer, folder, url = setup(args.database)
    try:
        values = {"inbox_per_s": measure_workers(app, st, org, customer, folder, url, count),
                  "handwritten_per_s": measure_handwritten(st, org, customer, count)}  # fmt: skip
    finally:
        st.engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)
    result = report(values, args.quick, backend, count)
    print_table(
        result,
        0,
        f"in-app deliveries, two `ruleform worker` processes, "
        f"{result['rows']} rows ({result['backend']})",
    )
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
