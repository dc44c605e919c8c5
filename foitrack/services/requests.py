"""Requests: their timelines, derived state, the chase list and campaign progress."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, aliased, contains_eager, selectinload

from foitrack.db import utcnow
from foitrack.domain.clock import ClockSettings, Regime
from foitrack.domain.limits import MAX_NOTE
from foitrack.domain.timeline import (
    OUTCOMES,
    REMINDER_WORKING_DAYS,
    EventKind,
    Lateness,
    Reminder,
    RequestState,
    Status,
    TimelineError,
    TimelineEvent,
    check,
    check_removal,
    derive,
    reminders,
    unread_reply_on,
)
from foitrack.errors import Invalid, NotFound, Problem
from foitrack.models import Authority, Campaign, CampaignStatus, Event, Figure, Request
from foitrack.services import audit
from foitrack.services.locks import hold_request, hold_requests

# The column's length (Event.case_reference), e.g. the ICO's "IC-123456-A1B2".
MAX_CASE_REFERENCE = 100

# Refusal grounds a response may cite: the cost limit (s.12) and vexatious requests (s.14),
# then the exemptions: FOIA Part II ss.21-44; FOISA Part 2 ss.25-41.
GROUNDS = {
    Regime.foia: {12, 14, *range(21, 45)},
    Regime.foisa: {12, 14, *range(25, 42)},
}
_SECTION = re.compile(r"^(?:s(?:ection)?\.?\s*)?(\d{1,3})((?:\s*\(\s*[0-9a-z]{1,4}\s*\))*)$", re.I)


def parse_exemptions(text: str | Sequence[str], regime: Regime = Regime.foia) -> tuple[str, ...]:
    """'12, s40(2), section 31(1)(a)' -> ('s.12', 's.40(2)', 's.31(1)(a)').

    :raises Invalid: naming the exemptions field and the part it cannot read.
    """
    parts = re.split(r"[,;]|\band\b", text) if isinstance(text, str) else list(text)
    cited: list[str] = []
    for part in (p.strip() for p in parts):
        if not part:
            continue
        match = _SECTION.match(part)
        if not match:
            raise Invalid(f"{part!r} is not a section, e.g. s.12 or s.40(2)", field="exemptions")
        number = int(match.group(1))
        if number not in GROUNDS[regime]:
            raise Invalid(
                f"s.{number} is not a refusal ground or exemption of the {regime.act}",
                field="exemptions",
            )
        sub = re.sub(r"\s+", "", match.group(2)).lower()
        section = f"s.{number}{sub}"
        if section not in cited:
            cited.append(section)
    return tuple(cited)


def counts_for_authority() -> ColumnElement[bool]:
    """True for the one request of each authority's chain (the statement's ``Request``) that the
    campaign's counts read: its first request, or the narrowed follow-up the first request
    names as the source of its figures (services.follow_ups)."""
    first = aliased(Request)
    return or_(
        and_(Request.follow_up_number == 0, Request.figures_from_id.is_(None)),
        Request.id.in_(select(first.figures_from_id).where(first.figures_from_id.is_not(None))),
    )


def find_request(session: Session, campaign_slug: str, authority_key: str,
                 follow_up_number: int = 0) -> Request | None:
    """A campaign's request to an authority given by slug or code (its first unless a
    follow-up's number is given), with its events and authority loaded; None if there is none."""
    return session.scalar(
        select(Request)
        .join(Campaign)
        .join(Authority)
        .where(
            Campaign.slug == campaign_slug,
            or_(Authority.slug == authority_key, Authority.code == authority_key),
            Request.follow_up_number == follow_up_number,
        )
        .options(selectinload(Request.events), selectinload(Request.authority))
    )


def get_request(session: Session, campaign_slug: str, authority_key: str) -> Request:
    """The (first) request of a campaign to an authority given by slug or code; its narrowed
    follow-ups are services.follow_ups.get_follow_up's. :raises NotFound:"""
    request = find_request(session, campaign_slug, authority_key)
    if request is None:
        raise NotFound(f"campaign {campaign_slug!r} has no request to {authority_key!r}")
    return request


