"""The researcher's start page: their campaigns' progress and what needs doing today."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from foitrack.domain.clock import ClockSettings
from foitrack.domain.timeline import EventKind, Lateness, RequestState
from foitrack.models import Authority, Campaign, CampaignStatus, Event, Figure, Request, User
from foitrack.models.mail import InboundMessage
from foitrack.services import membership
from foitrack.services.requests import Progress, progress, state_of

# Events that say what a reply was: after one of them, an earlier "reply received" is classified.
_CLASSIFYING = {
    EventKind.acknowledged, EventKind.clarification_requested, EventKind.fees_notice,
    EventKind.extension, EventKind.response, EventKind.internal_review_outcome,
    EventKind.ico_decision, EventKind.withdrawn,
}
RECENT_REPLIES = 8


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

    @property
    def nothing_to_do(self) -> bool:
        return not (self.overdue or self.due_soon or self.to_classify or self.to_check or self.triage)


def _link(request: Request, on: dt.date | None = None, detail: str = "") -> RequestLink:
    return RequestLink(request.campaign.slug, request.campaign.title, request.authority.slug,
                       request.authority.name, on, detail)


def _unclassified_reply(request: Request) -> dt.date | None:
    """The date of a reply received that no later event has classified, if there is one."""
    waiting: dt.date | None = None
    for event in sorted((e for e in request.events if e.removed_at is None),
                        key=lambda e: (e.occurred_on, e.id)):
        if event.kind is EventKind.reply_received:
            waiting = waiting or event.occurred_on
        elif event.kind in _CLASSIFYING:
            waiting = None
    return waiting


def build(session: Session, user: User, today: dt.date,
          settings: ClockSettings | None = None) -> Dashboard:
    """Everything on the start page, in a fixed number of queries whatever the data's size.

    The user's own campaigns come first; the lists of things to do cover every campaign that
    is not closed, since a team shares the work.
    """
    board = Dashboard()
    campaigns = _open_campaigns(session, user, today)
    states = _add_request_work(board, session, campaigns, today, settings)
    board.overdue.sort(key=lambda link: (link.on or today, link.authority_name))
    board.due_soon.sort(key=lambda link: (link.on or today, link.authority_name))
    board.campaigns = sorted(
        (CampaignCard(c, progress(states[c.id]), c.owner_id == user.id) for c in campaigns),
        key=lambda card: not card.mine,
    )
    board.to_check = _figures_to_check(session, user, [c.id for c in campaigns])
    board.triage = _triage_count(session, user, today)
    board.recent_replies = _recent_replies(session, user, today)
    return board


def _open_campaigns(session: Session, user: User, today: dt.date) -> list[Campaign]:
    """The campaigns not closed that the user may see, newest first."""
    return list(session.scalars(
        select(Campaign).where(Campaign.status != CampaignStatus.closed,
                               membership.visible_clause(user, today))
        .order_by(Campaign.created_at.desc(), Campaign.id.desc())
    ))


def _add_request_work(board: Dashboard, session: Session, campaigns: list[Campaign],
                      today: dt.date, settings: ClockSettings | None) -> dict[int, list[RequestState]]:
    """Put the campaigns' overdue, due-soon and unclassified requests on the board; returns
    each campaign's request states, for its progress."""
    states: dict[int, list[RequestState]] = {c.id: [] for c in campaigns}
    if not campaigns:
        return states
    requests = session.scalars(
        select(Request).join(Authority).where(Request.campaign_id.in_(states))
        .options(selectinload(Request.events), selectinload(Request.authority),
                 selectinload(Request.campaign))
        .order_by(Authority.name)
    )
    for request in requests:
        state = state_of(request, today, settings)
        states[request.campaign_id].append(state)
        if state.lateness in (Lateness.overdue, Lateness.very_overdue, Lateness.review_overdue):
            board.overdue.append(_link(request, state.response_deadline.due
                                       if state.response_deadline else None,
                                       f"{state.working_days_late} working days late"))
        elif state.lateness is Lateness.due_soon and state.response_deadline:
            board.due_soon.append(_link(request, state.response_deadline.due))
        waiting = _unclassified_reply(request)
        if waiting:
            board.to_classify.append(_link(request, waiting))
    return states


def _figures_to_check(session: Session, user: User, campaign_ids: list[int]) -> list[RequestLink]:
    """Requests with figures someone else entered: a second researcher checks them against
    the reply."""
    unchecked = session.execute(
        select(Figure.request_id, func.count())
        .join(Request, Figure.request_id == Request.id)
        .where(Figure.checked_by.is_(None), Request.campaign_id.in_(campaign_ids))
        .where((Figure.entered_by_user_id != user.id) | Figure.entered_by_user_id.is_(None))
        .group_by(Figure.request_id)
    ).all()
    if not unchecked:
        return []
    found = {r.id: r for r in session.scalars(
        select(Request).where(Request.id.in_([row[0] for row in unchecked]))
        .options(selectinload(Request.authority), selectinload(Request.campaign)))}
    return sorted(
        (_link(found[request_id], detail=f"{count} figure{'s' if count != 1 else ''}")
         for request_id, count in unchecked),
        key=lambda link: (link.campaign_title, link.authority_name))


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
    """The latest replies and responses in campaigns the user may see."""
    recent = session.scalars(
        select(Event).where(Event.kind.in_([EventKind.reply_received, EventKind.response]),
                            Event.removed_at.is_(None),
                            Event.request_id.in_(select(Request.id).where(
                                membership.visible_request_clause(user, today))))
        .order_by(Event.occurred_on.desc(), Event.id.desc()).limit(RECENT_REPLIES)
        .options(selectinload(Event.request).selectinload(Request.authority),
                 selectinload(Event.request).selectinload(Request.campaign))
    )
    return [
        _link(event.request, event.occurred_on,
              event.kind.label if event.kind is EventKind.reply_received
              else (event.outcome or "response").replace("_", " "))
        for event in recent
    ]
