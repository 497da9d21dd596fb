"""The ``ruleform`` command line.

Exit status: 0 success (or a valid rulebook), 1 failure (an invalid rulebook, a refused
migration), 2 usage error. Commands that need the app (serve, demo, migrate, users …)
are registered from their own modules so this file stays a thin facade.
"""

from __future__ import annotations

import json
import sys

import click

from . import commands, wiring
from .errors import UsageError
from .metadata.compiler import check_rulebook
from .metadata.explain import explain_entity, explain_rulebook, permission_matrix
from .metadata.schema import rulebook_schema
from .platform.access_commands import why
from .platform.auth.commands import tokens, users
from .workflow_engine.delivery.commands import outbox
from .workflow_engine.diagram import entity_svg, rulebook_svg
from .workflow_engine.timerules.commands import rules

__all__ = ["main", "cli"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ruleform")
def cli() -> None:
    """Ruleform: declare customer-management rules as metadata; run them."""


@cli.command()
@click.argument("path", type=click.Path(exists=True))
@click.option("--warnings/--no-warnings", default=True, help="Show warnings too.")
@click.option("--json", "as_json", is_flag=True, help="Print problems as JSON.")
def check(path: str, warnings: bool, as_json: bool) -> None:
    """Check the rulebook at PATH and list every problem (exit 1 if any error)."""
    result = check_rulebook(path)
    shown = [p for p in result.problems if warnings or p.is_error]
    if as_json:
        click.echo(json.dumps([p.__dict__ for p in shown], ensure_ascii=False, indent=2))
    else:
        for problem in shown:
            click.echo(problem.format(), err=problem.is_error)
        rb = result.rulebook
        summary = f"{len(result.errors)} error(s), {len(result.warnings)} warning(s)"
        if rb is not None:
            click.echo(f"✓ {path}: rulebook '{rb.name}' {rb.version}, {len(rb.entities)} "
                       f"entities, {len(rb.roles)} roles — {summary}")  # fmt: skip
        else:
            click.echo(f"✗ {path}: {summary}", err=True)
    sys.exit(0 if result.ok else 1)


@cli.command()
@click.argument("path", type=click.Path(exists=True))
@click.argument("entity", required=False)
@click.option("--locale", default=None, help="zh-CN or en (default: the rulebook's).")
@click.option("--permissions", is_flag=True,
              help="Print who may do what: per entity (or ENTITY), role × action, row scope, "
                   "field access and transitions in words.")  # fmt: skip
@click.option("--diagram", is_flag=True,
              help="Print the status diagram (SVG) of ENTITY, or of all.")  # fmt: skip
def explain(path: str, entity: str | None, locale: str | None, permissions: bool,
            diagram: bool) -> None:  # fmt: skip
    """Read the rulebook at PATH (or one ENTITY) back in plain words."""
    result = check_rulebook(path)
    if result.rulebook is None:
        for problem in result.errors:
            click.echo(problem.format(), err=True)
        sys.exit(1)
    rb = result.rulebook
    locale = locale or rb.default_locale
    if entity and entity not in rb.entities:
        raise click.UsageError(f"no entity '{entity}'; entities: {', '.join(rb.entities)}")
    if diagram:
        click.echo(entity_svg(rb.entities[entity], locale) if entity else rulebook_svg(rb, locale))
    elif permissions:
        click.echo(permission_matrix(rb, locale, entity))
    elif entity:
        if entity not in rb.entities:
            raise click.UsageError(f"no entity '{entity}'; entities: {', '.join(rb.entities)}")
        click.echo(explain_entity(rb, rb.entities[entity], locale))
    else:
        click.echo(explain_rulebook(rb, locale))


@cli.command()
def schema() -> None:
    """Print the JSON Schema of the metadata language (for editors)."""
    click.echo(json.dumps(rulebook_schema(), ensure_ascii=False, indent=2))


#: The sub-commands that touch a database, beside ``check``, ``explain`` and ``schema``.
COMMANDS: tuple[click.Command, ...] = (
    commands.serve, commands.worker, commands.demo, commands.migrate, commands.rulebook,
    outbox, users, tokens, rules, why,
)  # fmt: skip


def _register_extensions() -> None:
    """Wire the process (``wiring.install``) and add ``COMMANDS``."""
    wiring.install()
    for command in COMMANDS:
        cli.add_command(command)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``ruleform`` script."""
    _register_extensions()
    try:
        cli.main(args=argv, prog_name="ruleform", standalone_mode=True)
    except UsageError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
