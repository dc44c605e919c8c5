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
from foitrack.errors import DomainError, Invalid, NotFound
from foitrack.exporters.authorities import WRITERS, authority_row
from foitrack.services import authorities as authority_service
from foitrack.services import users as user_service
from foitrack.services.audit import Actor
from foitrack.services.authority_import import import_authorities
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

    if debug and host not in ("127.0.0.1", "localhost", "::1"):
        # The debugger runs any Python a visitor types: never on an open address.
        raise click.ClickException("--debug is only allowed with --host 127.0.0.1")
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
    _migrate(engine, migrate.upgrade, revision)
    click.echo(f"Database at {migrate.current_revision(engine)} ({engine.url.render_as_string()}).")


def _migrate(engine: Any, step: Callable[[Any, str], None], revision: str) -> None:
    """Run an Alembic step, turning its errors into one line each."""
    from alembic.util import CommandError

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
    engine = _database().engine
    _migrate(engine, migrate.downgrade, revision)
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


# ---- backups --------------------------------------------------------------------------

@main.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Write the database and the stored files to one new file PATH (a zip). Safe while running."""
    from foitrack import backups
    from foitrack.storage import FileStore

    try:
        manifest = backups.create_backup(_database().engine, FileStore(current_app.config["STORAGE_PATH"]),
                                         path, outbox=Path(current_app.config["OUTBOX_PATH"]))
    except backups.BackupError as error:
        raise click.ClickException(f"{error}; no backup was written") from None
    click.echo(f"Backed up {sum(manifest.tables.values())} rows in {len(manifest.tables)} tables "
               f"and {len(manifest.files)} files, {len(manifest.outbox)} outbox messages "
               f"({manifest.database}, revision {manifest.alembic_revision}) to {path}.")
    if manifest.missing_files:
        click.echo(f"Warning: {len(manifest.missing_files)} stored files were missing from "
                   f"{current_app.config['STORAGE_PATH']} and are not in the backup: "
                   + ", ".join(digest[:12] for digest in manifest.missing_files), err=True)


@main.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
@with_appcontext
def restore_command(path: Path, force: bool) -> None:
    """Put back the database and stored files from the backup PATH (stop the app first)."""
    from foitrack import backups
    from foitrack.storage import FileStore

    try:
        manifest = backups.restore_backup(_database().engine,
                                          FileStore(current_app.config["STORAGE_PATH"]), path,
                                          force=force, outbox=Path(current_app.config["OUTBOX_PATH"]))
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Restored {sum(manifest.tables.values())} rows in {len(manifest.tables)} tables "
               f"and {len(manifest.files)} files, {len(manifest.outbox)} outbox messages from "
               f"{path} (made {manifest.created_at}, revision "
               f"{manifest.alembic_revision}); database now at {migrate.head_revision()}.")


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


# ---- deadlines ------------------------------------------------------------------------

def _iso_date(_ctx: Any, param: click.Parameter, value: str | None) -> Any:
    import datetime as dt

    if value is None:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date in the form YYYY-MM-DD") from None
    if not 1990 <= day.year <= 2100:
        raise click.BadParameter(f"{value!r} is outside 1990 to 2100")
    return day


@main.command("deadline")
@click.argument("date", callback=_iso_date)
@click.option("--working-days", default=20, show_default=True, type=click.IntRange(0, 400),
              help="How many working days to count.")
@click.option("--regime", type=click.Choice(["foia", "foisa"]), default="foia", show_default=True,
              help="foia: bank holidays anywhere in the UK; foisa: Scottish ones only.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def deadline(date: Any, working_days: int, regime: str, as_json: bool) -> None:
    """The due date for a request received on DATE (YYYY-MM-DD), with its working.

    The first line is the due date; the days not counted follow.
    """
    import json

    from foitrack.domain.clock import Regime, add_working_days, explain_count

    count = add_working_days(date, working_days, Regime(regime))
    if as_json:
        click.echo(json.dumps({
            "received": date.isoformat(),
            "due": count.due.isoformat(),
            "working_days": working_days,
            "regime": regime,
            "day_one": count.day_one.isoformat() if count.day_one else None,
            "skipped": [{"date": s.date.isoformat(), "reason": s.reason} for s in count.skipped],
        }, indent=2))
        return
    click.echo(count.due.isoformat())
    for line in explain_count(count):
        click.echo(line)


# ---- campaigns ------------------------------------------------------------------------

@main.group("campaigns")
def campaigns_group() -> None:
    """Campaigns: one question sent to many authorities."""


@campaigns_group.command("create")
@click.option("--from", "from_file", type=click.File("r", encoding="utf-8"),
              help="A campaign file (TOML) with the campaign and its data design.")
@click.option("--title", help="The campaign's title.")
@click.option("--slug", help="Short name for URLs and commands (default: from the title).")
@click.option("--text-file", type=click.File("r", encoding="utf-8"),
              help="The request text (a template: {{ authority.name }}, {{ salutation }}).")
@click.option("--subject", help="Email subject (default: 'Freedom of Information request: TITLE').")
@click.option("--set", "set_slug", help="Send to this set, e.g. england-wales.")
@click.option("--authorities", help="Or to these authorities: slugs or codes, comma-separated.")
@click.option("--owner", help="Email of the owning user.")
@click.option("--embargo-until", callback=_iso_date, help="Embargo date (YYYY-MM-DD).")
@click.option("--repeat-of", help="Slug of an earlier campaign this one repeats (same targets and text).")
@with_appcontext
@needs_current_schema
def campaigns_create(from_file: Any, title: str | None, slug: str | None, text_file: Any,
                     subject: str | None, set_slug: str | None, authorities: str | None,
                     owner: str | None, embargo_until: Any, repeat_of: str | None) -> None:
    """Create a draft campaign with one request per authority.

    Either from a campaign file (--from), or from options: --title with --set or --authorities
    and --text-file, or --title with --repeat-of.
    """
    from foitrack.services import campaigns, design

    with _database().session() as session:
        try:
            owner_user = None
            if owner:
                owner_user = user_service.find_by_email(session, owner)
                if owner_user is None:
                    raise click.ClickException(f"no user {owner!r}")
            if from_file is not None:
                campaign = design.create_from_file(session, _system_actor(), from_file.read(),
                                                   owner=owner_user)
            elif not title:
                raise click.ClickException("give --from FILE.toml, or --title")
            elif repeat_of:
                source = campaigns.get_campaign(session, repeat_of)
                campaign = campaigns.repeat_campaign(
                    session, _system_actor(), source, title=title, slug=slug, owner=owner_user
                )
            else:
                if text_file is None:
                    raise click.ClickException("give --text-file with the request text")
                campaign = campaigns.create_campaign(
                    session, _system_actor(), title=title, slug=slug,
                    request_text=text_file.read(), subject=subject, set_slug=set_slug,
                    authority_keys=(authorities or "").split(",") if authorities else (),
                    owner=owner_user, embargo_until=embargo_until,
                )
        except DomainError as error:
            raise _fail(error) from None
        session.commit()
        click.echo(f"Created campaign {campaign.slug}: {len(campaign.requests)} requests, "
                   f"not yet sent.")


@campaigns_group.command("export")
@click.argument("slug")
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-",
              help="Where to write the campaign file (default: standard output).")
@with_appcontext
@needs_current_schema
def campaigns_export(slug: str, output: Any) -> None:
    """Write campaign SLUG as a campaign file (TOML): `campaigns create --from` reads it back."""
    from foitrack.services import campaigns, design

    with _database().session() as session:
        try:
            text = design.campaign_file(session, campaigns.get_campaign(session, slug))
        except DomainError as error:
            raise click.ClickException(str(error)) from None
    output.write(text)


@campaigns_group.command("members")
@click.argument("slug")
@click.option("--add", "add", multiple=True, metavar="EMAIL",
              help="Let this account see the campaign while it is under embargo (repeatable).")
@click.option("--remove", "remove", multiple=True, metavar="EMAIL",
              help="Take this account out of the campaign's members (repeatable).")
@with_appcontext
@needs_current_schema
def campaigns_members(slug: str, add: tuple[str, ...], remove: tuple[str, ...]) -> None:
    """List campaign SLUG's members, after adding and removing any given; all or nothing."""
    from sqlalchemy import select

    from foitrack.models import User
    from foitrack.services import campaigns, membership

    actor = _system_actor()
    with _database().session() as session:
        try:
            campaign = campaigns.get_campaign(session, slug)
            for email in add:
                membership.add_member(session, actor, membership.OPERATOR, campaign, email)
            for email in remove:
                user = session.scalar(select(User).where(User.email == email.strip().lower()))
                if user is None:
                    raise NotFound(f"no account with the address {email.strip().lower()!r}")
                membership.remove_member(session, actor, membership.OPERATOR, campaign, user.id)
        except DomainError as error:
            session.rollback()
            raise _fail(error) from None
        session.commit()
        owner = campaign.owner.email if campaign.owner else "nobody"
        click.echo(f"owner: {owner}")
        for member in membership.members(session, campaign):
            click.echo(f"member: {member.user.email} ({member.user.role.value})")