def campaign_requests(session: Session, campaign: Campaign) -> list[Request]:
    """A campaign's (first) requests by authority name, one per authority, with their events
    loaded in one more query. Narrowed follow-ups are left out: what reads this acts on each
    authority of the campaign (sending, templates, figures)."""
    return list(
        session.scalars(
            select(Request)
            .join(Authority)
            .where(Request.campaign_id == campaign.id, Request.follow_up_number == 0)
            .options(selectinload(Request.events), selectinload(Request.authority))
            .order_by(Authority.name)
        )
    )


def state_of(request: Request, today: dt.date, settings: ClockSettings | None = None) -> RequestState:
    return derive(request.timeline(), request.authority.regime, today, settings)


def add_event(
    session: Session,
    actor: audit.Actor,
    request: Request,
    kind: str | EventKind,
    on: dt.date,
    *,
    today: dt.date,
    at: dt.time | None = None,
    note: str | None = None,
    outcome: str | None = None,
    exemptions: str | Sequence[str] = (),
    received_on: dt.date | None = None,
    due_on: dt.date | None = None,
    case_reference: str | None = None,
    steps_ordered: str | None = None,
    comply_by: dt.date | None = None,
) -> Event:
    """Add a step to the request's timeline, if it makes sense there.

    :raises Invalid: saying why (field "kind", "occurred_on", "outcome"...); nothing changes.
    """
    try:
        kind = EventKind(kind)
    except ValueError:
        choices = ", ".join(member.value for member in EventKind)
        raise Invalid(f"{kind!r} is not a kind of event; choose {choices}", field="kind") from None
    outcome = (outcome or "").strip() or None
    cited = parse_exemptions(exemptions, request.authority.regime) if exemptions else ()
    note = (note or "").strip() or None
    if note and len(note) > MAX_NOTE:
        raise Invalid(f"is longer than {MAX_NOTE:,} characters", field="note")
    case_reference = (case_reference or "").strip() or None
    if case_reference and len(case_reference) > MAX_CASE_REFERENCE:
        raise Invalid(f"is longer than {MAX_CASE_REFERENCE} characters", field="case_reference")
    steps_ordered = (steps_ordered or "").strip() or None
    if steps_ordered and len(steps_ordered) > MAX_NOTE:
        raise Invalid(f"is longer than {MAX_NOTE:,} characters", field="steps_ordered")
    if kind in OUTCOMES and outcome is None:
        choices = ", ".join(member.value for member in OUTCOMES[kind])
        raise Invalid(f"is required for this event; choose {choices}", field="outcome")
    new = TimelineEvent(
        kind=kind, on=on, seq=1 << 62, at=at, outcome=outcome, exemptions=cited,
        received_on=received_on, due_on=due_on, case_reference=case_reference,
        steps_ordered=steps_ordered, comply_by=comply_by,
    )
    _hold_timeline(session, request)
    try:
        check(request.timeline(), new, today, request.authority.regime)
    except TimelineError as error:
        raise Invalid(str(error), field=_field_for(kind, str(error))) from None
    event = Event(
        request=request, kind=kind, occurred_on=on, occurred_at=at, note=note, outcome=outcome,
        exemptions=list(cited), received_on=received_on, due_on=due_on, created_by=actor.label,
        case_reference=case_reference, steps_ordered=steps_ordered, comply_by=comply_by,
    )
    session.add(event)
    if kind is EventKind.sent:
        request.version = request.campaign.current_version
        if request.campaign.status is CampaignStatus.draft:
            # Sending the first request (a pilot counts) makes the campaign live.
            request.campaign.status = CampaignStatus.active
            audit.record(session, actor, "campaign", request.campaign.id, "update",
                         {"status": "draft"}, {"status": "active"})
    session.flush()
    audit.record(session, actor, "event", event.id, "create", None,
                 {"request_id": request.id, **event.snapshot()})
    return event


def remove_event(session: Session, actor: audit.Actor, request: Request, event_id: int) -> Event:
    """Take a mistaken event out of the timeline; it stays on the record, marked removed.

    :raises NotFound: for an event not in this request; :raises Invalid: when later events
        depend on it (e.g. the sending of a request that has a response).
    """
    _hold_timeline(session, request)
    event = next((e for e in request.events if e.id == event_id and e.removed_at is None), None)
    if event is None:
        raise NotFound(f"no event {event_id} in this request")
    try:
        check_removal(request.timeline(), next(t for t in request.timeline() if t.seq == event.id),
                      request.authority.regime)
    except TimelineError as error:
        raise Invalid(str(error), field="event") from None
    event.removed_at = utcnow()
    event.removed_by = actor.label
    if event.kind is EventKind.sent:
        request.version = None
    session.flush()
    audit.record(session, actor, "event", event.id, "remove", event.snapshot(), None)
    return event


