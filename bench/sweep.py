"""One inactivity rule over a million customers, next to a raw SQL COUNT with the same predicate.

    python bench/sweep.py [--quick] [--rows N] [--database URL]   # URL: an EMPTY database

The rule is the CRM rulebook's ``customer.stale_customer`` (R08: ``status in [prospect,
interested, won]``, ``inactive: {since: last_contact_at, for: 45 days}``). Customers are
generated with ``INSERT … SELECT generate_series`` (PostgreSQL; a recursive CTE on SQLite):
a quarter in each status, last contacts spread over the last 50 days, so ~7.5 % are stale.

* **sweep** — what a tick does to evaluate the rule, timed end to end with the tick's own
  code (``ticks.due_now`` in the tick's read transaction): the compiled query (where +
  timing + "not fired yet" against the ledger) executed and fetched, the candidates
  finished in Python (exact calendar check, occurrence keys) and the fired ones dropped.
  Measured in the *steady state*: the ledger already holds what earlier ticks left for
  every customer that became stale more than an hour ago — its marker and its five
  message rows (owner and supervisor by inbox and email, the supervisor's task) — so the
  sweep returns the few that became due since.
* **baseline** — ``SELECT count(*)`` over the same table with the same predicate, written
  by hand (no ledger).

Also shown, not targeted: the first sweep on an empty ledger (every stale customer is
due; one run takes at most ``ticks.MAX_ROWS``, the rest are due again at the next tick)
and the firing of the steady-state batch (ledger, outbox, tasks).

Figures: ``sweep_s`` (target < 2 s) and ``ratio`` (sweep / baseline, target ≤ 1.5×).
Prints a table, then as its LAST line one JSON object (see bench/run_all.py). Without
PostgreSQL (or with ``--database sqlite:///…``) it runs on SQLite and says so.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ruleform.app import create_app, state  # noqa: E402
from ruleform.demo.organisation import seed_organisation  # noqa: E402
from ruleform.workflow_engine.timerules.calendars import CalendarMap  # noqa: E402
from ruleform.workflow_engine.timerules.catalog import find_rule  # noqa: E402
from ruleform.workflow_engine.timerules.connections import reading  # noqa: E402
from ruleform.workflow_engine.timerules.recipients import Directory  # noqa: E402
from ruleform.workflow_engine.timerules.rollout import load_states  # noqa: E402
from ruleform.workflow_engine.timerules.sweep import Window  # noqa: E402
from ruleform.workflow_engine.timerules.ticks import MAX_ROWS, due_now, run_rule  # noqa: E402
from ruleform.workflow_engine.timerules.timings import build_sweep  # noqa: E402

CRM = ROOT / "metadata" / "crm"
RULE = "customer.stale_customer"
ADMIN_URL = os.environ.get("RULEFORM_TEST_POSTGRES",
                           "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")  # fmt: skip
NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Shanghai

#: name → (baseline, target, comparison, unit). Baselines: the first full run (1 M rows,
#: PostgreSQL 15 on the reference machine, 2 cores).
FIGURES = {
    "sweep_s": (0.30, 2.0, "<", "s"),
    "ratio": (1.2, 1.5, "<=", "×"),
}

_POSTGRES_ROWS = """
INSERT INTO e_customer (company_name, contact_name, mobile, source, status, owner, department,
                         last_contact_at, created_at, updated_at, created_by, updated_by,
                         row_version, rulebook_version, archived)
SELECT '客户' || g, '联系人', '138' || lpad(g::text, 8, '0'), 'other',
       (ARRAY['prospect', 'interested', 'won', 'lost'])[1 + g % 4],
       CASE WHEN g % 2 = 0 THEN :a ELSE :b END, :dept,
       CAST(:now AS timestamptz) - (g % 50) * interval '1 day' - (g % 1439) * interval '1 minute',
       CAST(:now AS timestamptz) - interval '400 days', CAST(:now AS timestamptz),
       :a, :a, 1, 1, false
FROM generate_series(1, :n) AS g
"""
_SQLITE_ROWS = """
WITH RECURSIVE seq(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM seq WHERE g < :n)
INSERT INTO e_customer (company_name, contact_name, mobile, source, status, owner, department,
                         last_contact_at, created_at, updated_at, created_by, updated_by,
                         row_version, rulebook_version, archived)
SELECT '客户' || g, '联系人', '138' || substr('00000000' || g, -8), 'other',
       CASE g % 4 WHEN 0 THEN 'lost' WHEN 1 THEN 'prospect' WHEN 2 THEN 'interested' ELSE 'won' END,
       CASE WHEN g % 2 = 0 THEN :a ELSE :b END, :dept,
       strftime('%Y-%m-%d %H:%M:%f', :now_text, '-' || (g % 50) || ' days',
                '-' || (g % 1439) || ' minutes'),
       strftime('%Y-%m-%d %H:%M:%f', :now_text, '-400 days'),
       strftime('%Y-%m-%d %H:%M:%f', :now_text), :a, :a, 1, 1, 0
