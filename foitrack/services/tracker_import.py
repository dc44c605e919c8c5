"""Importing a team's existing spreadsheet tracker: one row per request becomes a request with its
"sent" and "response" events.

Column names are read forgivingly ("Force", "Date sent", "Date of reply", "Status", "Ref"), and
so are authority names ("W Mercia Police" is West Mercia Police; former names count too).
Nothing is written until the preview has been confirmed; rows that cannot be matched are
listed, and a request that already has a timeline is left alone and reported.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from foitrack.domain.csv_files import decode_upload
from foitrack.errors import Invalid, Problem
from foitrack.models import Authority, Campaign, Request
from foitrack.services import audit
from foitrack.services.authority_names import AuthorityNames, squeezed
from foitrack.services.campaigns import add_authorities
from foitrack.services.locks import hold_campaign_requests
from foitrack.services.requests import MAX_REFERENCE, add_event, set_reference
from foitrack.services.templates import DAMAGED, unreadable_workbook, unsafe_workbook

# Accepted headings for each column, compared without case, spaces or punctuation.
HEADINGS = {
    "authority": ("authority", "force", "policeforce", "body", "publicbody", "organisation",
                  "code", "authoritycode", "name"),
    "sent": ("datesent", "sent", "sentdate", "senton", "requestsent", "datesubmitted"),
    "reply": ("dateofreply", "replied", "replydate", "datereplied", "responsedate",
              "dateofresponse", "responded", "received", "datereceived", "respondedon"),
    "status": ("status", "outcome", "result", "response"),
    "reference": ("reference", "ref", "theirreference", "foireference", "referencenumber"),
}
# Status words and the response outcome they mean (None: no response yet).
STATUSES: dict[str, str | None] = {
    "provided": "provided", "full": "provided", "answered": "provided", "complete": "provided",
    "received": "provided", "responded": "provided", "disclosed": "provided",
    "partial": "part_provided", "part": "part_provided", "partprovided": "part_provided",
    "partlyprovided": "part_provided",
    "refused": "refused", "refusal": "refused", "rejected": "refused", "exempt": "refused",
    "notheld": "not_held", "informationnotheld": "not_held",
    "ncnd": "ncnd", "neitherconfirmnordeny": "ncnd",
    "awaiting": None, "pending": None, "sent": None, "outstanding": None, "overdue": None,
    "": None,
}


def match_authority(text: str, names: AuthorityNames[Authority]) -> tuple[Authority | None, str]:
    """The authority a tracker means, and how it was matched; None with the reason if unsure."""
    wanted = text.strip()
    if not wanted:
        return None, "the authority cell is empty"
    if (found := names.by_key(wanted)) is not None:
        return found, "code or slug"
    if (found := names.by_name(wanted)) is not None:
        return found, "name"
    # A person confirms the preview, so a close spelling may be offered.
    good, hint = names.nearest(wanted)
    indexes = {index for index, _, _ in good}
    if len(indexes) == 1:
        index, name, score = good[0]
        return names.item(index)[1], f"close to {name!r} ({score:.0f}%)"
    if len(indexes) > 1:
        options = " or ".join(sorted({names.item(index)[0].name for index in indexes}))
        return None, f"{wanted!r} could be {options}"
    return None, f"no authority called {wanted!r}" + (f" (nearest: {hint})" if hint else "")


def _date(value: Any, where: str, problems: list[Problem]) -> dt.date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d.%m.%Y", "%d %B %Y", "%d %b %Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    problems.append(Problem(f"{text!r} is not a date (write 2019-05-01 or 01/05/2019)", where))
    return None


@dataclass
class TrackerRow:
    line: int
    authority_text: str
    authority: Authority | None
    how: str
    sent: dt.date | None
    reply: dt.date | None
    outcome: str | None
    reference: str | None
    action: str = ""  # what importing would do
    # The reference typed in foitrack, kept where the tracker gives a different one.
    kept_reference: str | None = None


@dataclass
class TrackerPlan:
    rows: list[TrackerRow] = field(default_factory=list)

    @property
    def unmatched(self) -> list[TrackerRow]:
        return [r for r in self.rows if r.authority is None]

    def summary(self) -> str:
        acting = [r for r in self.rows if r.authority and not r.action.startswith("skip")]
        skipped = [r for r in self.rows if r.action.startswith("skip")]
        kept = sum(1 for r in acting if r.kept_reference)
        return (f"{len(self.rows)} rows: {len(acting)} requests to record, {len(skipped)} skipped, "
                f"{len(self.unmatched)} not matched to an authority"
                + (f"; {kept} references typed in foitrack kept" if kept else ""))


# No tracker cell is longer: a reference, a name, a date, a short note. Checked here because
# Python's csv module refuses fields over 128 KB only until something in the process raises
# that limit for everyone (frictionless does, when it is imported for a data package).
MAX_CELL = 10_000


def _read_rows(filename: str, data: bytes) -> list[tuple[int, list[Any]]]:
    if filename.lower().endswith((".xlsx", ".xlsm")):
        if reason := unsafe_workbook(data):
            raise Invalid(f"{filename} {reason}")
        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as error:  # openpyxl raises many kinds for a file that is not a workbook
            raise Invalid(f"{filename} {unreadable_workbook(error)}") from None
        try:
            sheet = book.worksheets[0]
            rows = [(index, list(row))
                    for index, row in enumerate(sheet.iter_rows(values_only=True), start=1)]
        except Exception as error:  # noqa: BLE001 - a damaged sheet fails in many ways in openpyxl
            raise Invalid(f"{filename} {unreadable_workbook(error, DAMAGED)}") from None
        finally:
            book.close()
        return rows
    text = decode_upload(data, filename)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        return [(reader.line_num, row) for row in reader]
    except csv.Error as error:
        if "field larger than field limit" in str(error):  # the same answer whatever the limit
            raise Invalid([Problem(f"a cell is longer than {MAX_CELL:,} characters",
                                   line=reader.line_num)]) from None
        raise Invalid(f"{filename}: the CSV cannot be read: {error}") from None


def _refuse_long_cells(rows: list[tuple[int, list[Any]]]) -> None:
    for line, row in rows:
        for index, cell in enumerate(row, start=1):
            if isinstance(cell, str) and len(cell) > MAX_CELL:
                raise Invalid([Problem(f"a cell is longer than {MAX_CELL:,} characters",
                                       field=str(index), line=line)])


def plan(session: Session, campaign: Campaign, filename: str, data: bytes,
         today: dt.date) -> TrackerPlan:
    """Read a tracker and say what importing it would do. :raises Invalid: on unreadable input."""
    rows = [(line, row) for line, row in _read_rows(filename, data)
            if any(str(cell or "").strip() for cell in row)]
    _refuse_long_cells(rows)
    if not rows:
        raise Invalid(f"{filename} is empty")
    columns = _Columns.of(*rows[0])
    authorities = session.scalars(select(Authority).where(Authority.active.is_(True)))
    names = AuthorityNames((authority, authority) for authority in authorities)
    existing = {r.authority_id: r for r in session.scalars(  # first requests: one a row
        select(Request).where(Request.campaign_id == campaign.id, Request.follow_up_number == 0))}
    problems: list[Problem] = []
    result = TrackerPlan()
    for line, row in rows[1:]:
        item = _read_row(columns, line, row, names, today, problems)
        if item.authority is not None:
            _plan_action(item, existing.get(item.authority.id))
        result.rows.append(item)
    if problems:
        raise Invalid(problems)
    return result


@dataclass
class _Columns:
    """Where each known column is in the tracker, by its heading."""

    index: dict[str, int]

    @classmethod
    def of(cls, header_line: int, header: list[Any]) -> _Columns:
        columns: dict[str, int] = {}
        for index, heading in enumerate(header):
            key = squeezed(str(heading or ""))
            for name, accepted in HEADINGS.items():
                if key in accepted and name not in columns:
                    columns[name] = index
        # A tracker with both a status and an "outcome" column (foitrack's own export among
        # them, whose status is where the request is, e.g. "awaiting_response") says what the
        # authority decided in the outcome: that is the one read.
        outcome = next((i for i, h in enumerate(header) if squeezed(str(h or "")) == "outcome"),
                       None)
        if outcome is not None:
            columns["status"] = outcome
        if "authority" not in columns:
            raise Invalid([Problem("no column names the authority (call it 'Authority' or 'Force')",
                                   line=header_line)])
        return cls(columns)

    def cell(self, row: list[Any], name: str) -> Any:
        index = self.index.get(name)
        return row[index] if index is not None and index < len(row) else None


def _read_row(columns: _Columns, line: int, row: list[Any], names: AuthorityNames[Authority],
              today: dt.date, problems: list[Problem]) -> TrackerRow:
    """One tracker row as values, adding to ``problems`` what is wrong with it."""
    text = str(columns.cell(row, "authority") or "").strip()
    authority, how = match_authority(text, names)
    sent = _date(columns.cell(row, "sent"), f"line {line}, column sent", problems)
    reply = _date(columns.cell(row, "reply"), f"line {line}, column reply", problems)
    outcome = _outcome(columns.cell(row, "status"), line, reply, problems)
    _check_dates(line, sent, reply, today, problems)
    reference = str(columns.cell(row, "reference") or "").strip() or None
    if reference and len(reference) > MAX_REFERENCE:
        problems.append(Problem(f"is longer than {MAX_REFERENCE} characters",
                                f"line {line}, column reference"))
    return TrackerRow(line, text, authority, how, sent, reply, outcome, reference)


def _outcome(written: Any, line: int, reply: dt.date | None,
             problems: list[Problem]) -> str | None:
    """The response outcome a status cell means (None: no response yet, or not understood)."""
    status = squeezed(str(written or ""))
    if status not in STATUSES:
        problems.append(Problem(f"{written!r} is not a status foitrack knows "
                                f"({', '.join(sorted(k for k in STATUSES if k))})",
                                f"line {line}, column status"))
        return None
    outcome = STATUSES[status]
    if reply and outcome is None:
        problems.append(Problem("has a reply date, but its status does not say what the "
                                "authority decided (provided, partial, refused, not held, ncnd)",
                                f"line {line}, column status"))
    return outcome


def _check_dates(line: int, sent: dt.date | None, reply: dt.date | None, today: dt.date,
                 problems: list[Problem]) -> None:
    if reply and not sent:
        problems.append(Problem("has a reply date but no date sent", f"line {line}"))
    if reply and sent and reply < sent:
        problems.append(Problem(f"the reply ({reply}) is before the request was sent ({sent})",
                                f"line {line}, column reply"))
    for name, day in (("sent", sent), ("reply", reply)):
        if day and day > today:
            problems.append(Problem(f"{day} is in the future", f"line {line}, column {name}"))


def _plan_action(item: TrackerRow, request: Request | None) -> None:
    """Say what importing a matched row would do to its request, if it has one already."""
    if request is not None and request.events:
        item.action = "skip: the request already has a timeline in foitrack"
    elif not item.sent:
        item.action = "add the request, not sent"
    else:
        item.action = f"sent {item.sent.isoformat()}" + (
            f", {item.outcome.replace('_', ' ')} {item.reply.isoformat()}"
            if item.reply and item.outcome else "")
    if (item.reference and request is not None and request.reference
            and request.reference != item.reference and not item.action.startswith("skip")):
        item.kept_reference = request.reference
        item.action += (f"; keeps the reference {request.reference!r} typed in foitrack "
                        f"(the tracker says {item.reference!r})")


def apply(session: Session, actor: audit.Actor, campaign: Campaign, planned: TrackerPlan,
          today: dt.date) -> int:
    """Record a confirmed plan. Returns the number of requests recorded.

    A reference is set only on a request that has none: one typed in foitrack is kept (the
    preview says so), even one typed after the preview was shown.
    """
    # Any of the campaign's requests may get events: all held by id before any is read
    # (locks), then read as they are now rather than as the preview read them.
    hold_campaign_requests(session, campaign)
    session.flush()
    session.expire_all()
    existing = {r.authority_id: r for r in session.scalars(  # first requests: one a row
        select(Request).where(Request.campaign_id == campaign.id, Request.follow_up_number == 0))}
    count = 0
    for row in planned.rows:
        if row.authority is None or row.action.startswith("skip"):
            continue
        request = existing.get(row.authority.id)
        if request is None:
            request = add_authorities(session, actor, campaign, [row.authority.slug])[0]
            existing[row.authority.id] = request
        if row.reference and request.reference is None:
            set_reference(session, actor, request, row.reference)  # audited, like one typed
        if row.sent:
            add_event(session, actor, request, "sent", row.sent, today=today,
                      note="imported from a tracker")
        if row.reply and row.outcome:
            add_event(session, actor, request, "response", row.reply, today=today,
                      outcome=row.outcome, note="imported from a tracker")
        count += 1
    return count