def restore_event(session: Session, actor: audit.Actor, request: Request, event_id: int,
                  today: dt.date) -> Event:
    """Put a removed event back (an admin's undo), if the timeline still makes sense with it.

    :raises NotFound: for an event not removed from this request; :raises Invalid: when the
        timeline would not make sense with it back (e.g. it was recorded again meanwhile).
    """
    _hold_timeline(session, request)
    event = next((e for e in request.events if e.id == event_id and e.removed_at is not None), None)
    if event is None:
        raise NotFound(f"no removed event {event_id} in this request")
    try:
        check(request.timeline(), event.as_timeline(), today, request.authority.regime)
    except TimelineError as error:
        raise Invalid(f"cannot restore it: {error}", field="event") from None
    before = {"removed_by": event.removed_by}
    event.removed_at = None
    event.removed_by = None
    if event.kind is EventKind.sent and request.version is None:
        # The wording it went with was not kept on removal; the current one is the best known.
        request.version = request.campaign.current_version
    session.flush()
    audit.record(session, actor, "event", event.id, "restore", before, event.snapshot())
    return event


def _hold_timeline(session: Session, request: Request) -> None:
    """Hold the request, then read its timeline again: a colleague's event on it (the same
    "sent" recorded at the same moment, a withdrawal beside a response) waits for this one to
    end and is then checked against it, instead of both passing on the timeline as it was."""
    session.flush()  # nothing of ours pending is lost when the events are read again
    hold_request(session, request)
    # Each event too, not only the list: one removed meanwhile must be read as removed.
    for event in request.events:
        session.expire(event)
    session.expire(request)


def _field_for(kind: EventKind, message: str) -> str:
    if "outcome" in message:
        return "outcome"
    if "date of receipt" in message:
        return "received_on"
    if kind is EventKind.extension and ("new date" in message or "respond by" in message):
        return "due_on"
    for name, noun in (("case_reference", "case reference"), ("steps_ordered", "steps ordered"),
                       ("comply_by", "date for compliance")):
        if noun in message:
            return name
    return "occurred_on"


def bulk_add_event(
    session: Session,
    actor: audit.Actor,
    requests: Sequence[Request],
    kind: str,
    on: dt.date,
    *,
    today: dt.date,
    note: str | None = None,
    outcome: str | None = None,
) -> list[Event]:
    """The same event (sent, acknowledged, a response...) on many requests: all of them or none.

    :raises Invalid: one problem per request that cannot take it, naming the authority.
    """
    if kind not in (EventKind.sent, EventKind.acknowledged, EventKind.chaser_sent,
                    EventKind.response, EventKind.note):
        raise Invalid("bulk actions are for sent, acknowledged, chaser sent, response and note",
                      field="kind")
    if kind == EventKind.response and not (outcome or "").strip():
        # Asked once for them all, rather than once per request below.
        choices = ", ".join(member.value for member in OUTCOMES[EventKind.response])
        raise Invalid(f"is required for a response; choose {choices}", field="outcome")
    if not requests:
        raise Invalid("choose at least one request", field="requests")
    # All held before any is read, by id (locks: a bulk action beside an import must not
    # deadlock), not one by one in the order shown as add_event would.
    hold_requests(session, requests)
    events, problems = [], []
    for request in requests:
        # add_event checks before it adds anything, so a refused request leaves no trace; the
        # caller rolls back the others when any is refused.
        try:
            events.append(add_event(session, actor, request, kind, on, today=today, note=note,
                                    outcome=outcome))
        except Invalid as error:
            reasons = "; ".join(problem.message for problem in error.problems)
            problems.append(Problem(f"{request.authority.name}: {reasons}", field="requests"))
    if problems:
        raise Invalid(problems)
    return events


MAX_REFERENCE = 100  # the column's length


