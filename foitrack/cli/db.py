"""`foitrack db`: create and migrate the database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from foitrack.cli.context import database, with_appcontext


@click.group("db")
def db_group() -> None:
    """Create and migrate the database."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Migrate the database to REVISION (default: the newest)."""
    from foitrack import migrate

    engine = database().engine
    _migrate(engine, migrate.upgrade, revision)
    click.echo(f"Database at {migrate.current_revision(engine)} ({engine.url.render_as_string()}).")


def _migrate(engine: Any, step: Callable[[Any, str], None], revision: str) -> None:
    """Run an Alembic step, turning its errors into one line each."""
    from alembic.util import CommandError

    from foitrack import ConfigError, migrate

    try:
        migrate.current_revision(engine)
        step(engine, revision)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    except CommandError as error:
        raise click.ClickException(f"{error} (see `foitrack db current`)") from None


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Migrate the database back to REVISION ('base' removes every table)."""
    from foitrack import migrate

    engine = database().engine
    _migrate(engine, migrate.downgrade, revision)
    click.echo(f"Database at {migrate.current_revision(engine) or 'base'}.")


@db_group.command("current")
@with_appcontext
def db_current() -> None:
    """Show the database's revision and the newest one this foitrack has."""
    from foitrack import ConfigError, migrate

    engine = database().engine
    try:
        current = migrate.current_revision(engine)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    head = migrate.head_revision()
    state = "up to date" if current == head else "behind: run `foitrack db upgrade`"
    click.echo(f"database: {current or 'empty'}\nhead:     {head}\n{state}")
