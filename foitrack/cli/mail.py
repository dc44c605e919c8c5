"""`foitrack mail` and `foitrack chase`: sending requests and chasers by email, taking in the
replies."""

from __future__ import annotations

from typing import Any

import click

from foitrack.cli.context import (
    clock_settings,
    config,
    database,
    needs_current_schema,
    plainly,
    system_actor,
    today,
    unit_of_work,
    with_appcontext,
)


@click.group("mail")
def mail_group() -> None:
    """Sending requests by email and taking in the replies."""


def _mail_settings() -> Any:
    from foitrack.services.mail import settings_from

    return settings_from(config())


def _deliver(ids: list[int]) -> str:
    from foitrack.services.mail import deliver

    report = deliver(database().session, _mail_settings(), system_actor(), today(),
                     message_ids=ids)
    for failure in report.failed or []:
        click.echo(f"  failed: {failure}", err=True)
    return report.summary()


@mail_group.command("send")
@click.argument("campaign", required=False)
@click.option("--authorities", "subset", help="Only these: a set name or comma-separated codes.")
@click.option("--attach-template", is_flag=True, help="Attach each authority's response template.")
@click.option("--yes", is_flag=True, help="Send without asking (after listing what will go).")
@click.option("--due", is_flag=True,
              help="Instead of one CAMPAIGN: send every campaign whose send_on day has come and "
                   "that is not sent yet, and remind the owners of those due within 5 working "
                   "days. For cron where no scheduler runs; a second run sends nothing again.")
@with_appcontext
@needs_current_schema
def mail_send(campaign: str | None, subset: str | None, attach_template: bool, yes: bool,
              due: bool) -> None:
    """Email CAMPAIGN's request to each authority not yet sent to (resumes an interrupted send),
    or with --due every campaign whose send_on day has come.

    Lists what will go to whom first. Without FOITRACK_SMTP_HOST, messages are written to the
    outbox folder and nothing leaves.
    """
    if due:
        if campaign or subset or attach_template:
            raise click.UsageError("--due sends every campaign that is due: give no CAMPAIGN, "
                                   "--authorities or --attach-template")
        _send_due()
        return
    if not campaign:
        raise click.UsageError("give a CAMPAIGN, or --due")
    from foitrack.services import aggregate, campaigns, mail
    from foitrack.services.requests import campaign_requests

    settings = _mail_settings()
    with unit_of_work(plainly) as session:
        found = campaigns.get_campaign(session, campaign)
        ids, _label = aggregate.subset_ids(session, subset)
        chosen = [r for r in campaign_requests(session, found) if ids is None or r.authority_id in ids]
        plan = mail.plan_campaign_send(session, found, chosen)
        for request in plan.to_send:
            click.echo(f"  to {request.authority.name} <{request.authority.foi_email}>")
        for request in plan.no_address:
            click.echo(f"  not sent: {request.authority.name} has no FOI email address")
        retries = mail.pending_messages(session, mail.MessageKind.request, chosen)
        for message in retries:
            click.echo(f"  again to {message.to_address} (last time: {message.last_error or 'queued'})")
        where = f"through {settings.smtp_host}" if settings.smtp_host else \
            "to the outbox folder (no FOITRACK_SMTP_HOST: nothing leaves)"
        click.echo(f"{len(plan.to_send) + len(retries)} messages to send {where}.")
        if not plan.to_send and not retries:
            click.echo("Nothing to send.")
            session.rollback()
            return
        if not (yes or click.confirm("Send them?", default=False)):
            click.echo("Nothing was sent.")
            session.rollback()
            return
        queued = mail.queue_campaign(session, system_actor(), found, plan.to_send, settings,
                                     today(), attach_template)
        session.flush()
        ids_to_send = [m.id for m in retries] + [m.id for m in queued]
    click.echo(f"Done: {_deliver(ids_to_send)}.")


