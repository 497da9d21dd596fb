"""``ruleform why``: why may (or may not) a user read a record — and a field?

    ruleform why --user sales2 --entity customer --record 17 [--field mobile] [--locale en]

Prints the policy's reasons (roles, scopes, the part of a scope that grants access such as
an access request, field access) and exits 0 when the user may read it, 1 when not,
2 on a usage error (unknown user, entity or record id).
"""

from __future__ import annotations

import sys

import click
import sqlalchemy as sa

from .actors import load_actor
from .auth.users import users_table
from .bootstrap import load_runtime
from .cli_support import DatabaseOptions, database_options

__all__ = ["why"]


@click.command()
@click.option("--user", "username", required=True, help="Username or user id.")
@click.option("--entity", "entity_name", required=True, help="Entity name, e.g. customer.")
@click.option("--record", "record_id", required=True, type=int, help="Record id.")
@click.option("--field", "field_name", default=None, help="A field to explain as well.")
@click.option("--locale", default=None, type=click.Choice(["zh-CN", "en"]),
              help="Language of the answer (default: the rulebook's).")  # fmt: skip
@database_options
def why(db: DatabaseOptions, username: str, entity_name: str, record_id: int,
        field_name: str | None, locale: str | None) -> None:  # fmt: skip
    """Explain whether USER may read RECORD of ENTITY (and FIELD), and why."""
    engine = db.engine()
    try:
        runtime = load_runtime(engine, db.rulebook)
        entity = runtime.rulebook.entities.get(entity_name)
        if entity is None:
            raise click.UsageError(f"no entity '{entity_name}'; entities: "
                                   f"{', '.join(runtime.rulebook.entities)}")  # fmt: skip
        with engine.connect() as conn:
            users = users_table()
            column = users.c.id if username.isdigit() else users.c.username
            value = int(username) if username.isdigit() else username
            user_id = conn.execute(sa.select(users.c.id).where(column == value)).scalar()
            actor = load_actor(conn, user_id) if user_id is not None else None
            if actor is None:
                raise click.UsageError(f"no active user '{username}'")
            decision = runtime.policy.explain(actor, entity, record_id, field_name, conn=conn,
                                              tables=runtime.tables,
                                              locale=locale or runtime.rulebook.default_locale)  # fmt: skip
    finally:
        engine.dispose()
    for reason in decision.reasons:
        click.echo(reason)
    sys.exit(0 if decision.allowed else 1)
