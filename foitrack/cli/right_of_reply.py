"""`foitrack right-of-reply`: show each force its own figures and draft lines before publishing,
and where each force stands (services.right_of_reply)."""

from __future__ import annotations

import datetime as dt

import click

from foitrack.cli.context import (
    clock_settings,
    config,
    database,
    iso_date,
    needs_current_schema,
    plainly,
    system_actor,
    today,
    unit_of_work,
    with_appcontext,
)


@click.command("right-of-reply")
@click.argument("campaign")
@click.option("--answer-by", callback=iso_date, metavar="YYYY-MM-DD",
              help="The day the forces are asked to answer by: after today.")
@click.option("--authorities", "subset",
              help="Only these: a set name or comma-separated codes (default: every force "
                   "with figures).")
@click.option("--yes", is_flag=True, help="Send (default: print each message as it would go).")
@click.option("--status", is_flag=True,
              help="Instead: where each force stands (sent, replied, overdue, figures changed "
                   "since), and the release checklist's counts.")
@with_appcontext
@needs_current_schema
def right_of_reply_command(campaign: str, answer_by: dt.date | None, subset: str | None,
                           yes: bool, status: bool) -> None:
    """Email each force of CAMPAIGN with figures its own figures as held and the lines drafted
    about it, asking it to say by --answer-by if any figure is wrong; or with --status, where
    each force stands.

    Without --yes, prints each message and sends nothing. A force's reply is filed to its
    request like any other; a correction is made on the figure grid or with `foitrack figures`.
    """
    if status:
        if answer_by or subset or yes:
            raise click.UsageError("--status shows where each force stands: give no "
                                   "--answer-by, --authorities or --yes")
        _status(campaign)
        return
    if answer_by is None:
        raise click.UsageError("give --answer-by, the day the forces are to answer by "
                               "(or --status)")
    from foitrack.errors import Invalid
    from foitrack.services import aggregate, campaigns
    from foitrack.services import right_of_reply as service
    from foitrack.services.mail import settings_from
    from foitrack.services.requests import campaign_requests

    settings = settings_from(config())
    try:
        service.check_answer_by(answer_by, today())
    except Invalid as error:  # named as the option it came from
        raise click.BadParameter(error.problems[0].message, param_hint="--answer-by") from None
    with unit_of_work(plainly) as session:
        found = campaigns.get_campaign(session, campaign)
        ids, _label = aggregate.subset_ids(session, subset)
        chosen = [r.id for r in campaign_requests(session, found)
                  if ids is None or r.authority_id in ids]
        held = service.figures_held(session, chosen)
        chosen = [i for i in chosen if i in held]
        if not yes:
            queued, skipped = service.queue_round(session, system_actor(), found, chosen,
                                                  answer_by, settings, today(), clock_settings())
            for message in queued:
                click.echo(f"To: {message.to_address}\nSubject: {message.subject}\n\n"
                           f"{message.body}\n{'-' * 72}")
            for reason in skipped:
                click.echo(f"  not sent: {reason}")
            session.rollback()  # a preview: nothing is kept
            click.echo(f"{len(queued)} messages would be sent; run with --yes to send them.")
            return
        job, skipped = service.send(session, system_actor(), found, chosen, answer_by, today())
        for reason in skipped:
            click.echo(f"  not sent: {reason}")
        if job is None:
            click.echo("Nothing was sent.")
            return
        job_id = job.id
    click.echo(f"Right of reply: job {job_id} {_run(job_id)}.")


def _run(job_id: int) -> str:
    """Run the job here and now, through the code a worker runs; one a worker took first is
    left to it."""
    import socket

    from foitrack.services import job_runner, jobs

    runtime = job_runner.Runtime(new_session=database().session, config=config(), today=today,
                                 worker=f"foitrack-cli@{socket.gethostname()}")
    state = job_runner.run(runtime, job_id)
    with database().session() as session:
        job = jobs.get_job(session, job_id)
        return (f"{state.value}: {job.summary}" if state is not None
                else f"taken by a worker ({job.state.value})")


def _status(campaign: str) -> None:
    from foitrack.domain.phrasing import long_date
    from foitrack.services import campaigns
    from foitrack.services import right_of_reply as service

    with unit_of_work(plainly) as session:
        found = campaigns.get_campaign(session, campaign)
        rows = service.statuses(session, found, today())
        for row in rows:
            if not row.has_figures and row.status is service.ReplyStatus.not_sent:
                continue
            said = [row.status.label]
            if row.answer_by:
                said.append(f"answer by {long_date(row.answer_by)}")
            if row.to_outbox:
                said.append("written to the outbox, not emailed")
            if row.replied_at:
                said.append(f"reply filed {row.replied_at:%Y-%m-%d %H:%M} UTC")
            click.echo(f"{row.authority_name}: {', '.join(said)}")
            for change in row.changes:
                click.echo(f"  changed since: {change.text}")
        click.echo(f"{service.tally(rows).summary()}.")
