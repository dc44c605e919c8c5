"""The `foitrack` command: click groups per noun over the same services the views use."""

from __future__ import annotations

import functools
import getpass
import io
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, NoAppException, with_appcontext

from foitrack import ConfigError, create_app, migrate
from foitrack.db import Database
from foitrack.exporters.authorities import WRITERS, authority_row
from foitrack.services import authorities as authority_service
from foitrack.services import users as user_service
from foitrack.services.audit import Actor
from foitrack.services.authority_import import import_authorities
from foitrack.services.errors import DomainError, Invalid
from foitrack.services.registry import REGISTRY_FILE, load_registry

F = TypeVar("F", bound=Callable[..., Any])


class StartupError(NoAppException):
    """The app cannot start: shown as one 'Error: ...' line with exit code 1, not as a usage error.

    A NoAppException subclass so that Flask's command listing (`foitrack --help`) reports it
    in one line too instead of a traceback.
    """

    exit_code = 1

    def show(self, file: Any = None) -> None:
        click.ClickException.show(self, file)


def _cli_app() -> Flask:
    # The schema is checked per command (see needs_current_schema), so that
    # `foitrack db upgrade` can run against a database that is behind.
    try:
        return create_app({"CHECK_SCHEMA": False})
    except ConfigError as error:
        raise StartupError(str(error)) from None


def _database() -> Database:
    return current_app.extensions["foitrack.db"]


def needs_current_schema(command: F) -> F:
    """Refuse to run a command against a database that is behind the migrations."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            migrate.ensure_current(_database().engine)
        except ConfigError as error:
            raise click.ClickException(str(error)) from None
        return command(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _system_actor() -> Actor:
    return Actor.system(f"{' '.join(['foitrack', *sys.argv[1:3]])} ({getpass.getuser()})")


def _fail(error: DomainError) -> click.ClickException:
    if isinstance(error, Invalid) and len(error.problems) > 1:
        lines = "\n".join(f"  {problem}" for problem in error.problems)
        return click.ClickException(f"{len(error.problems)} problems, nothing was changed:\n{lines}")
    return click.ClickException(f"{error}; nothing was changed")


@click.group(
    cls=FlaskGroup,
    create_app=_cli_app,
    add_default_commands=True,
    set_debug_flag=False,
    load_dotenv=False,
    help="foitrack: track FOI requests to many public bodies and the figures they return.",
)
def main() -> None:
    """The foitrack command line."""


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option("--debug", is_flag=True, help="Reload on code changes and show tracebacks.")
@with_appcontext
@needs_current_schema
def serve(host: str, port: int, debug: bool) -> None:
    """Serve foitrack with the built-in server (use gunicorn in production, see README)."""
    from werkzeug.serving import run_simple

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    app.debug = debug
    click.echo(f"foitrack is serving on http://{host}:{port}/ (Ctrl+C to stop)")
    # Werkzeug directly: Flask refuses app.run() inside its own CLI.
    run_simple(host, port, app, use_reloader=debug, use_debugger=debug, threaded=True)


# ---- db -------------------------------------------------------------------------------

@main.group("db")
def db_group() -> None:
    """Create and migrate the database."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Migrate the database to REVISION (default: the newest)."""
    engine = _database().engine
    try:
        migrate.current_revision(engine)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    migrate.upgrade(engine, revision)
    click.echo(f"Database at {migrate.current_revision(engine)} ({engine.url.render_as_string()}).")


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Migrate the database back to REVISION ('base' removes every table)."""
    engine = _database().engine
    migrate.downgrade(engine, revision)
    click.echo(f"Database at {migrate.current_revision(engine) or 'base'}.")


@db_group.command("current")
@with_appcontext
def db_current() -> None:
    """Show the database's revision and the newest one this foitrack has."""
    engine = _database().engine
    try:
        current = migrate.current_revision(engine)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    head = migrate.head_revision()
    state = "up to date" if current == head else "behind: run `foitrack db upgrade`"
    click.echo(f"database: {current or 'empty'}\nhead:     {head}\n{state}")


# ---- authorities ----------------------------------------------------------------------