def set_reference(session: Session, actor: audit.Actor, request: Request, reference: str | None) -> None:
    reference = (reference or "").strip() or None
    if reference and len(reference) > MAX_REFERENCE:
        raise Invalid(f"is longer than {MAX_REFERENCE} characters", field="reference")
    if reference == request.reference:
        return
    audit.record(session, actor, "request", request.id, "update",
                 {"reference": request.reference}, {"reference": reference})
    request.reference = reference
    session.flush()


@dataclass(frozen=True)
class ChaseRow:
    """One late request on the chase list."""

    campaign_slug: str
    campaign_title: str
    authority_slug: str
    authority_name: str
    authority_code: str
    reference: str
    due: dt.date | None
    working_days_late: int
    lateness: Lateness
    last_chased: dt.date | None
    status: Status
    # Which request it is, for the tick boxes that act on it (None only in rows made by hand).
    request_id: int | None = None
    # A narrowed follow-up's number (0: the first request): chased on its own clock.
    follow_up_number: int = 0


def chase_campaigns(campaigns: Iterable[Campaign], chosen: str | None) -> list[Campaign]:
    """The campaigns a chase list covers, of ``campaigns``: the one ``chosen`` names, closed or
    not, or with none chosen every campaign not closed.

    :raises NotFound: when no campaign has the chosen slug.
    """
    if chosen:
        targets = [campaign for campaign in campaigns if campaign.slug == chosen]
        if not targets:
            raise NotFound(f"no campaign {chosen!r}")
        return targets
    return [campaign for campaign in campaigns if campaign.status is not CampaignStatus.closed]


def foi_addresses(session: Session, authority_slugs: Iterable[str]) -> dict[str, str]:
    """Each of the authorities' FOI email address (those with one), by slug: in one query."""
    return {slug: email for slug, email in session.execute(
        select(Authority.slug, Authority.foi_email).where(Authority.slug.in_(set(authority_slugs))))
        if email}


def chase_list(
    session: Session,
    today: dt.date,
    settings: ClockSettings | None = None,
    campaign_slug: str | None = None,
    include_due_soon: bool = False,
) -> list[ChaseRow]:
    """Late requests across active campaigns (or one), latest first: worked out on ``today``.

    :raises NotFound: for an unknown campaign.
    """
    targets = chase_campaigns(session.scalars(select(Campaign)), campaign_slug)
    query = (
        select(Request)
        .join(Campaign)
        .join(Authority)
        .where(Request.campaign_id.in_([campaign.id for campaign in targets]))
        .options(selectinload(Request.events), selectinload(Request.authority),
                 selectinload(Request.campaign))
    )
    found = list(session.scalars(query))
    names = {request.campaign_id: (request.campaign.slug, request.campaign.title)
             for request in found}
    return late_rows([_row(request, today, settings) for request in found], names, today,
                     include_due_soon)


@dataclass
class Progress:
    """A campaign's requests counted by status, with how many were answered on time."""

    total: int
    by_status: Counter[Status]
    sent: int
    answered: int
    answered_on_time: int
    overdue: int
    refused: int

    @property
    def on_time_share(self) -> float | None:
        return self.answered_on_time / self.answered if self.answered else None


def counted_states(rows: Sequence[RequestRow]) -> list[RequestState]:
    """The states ``progress`` counts, of list rows: one per authority, from the request its
    figures come from (a narrowed follow-up once marked), so an authority is counted once."""
    return [row.state for row in rows if row.counts]


def progress(states: Sequence[RequestState]) -> Progress:
    by_status = Counter(state.status for state in states)
    answered = [state for state in states if state.first_response_on is not None]
    return Progress(
        total=len(states),
        by_status=by_status,
        sent=sum(1 for state in states if state.sent_on is not None),
        answered=len(answered),
        answered_on_time=sum(1 for state in answered if state.answered_on_time),
        overdue=sum(1 for state in states
                    if state.lateness in (Lateness.overdue, Lateness.very_overdue)),
        refused=sum(1 for state in states if state.outcome in ("refused", "ncnd")),
    )


