"""`foitrack requests`: requests and their timelines."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import click

from foitrack.cli.context import (
    clock_settings,
    iso_date,
    needs_current_schema,
    plainly,
    system_actor,
    today,
    unit_of_work,
    with_appcontext,
)


@click.group("requests")
def requests_group() -> None:
    """Requests and their timelines."""


@requests_group.command("event")
@click.argument("campaign")
@click.argument("authority_code")
@click.argument("kind")
@click.argument("date", callback=iso_date)
@click.option("--note", help="A note on the event.")
@click.option("--outcome", help="For response, internal_review_outcome and ico_decision.")
@click.option("--exemptions", help="Sections cited, e.g. 's.12' or 's.30, s.40(2)'.")
@click.option("--due-on", callback=iso_date, help="For extension: the date the authority gave.")
@click.option("--received-on", callback=iso_date, help="For sent: the date of receipt, if later.")
@click.option("--reference", help="Also record the authority's reference number.")
@click.option("--case-reference", help="For ico_complaint, ico_decision, tribunal_appeal, "
                                       "court_of_session_appeal and tribunal_decision: the "
                                       "Commissioner's, tribunal's or court's case reference.")
@click.option("--steps-ordered", help="For ico_decision: the steps the decision notice orders "
                                      "the authority to take (FOIA s.50(4), FOISA s.49(6)).")
@click.option("--comply-by", callback=iso_date,
              help="For ico_decision: the date the notice gives to take the steps by.")
@click.option("--follow-up", "follow_up", type=click.IntRange(min=0), default=0,
              show_default=True,
              help="The narrowed follow-up's number (a new request, FOIA s.1(1)); 0: the first.")
@with_appcontext
@needs_current_schema
def requests_event(campaign: str, authority_code: str, kind: str, date: dt.date,
                   note: str | None, outcome: str | None, exemptions: str | None,
                   due_on: dt.date | None, received_on: dt.date | None,
                   reference: str | None, case_reference: str | None,
                   steps_ordered: str | None, comply_by: dt.date | None,
                   follow_up: int) -> None:
    """Record an event of KIND on DATE in CAMPAIGN's request to AUTHORITY_CODE (code or slug).

    KIND is one of: sent, acknowledged, clarification_requested, clarification_sent,
    fees_notice, fee_paid, extension, response, withdrawn, internal_review_requested,
    internal_review_outcome, ico_complaint, ico_decision, tribunal_appeal,
    court_of_session_appeal, tribunal_decision, chaser_sent, note.
    """
    from foitrack.errors import NotFound
    from foitrack.services import follow_ups
    from foitrack.services import requests as request_service

    with unit_of_work() as session:
        if follow_up:
            # Each follow-up has its own timeline (its own clock, FOIA s.10(1)): name which.
            try:
                request = follow_ups.get_follow_up(session, campaign, authority_code, follow_up)
            except NotFound as error:
                raise click.BadParameter(str(error), param_hint="--follow-up") from None
        else:
            request = request_service.get_request(session, campaign, authority_code)
        event = request_service.add_event(
            session, system_actor(), request, kind, date, today=today(), note=note,
            outcome=outcome, exemptions=exemptions or (), due_on=due_on, received_on=received_on,
            case_reference=case_reference, steps_ordered=steps_ordered, comply_by=comply_by,
        )
        if reference is not None:
            request_service.set_reference(session, system_actor(), request, reference)
        state = request_service.state_of(request, today(), clock_settings())
        recorded = _recorded(event, request, state)
    click.echo(f"Recorded {recorded}.")


def _recorded(event: Any, request: Any, state: Any) -> str:
    """What was recorded, for whom, and where the request stands now."""
    due = state.response_deadline.due if state.response_deadline else None
    return (f"{event.kind.label.lower()} on {event.occurred_on.isoformat()} for "
            f"{request.authority.name}. Status: {state.status.label}"
            + (f"; response due {due.isoformat()}" if due and not state.first_response_on else ""))


@requests_group.command("events")
@click.argument("campaign")
@click.argument("file", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="Check the file and show what would be recorded, "
                                              "but record nothing.")
@with_appcontext
@needs_current_schema
def requests_events(campaign: str, file: Any, dry_run: bool) -> None:
    """Record many events in CAMPAIGN from FILE (CSV; '-' reads standard input), each row as
    `requests event` records one.

    \b
    The columns are exactly:
    authority,kind,date,note,outcome,exemptions,due_on,received_on,reference
    and, if wanted, any of: case_reference,steps_ordered,comply_by

    The authority by code or slug, dates as YYYY-MM-DD; an empty cell is an option not given.
    Rows are recorded in file order. One bad row or cell and nothing is recorded; the problem
    is named by line and column.
    """
    from foitrack.services.event_import import record_events

    with unit_of_work() as session:
        recorded = record_events(session, system_actor(), campaign, file.read(), today=today(),
                                 settings=clock_settings())
        for item in recorded:
            click.echo(f"  line {item.line}: {_recorded(item.event, item.request, item.state)}.")
        if dry_run:
            session.rollback()
            click.echo(f"Dry run, nothing was recorded. Would record {_events(len(recorded))}.")
            return
    click.echo(f"Recorded {_events(len(recorded))} in {campaign}.")


def _events(count: int) -> str:
    return f"{count} event{'' if count == 1 else 's'}"


@requests_group.command("overdue")
@click.option("--campaign", help="Only this campaign (default: every campaign not closed).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True, help="Output format.")
@click.option("--due-soon", is_flag=True, help="Also list requests due within the next few working days.")
@with_appcontext
@needs_current_schema
def requests_overdue(campaign: str | None, fmt: str, due_soon: bool) -> None:
    """The chase list: late requests, most late first, as of today."""
    from foitrack.exporters.chase import WRITERS
    from foitrack.services.requests import chase_list

    with unit_of_work(plainly) as session:
        rows = chase_list(session, today(), clock_settings(), campaign_slug=campaign,
                          include_due_soon=due_soon)
    out = io.StringIO()
    WRITERS[fmt](rows, out)
    click.echo(out.getvalue(), nl=False)


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

    from foitrack.services import campaigns, tracker_import

    path = Path(file)
    with unit_of_work() as session:
        found = campaigns.get_campaign(session, campaign)
        planned = tracker_import.plan(session, found, path.name, path.read_bytes(), today())
        for row in planned.rows:
            if row.authority is None:
                click.echo(f"  line {row.line}: not matched: {row.how}")
            else:
                click.echo(f"  line {row.line}: {row.authority.name} ({row.how}): {row.action}")
        click.echo(f"Preview: {planned.summary()}.")
        if not (yes or click.confirm("Record these requests?", default=False)):
            click.echo("Nothing was recorded.")
            session.rollback()
            return
        count = tracker_import.apply(session, system_actor(), found, planned, today())
    click.echo(f"Recorded {count} requests from {path.name}.")