FROM seq
"""
#: the message rows of each firing (the rule's actions: notify owner and supervisor by inbox
#: and email; a task for the supervisor), as the writer leaves them beside the marker
_ITEMS = """
INSERT INTO rule_firings (rule, entity, record_id, occurrence, channel, recipient, action,
                          status, step, anchor_at, fired_at)
SELECT f.rule, f.entity, f.record_id, f.occurrence, i.channel,
       CASE i.who WHEN 'owner' THEN 'user:' || CAST(e.owner AS VARCHAR(20)) ELSE :manager END,
       i.action, 'sent', 0, f.anchor_at, f.fired_at
FROM rule_firings f JOIN e_customer e ON e.id = f.record_id
CROSS JOIN (SELECT 'a0:inbox' AS channel, 'owner' AS who, 'notify' AS action
            UNION ALL SELECT 'a0:inbox', 'manager', 'notify'
            UNION ALL SELECT 'a0:email', 'owner', 'notify'
            UNION ALL SELECT 'a0:email', 'manager', 'notify'
            UNION ALL SELECT 'a1:task', 'manager', 'task') AS i
WHERE f.rule = :rule AND f.channel = '*'
"""
#: the rule's predicate, by hand: the where clause and the inactivity bound, no ledger
_BASELINE = (
    "SELECT count(*) FROM e_customer "
    "WHERE status IN ('prospect', 'interested', 'won') AND archived = false "
    "AND coalesce(last_contact_at, created_at) <= :bound"
)


def database(url: str | None) -> tuple[str, Callable[[], None]]:
    """The URL to use and a function dropping what was created for the run."""
    if url:
        return url, lambda: None
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT",
                             connect_args={"connect_timeout": 3})  # fmt: skip
    try:
        with admin.connect() as conn:
            name = "rf_bench_" + secrets.token_hex(5)
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError:
        admin.dispose()
        folder = tempfile.mkdtemp(prefix="ruleform-sweep-")
        return f"sqlite:///{folder}/sweep.db", lambda: None

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 "WHERE datname = :n AND pid <> pg_backend_pid()"),
                         {"n": name})  # fmt: skip
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

    return sa.engine.make_url(ADMIN_URL).set(database=name).render_as_string(False), drop


def load(st: object, rows: int) -> None:
    """The CRM organisation and ``rows`` customers, generated in the database."""
    engine = st.engine  # type: ignore[attr-defined]
    org = seed_organisation(engine, set(st.runtime.rulebook.roles))  # type: ignore[attr-defined]
    params = {"n": rows, "a": org.user("sales1"), "b": org.user("sales2"),
              "dept": org.departments["sales"], "now": NOW,
              "now_text": NOW.replace(tzinfo=None).isoformat(" ")}  # fmt: skip
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        conn.execute(sa.text(_POSTGRES_ROWS if postgres else _SQLITE_ROWS), params)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE" if postgres else "ANALYZE"))


def mark_fired(st: object, before: datetime) -> int:
    """What earlier ticks left for every customer that became stale before ``before``: its
    ledger marker and its message rows. Returns the number of markers."""
    engine = st.engine  # type: ignore[attr-defined]
    ledger = st.runtime.system_table("rule_firings")  # type: ignore[attr-defined]
    t = st.runtime.table("customer")  # type: ignore[attr-defined]
    anchor = sa.func.coalesce(t.c.last_contact_at, t.c.created_at)
    occurrence = sa.literal("stale-since:") + sa.cast(t.c.id, sa.String)  # unique per record
    source = sa.select(
        sa.literal(RULE), sa.literal("customer"), t.c.id, occurrence, sa.literal("*"),
        sa.literal(""), sa.literal("sent"), sa.literal(0), anchor,
        sa.literal(before, ledger.c.fired_at.type),
    ).where(t.c.status.in_(["prospect", "interested", "won"]),
            anchor <= before - timedelta(days=45))  # fmt: skip
    columns = ["rule", "entity", "record_id", "occurrence", "channel", "recipient", "status",
               "step", "anchor_at", "fired_at"]  # fmt: skip
    with engine.begin() as conn:
        conn.execute(ledger.insert().from_select(columns, source))
        done = conn.execute(sa.select(sa.func.count()).select_from(ledger)).scalar_one()
        manager = conn.execute(sa.text("SELECT id FROM users WHERE username = 'manager'")).scalar()
        conn.execute(sa.text(_ITEMS), {"rule": RULE, "manager": f"user:{manager}"})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE rule_firings" if engine.dialect.name == "postgresql"
                             else "ANALYZE"))  # fmt: skip
    return done


def sweep_once(st: object, rule: object) -> tuple[float, int]:
    """One evaluation of the rule as a tick runs it: (seconds, occurrences due)."""
    runtime, engine = st.runtime, st.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        directory = Directory.load(conn, runtime)
        conn.rollback()
    window = Window(runtime, rule, NOW, NOW - timedelta(seconds=30),  # type: ignore[arg-type]
                    CalendarMap(runtime, directory), directory)  # fmt: skip
    started = time.perf_counter()
    sweep = build_sweep(window)
    with reading(engine) as conn:  # the tick's own read transaction and code
        _, due = due_now(conn, sweep, runtime.system_table("rule_firings"), RULE)
    return time.perf_counter() - started, len(due)


def baseline_once(st: object) -> tuple[float, int]:
    bound = NOW - timedelta(days=45)
    with st.engine.connect() as conn:  # type: ignore[attr-defined]
        started = time.perf_counter()
        count = conn.execute(sa.text(_BASELINE), {"bound": bound}).scalar_one()
        elapsed = time.perf_counter() - started
        conn.rollback()
    return elapsed, int(count)


def fire(st: object, rule: object) -> tuple[float, int, int]:
    """The tick of the rule at NOW (writes the steady-state batch): seconds, firings, rows."""
    runtime, engine = st.runtime, st.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        directory = Directory.load(conn, runtime)
        states = load_states(conn, runtime.system_table("rule_states"), [rule])  # type: ignore[list-item]
        conn.rollback()
    started = time.perf_counter()
    report = run_rule(runtime, engine, rule, states[RULE], NOW, directory,  # type: ignore[arg-type]
                      CalendarMap(runtime, directory), "http://bench")  # fmt: skip
    if report.errors or report.status != "ok":
        print(f"firing: {report.status} {report.message}", file=sys.stderr)
    return time.perf_counter() - started, report.matched, report.sent


def median(fn: Callable[[], tuple], runs: int = 5) -> tuple:
    fn()  # warm-up: plans and caches
    results = [fn() for _ in range(runs)]
    return (statistics.median(r[0] for r in results), *results[0][1:])


def figure(name: str, value: float) -> dict:
    baseline, target, comparison, unit = FIGURES[name]
    met = value < target if comparison == "<" else value <= target
    return {"value": round(value, 4), "baseline": baseline, "target": target,
            "comparison": comparison, "unit": unit, "met": met}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="~20k customers (CI smoke)")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--database", default=None, help="an EMPTY database (default: a "
                        "throwaway PostgreSQL database, else SQLite)")  # fmt: skip
    args = parser.parse_args(argv)
    rows = args.rows or (20_000 if args.quick else 1_000_000)
    url, drop = database(args.database)
    instance = tempfile.mkdtemp(prefix="ruleform-sweep-")
    app = create_app({"INSTANCE_PATH": instance, "DATABASE_URL": url, "RULEBOOK": str(CRM),
                      "TESTING": True})  # fmt: skip
    st = state(app)
    try:
        started = time.perf_counter()
        load(st, rows)
        loaded = time.perf_counter() - started
        rule = find_rule(st.runtime.rulebook, RULE)
        first, first_due = median(lambda: sweep_once(st, rule), runs=1)
        marked = mark_fired(st, NOW - timedelta(hours=1))
        sweep_s, due = median(lambda: sweep_once(st, rule))
        base_s, counted = median(lambda: baseline_once(st))
        fire_s, fired, sent = fire(st, rule)
        dialect = st.engine.dialect.name
    finally:
        st.engine.dispose()
        drop()
    ratio = sweep_s / base_s if base_s else float("inf")
    table = [
        ("database", f"{dialect} ({rows:,} customers, generated in {loaded:.1f} s)"),
        ("stale customers (COUNT)", f"{counted:,}"),
        ("first sweep, empty ledger", f"{first:.3f} s — {first_due:,} due "
                                      f"(a run takes at most {MAX_ROWS:,})"),
        ("ledger (earlier ticks)", f"{marked:,} markers, {5 * marked:,} message rows"),
        ("sweep, steady state", f"{sweep_s:.3f} s — {due:,} newly due"),
        ("raw COUNT, same predicate", f"{base_s:.3f} s"),
        ("ratio sweep / COUNT", f"{ratio:.2f}× (target ≤ 1.5×)"),
        ("firing the steady-state batch",
         f"{fire_s:.3f} s — {fired:,} firings, {sent:,} outbox rows"),
    ]  # fmt: skip
    width = max(len(k) for k, _ in table)
    for key, value in table:
        print(f"{key.ljust(width)}  {value}")
    print(json.dumps({"bench": "sweep", "database": dialect, "rows": rows,
                      "figures": {"sweep_s": figure("sweep_s", sweep_s),
                                  "ratio": figure("ratio", ratio)}},
                     ensure_ascii=False))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
