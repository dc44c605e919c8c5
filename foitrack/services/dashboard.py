"""The researcher's start page: their campaigns' progress and what needs doing today."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from foitrack.domain.clock import ClockSettings
from foitrack.domain.timeline import EventKind, Lateness, TimelineError, derive, outcome_label
from foitrack.models import Authority, Campaign, CampaignStatus, Event, Request, User
from foitrack.models.mail import InboundMessage
from foitrack.services import membership
from foitrack.services.requests import (
    Progress,
    RequestRow,
    counted_states,
    progress,
    request_rows,
)

RECENT_REPLIES = 8
_LATE = (Lateness.overdue, Lateness.very_overdue, Lateness.review_overdue)

@dataclass(frozen=True)
class RequestLink:
    """One request named on the dashboard, enough to link to it."""

    campaign_slug: str
    campaign_title: str
    authority_slug: str
    authority_name: str
    on: dt.date | None = None
    detail: str = ""


@dataclass
class CampaignCard:
    campaign: Campaign
    progress: Progress
    mine: bool


@dataclass
class Dashboard:
    campaigns: list[CampaignCard] = field(default_factory=list)
    overdue: list[RequestLink] = field(default_factory=list)
    due_soon: list[RequestLink] = field(default_factory=list)
    to_classify: list[RequestLink] = field(default_factory=list)
    to_check: list[RequestLink] = field(default_factory=list)
    triage: int = 0
    recent_replies: list[RequestLink] = field(default_factory=list)
    # Requests returned undelivered: not sent, or sent to an address flagged for checking.
    undelivered: list[RequestLink] = field(default_factory=list)

    @property
    def nothing_to_do(self) -> bool:
        return not (self.overdue or self.due_soon or self.to_classify or self.to_check
                    or self.triage or self.undelivered)


@dataclass(frozen=True)
class CampaignWork:
    """What one campaign puts on the board, worked out from its request rows alone, so that it
    can be kept with them: the same for everyone but the figures to check, which are someone
    else's to check. Shared between requests: read it, never change it."""

    progress: Progress
    overdue: tuple[RequestLink, ...]
    due_soon: tuple[RequestLink, ...]
    to_classify: tuple[RequestLink, ...]  # by authority name
    # Requests with unchecked figures: each one's link and the counts by who entered them.
    unchecked: tuple[tuple[RequestLink, tuple[tuple[int | None, int], ...]], ...]
    entered_by: frozenset[int | None]  # who entered the unchecked figures
    to_check: tuple[RequestLink, ...]  # as someone who entered none of them sees it

    def to_check_for(self, user_id: int) -> Sequence[RequestLink]:
        """The requests with figures someone other than this user entered."""
        if user_id not in self.entered_by:
            return self.to_check
        found = []
        for link, counts in self.unchecked:
            others = sum(count for entered_by, count in counts if entered_by != user_id)
            if others:
                found.append(replace(link, detail=_figures(others)))
        return found


WorkOf = Callable[[Sequence[Campaign]], Mapping[int, CampaignWork]]
"""Each of these campaigns' work (campaign_work over its rows; the web keeps it per campaign,
foitrack.web.campaign_rows)."""


def _figures(count: int) -> str:
    return f"{count} figure{'s' if count != 1 else ''}"


def campaign_work(campaign: Campaign, rows: Sequence[RequestRow]) -> CampaignWork:
    """What a campaign's rows (foitrack.services.requests.request_rows) put on the board."""
    def link(row: RequestRow, on: dt.date | None = None, detail: str = "") -> RequestLink:
        return RequestLink(campaign.slug, campaign.title, row.authority_slug, row.authority_name,
                           on, detail)

    overdue, due_soon, to_classify, unchecked = [], [], [], []
    for row in rows:
        state = row.state
        if state.lateness in _LATE:
            overdue.append(link(row, state.response_deadline.due if state.response_deadline
                                else None, f"{state.working_days_late} working days late"))
        elif state.lateness is Lateness.due_soon and state.response_deadline:
            due_soon.append(link(row, state.response_deadline.due))
        if row.unclassified_reply_on:
            to_classify.append((row.authority_name, row.request_id,
                                link(row, row.unclassified_reply_on)))
        if row.unchecked_figures:
            unchecked.append((link(row), row.unchecked_figures))
    unchecked.sort(key=lambda found: found[0].authority_name)
    return CampaignWork(
        progress=progress(counted_states(rows)),  # one an authority (services.follow_ups)
        overdue=tuple(overdue), due_soon=tuple(due_soon),
        to_classify=tuple(found[2] for found in sorted(to_classify, key=lambda f: f[:2])),
        unchecked=tuple(unchecked),
        entered_by=frozenset(who for _, counts in unchecked for who, _ in counts),
        to_check=tuple(replace(link, detail=_figures(sum(count for _, count in counts)))
                       for link, counts in unchecked),
    )