@campaigns_group.command("list")
@with_appcontext
@needs_current_schema
def campaigns_list() -> None:
    """List campaigns with their progress."""
    from foitrack.domain.clock import today_in_uk
    from foitrack.services import campaigns
    from foitrack.services.requests import campaign_progress

    with _database().session() as session:
        found = campaigns.list_campaigns(session)
        progress = campaign_progress(session, found, today_in_uk(), current_app.config["CLOCK"])
        click.echo(f"{'SLUG':<28} {'STATUS':<7} {'REQ':>4} {'SENT':>4} {'ANS':>4} {'LATE':>4}  TITLE")
        for campaign in found:
            p = progress[campaign.id]
            click.echo(f"{campaign.slug:<28} {campaign.status.value:<7} {p.total:>4} {p.sent:>4} "
                       f"{p.answered:>4} {p.overdue:>4}  {campaign.title}")


# ---- requests -------------------------------------------------------------------------

@main.group("requests")
def requests_group() -> None:
    """Requests and their timelines."""


@requests_group.command("event")
@click.argument("campaign")
@click.argument("authority_code")
@click.argument("kind")
@click.argument("date", callback=_iso_date)
@click.option("--note", help="A note on the event.")
@click.option("--outcome", help="For response, internal_review_outcome and ico_decision.")
@click.option("--exemptions", help="Sections cited, e.g. 's.12' or 's.30, s.40(2)'.")
@click.option("--due-on", callback=_iso_date, help="For extension: the date the authority gave.")
@click.option("--received-on", callback=_iso_date, help="For sent: the date of receipt, if later.")
@click.option("--reference", help="Also record the authority's reference number.")
@with_appcontext
@needs_current_schema
def requests_event(campaign: str, authority_code: str, kind: str, date: Any, note: str | None,
                   outcome: str | None, exemptions: str | None, due_on: Any, received_on: Any,
                   reference: str | None) -> None:
    """Record an event of KIND on DATE in CAMPAIGN's request to AUTHORITY_CODE (code or slug).

    KIND is one of: sent, acknowledged, clarification_requested, clarification_sent,
    fees_notice, fee_paid, extension, response, withdrawn, internal_review_requested,
    internal_review_outcome, ico_complaint, ico_decision, chaser_sent, note.
    """
    from foitrack.domain.clock import today_in_uk
    from foitrack.services import requests as request_service

    with _database().session() as session:
        try:
            request = request_service.get_request(session, campaign, authority_code)
            event = request_service.add_event(
                session, _system_actor(), request, kind, date, today=today_in_uk(), note=note,
                outcome=outcome, exemptions=exemptions or (), due_on=due_on, received_on=received_on,
            )
            if reference is not None:
                request_service.set_reference(session, _system_actor(), request, reference)
            state = request_service.state_of(request, today_in_uk(), current_app.config["CLOCK"])
        except DomainError as error:
            raise _fail(error) from None
        session.commit()
        due = state.response_deadline.due if state.response_deadline else None
        click.echo(f"Recorded {event.kind.label.lower()} on {date.isoformat()} for "
                   f"{request.authority.name}. Status: {state.status.label}"
                   + (f"; response due {due.isoformat()}" if due and not state.first_response_on else "")
                   + ".")