@main.group("authorities")
def authorities_group() -> None:
    """The public bodies requests go to, and sets of them."""


@authorities_group.command("load")
@click.option(
    "--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None, help="A registry CSV to load instead of the shipped police forces.",
)
@with_appcontext
@needs_current_schema
def authorities_load(path: Path | None) -> None:
    """Load or refresh the UK police forces and their sets (safe to run again).

    Fields edited by hand in foitrack are kept.
    """
    with _database().session() as session:
        try:
            report = load_registry(session, _system_actor(), path or REGISTRY_FILE)
        except DomainError as error:
            raise _fail(error) from None
        session.commit()
    click.echo(f"Police forces loaded: {report.summary()}.")
    for slug, fields in sorted(report.kept_local.items()):
        click.echo(f"  kept local edits of {slug}: {', '.join(fields)}")


@authorities_group.command("import")
@click.argument("file", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="Check the file and report, but change nothing.")
@with_appcontext
@needs_current_schema
def authorities_import(file: Any, dry_run: bool) -> None:
    """Add or update authorities and sets from FILE (CSV; columns in the README).

    One bad cell and nothing is imported; every problem is listed by line and column.
    """
    with _database().session() as session:
        try:
            report = import_authorities(session, _system_actor(), file)
        except DomainError as error:
            raise _fail(error) from None
        if dry_run:
            session.rollback()
            click.echo(f"Dry run, nothing changed. Would be: {report.summary()}.")
            return
        session.commit()
    click.echo(f"Imported: {report.summary()}.")


@authorities_group.command("list")
@click.option("--set", "set_slug", help="Only this set, e.g. england-wales.")
@click.option("--region", help="Only this region, e.g. 'West Midlands'.")
@click.option("--search", help="Only names, former names or codes containing this.")
@click.option(
    "--format", "fmt", type=click.Choice(sorted(WRITERS)), default="table", show_default=True,
    help="Output format.",
)
@with_appcontext
@needs_current_schema
def authorities_list(set_slug: str | None, region: str | None, search: str | None, fmt: str) -> None:
    """List authorities, by name."""
    with _database().session() as session:
        try:
            found = authority_service.find_authorities(
                session, set_slug=set_slug, region=region, search=search
            )
        except DomainError as error:
            raise click.ClickException(str(error)) from None
        rows = [authority_row(authority) for authority in found]
    out = io.StringIO()
    WRITERS[fmt](rows, out)
    click.echo(out.getvalue(), nl=False)


@authorities_group.command("sets")
@with_appcontext
@needs_current_schema
def authorities_sets() -> None:
    """List the authority sets with their sizes."""
    with _database().session() as session:
        for found, count in authority_service.list_sets(session):
            click.echo(f"{found.slug:<28} {count:>4}  {found.title}")


# ---- users ----------------------------------------------------------------------------

@main.group("users")
def users_group() -> None:
    """Accounts and roles."""


@users_group.command("create")
@click.argument("email")
@click.option(
    "--role", type=click.Choice(["admin", "researcher", "viewer"]), default="researcher",
    show_default=True, help="What the account may do.",
)
@click.option("--name", help="The person's name (default: the part of EMAIL before the @).")
@click.option(
    "--password-stdin", is_flag=True,
    help="Read the password from standard input instead of prompting (for scripts).",
)
@with_appcontext
@needs_current_schema
def users_create(email: str, role: str, name: str | None, password_stdin: bool) -> None:
    """Create an account for EMAIL; prompts for the password."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _database().session() as session:
        try:
            user = user_service.create_user(
                session, _system_actor(), email=email, name=name or email.split("@")[0],
                role=role, password=password,
            )
        except DomainError as error:
            raise _fail(error) from None
        session.commit()
        click.echo(f"Created {user.role.value} {user.email}. Sign in at /auth/sign-in.")


@users_group.command("list")
@with_appcontext
@needs_current_schema
def users_list() -> None:
    """List accounts and their roles."""
    with _database().session() as session:
        for user in user_service.list_users(session):
            state = "" if user.active else "  (deactivated)"
            click.echo(f"{user.email:<40} {user.role.value:<11} {user.name}{state}")