def campaign_progress(
    session: Session, campaigns: Sequence[Campaign], today: dt.date,
    settings: ClockSettings | None = None,
) -> dict[int, Progress]:
    """Progress of several campaigns with two queries, whatever their number."""
    ids = [campaign.id for campaign in campaigns]
    states: dict[int, list[RequestState]] = {campaign_id: [] for campaign_id in ids}
    if ids:
        requests = session.scalars(
            select(Request).where(Request.campaign_id.in_(ids), counts_for_authority())
            .options(selectinload(Request.events), selectinload(Request.authority))
        )
        for request in requests:
            states[request.campaign_id].append(state_of(request, today, settings))
    return {campaign_id: progress(found) for campaign_id, found in states.items()}


# ---- list pages: every request's state, worked out once and kept by the views ----------------

@dataclass(frozen=True)
class RequestRow:
    """A request as the list pages show it: plain values, and its state on one day."""

    request_id: int
    campaign_id: int
    authority_slug: str
    authority_name: str
    authority_code: str
    reference: str
    state: RequestState
    # The date of a reply received that no later event has classified: a reply to file.
    unclassified_reply_on: dt.date | None = None
    # Its figures no one has checked yet, counted by the user who entered them (None: no user,
    # as in an import): a second researcher checks them against the reply.
    unchecked_figures: tuple[tuple[int | None, int], ...] = ()
    # A narrowed follow-up's number (0: the first request) and its first request's id; whether
    # the campaign's counts read this request for its authority (follow_ups.counts_for_authority).
    follow_up_number: int = 0
    first_request_id: int | None = None
    counts: bool = True

    @property
    def late(self) -> bool:
        return self.state.lateness is not None and self.state.lateness is not Lateness.due_soon


def request_rows(session: Session, campaign_ids: Sequence[int], today: dt.date,
                 settings: ClockSettings | None = None) -> dict[int, list[RequestRow]]:
    """Each campaign's requests by authority name, with their states, in three queries
    whatever the number of campaigns; no ORM object is kept, so the views can keep the rows."""
    found: dict[int, list[RequestRow]] = {campaign_id: [] for campaign_id in campaign_ids}
    if not found:
        return found
    unchecked: dict[int, list[tuple[int | None, int]]] = {}
    for request_id, entered_by, count in session.execute(
        select(Figure.request_id, Figure.entered_by_user_id, func.count())
        .join(Request, Figure.request_id == Request.id)
        .where(Figure.checked_by.is_(None), Request.campaign_id.in_(list(found)))
        .group_by(Figure.request_id, Figure.entered_by_user_id)
    ):
        unchecked.setdefault(request_id, []).append((entered_by, count))
    requests = list(session.scalars(
        select(Request).join(Request.authority).where(Request.campaign_id.in_(list(found)))
        .options(selectinload(Request.events), contains_eager(Request.authority))
        # Each authority's narrowed follow-ups after its first request.
        .order_by(Authority.name, Request.follow_up_number, Request.id)
    ))
    sources = {request.figures_from_id for request in requests if request.figures_from_id}
    for request in requests:
        counts = (request.id in sources if request.follow_up_number
                  else request.figures_from_id is None)
        found[request.campaign_id].append(
            _row(request, today, settings, tuple(unchecked.get(request.id, ())), counts))
    return found


def _row(request: Request, today: dt.date, settings: ClockSettings | None,
         unchecked_figures: tuple[tuple[int | None, int], ...] = (), counts: bool = True
         ) -> RequestRow:
    authority = request.authority
    return RequestRow(request.id, request.campaign_id, authority.slug, authority.name,
                      authority.code or "", request.reference or "",
                      state_of(request, today, settings), _unclassified_reply(request),
                      unchecked_figures, request.follow_up_number, request.follow_up_of_id, counts)


def _unclassified_reply(request: Request) -> dt.date | None:
    """The date of a reply received that no later event has classified, if there is one."""
    return unread_reply_on(request.timeline())