@requests_group.command("overdue")
@click.option("--campaign", help="Only this campaign (default: every campaign not closed).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True, help="Output format.")
@click.option("--due-soon", is_flag=True, help="Also list requests due within the next few working days.")
@with_appcontext
@needs_current_schema
def requests_overdue(campaign: str | None, fmt: str, due_soon: bool) -> None:
    """The chase list: late requests, most late first, as of today."""
    from foitrack.domain.clock import today_in_uk
    from foitrack.exporters.chase import WRITERS as CHASE_WRITERS
    from foitrack.services.requests import chase_list

    with _database().session() as session:
        try:
            rows = chase_list(session, today_in_uk(), current_app.config["CLOCK"],
                              campaign_slug=campaign, include_due_soon=due_soon)
        except DomainError as error:
            raise click.ClickException(str(error)) from None
    out = io.StringIO()
    CHASE_WRITERS[fmt](rows, out)
    click.echo(out.getvalue(), nl=False)


# ---- figures, the aggregate and the release --------------------------------------------

@main.group("figures")
def figures_group() -> None:
    """The figures authorities returned."""


@figures_group.command("import")
@click.argument("campaign")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Import filled templates after the preview, without asking.")
@click.option("--dry-run", is_flag=True, help="Check and report, but change nothing.")
@with_appcontext
@needs_current_schema
def figures_import(campaign: str, files: tuple[str, ...], yes: bool, dry_run: bool) -> None:
    """Import figures into CAMPAIGN from FILES: tidy CSVs or filled response templates (.xlsx).

    A CSV has the columns authority,measure,period,dimension,category,value,caveat,source.
    Templates are previewed first (new, changed, unchanged, and changes to checked figures)
    and imported with --yes. Any bad row or cell in any file and nothing is imported; every
    problem is listed by line and column, or by file, sheet and cell.
    """
    from pathlib import Path

    from foitrack.domain.clock import today_in_uk
    from foitrack.services import campaigns, checks, figures, templates
    from foitrack.storage import FileStore

    paths = [Path(f) for f in files]
    sheets = [p for p in paths if p.suffix.lower() in (".xlsx", ".xlsm")]
    with _database().session() as session:
        try:
            found = campaigns.get_campaign(session, campaign)
            if not sheets:
                total = figures.SaveReport()
                with click.progressbar(paths, label="Importing", show_pos=True,
                                       file=sys.stderr) as bar:
                    for path in bar:
                        with path.open("rb") as handle:
                            part = figures.import_csv(session, _system_actor(), found, handle)
                        total.add(part)
                summary = total.summary()
                _warn_findings(checks.warnings_for(session, found, total.request_ids,
                                                   today=today_in_uk()), campaign)
            else:
                if len(sheets) != len(paths):
                    raise click.ClickException("give either CSV files or .xlsx templates, not both")
                with click.progressbar(paths, label="Reading templates", show_pos=True,
                                       file=sys.stderr) as bar:
                    loaded = [(p.name, p.read_bytes()) for p in bar]
                plan = templates.preview(session, found, loaded)
                click.echo(f"Preview: {plan.summary()}.")
                for item in plan.figures:
                    if item.status in ("changed", "conflict"):
                        note = f" (checked by {item.checked_by})" if item.status == "conflict" else ""
                        click.echo(f"  {item.status}: {item.authority} {item.cell}: "
                                   f"{item.old} -> {item.new}{note}")
                _warn_findings(checks.warnings_for(
                    session, found, [item.request.id for item in plan.files],
                    entries={item.request.id: item.entries for item in plan.files},
                    today=today_in_uk()), campaign)
                if dry_run or not (yes or click.confirm("Import these figures?", default=False)):
                    click.echo("Nothing was imported.")
                    return
                store = FileStore(Path(current_app.config["STORAGE_PATH"]))
                summary = templates.apply(session, _system_actor(), plan, store).summary()
        except DomainError as error:
            raise _fail(error) from None
        if dry_run:
            session.rollback()
            click.echo(f"Dry run, nothing changed. Would be: {summary}.")
            return
        session.commit()
    click.echo(f"Imported figures: {summary}.")


@figures_group.command("template")
@click.argument("campaign")
@click.option("--authority", help="Only this authority (code or slug); default: every one.")
@click.option("-o", "--output", type=click.Path(file_okay=True), required=True,
              help="A folder for one template per authority, or a file with --authority.")
@with_appcontext
@needs_current_schema
def figures_template(campaign: str, authority: str | None, output: str) -> None:
    """Write the response templates (XLSX) of CAMPAIGN: one per authority."""
    from pathlib import Path

    from foitrack.services import campaigns, requests, templates

    target = Path(output)
    with _database().session() as session:
        try:
            found = campaigns.get_campaign(session, campaign)
            chosen = ([requests.get_request(session, campaign, authority)] if authority
                      else requests.campaign_requests(session, found))
        except DomainError as error:
            raise click.ClickException(str(error)) from None
        if not found.measures:
            raise click.ClickException("the campaign has no data design yet")
        if authority and target.suffix.lower() == ".xlsx":
            target.write_bytes(templates.template_bytes(found, chosen[0]))
            click.echo(f"Wrote {target}.")
            return
        target.mkdir(parents=True, exist_ok=True)
        with click.progressbar(chosen, label="Writing templates", file=sys.stderr) as bar:
            for request in bar:
                (target / templates.template_filename(found, request)).write_bytes(
                    templates.template_bytes(found, request))
    click.echo(f"Wrote {len(chosen)} templates to {target}.")


@figures_group.command("export")
@click.argument("campaign")
@click.option("-o", "--output", type=click.File("w", encoding="utf-8", lazy=True), default="-",
              help="Where to write the CSV (default: standard output).")
@with_appcontext
@needs_current_schema
def figures_export(campaign: str, output: Any) -> None:
    """Write CAMPAIGN's figures as a tidy CSV (the columns `figures import` reads)."""
    from foitrack.services import campaigns, figures

    with _database().session() as session:
        try:
            rows = figures.export_rows(session, campaigns.get_campaign(session, campaign))
        except DomainError as error:
            raise click.ClickException(str(error)) from None
    out = io.StringIO()
    figures.write_csv(rows, out)
    output.write(out.getvalue())


def _warn_findings(found: list[Any], campaign: str) -> None:
    """Findings the figures just given trip, on standard error: a warning, never a refusal."""
    from foitrack.services.checks import warning_lines

    if found:
        click.echo(f"Warning: {len(found)} consistency "
                   f"{'finding' if len(found) == 1 else 'findings'} to look at before publishing "
                   f"(`foitrack figures check {campaign}` lists them all):", err=True)
        for line in warning_lines(found):
            click.echo(f"  {line}", err=True)


@figures_group.command("check")
@click.argument("campaign")
@click.option("--authorities", "subset", help="Only a set, or comma-separated authority codes.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True, help="Output format.")
@click.option("--strict", is_flag=True,
              help="Exit with code 1 when any finding is open (not explained).")
@with_appcontext
@needs_current_schema
def figures_check(campaign: str, subset: str | None, fmt: str, strict: bool) -> None:
    """Consistency checks on CAMPAIGN's figures, to look at before anything is published.

    A breakdown (not an overlapping one) whose categories add up to more than the total, or to
    a different total when every figure is exact; a change beyond a factor of 3 either way
    from the period before, on a base of 10 or more; figures for a request with no response,
    or with no source; figures from a request refused in full or answered "not held".
    Explained findings are listed too, but are not open.
    """
    from foitrack.domain.clock import today_in_uk
    from foitrack.exporters import findings as writers
    from foitrack.services import aggregate, campaigns, checks

    with _database().session() as session:
        try:
            found = campaigns.get_campaign(session, campaign)
            ids, _label = aggregate.subset_ids(session, subset)
            result = checks.findings(session, found, ids, today=today_in_uk(),
                                     settings=current_app.config["CLOCK"])
        except DomainError as error:
            raise click.ClickException(str(error)) from None
    out = io.StringIO()
    writers.WRITERS[fmt](result, out)
    click.echo(out.getvalue(), nl=False)
    still = sum(1 for finding in result if finding.is_open)
    if strict and still:
        click.echo(f"{still} open {'finding' if still == 1 else 'findings'}.", err=True)
        click.get_current_context().exit(1)


@figures_group.command("explain")
@click.argument("campaign")
@click.argument("key")
@click.option("--note", help="What explains it, e.g. 'the force confirmed 31 in its letter of 2 May'.")
@click.option("--remove", is_flag=True, help="Take the explanation back: the finding is open again.")
@with_appcontext
@needs_current_schema
def figures_explain(campaign: str, key: str, note: str | None, remove: bool) -> None:
    """Mark a finding of CAMPAIGN explained, or with --remove open again.

    KEY is check|authority|measure|period|dimension|category: a row of `figures check
    --format csv` joined with '|' (the authority by code or slug), or `key` in its JSON.
    """
    from foitrack.domain.clock import today_in_uk
    from foitrack.services import campaigns, checks

    if remove and note is not None:
        raise click.ClickException("give --note TEXT or --remove, not both")
    with _database().session() as session:
        try:
            found = campaigns.get_campaign(session, campaign)
            if remove:
                checks.unexplain(session, _system_actor(), found, key)
            else:
                explained = checks.explain(session, _system_actor(), found, key, note or "",
                                           today=today_in_uk())
        except DomainError as error:
            raise _fail(error) from None
        session.commit()
    click.echo("The finding is open again." if remove else
               f"Explained {explained.key}: {explained.note}")


@main.command("aggregate")
@click.argument("campaign")
@click.option("--authorities", "subset", help="A set name, or comma-separated authority codes.")
@click.option("--checked-only", is_flag=True, help="Only figures a second researcher has checked.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True, help="Output format.")
@with_appcontext
@needs_current_schema
def aggregate_command(campaign: str, subset: str | None, checked_only: bool, fmt: str) -> None:
    """The aggregate of CAMPAIGN: totals, bounds, coverage and shares, with changes (json)."""
    from foitrack.exporters import aggregate as writers
    from foitrack.services import aggregate, campaigns

    with _database().session() as session:
        try:
            found = campaigns.get_campaign(session, campaign)
            ids, label = aggregate.subset_ids(session, subset)
            result = aggregate.build(session, found, ids, checked_only=checked_only, subset=label)
        except DomainError as error:
            raise click.ClickException(str(error)) from None
    out = io.StringIO()
    writers.WRITERS[fmt](result, out)
    click.echo(out.getvalue(), nl=False)


@main.command("release")
@click.argument("campaign")
@click.option("--authority", help="One authority's fact sheet (code or slug).")
@click.option("--authorities", "subset", help="Lines for a set or comma-separated codes together.")
@click.option("--checked-only", is_flag=True, help="Only figures a second researcher has checked.")
@with_appcontext
@needs_current_schema
def release_command(campaign: str, authority: str | None, subset: str | None,
                    checked_only: bool) -> None:
    """Print CAMPAIGN's release lines and methods note, or one authority's fact sheet."""
    from foitrack.domain.clock import today_in_uk
    from foitrack.services import aggregate, campaigns, release

    settings = current_app.config["CLOCK"]
    with _database().session() as session:
        try:
            found = campaigns.get_campaign(session, campaign)
            if subset:
                ids, label = aggregate.subset_ids(session, subset)
                result = aggregate.build(session, found, ids, checked_only=checked_only,
                                         with_authorities=False)
                text = release.national_release(
                    session, found, result, today_in_uk(), settings, authority_ids=ids,
                    subject=release.describe_subset(session, ids or [], label)).text()
            else:
                national = aggregate.build(session, found, checked_only=checked_only)
                if authority:
                    text = release.fact_sheet(session, found, national, authority, today_in_uk(),
                                              settings).text()
                else:
                    text = release.national_release(session, found, national, today_in_uk(),
                                                    settings).text()
        except DomainError as error:
            raise click.ClickException(str(error)) from None
    click.echo(text, nl=False)


@main.command("export")
@click.argument("campaign")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "json", "datapackage"]),
              required=True, help="csv: one table; xlsx, json and datapackage: every table.")
