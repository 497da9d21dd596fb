"""``ruleform demo``: everything in one folder, ready to click through in a minute.

The data folder (default ``./demo-data``) holds the SQLite database, the instance folder
(secret key), Redis's socket/database/log and the worker's log. The first start imports
the CRM rulebook as version 1, creates the demo organisation and seeds the demo records;
later starts reuse all of it (each part is seeded only while it is missing). ``--reset``
deletes the folder first — only a folder the demo created (it carries ``.ruleform-demo``)
or an empty one.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa

from ..errors import UsageError
from ..platform.bootstrap import load_runtime
from ..platform.database import create_engine
from ..serve import serve_app
from . import processes
from .organisation import DEMO_PASSWORD, seed_organisation
from .seed import DEFAULT_SEED, SeedReport, seed_demo

__all__ = ["DemoSetup", "prepare_data_dir", "prepare_database", "run_demo", "DEMO_USERS"]

MARKER = ".ruleform-demo"

#: username, what they show (the organisation is ruleform.demo.organisation.seed_organisation)
DEMO_USERS = [
    ("admin", "系统管理员 — administrator"),
    ("manager", "李经理 — sales manager (销售部)"),
    ("sales1", "张伟 — salesperson"),
    ("sales2", "刘洋 — salesperson (English UI)"),
    ("sales3", "陈静 — salesperson (华东销售组)"),
    ("service", "孙丽 — customer service"),
    ("service_manager", "赵敏 — customer service manager"),
    ("finance", "周红 — finance"),
    ("gm", "王总 — general manager"),
]


@dataclass(frozen=True)
class DemoSetup:
    data_dir: Path
    database_url: str
    instance: Path
    seeded: SeedReport | None  # None: the records were there already


def prepare_data_dir(data_dir: Path, reset: bool) -> Path:
    """Create (or, with ``reset``, recreate) the data folder; refuse to wipe a foreign one."""
    data_dir = data_dir.resolve()
    if reset and data_dir.exists():
        if not (data_dir / MARKER).exists() and any(data_dir.iterdir()):
            raise UsageError(f"{data_dir} was not created by `ruleform demo`; "
                             "not deleting it (choose another --data-dir)")  # fmt: skip
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / MARKER).write_text("Created by `ruleform demo`; `--reset` deletes this folder.\n")
    return data_dir


def prepare_database(
    data_dir: Path,
    rulebook: str | Path,
    seed: int = DEFAULT_SEED,
    echo: Any = click.echo,
    owners: dict[str, int] | None = None,
) -> DemoSetup:
    """Rulebook version 1, the organisation and the demo records — each only if missing."""
    url = f"sqlite:///{data_dir / 'ruleform.db'}"
    engine = create_engine(url)
    try:
        runtime = load_runtime(engine, rulebook)
        with engine.connect() as conn:
            people = conn.execute(sa.select(sa.func.count()).select_from(
                runtime.system_table("users"))).scalar()  # fmt: skip
            customers = conn.execute(sa.select(sa.func.count()).select_from(
                runtime.table("customer"))).scalar()  # fmt: skip
        if not people:
            echo("Creating the demo organisation …")
            seed_organisation(engine, set(runtime.rulebook.roles))
        report = None
        if not customers:
            echo("Seeding demo records (customers, contacts, opportunities, contracts, "
                 "communications, tickets) …")  # fmt: skip
            report = seed_demo(engine, runtime, seed=seed, owners=owners)
            total = sum(report.counts.values())
            echo(f"  {total} records in {report.seconds:.1f} s: "
                 + ", ".join(f"{n} {e}" for e, n in report.counts.items()))  # fmt: skip
    finally:
        engine.dispose()
    return DemoSetup(data_dir, url, data_dir / "instance", report)


def run_demo(*, data_dir: Path, port: int = 5000, host: str = "127.0.0.1", reset: bool = False,
             rulebook: str | Path, seed: int = DEFAULT_SEED, workers: int = 2) -> None:  # fmt: skip
    """Prepare the data folder, start Redis and the worker, serve until Ctrl-C, stop all."""
    _check_port(host, port)
    data_dir = prepare_data_dir(data_dir, reset)
    setup = prepare_database(data_dir, rulebook, seed)
    redis = worker = None
    main_pid = os.getpid()
    signal.signal(signal.SIGTERM, _exit_on_sigterm)  # gunicorn installs its own; Flask's not
    try:
        redis = processes.start_redis(data_dir)
        base_url = f"http://{host}:{port}"
        # R35: the demo delivers nothing outside Ruleform; emails, SMS and webhooks land in
        # the sandbox (/admin/sandbox) unless RULEFORM_DELIVERY_MODE says otherwise
        mode = os.environ.get("RULEFORM_DELIVERY_MODE", "sandbox")
        env = {"RULEFORM_DATABASE_URL": setup.database_url, "RULEFORM_REDIS_URL": redis.url,
               "RULEFORM_INSTANCE_PATH": str(setup.instance), "RULEFORM_BASE_URL": base_url,
               "RULEFORM_DELIVERY_MODE": mode}  # fmt: skip
        worker = processes.start_worker(data_dir, redis.url, env)
        _banner(base_url, data_dir)
        config = {"INSTANCE_PATH": str(setup.instance), "DATABASE_URL": setup.database_url,
                  "REDIS_URL": redis.url, "DEMO": True, "BASE_URL": base_url,
                  "DELIVERY_MODE": mode}  # fmt: skip
        serve_app(config, host=host, port=port, workers=workers, access_log=False)
    except KeyboardInterrupt:
        pass
    finally:
        # gunicorn's forked web workers leave through here too (SystemExit): only the
        # process that started the helpers stops them
        if os.getpid() == main_pid:
            _stop_helpers(worker, redis, data_dir)


def _stop_helpers(worker: processes.Child | None, redis: processes.Child | None,
                  data_dir: Path) -> None:  # fmt: skip
    click.echo("\nStopping the worker and Redis …")
    processes.stop(worker)
    processes.stop(redis)
    click.echo(f"Demo stopped. The data stays in {data_dir} (--reset starts over).")


def _exit_on_sigterm(_signum: int, _frame: Any) -> None:
    sys.exit(0)


def _check_port(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise UsageError(f"cannot listen on {host}:{port} ({exc.strerror}); "
                             "choose another --port") from None  # fmt: skip


def _banner(url: str, data_dir: Path) -> None:
    width = max(len(name) for name, _ in DEMO_USERS)
    lines = [
        "",
        "Ruleform demo — 客户信息管理制度 (CRM rulebook)",
        f"  Open      {url}",
        f"  Sign in as any of these users; the password is '{DEMO_PASSWORD}':",
        *(f"    {name:<{width}}  {who}" for name, who in DEMO_USERS),
        f"  Data      {data_dir}  (SQLite, Redis, logs; --reset starts over)",
        "  Stop      Ctrl-C",
        "",
    ]
    click.echo("\n".join(lines))