def build(session: Session, user: User, today: dt.date, settings: ClockSettings | None = None,
          work: WorkOf | None = None) -> Dashboard:
    """Everything on the start page, in a fixed number of queries whatever the data's size.

    The user's own campaigns come first; the lists of things to do cover every campaign that
    is not closed, since a team shares the work. Each campaign's part comes from ``work`` (by
    default worked out afresh from request_rows): where it is kept, the page derives no
    request's state, and costs what the lists it shows cost, not what the open requests do.
    """
    board = Dashboard()
    campaigns = _open_campaigns(session, user, today)
    if work is None:
        def work(campaigns: Sequence[Campaign]) -> dict[int, CampaignWork]:
            rows = request_rows(session, [c.id for c in campaigns], today, settings)
            return {c.id: campaign_work(c, rows[c.id]) for c in campaigns}
    found = work(campaigns)
    for campaign in campaigns:
        part = found[campaign.id]
        board.overdue.extend(part.overdue)
        board.due_soon.extend(part.due_soon)
        board.to_classify.extend(part.to_classify)
        board.to_check.extend(part.to_check_for(user.id))
    board.overdue.sort(key=lambda link: (link.on or today, link.authority_name))
    board.due_soon.sort(key=lambda link: (link.on or today, link.authority_name))
    board.to_classify.sort(key=lambda link: link.authority_name)
    board.to_check.sort(key=lambda link: (link.campaign_title, link.authority_name))
    board.campaigns = sorted(
        (CampaignCard(c, found[c.id].progress, c.owner_id == user.id) for c in campaigns),
        key=lambda card: not card.mine,
    )
    board.triage = _triage_count(session, user, today)
    board.recent_replies = _recent_replies(session, user, today)
    board.undelivered = _undelivered(session, user, today, settings)
    return board


def _undelivered(session: Session, user: User, today: dt.date,
                 settings: ClockSettings | None) -> list[RequestLink]:
    """Requests whose last message came back undelivered (services.bounces), in campaigns not
    closed that the user may see: while the request counts as not sent, or its authority's
    address is still flagged for checking. Few, and found in a fixed number of queries."""
    failed = (select(Event.request_id).where(Event.kind == EventKind.delivery_failed,
                                             Event.removed_at.is_(None)))
    found = []
    for request in session.scalars(
            select(Request).join(Campaign).where(
                Request.id.in_(failed), Campaign.status != CampaignStatus.closed,
                membership.visible_clause(user, today))
            .options(selectinload(Request.events), selectinload(Request.authority),
                     selectinload(Request.campaign))):
        events = [e for e in request.events if e.removed_at is None]
        last = max((e for e in events if e.kind in (EventKind.sent, EventKind.delivery_failed)),
                   key=lambda e: (e.occurred_on, e.id))
        if last.kind is not EventKind.delivery_failed:
            continue  # sent again since
        authority = request.authority
        try:
            not_sent = derive(request.timeline(), authority.regime, today, settings).sent_on is None
        except TimelineError:
            not_sent = False
        if not_sent or authority.address_bounced_on is not None:
            detail = ("not sent: " if not_sent else "") + (
                authority.address_bounce_reason or last.note or "returned undelivered")
            found.append(RequestLink(request.campaign.slug, request.campaign.title,
                                     authority.slug, authority.name, last.occurred_on,
                                     f"{detail}; check the address {authority.foi_email or ''}"
                                     .strip()))
    return sorted(found, key=lambda link: (link.campaign_title, link.authority_name))


def _open_campaigns(session: Session, user: User, today: dt.date) -> list[Campaign]:
    """The campaigns not closed that the user may see, newest first."""
    return list(session.scalars(
        select(Campaign).where(Campaign.status != CampaignStatus.closed,
                               membership.visible_clause(user, today))
        .order_by(Campaign.created_at.desc(), Campaign.id.desc())
    ))


def _triage_count(session: Session, user: User, today: dt.date) -> int:
    """How many unmatched messages this user may see: those that may belong to a campaign
    hidden from them are neither listed nor counted."""
    screen = membership.triage_screen(session, user, today)
    if screen.hides_nothing:
        unmatched = select(InboundMessage).where(InboundMessage.request_id.is_(None))
        return session.scalar(select(func.count()).select_from(unmatched.subquery())) or 0
    return sum(1 for message in session.execute(select(
        InboundMessage.subject, InboundMessage.body_text, InboundMessage.in_reply_to,
        InboundMessage.references, InboundMessage.from_address).where(
        InboundMessage.request_id.is_(None))) if not screen.hides(message))


def _recent_replies(session: Session, user: User, today: dt.date) -> list[RequestLink]:
    """The latest replies and responses in campaigns the user may see, in one query."""
    recent = session.execute(
        select(Event.kind, Event.outcome, Event.occurred_on, Campaign.slug, Campaign.title,
               Authority.slug, Authority.name)
        .join(Request, Event.request_id == Request.id)
        .join(Campaign, Request.campaign_id == Campaign.id)
        .join(Authority, Request.authority_id == Authority.id)
        .where(Event.kind.in_([EventKind.reply_received, EventKind.response]),
               Event.removed_at.is_(None), membership.visible_clause(user, today))
        .order_by(Event.occurred_on.desc(), Event.id.desc()).limit(RECENT_REPLIES)
    )
    return [
        RequestLink(campaign_slug, campaign_title, authority_slug, authority_name, occurred_on,
                    kind.label if kind is EventKind.reply_received
                    else outcome_label(outcome, EventKind.response) or "Response")
        for kind, outcome, occurred_on, campaign_slug, campaign_title, authority_slug,
        authority_name in recent
    ]