@click.option("-o", "--output", required=True, type=click.Path(),
              help="The file to write (for datapackage: a folder, or a .zip file).")
@click.option("--table", type=click.Choice(["figures", "aggregate", "tracker", "coverage",
                                            "changes"]),
              default="figures", show_default=True,
              help="For csv: which table (changes: each period against each earlier one, "
                   "with the matched panel).")
@click.option("--checked-only", is_flag=True, help="Only figures a second researcher has checked.")
@with_appcontext
@needs_current_schema
def export_command(campaign: str, fmt: str, output: str, table: str, checked_only: bool) -> None:
    """Export CAMPAIGN's dataset: the aggregate and its changes, every figure, the request
    tracker and the release lines (each number with its cell), with the methods note (the
    README sheet in xlsx, the description of a data package)."""
    import shutil
    import tempfile
    from pathlib import Path

    from sqlalchemy import func, select

    from foitrack.domain.clock import today_in_uk
    from foitrack.exporters import dataset as writers
    from foitrack.models import Figure, Request
    from foitrack.services import campaigns
    from foitrack.services.datasets import campaign_dataset

    target = Path(output)
    with _database().session() as session:
        try:
            found = campaigns.get_campaign(session, campaign)
        except DomainError as error:
            raise click.ClickException(str(error)) from None
        data = campaign_dataset(session, found, today_in_uk(), current_app.config["CLOCK"],
                                checked_only)
        count = session.scalar(select(func.count()).select_from(Figure).join(Request)
                               .where(Request.campaign_id == found.id)) or 0
        figures = data.table("figures")
        rows = figures.rows
        with click.progressbar(length=count, label="Exporting figures", file=sys.stderr) as bar:
            def counted() -> Any:
                for row in rows():
                    bar.update(1)
                    yield row

            figures.rows = counted
            if fmt == "csv":
                with target.open("w", encoding="utf-8", newline="") as handle:
                    writers.write_csv(data.table(table), handle)
            elif fmt == "json":
                with target.open("w", encoding="utf-8") as handle:
                    writers.write_json(data, handle)
            elif fmt == "xlsx":
                writers.write_xlsx(data, target)
            elif target.suffix.lower() == ".zip":
                with tempfile.TemporaryDirectory() as folder:
                    writers.write_datapackage(data, Path(folder) / found.slug)
                    shutil.make_archive(str(target.with_suffix("")), "zip", folder, found.slug)
            else:
                writers.write_datapackage(data, target)
    click.echo(f"Wrote {target}.")