def late_rows(rows: Sequence[RequestRow], campaigns: dict[int, tuple[str, str]], today: dt.date,
              include_due_soon: bool = False) -> list[ChaseRow]:
    """The chase list from list rows: the late ones (and those due soon, if asked), latest
    first; ``campaigns`` gives each campaign id's slug and title."""
    found = []
    for row in rows:
        state = row.state
        if state.lateness is None or (state.lateness is Lateness.due_soon and not include_due_soon):
            continue
        if state.reply_to_read_on is not None:
            # A reply came and nobody has read it yet: it may well be the answer, so chasing
            # would be wrong (and rude) until it is classified. The one place every chase
            # (the list, the campaign's chase page, `foitrack chase`, the worker) asks.
            continue
        deadline = (state.review_deadline if state.lateness is Lateness.review_overdue
                    else state.response_deadline)
        slug, title = campaigns[row.campaign_id]
        found.append(ChaseRow(
            campaign_slug=slug, campaign_title=title, authority_slug=row.authority_slug,
            authority_name=row.authority_name, authority_code=row.authority_code,
            reference=row.reference, due=deadline.due if deadline else None,
            working_days_late=state.working_days_late, lateness=state.lateness,
            last_chased=state.last_chased_on, status=state.status, request_id=row.request_id,
            follow_up_number=row.follow_up_number,
        ))
    found.sort(key=lambda row: _late_order(row, today))
    return found


def _late_order(row: ChaseRow, today: dt.date) -> tuple[int, dt.date, str]:
    return (-row.working_days_late, row.due or today, row.authority_name)


def late_rows_merged(parts: Sequence[Sequence[ChaseRow]], today: dt.date) -> list[ChaseRow]:
    """``late_rows`` of several campaigns' rows, from each campaign's own late rows: the same
    list as ``late_rows`` of all the rows together (the sort is stable, the parts in order)."""
    return sorted((row for part in parts for row in part), key=lambda row: _late_order(row, today))


@dataclass(frozen=True)
class ReminderRow:
    """One of the requester's own deadlines coming up, on one request: for the chase list."""

    campaign_slug: str
    campaign_title: str
    authority_slug: str
    authority_name: str
    reminder: Reminder


def reminder_rows(rows: Sequence[RequestRow], campaigns: dict[int, tuple[str, str]],
                  regimes: dict[str, Regime], today: dt.date,
                  within: int = REMINDER_WORKING_DAYS) -> list[ReminderRow]:
    """The requester's own deadlines (a review to ask for, the Commissioner, an appeal) due
    within ``within`` working days, soonest first; ``regimes`` gives each authority slug's Act
    (its working days count them)."""
    found = [
        ReminderRow(*campaigns[row.campaign_id], row.authority_slug, row.authority_name, reminder)
        for row in rows
        for reminder in reminders(row.state, regimes.get(row.authority_slug, Regime.foia), today,
                                  within)
    ]
    found.sort(key=_reminder_order)
    return found


def _reminder_order(row: ReminderRow) -> tuple[dt.date, str, str]:
    return (row.reminder.due, row.campaign_title.casefold(), row.authority_name)


def reminder_rows_merged(parts: Sequence[Sequence[ReminderRow]]) -> list[ReminderRow]:
    """``reminder_rows`` of several campaigns' rows, from each campaign's own: the same list
    as ``reminder_rows`` of all the rows together."""
    return sorted((row for part in parts for row in part), key=_reminder_order)


def authority_regimes(session: Session, authority_slugs: Iterable[str]) -> dict[str, Regime]:
    """Each authority's Act, by slug, in one query."""
    # As Authority.regime decides it: FOISA for a Scottish authority.
    return {slug: Regime.foisa if country == "Scotland" else Regime.foia
            for slug, country in session.execute(
                select(Authority.slug, Authority.country)
                .where(Authority.slug.in_(set(authority_slugs))))}


def requests_of(session: Session, request_ids: Iterable[int],
                visible: ColumnElement[bool]) -> list[Request]:
    """The requests of ``request_ids`` meeting ``visible`` (membership.visible_request_clause),
    by authority name, their events loaded: those a person ticked and may act on."""
    return list(session.scalars(
        select(Request).join(Request.campaign).join(Request.authority)
        .where(Request.id.in_(set(request_ids)), visible)
        .options(selectinload(Request.events), contains_eager(Request.authority))
        .order_by(Authority.name, Campaign.slug)))


def requests_where(session: Session, visible: ColumnElement[bool]) -> list[Request]:
    """Every request meeting ``visible`` (membership.visible_request_clause), with its campaign
    joined for the condition."""
    return list(session.scalars(select(Request).join(Request.campaign).where(visible)))
