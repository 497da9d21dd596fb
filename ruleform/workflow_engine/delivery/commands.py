"""``ruleform outbox …``: the outbox from the command line.

    ruleform outbox status                 rows per status and channel, the kill switch
    ruleform outbox kill-switch on|off     stop (or resume) every delivery at once
    ruleform outbox retry ID…              failed rows back to pending, due now

Each takes ``--database`` / ``--instance`` like the other commands.
"""

from __future__ import annotations

import click
import sqlalchemy as sa

from ...platform.cli_support import DatabaseOptions, database_options, show_url
from ...platform.outbox import outbox_table
from ...platform.runtime import utcnow
from . import outcomes
from .channels import channel_names
from .flags import flag, kill_switch_on, set_kill_switch

__all__ = ["outbox"]


@click.group()
def outbox() -> None:
    """The outbox: what is waiting to be delivered, the kill switch, retries."""


@outbox.command("kill-switch")
@database_options(rulebook=False)
@click.argument("state", type=click.Choice(["on", "off", "status"]))
def kill_switch(db: DatabaseOptions, state: str) -> None:
    """Switch all delivery off ('on': nothing leaves, rows stay pending) or back on."""
    engine = db.engine()
    try:
        with engine.begin() as conn:
            if state != "status":
                set_kill_switch(conn, state == "on", utcnow())
            on, found = kill_switch_on(conn), flag(conn, "delivery.kill_switch")
    finally:
        engine.dispose()
    since = f" since {found['updated_at']:%Y-%m-%d %H:%M} UTC" if found else ""
    click.echo(f"kill switch {'ON: nothing is delivered' if on else 'off'}{since} "
               f"({show_url(db.url)})")  # fmt: skip


@outbox.command("status")
@database_options(rulebook=False)
def status(db: DatabaseOptions) -> None:
    """Rows per status and channel."""
    table = outbox_table(sa.MetaData())
    engine = db.engine()
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(table.c.status, table.c.channel, sa.func.count())
                .where(table.c.channel.in_(channel_names()))
                .group_by(table.c.status, table.c.channel).order_by(table.c.status, table.c.channel)
            ).all()  # fmt: skip
            on = kill_switch_on(conn)
    finally:
        engine.dispose()
    click.echo(f"kill switch: {'ON' if on else 'off'}")
    for state, channel, count in rows:
        click.echo(f"{state:<10} {channel:<8} {count:>8}")
    if not rows:
        click.echo("the outbox holds no messages")


@outbox.command("retry")
@database_options(rulebook=False)
@click.argument("ids", nargs=-1, type=int, required=True)
def retry(db: DatabaseOptions, ids: tuple[int, ...]) -> None:
    """Put failed (or skipped) rows back to pending, due now."""
    table = outbox_table(sa.MetaData())
    engine = db.engine()
    try:
        with engine.begin() as conn:
            done = [i for i in ids if outcomes.retry_now(conn, table, i, utcnow(), "the CLI")]
    finally:
        engine.dispose()
    click.echo(f"{len(done)} of {len(ids)} row(s) back to pending: {', '.join(map(str, done))}")
    if len(done) != len(ids):
        raise SystemExit(1)