@requests_group.command("import-tracker")
@click.argument("campaign")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Record the requests after the preview, without asking.")
@with_appcontext
@needs_current_schema
def requests_import_tracker(campaign: str, file: str, yes: bool) -> None:
    """Import an existing tracker (CSV or XLSX, one row per request) into CAMPAIGN.

    Columns (names read forgivingly): authority (name or code), date sent, date of reply,
    status, reference. Shows what it would do; records it only with --yes or on confirmation.
    """
    from pathlib import Path

    from foitrack.domain.clock import today_in_uk
    from foitrack.services import campaigns, tracker_import

    path = Path(file)
    with _database().session() as session:
        try:
            found = campaigns.get_campaign(session, campaign)
            planned = tracker_import.plan(session, found, path.name, path.read_bytes(),
                                          today_in_uk())
        except DomainError as error:
            raise _fail(error) from None
        for row in planned.rows:
            if row.authority is None:
                click.echo(f"  line {row.line}: not matched: {row.how}")
            else:
                click.echo(f"  line {row.line}: {row.authority.name} ({row.how}): {row.action}")
        click.echo(f"Preview: {planned.summary()}.")
        if not (yes or click.confirm("Record these requests?", default=False)):
            click.echo("Nothing was recorded.")
            return
        try:
            count = tracker_import.apply(session, _system_actor(), found, planned, today_in_uk())
        except DomainError as error:
            raise _fail(error) from None
        session.commit()
    click.echo(f"Recorded {count} requests from {path.name}.")


