"""Transitions per second through the workflow engine, next to a hand-written UPDATE doing
the same checks and the same writes.

    python bench/transitions.py [--quick] [--database URL]   # URL: an EMPTY database

Both sides move tickets of the CRM rulebook back and forth between 处理中 and 等待客户
(``wait_for_customer`` / ``customer_replied``), one transition per transaction, as the
customer-service user. The hand-written side does what the engine must do, in plain SQL:
lock and read the row (checking it is in the actor's row scope), check the status, the
role and the version, update status and version, write the transition log, close and open
the status period, write the history row and two outbox events. The engine also checks
the guard, evaluates the rulebook's permissions, parses the payload and validates the
record in its new status.

Figures: ``engine_per_s`` and ``handwritten_per_s`` (transitions per second) and
``slowdown`` (handwritten / engine; target ≤ 2×). Prints a table, then as its LAST line one
JSON object (see bench/run_all.py). A missed target is reported, never an error.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._table import print_table  # noqa: E402
from ruleform.app import create_app, state  # noqa: E402
from ruleform.demo.organisation import seed_organisation  # noqa: E402
from ruleform.platform.actors import load_actor  # noqa: E402
from ruleform.platform.records import RecordService  # noqa: E402
from ruleform.workflow_engine.service import apply_transition  # noqa: E402

CRM = ROOT / "metadata" / "crm"
CYCLE = (
    ("wait_for_customer", "in_progress", "waiting_customer"),
    ("customer_replied", "waiting_customer", "in_progress"),
)

#: name → (baseline, target, comparison, unit). Baselines: the first full run on SQLite on
#: the reference machine (2 cores); a quick run on PostgreSQL gave 109 and 135 /s (1.2×).
#: The per-second targets are floors that only catch a collapse; the figure that matters is
#: the slowdown (≤ 2×).
FIGURES = {
    "engine_per_s": (169.0, 100.0, ">=", "/s"),
    "handwritten_per_s": (271.0, 100.0, ">=", "/s"),
    "slowdown": (1.6, 2.0, "<=", "×"),
}


def setup(url: str | None, tickets: int) -> tuple:
    """An app on a fresh database with the CRM rulebook, the organisation and tickets."""
    instance = tempfile.mkdtemp(prefix="ruleform-bench-")
    url = url or f"sqlite:///{instance}/bench.db"
    probe = sa.create_engine(url)
    if sa.inspect(probe).get_table_names():
        raise SystemExit(f"{url}: not empty; the bench needs an empty database of its own")
    probe.dispose()
    app = create_app(
        {"INSTANCE_PATH": instance, "DATABASE_URL": url, "RULEBOOK": str(CRM), "TESTING": True}
    )
    st = state(app)
    org = seed_organisation(st.engine, set(st.runtime.rulebook.roles))
    ids = []
    with st.engine.begin() as conn:
        actor = load_actor(conn, org.user("service"))
        records = RecordService(st.runtime, conn, actor)
        sales = RecordService(st.runtime, conn, load_actor(conn, org.user("sales1")))
        customer = sales.create(
            "customer",
            {
                "company_name": "压测客户",
                "contact_name": "王五",
                "mobile": "13800138000",
                "source": "other",
            },
        )
        for i in range(tickets):
            view = records.create(
                "ticket",
                {
                    "kind": "inquiry",
                    "subject": f"工单{i}",
                    "customer": customer.id,
                    "description": "压测",
                },
            )
            ids.append(view.id)
        for record_id in ids:
            apply_transition(st.runtime, conn, actor, "ticket", record_id, "accept", {}, 1)
    return st, org.user("service"), ids


def engine_run(st, user_id: int, ids: list[int], count: int, versions: dict) -> float:  # noqa: ANN001
    """Transitions per second through ``apply_transition`` (``count``: a multiple of 2 × ids)."""
    with st.engine.connect() as conn:
        actor = load_actor(conn, user_id)
        conn.rollback()
    started = time.perf_counter()
    for i in range(count):
        record_id = ids[i % len(ids)]
        name = CYCLE[(i // len(ids)) % 2][0]
        with st.engine.begin() as conn:
            result = apply_transition(
                st.runtime, conn, actor, "ticket", record_id, name, {}, versions[record_id]
            )
        versions[record_id] = result.row_version
    return count / (time.perf_counter() - started)


def handwritten_run(st, user_id: int, ids: list[int], count: int, versions: dict) -> float:  # noqa: ANN001
    """Transitions per second with plain SQL doing the same checks and writes."""
    rt = st.runtime
    table, log, periods = (
        rt.table("ticket"),
        rt.system_table("transition_log"),
        rt.system_table("status_periods"),
    )
    history, outbox = rt.system_table("record_history"), rt.system_table("outbox")
    roles = {"customer_service"}
    started = time.perf_counter()
    for i in range(count):
        record_id = ids[i % len(ids)]
        name, source, target = CYCLE[(i // len(ids)) % 2]
        now = datetime.now(UTC)
        with st.engine.begin() as conn:
            scope = sa.or_(table.c.owner == user_id, table.c.status == "received")
            row = (
                conn.execute(sa.select(table).where(table.c.id == record_id, scope))
                .mappings()
                .one()
            )
            assert row["status"] == source and row["row_version"] == versions[record_id]
            assert roles & {"customer_service", "service_manager", "admin"}
            done = conn.execute(
                table.update()
                .where(table.c.id == record_id, table.c.row_version == row["row_version"])
                .values(
                    status=target,
                    row_version=row["row_version"] + 1,
                    updated_at=now,
                    updated_by=user_id,
                )
            ).rowcount
            assert done == 1
            log_id = conn.execute(
                log.insert()
                .values(
                    entity="ticket",
                    record_id=record_id,
                    transition=name,
                    from_status=source,
                    to_status=target,
                    user_id=user_id,
                    at=now,
                    exception=False,
                    rulebook_version=rt.version,
                )
                .returning(log.c.id)
            ).scalar_one()
            conn.execute(
                periods.update()
                .where(
                    periods.c.entity == "ticket",
                    periods.c.record_id == record_id,
                    periods.c.left_at.is_(None),
                )
                .values(left_at=now)
            )
            period_id = conn.execute(
                periods.insert()
                .values(
                    entity="ticket",
                    record_id=record_id,
                    status=target,
                    entered_at=now,
                    entered_by=user_id,
                    transition=name,
                )
                .returning(periods.c.id)
            ).scalar_one()
            conn.execute(
                history.insert().values(
                    entity="ticket",
                    record_id=record_id,
                    action="transition",
                    user_id=user_id,
                    at=now,
                    changes={"status": [source, target], "_workflow": {"transition": name}},
                    rulebook_version=rt.version,
                )
            )
            for event, key in ((f"transition:{name}", log_id), (f"entered:{target}", period_id)):
                conn.execute(
                    outbox.insert().values(
                        idempotency_key=f"hw:{event}:{record_id}:{key}",
                        kind="event",
                        channel="event",
                        entity="ticket",
                        record_id=record_id,
                        rule=event,
                        status="pending",
                        attempts=0,
                        payload={"event": event},
                        created_at=now,
                        next_attempt_at=now,
                    )
                )
        versions[record_id] = row["row_version"] + 1
    return count / (time.perf_counter() - started)


def measure(quick: bool, url: str | None) -> dict[str, float]:
    tickets, count = (20, 200) if quick else (50, 2000)  # count: a multiple of 2 × tickets
    st, user_id, ids = setup(url, tickets * 2)
    engine_ids, hand_ids = ids[:tickets], ids[tickets:]
    versions = dict.fromkeys(ids, 2)
    engine_run(st, user_id, engine_ids, tickets * 2, versions)  # warm-up: one cycle each
    handwritten_run(st, user_id, hand_ids, tickets * 2, versions)
    engine = engine_run(st, user_id, engine_ids, count, versions)
    hand = handwritten_run(st, user_id, hand_ids, count, versions)
    st.engine.dispose()
    return {"engine_per_s": engine, "handwritten_per_s": hand, "slowdown": hand / engine}


def met(value: float, target: float, comparison: str) -> bool:
    return value >= target if comparison == ">=" else value <= target


def report(values: dict[str, float], quick: bool, backend: str) -> dict:
    figures = {}
    for name, value in values.items():
        baseline, target, comparison, unit = FIGURES[name]
        figures[name] = {
            "value": round(value, 2),
            "baseline": baseline,
            "target": target,
            "comparison": comparison,
            "unit": unit,
            "met": met(value, target, comparison),
        }
    return {"bench": "transitions", "quick": quick, "backend": backend, "figures": figures}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer transitions (CI smoke)")
    parser.add_argument("--database", default=None, help="a database URL (default: SQLite file)")
    args = parser.parse_args(argv)
    backend = sa.engine.make_url(args.database).get_backend_name() if args.database else "sqlite"
    result = report(measure(args.quick, args.database), args.quick, backend)
    print_table(result, 1)
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