def _send_due() -> None:
    """The scheduler's daily work, for cron: the owners' reminders, then each campaign due,
    through the same send job the scheduler asks for, run here and now. A job a worker takes
    first is left to it."""
    import socket

    from foitrack.errors import Invalid
    from foitrack.models import JobKind
    from foitrack.services import job_runner, jobs, send_reminders
    from foitrack.services.requests import campaign_requests

    settings, actor, day = _mail_settings(), system_actor(), today()
    started: list[tuple[str, int]] = []
    with unit_of_work() as session:
        reminders = [m.id for m in send_reminders.queue(session, actor, settings, day)]
        for found in jobs.due_campaigns(session, day):
            try:
                job = jobs.send_campaign(session, actor, found, campaign_requests(session, found),
                                         settings, day)
            except Invalid as error:
                # Recorded as done, so it is not tried again (as the scheduler does).
                jobs.create(session, actor, JobKind.send, found, finished=f"due send: {error}")
                click.echo(f"  {found.slug}: not sent: {error.problems[0].message}")
                continue
            started.append((found.slug, job.id))
    if reminders:
        click.echo(f"Reminders: {_deliver(reminders)}.")
    runtime = job_runner.Runtime(new_session=database().session, config=config(), today=today,
                                 worker=f"foitrack-cli@{socket.gethostname()}")
    for slug, job_id in started:
        state = job_runner.run(runtime, job_id)
        with database().session() as session:
            job = jobs.get_job(session, job_id)
            done = (f"{state.value}: {job.summary}" if state is not None
                    else f"taken by a worker ({job.state.value})")
        click.echo(f"{slug}: job {job_id} {done}.")
    if not started:
        click.echo("No campaign is due to be sent.")


@mail_group.command("remind")
@with_appcontext
@needs_current_schema
def mail_remind() -> None:
    """Email each campaign's owner 5 working days before its send_on day (once per day set;
    `mail send --due` does this too)."""
    from foitrack.services import send_reminders

    with unit_of_work() as session:
        ids = [m.id for m in send_reminders.queue(session, system_actor(), _mail_settings(),
                                                   today())]
    click.echo(f"Reminders: {_deliver(ids)}.")


@click.command("chase")
@click.option("--campaign", help="Only this campaign.")
@click.option("--send", is_flag=True, help="Send the chasers (default: list them).")
@with_appcontext
@needs_current_schema
def chase_command(campaign: str | None, send: bool) -> None:
    """List, or with --send email, chasers for overdue requests. Safe to run daily from cron:
    a request is chased at most once per FOITRACK_CHASE_INTERVAL_DAYS working days."""
    from foitrack.services import mail

    settings = _mail_settings()
    with unit_of_work(plainly) as session:
        queued, skipped = mail.queue_chasers(session, system_actor(), settings, today(),
                                             clock_settings(), campaign)
        for message in queued:
            assert message.request is not None  # a chaser is always for a request
            click.echo(f"  chase {message.request.authority.name} <{message.to_address}>: "
                       f"{message.subject}")
        for reason in skipped:
            click.echo(f"  not chased: {reason}")
        if not send:
            session.rollback()
            click.echo(f"{len(queued)} chasers would be sent; run with --send to send them.")
            return
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

    from foitrack.errors import DomainError
    from foitrack.services import inbound
    from foitrack.storage import FileStore

    store = FileStore(config()["STORAGE_PATH"])
    refused: list[str] = []
    with unit_of_work() as session:
        total = inbound.ImportReport()
        for name in files:
            try:
                report = inbound.import_file(session, system_actor(), store, Path(name).name,
                                             Path(name).read_bytes(), today(),
                                             reply_key=inbound.reply_key_from(config()))
            except DomainError as error:
                refused.append(str(error))
                continue
            total.add(report)
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
    named, never left to stop the next fetch. A message is marked read once it is kept.
    """
    from foitrack.services import inbound
    from foitrack.services import mail_fetch as fetching
    from foitrack.storage import FileStore

    app_config = config()
    settings = inbound.imap_settings_from(app_config)
    if settings is None:
        raise click.ClickException("set FOITRACK_IMAP_HOST, _USERNAME and _PASSWORD first")
    store = FileStore(app_config["STORAGE_PATH"])
    try:
        report = fetching.fetch_and_file(database().session, settings, store, system_actor(),
                                         today())
    except fetching.MailboxUnavailable as error:
        if error.report.fetched:
            _report_fetch(error.report)  # filed before the connection failed, and kept
        raise click.ClickException(f"cannot fetch from {settings.host}: {error.reason}") from None
    _report_fetch(report)


def _report_fetch(report: Any) -> None:
    for line in report.lines:
        click.echo(f"  {line}")
    for line in report.warnings:
        click.echo(f"  {line}", err=True)
    click.echo(f"{report.summary()}.")


@mail_group.command("digest")
@with_appcontext
@needs_current_schema
def mail_digest() -> None:
    """Email each campaign's owner the requests that became overdue today (run daily)."""
    from foitrack.services import mail

    with unit_of_work() as session:
        queued = mail.queue_digests(session, system_actor(), _mail_settings(), today(),
                                    clock_settings())
        session.flush()
        ids = [m.id for m in queued]
    click.echo(f"Digests: {_deliver(ids)}.")