# ---- mail ---------------------------------------------------------------------------------

@main.group("mail")
def mail_group() -> None:
    """Sending requests by email and taking in the replies."""


def _mail_settings() -> Any:
    from foitrack.services.mail import settings_from

    return settings_from(current_app.config)


def _deliver(ids: list[int]) -> str:
    from foitrack.domain.clock import today_in_uk
    from foitrack.services.mail import deliver

    report = deliver(_database().session, _mail_settings(), _system_actor(), today_in_uk(),
                     message_ids=ids)
    for failure in report.failed or []:
        click.echo(f"  failed: {failure}", err=True)
    return report.summary()


@mail_group.command("send")
@click.argument("campaign")
@click.option("--authorities", "subset", help="Only these: a set name or comma-separated codes.")
@click.option("--attach-template", is_flag=True, help="Attach each authority's response template.")
@click.option("--yes", is_flag=True, help="Send without asking (after listing what will go).")
@with_appcontext
@needs_current_schema
def mail_send(campaign: str, subset: str | None, attach_template: bool, yes: bool) -> None:
    """Email CAMPAIGN's request to each authority not yet sent to (resumes an interrupted send).

    Lists what will go to whom first. Without FOITRACK_SMTP_HOST, messages are written to the
    outbox folder and nothing leaves.
    """
    from foitrack.domain.clock import today_in_uk
    from foitrack.services import aggregate, campaigns, mail
    from foitrack.services.requests import campaign_requests

    settings = _mail_settings()
    with _database().session() as session:
        try:
            found = campaigns.get_campaign(session, campaign)
            ids, _label = aggregate.subset_ids(session, subset)
        except DomainError as error:
            raise click.ClickException(str(error)) from None
        chosen = [r for r in campaign_requests(session, found) if ids is None or r.authority_id in ids]
        plan = mail.plan_campaign_send(session, found, chosen)
        for request in plan.to_send:
            click.echo(f"  to {request.authority.name} <{request.authority.foi_email}>")
        for request in plan.no_address:
            click.echo(f"  not sent: {request.authority.name} has no FOI email address")
        from sqlalchemy import select

        from foitrack.models import DeliveryStatus, MessageKind, OutgoingMessage
        retries = list(session.scalars(select(OutgoingMessage).where(
            OutgoingMessage.kind == MessageKind.request,
            OutgoingMessage.request_id.in_([r.id for r in chosen]),
            OutgoingMessage.status.in_([DeliveryStatus.queued, DeliveryStatus.failed]))))
        for message in retries:
            click.echo(f"  again to {message.to_address} (last time: {message.last_error or 'queued'})")
        where = f"through {settings.smtp_host}" if settings.smtp_host else \
            "to the outbox folder (no FOITRACK_SMTP_HOST: nothing leaves)"
        click.echo(f"{len(plan.to_send) + len(retries)} messages to send {where}.")
        if not plan.to_send and not retries:
            click.echo("Nothing to send.")
            return
        if not (yes or click.confirm("Send them?", default=False)):
            click.echo("Nothing was sent.")
            return
        queued = mail.queue_campaign(session, _system_actor(), found, plan.to_send, settings,
                                     today_in_uk(), attach_template)
        session.commit()
        ids_to_send = [m.id for m in retries] + [m.id for m in queued]
    click.echo(f"Done: {_deliver(ids_to_send)}.")


