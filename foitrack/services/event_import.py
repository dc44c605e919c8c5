"""Recording many timeline events from one CSV file, each row as `foitrack requests event`
records one: the same checks, in file order, all or nothing.

The file is read whole first (every problem of shape, dates and authorities listed by line and
column); then the rows are recorded one by one and the first the timeline refuses stops the
import, since a later row may only make sense after it. Never commits: the caller commits, or
rolls back for a dry run or on any problem.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from foitrack.domain.clock import ClockSettings, parse_iso_date
from foitrack.domain.csv_files import decode_upload, header_reader, records
from foitrack.domain.timeline import RequestState
from foitrack.errors import Invalid, NotFound, Problem
from foitrack.models import Event, Request
from foitrack.services import audit, campaigns
from foitrack.services.follow_ups import get_follow_up
from foitrack.services.requests import add_event, get_request, set_reference, state_of

# The columns, exactly these (a script's file is read the same way every time).
COLUMNS = ("authority", "kind", "date", "note", "outcome", "exemptions", "due_on", "received_on",
           "reference")
# A complaint's, decision notice's or appeal's fields, as the web form takes them (FOIA s.50(4),
# FOISA s.49(6): the steps a decision notice orders and the date to take them by): columns a
# file may add, so that files written before they existed are read as they always were.
DECISION_COLUMNS = ("case_reference", "steps_ordered", "comply_by")
# Which request of the authority's chain the row is for: 0 (or empty) the first, N follow-up N
# (a narrowed follow-up is a new request with its own timeline, FOIA s.1(1), s.10(1)); optional,
# so files written before follow-ups existed are read as they always were.
OPTIONAL_COLUMNS = (*DECISION_COLUMNS, "follow_up")
REQUIRED = ("authority", "kind", "date")
DATE_COLUMNS = ("date", "due_on", "received_on", "comply_by")
# What add_event names a problem by, when it is not the column's own name.
_COLUMN_OF_FIELD = {"occurred_on": "date"}


@dataclass(frozen=True)
class EventRow:
    """One row of the file: the request it is for and the event, not yet checked against the
    timeline."""

    line: int
    request: Request
    kind: str
    on: dt.date
    note: str | None
    outcome: str | None
    exemptions: str | None
    due_on: dt.date | None
    received_on: dt.date | None
    reference: str | None
    case_reference: str | None = None
    steps_ordered: str | None = None
    comply_by: dt.date | None = None


@dataclass(frozen=True)
class RecordedEvent:
    """A row recorded: the event, its request, and where the request stands after it."""

    line: int
    request: Request
    event: Event
    state: RequestState


def record_events(session: Session, actor: audit.Actor, campaign_slug: str, data: bytes, *,
                  today: dt.date, settings: ClockSettings | None = None) -> list[RecordedEvent]:
    """Record every row of the CSV ``data`` in the campaign's requests, in order.

    :raises NotFound: when there is no such campaign.
    :raises Invalid: listing every problem by line and column (or the first row the timeline
        refuses); the session then holds partial work the caller must roll back.
    """
    campaigns.get_campaign(session, campaign_slug)
    rows = read_rows(session, campaign_slug, data)
    recorded = []
    for row in rows:
        try:
            event = add_event(
                session, actor, row.request, row.kind, row.on, today=today, note=row.note,
                outcome=row.outcome, exemptions=row.exemptions or (), due_on=row.due_on,
                received_on=row.received_on, case_reference=row.case_reference,
                steps_ordered=row.steps_ordered, comply_by=row.comply_by,
            )
            if row.reference is not None:
                set_reference(session, actor, row.request, row.reference)
        except Invalid as error:
            raise Invalid([Problem(p.message, _COLUMN_OF_FIELD.get(p.field or "", p.field),
                                   row.line) for p in error.problems]) from None
        recorded.append(RecordedEvent(row.line, row.request, event,
                                      state_of(row.request, today, settings)))
    return recorded


def read_rows(session: Session, campaign_slug: str, data: bytes) -> list[EventRow]:
    """The file's rows with their requests looked up. :raises Invalid: listing every problem."""
    rows: list[EventRow] = []
    problems: list[Problem] = []
    for line, cells in records(decode_upload(data), _read_header, problems):
        given = {column: "" for column in OPTIONAL_COLUMNS}
        given.update((column, cell.strip()) for column, cell in cells.items())
        row = _row(session, campaign_slug, given, line, problems)
        if row is not None:
            rows.append(row)
    if not rows and not problems:
        problems.append(Problem("the file has a header but no rows"))
    if problems:
        raise Invalid(problems)
    return rows


_read_header = header_reader(
    (*COLUMNS, *OPTIONAL_COLUMNS), COLUMNS,
    f"the columns are exactly {','.join(COLUMNS)} (and, if wanted, any of "
    f"{','.join(OPTIONAL_COLUMNS)})")


def _row(session: Session, campaign_slug: str, cells: dict[str, str], line: int,
         problems: list[Problem]) -> EventRow | None:
    found = len(problems)
    for column in REQUIRED:
        if not cells[column]:
            problems.append(Problem("is required", column, line))
    dates = {column: _date(cells[column], column, line, problems) for column in DATE_COLUMNS}
    request = None
    number = _follow_up_number(cells["follow_up"], line, problems)
    if cells["authority"] and number is not None:
        try:
            request = (get_follow_up(session, campaign_slug, cells["authority"], number) if number
                       else get_request(session, campaign_slug, cells["authority"]))
        except NotFound:
            if number:
                problems.append(Problem(f"{cells['authority']!r} has no follow-up {number} in "
                                        f"campaign {campaign_slug!r}", "follow_up", line))
            else:
                problems.append(Problem(f"campaign {campaign_slug!r} has no request to "
                                        f"{cells['authority']!r}", "authority", line))
    if len(problems) > found or request is None or dates["date"] is None:
        return None
    return EventRow(
        line=line, request=request, kind=cells["kind"], on=dates["date"],
        note=cells["note"] or None, outcome=cells["outcome"] or None,
        exemptions=cells["exemptions"] or None, due_on=dates["due_on"],
        received_on=dates["received_on"], reference=cells["reference"] or None,
        case_reference=cells["case_reference"] or None,
        steps_ordered=cells["steps_ordered"] or None, comply_by=dates["comply_by"],
    )


def _follow_up_number(cell: str, line: int, problems: list[Problem]) -> int | None:
    """The follow_up cell: empty or 0 the first request, else a follow-up's number."""
    if not cell:
        return 0
    if not cell.isdigit():
        problems.append(Problem("is a follow-up's number (0 or empty for the first request)",
                                "follow_up", line))
        return None
    return int(cell)


def _date(cell: str, column: str, line: int, problems: list[Problem]) -> dt.date | None:
    """A date cell, read as the command line reads a date (YYYY-MM-DD, 1990 to 2100)."""
    if not cell:
        return None
    try:
        return parse_iso_date(cell)
    except ValueError as error:
        problems.append(Problem(str(error), column, line))
        return None
