"""``ruleform serve | worker | demo | migrate | rulebook …``: running Ruleform and publishing
rulebook versions from the command line.

Each command is a thin shell: options → one call into ``serve``, ``demo``, ``publish`` or
``rulebook_files`` → words and an exit status. Exit status: 0 done (or a plan that may be
applied), 1 refused (invalid rulebook, refused or destructive migration without
``--archive``), 2 usage error.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click

from . import serve as serving
from .demo import run as demo_run
from .errors import MigrationRefused, NotFound, RulebookError, UsageError
from .platform.cli_support import DatabaseOptions, database_options, default_rulebook, show_url
from .platform.publish import Publication, plan_publication, publish_rulebook
from .platform.rulebook_files import export_source
from .platform.storage import active_version, list_versions, load_version

__all__ = ["serve", "worker", "demo", "migrate", "rulebook"]

LOCALES = ("zh-CN", "en")

_WORDS = {
    "checked": {"en": "Rulebook {name} {label} (fingerprint {fp})",
                "zh-CN": "制度 {name} {label}（指纹 {fp}）"},
    "active": {"en": "Active version in {db}: {active}",
               "zh-CN": "{db} 当前生效版本：{active}"},
    "none": {"en": "none yet", "zh-CN": "尚无"},
    "sql": {"en": "SQL ({dialect}):", "zh-CN": "SQL（{dialect}）："},
    "refused": {"en": "Refused — these steps cannot be applied:",
                "zh-CN": "拒绝执行——以下步骤无法执行："},
    "destructive": {"en": "These steps would lose stored data:",
                    "zh-CN": "以下步骤会丢失已存储的数据："},
    "use_archive": {
        "en": "Nothing was changed. Run again with --archive to apply them, keeping a copy of "
              "the old values in archived_values (restore_archived puts them back).",
        "zh-CN": "未做任何修改。如需执行，请加 --archive 重新运行：旧值会先复制到 archived_values"
                 "（可用 restore_archived 恢复）。"},
    "may_apply": {"en": "The plan may be applied (ruleform migrate without --plan).",
                  "zh-CN": "该计划可以执行（去掉 --plan 运行 ruleform migrate）。"},
    "unchanged": {"en": "Nothing to change: version {number} is active already.",
                  "zh-CN": "无需修改：版本 {number} 已经生效。"},
    "published": {"en": "✓ Rulebook version {number} ({name} {label}) is active.",
                  "zh-CN": "✓ 制度版本 {number}（{name} {label}）已生效。"},
    "restart": {"en": "Running servers keep the version they started with: restart them.",
                "zh-CN": "运行中的服务仍使用启动时的版本：请重启服务。"},
}  # fmt: skip


def _say(key: str, locale: str, **params: object) -> str:
    words = _WORDS[key]
    return words.get(locale, words["en"]).format(**params)


def _fail(text: str) -> NoReturn:
    click.echo(text, err=True)
    sys.exit(1)


# --- serve, worker, demo -------------------------------------------------------------------


@click.command()
@database_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="gunicorn worker processes.")  # fmt: skip
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64),
              help="Threads per worker.")  # fmt: skip
@click.option("--dev", is_flag=True, help="Flask's server with the reloader (development).")
def serve(db: DatabaseOptions, host: str, port: int, workers: int, threads: int,
          dev: bool) -> None:  # fmt: skip
    """Serve Ruleform over HTTP (gunicorn; Flask's server with --dev or where gunicorn is missing).

    The first start needs --rulebook PATH (imported as version 1); later starts run the
    active version stored in the database. Run `ruleform worker` beside it for reminders.
    """
    _require_version(db)
    click.echo(f"Ruleform on http://{host}:{port} — database {show_url(db.url)}", err=True)
    serving.serve_app(db.app_config(), host=host, port=port, workers=workers, threads=threads,
                      dev=dev)  # fmt: skip


def _require_version(db: DatabaseOptions) -> None:
    """Fail early (exit 2) when there is neither a stored version nor --rulebook."""
    if db.rulebook:
        return
    import sqlalchemy as sa

    engine = db.engine()
    try:
        with engine.connect() as conn:
            stored = sa.inspect(conn).has_table("rulebook_versions") and active_version(conn)
    finally:
        engine.dispose()
    if not stored:
        raise UsageError(f"{show_url(db.url)} holds no rulebook version yet: "
                         "start with --rulebook PATH (e.g. metadata/crm)")  # fmt: skip


@click.command()
@database_options(rulebook=False)
@click.option("--redis-url", envvar="RULEFORM_REDIS_URL", required=True, metavar="URL",
              help="redis://host:6379/0 or unix:///path/redis.sock "
                   "[env RULEFORM_REDIS_URL].")  # fmt: skip
@click.option("--burst", is_flag=True, help="Run the queued jobs, then exit.")
@click.option("--exit-with-parent", is_flag=True, hidden=True)
def worker(db: DatabaseOptions, redis_url: str, burst: bool, exit_with_parent: bool) -> None:
    """Run an RQ worker with the scheduler on the queues 'default' and 'notifications', the
    outbox drain (inbox, email, webhooks, SMS) and the time-rule tick, in one process."""
    import os

    os.environ.update(db.environment())  # jobs open the same database as the web app
    click.echo(f"worker on {', '.join(serving.QUEUES)} with the scheduler and the outbox drain — "
               f"{redis_url}", err=True)  # fmt: skip
    serving.run_worker(redis_url, burst=burst, exit_with_parent=exit_with_parent)


@click.command()
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--data-dir", default="demo-data", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="SQLite database, Redis and logs of the demo.")  # fmt: skip
@click.option("--reset", is_flag=True, help="Delete the demo data and start over.")
@click.option("--rulebook", "rulebook_path", type=click.Path(exists=True), metavar="PATH",
              help="Rulebook to import on the first start "
                   "(default: the shipped CRM rulebook).")  # fmt: skip
@click.option("--seed", default=2026, show_default=True, help="Seed of the demo data.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 16))
def demo(port: int, host: str, data_dir: Path, reset: bool, rulebook_path: str | None,
         seed: int, workers: int) -> None:  # fmt: skip
    """Run the CRM demo: SQLite, embedded Redis, a worker and demo data, all in --data-dir."""
    rulebook_dir = rulebook_path or default_rulebook()
    if rulebook_dir is None:
        raise UsageError("the shipped CRM rulebook (metadata/crm) is not beside this "
                         "installation: give --rulebook PATH")  # fmt: skip
    demo_run.run_demo(data_dir=data_dir, port=port, host=host, reset=reset, rulebook=rulebook_dir,
             seed=seed, workers=workers)  # fmt: skip


# --- migrate and rulebook versions ----------------------------------------------------------


@click.command()
@database_options
@click.option("--plan", "plan_only", is_flag=True,
              help="Print the plan and its SQL; change nothing.")  # fmt: skip
@click.option("--archive", is_flag=True,
              help="Allow destructive steps, copying the old values to "
                   "archived_values first.")  # fmt: skip
@click.option("--move-status", "moves", multiple=True, metavar="ENTITY.OLD=NEW",
              help="Move records out of a status the new version removes (repeatable; "
                   "needs --archive).")  # fmt: skip
@click.option("--comment", help="Why this version is published (kept with it).")
@click.option("--locale", type=click.Choice(LOCALES),
              help="Language of the plan (default: the rulebook's).")  # fmt: skip
def migrate(db: DatabaseOptions, plan_only: bool, archive: bool, moves: tuple[str, ...],
            comment: str | None, locale: str | None) -> None:  # fmt: skip
    """Publish the rulebook at --rulebook PATH: check it, plan the change to the database,
    apply it and make it the active version — all in one transaction, or nothing.

    With --plan, print the plan in plain words and its SQL (exit 1 if it would be refused).
    Destructive steps (dropping or narrowing fields, changing types) need --archive.
    """
    if not db.rulebook:
        raise UsageError("give the rulebook to publish: --rulebook PATH")
    _publish(db, db.rulebook, plan_only=plan_only, archive=archive, comment=comment,
             locale=locale, status_map=_status_map(moves))  # fmt: skip


def _status_map(moves: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """``customer.on_hold=interested`` → ``{"customer": {"on_hold": "interested"}}``."""
    result: dict[str, dict[str, str]] = {}
    for move in moves:
        where, _, target = move.partition("=")
        entity, _, status = where.partition(".")
        if not (entity and status and target):
            raise UsageError(f"--move-status {move!r}: write ENTITY.OLD_STATUS=NEW_STATUS")
        result.setdefault(entity.strip(), {})[status.strip()] = target.strip()
    return result


def _publish(db: DatabaseOptions, path: str, *, plan_only: bool, archive: bool,
             comment: str | None, locale: str | None,
             status_map: dict[str, dict[str, str]] | None = None) -> None:  # fmt: skip

    engine = db.engine()
    try:
        publication = plan_publication(engine, path, status_map)
        rb = publication.rulebook
        locale = locale or rb.default_locale
        _describe(publication, locale, show_url(db.url))
        plan = publication.plan
        blocked = bool(plan.refused_steps) or (bool(plan.destructive_steps) and not archive)
        if blocked:
            _refuse(publication, locale)
        if plan_only:
            click.echo(_say("may_apply", locale))
            return
        done = publish_rulebook(engine, path, archive=archive, comment=comment,
                                status_map=status_map)  # fmt: skip
    except RulebookError as exc:
        _fail(exc.format())
    except MigrationRefused as exc:  # the database changed between the plan and now
        _fail(str(exc))
    finally:
        engine.dispose()
    if done.unchanged:
        click.echo(_say("unchanged", locale, number=done.number))
        return
    click.echo(_say("published", locale, number=done.number, name=rb.name, label=rb.version))
    click.echo(_say("restart", locale))


def _describe(publication: object, locale: str, where: str) -> None:
    assert isinstance(publication, Publication)
    rb = publication.rulebook
    click.echo(_say("checked", locale, name=rb.name, label=rb.version, fp=rb.fingerprint))
    active = publication.active_number or _say("none", locale)
    click.echo(_say("active", locale, db=where, active=active))
    click.echo()
    click.echo(publication.plan.describe(locale))
    if publication.plan.steps:
        click.echo()
        click.echo(_say("sql", locale, dialect=publication.plan.dialect))
        try:
            click.echo(publication.plan.sql().rstrip())
        except Exception as exc:  # the SQL is for reading; it must not block the plan
            click.echo(f"-- (the SQL of this plan cannot be shown: {exc})")
    click.echo()


def _refuse(publication: object, locale: str) -> NoReturn:
    assert isinstance(publication, Publication)
    plan = publication.plan
    if plan.refused_steps:
        click.echo(_say("refused", locale), err=True)
        for step in plan.refused_steps:
            click.echo(f"  - {step.describe(locale)}", err=True)
    if plan.destructive_steps:
        click.echo(_say("destructive", locale), err=True)
        for step in plan.destructive_steps:
            click.echo(f"  - {step.describe(locale)}", err=True)
        if not plan.refused_steps:
            click.echo(_say("use_archive", locale), err=True)
    sys.exit(1)


@click.group()
def rulebook() -> None:
    """Rulebook versions stored in the database: list, export as files, import."""


@rulebook.command("versions")
@database_options(rulebook=False)
def rulebook_versions(db: DatabaseOptions) -> None:
    """List the stored versions, newest first (* marks the active one)."""
    engine = db.engine()
    try:
        with engine.connect() as conn:
            import sqlalchemy as sa

            rows = list_versions(conn) if sa.inspect(conn).has_table("rulebook_versions") else []
    finally:
        engine.dispose()
    if not rows:
        click.echo(f"{show_url(db.url)} holds no rulebook version yet")
        return
    for v in rows:
        published = v.published_at.strftime("%Y-%m-%d %H:%M") if v.published_at else "-"
        mark = "*" if v.is_active else " "
        line = (f"{mark} {v.number:>4}  {v.name} {v.version_label:<10} {v.fingerprint}  "
                f"published {published}  {v.comment or ''}")  # fmt: skip
        click.echo(line.rstrip())


@rulebook.command("export")
@database_options(rulebook=False)
@click.option("--version", "number", type=int, help="Version number (default: the active one).")
@click.option("--force", is_flag=True, help="Replace the rulebook files already in DIR.")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def rulebook_export(db: DatabaseOptions, number: int | None, force: bool, directory: Path) -> None:
    """Write a stored version into DIR: rulebook.yaml and one YAML file per entity."""
    engine = db.engine()
    try:
        with engine.connect() as conn:
            version = load_version(conn, number) if number else active_version(conn)
    except NotFound as exc:
        _fail(str(exc))
    finally:
        engine.dispose()
    if version is None or version.source is None:
        _fail(f"{show_url(db.url)} has no active rulebook version")
    header = (f"Rulebook version {version.number} ({version.name} {version.version_label}, "
              f"fingerprint {version.fingerprint}),\n"
              "exported by `ruleform rulebook export`.")  # fmt: skip
    files = export_source(version.source, directory, header, force=force)
    click.echo(f"version {version.number} → {directory} ({len(files)} files)")


@rulebook.command("import")
@database_options(rulebook=False)
@click.argument("path", type=click.Path(exists=True))
@click.option("--comment", help="Why this version is published.")
@click.option("--locale", type=click.Choice(LOCALES), help="Language of the plan.")
def rulebook_import(db: DatabaseOptions, path: str, comment: str | None,
                    locale: str | None) -> None:  # fmt: skip
    """Publish the rulebook at PATH as a new active version (= migrate without --archive:
    a change that would lose data is refused)."""
    _publish(db, path, plan_only=False, archive=False, comment=comment, locale=locale)