@main.command("chase")
@click.option("--campaign", help="Only this campaign.")
@click.option("--send", is_flag=True, help="Send the chasers (default: list them).")
@with_appcontext
@needs_current_schema
def chase_command(campaign: str | None, send: bool) -> None:
    """List, or with --send email, chasers for overdue requests. Safe to run daily from cron:
    a request is chased at most once per FOITRACK_CHASE_INTERVAL_DAYS working days."""
    from foitrack.domain.clock import today_in_uk
    from foitrack.services import mail

    settings = _mail_settings()
    with _database().session() as session:
        try:
            queued, skipped = mail.queue_chasers(session, _system_actor(), settings, today_in_uk(),
                                                 current_app.config["CLOCK"], campaign)
        except DomainError as error:
            raise click.ClickException(str(error)) from None
        for message in queued:
            click.echo(f"  chase {message.request.authority.name} <{message.to_address}>: "
                       f"{message.subject}")
        for reason in skipped:
            click.echo(f"  not chased: {reason}")
        if not send:
            session.rollback()
            click.echo(f"{len(queued)} chasers would be sent; run with --send to send them.")
            return
        session.commit()
        # The new ones and any that failed before: each is tried until it goes.
        ids = mail.pending_ids(session, mail.MessageKind.chaser, campaign)
    click.echo(f"Chasers: {_deliver(ids)}.")


@mail_group.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@with_appcontext
@needs_current_schema
def mail_import(files: tuple[str, ...]) -> None:
    """File replies from .eml or .mbox FILES against their requests (the rest go to triage).

    Each message is read on its own: one that cannot be read is kept in the triage inbox and
    named, and a file that holds no message is named; the others are imported all the same
    (exit code 1 if any file was refused).
    """
    from pathlib import Path

    from foitrack.domain.clock import today_in_uk
    from foitrack.services import inbound
    from foitrack.storage import FileStore

    store = FileStore(current_app.config["STORAGE_PATH"])
    refused: list[str] = []
    with _database().session() as session:
        total = inbound.ImportReport()
        for name in files:
            try:
                report = inbound.import_file(session, _system_actor(), store, Path(name).name,
                                             Path(name).read_bytes(), today_in_uk())
            except DomainError as error:
                refused.append(str(error))
                continue
            total.add(report)
        session.commit()
    _report_import(total, refused)
    click.echo(f"Imported: {total.summary()}.")
    if refused:
        raise click.ClickException(f"{len(refused)} file(s) not imported (the others were)")


def _report_import(total: Any, refused: list[str]) -> None:
    for line in total.filed:
        click.echo(f"  {line}")
    for line in total.unreadable:
        click.echo(f"  could not read {line}: kept in the triage inbox", err=True)
    for line in refused:
        click.echo(f"  not imported: {line}", err=True)


@mail_group.command("fetch")
@with_appcontext
@needs_current_schema
def mail_fetch() -> None:
    """Fetch unseen replies from the IMAP mailbox (FOITRACK_IMAP_*) and file them.

    Each message is read on its own: one that cannot be read is kept in the triage inbox and
    named, never left to stop the next fetch.
    """
    from foitrack.domain.clock import today_in_uk
    from foitrack.services import inbound
    from foitrack.storage import FileStore

    config = current_app.config
    if not config.get("IMAP_HOST"):
        raise click.ClickException("set FOITRACK_IMAP_HOST, _USERNAME and _PASSWORD first")
    settings = inbound.ImapSettings(config["IMAP_HOST"], config.get("IMAP_USERNAME") or "",
                                    config.get("IMAP_PASSWORD") or "", config["IMAP_PORT"],
                                    config.get("IMAP_FOLDER") or "INBOX", config["IMAP_SSL"])
    try:
        messages = inbound.fetch_imap(settings)
    except (OSError, inbound.imaplib.IMAP4.error) as error:
        raise click.ClickException(f"cannot fetch from {settings.host}: {error}") from None
    store = FileStore(config["STORAGE_PATH"])
    refused: list[str] = []
    imported: list[str] = []
    with _database().session() as session:
        total = inbound.ImportReport()
        for name, raw in messages:
            try:
                report = inbound.import_file(session, _system_actor(), store, name, raw,
                                             today_in_uk())
            except DomainError as error:
                # Empty: nothing to keep. Left unread in the mailbox for a person to look at.
                refused.append(str(error))
                continue
            total.add(report)
            imported.append(name)
        session.commit()
    # Only now, with the messages safely kept, are they marked read in the mailbox.
    inbound.mark_seen(settings, imported)
    _report_import(total, refused)
    click.echo(f"Fetched {len(messages)} messages: {total.summary()}.")


@main.group("files")
def files_group() -> None:
    """The kept files (replies, attachments, imported templates)."""


@files_group.command("prune")
@click.option("--older-than-hours", default=24, show_default=True, type=click.IntRange(min=1),
              help="Only files last written at least this long ago (an import may be running).")
@click.option("--dry-run", is_flag=True, help="List what would be removed; remove nothing.")
@with_appcontext
@needs_current_schema
def files_prune(older_than_hours: int, dry_run: bool) -> None:
    """Remove kept files nothing refers to: left by an import that failed, timed out or was
    never confirmed (a template preview). Safe to run daily from cron."""
    import datetime as dt

    from sqlalchemy import select

    from foitrack.models import StoredFile
    from foitrack.storage import FileStore

    store = FileStore(current_app.config["STORAGE_PATH"])
    with _database().session() as session:
        keep = set(session.scalars(select(StoredFile.sha256)))
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(hours=older_than_hours)
    # Files recorded after the list of those kept was read are younger than the cutoff.
    removed = store.prune(keep, cutoff, remove=not dry_run)
    if dry_run:
        click.echo(f"{len(removed)} unreferenced files would be removed.")
    else:
        click.echo(f"Removed {len(removed)} unreferenced files.")


@mail_group.command("digest")
@with_appcontext
@needs_current_schema
def mail_digest() -> None:
    """Email each campaign's owner the requests that became overdue today (run daily)."""
    from foitrack.domain.clock import today_in_uk
    from foitrack.services import mail

    with _database().session() as session:
        queued = mail.queue_digests(session, _system_actor(), _mail_settings(), today_in_uk(),
                                    current_app.config["CLOCK"])
        ids = [m.id for m in queued]
        session.commit()
    click.echo(f"Digests: {_deliver(ids)}.")
