"""Narrowed follow-up requests: sending one after a reply, and which request of an authority's
chain its figures come from.

The law: a narrowed question is a new request for information under FOIA s.1(1) (FOISA s.1(1)),
so it has its own clock: 20 working days from the day after its receipt (FOIA s.10(1), FOISA
s.10(1)(a)), worked out from its own timeline like any other request's. Nothing links it to the
refusal it follows in law; the link is the researcher's. A refusal on cost (FOIA s.12, FOISA
s.12) invites it: the authority must advise how the request could be brought within the limit
(FOIA s.16 and the s.45 Code of Practice (2018) para 6.9-6.10; FOISA s.15), which is usually
fewer years or no breakdown. Similar requests within 60 working days may be aggregated for the
cost limit (the Fees Regulations 2004, reg.5), so a narrowed request replaces, not adds to, the
first: the campaign counts the authority once.

Which request the authority's figures come from is a mark the researcher sets (``use_as_source``),
never guessed: the figures stay on the first request (one set per authority, as every
aggregate, export and check reads them), and the mark says whose reply they were copied from.
Until marked, the first request is the source: a follow-up's answer arriving does not by itself
change what the campaign publishes, and the researcher decides, as they do for a replaced
answer (services.withdrawals). Once a follow-up is the source, its outcome is the one the
campaign's counts and coverage read, so a cost refusal it superseded is not counted as one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased, selectinload

from foitrack.domain.limits import MAX_NOTE
from foitrack.domain.timeline import EventKind
from foitrack.errors import Conflict, Invalid, NotFound
from foitrack.models import Campaign, Request
from foitrack.services import audit
from foitrack.services.locks import hold_request
from foitrack.services.requests import add_event, find_request, state_of

# The outcomes a follow-up is "a narrowed question answered" with (the methods note's line).
ANSWERED = ("provided", "part_provided")


def first_of(request: Request) -> Request:
    """The first request of ``request``'s chain (itself when it is not a follow-up)."""
    return request.first if request.first is not None else request


def source_of(first: Request) -> Request:
    """The request of ``first``'s chain the authority's figures come from."""
    if first.figures_from_id is not None:
        for follow_up in first.follow_ups:
            if follow_up.id == first.figures_from_id:
                return follow_up
    return first


def is_source(request: Request) -> bool:
    """``request`` is the one its authority's figures (and the campaign's counts) come from."""
    return source_of(first_of(request)) is request


def open_follow_up(
    session: Session,
    actor: audit.Actor,
    follows: Request,
    question: str,
    sent_on: dt.date,
    *,
    today: dt.date,
    note: str | None = None,
) -> Request:
    """Send a narrowed follow-up of ``follows`` (a first request or a follow-up): a new request
    to the same authority in the same campaign, with its own wording and its own "sent" event,
    so its own statutory clock (FOIA s.1(1), s.10(1)). It links to the chain's first request.

    :raises Invalid: naming the field when ``follows`` has had no reply yet (field "follows"),
        the wording is empty or too long ("question"), or the date is after today or before
        the reply it follows ("sent_on"); nothing changes.
    """
    question = (question or "").strip()
    if not question:
        raise Invalid("write the narrowed question the authority is asked", field="question")
    if len(question) > MAX_NOTE:
        raise Invalid(f"is longer than {MAX_NOTE:,} characters", field="question")
    first = first_of(follows)
    hold_request(session, first)  # two follow-ups at once must not take the same number
    replied_on = state_of(follows, today).first_response_on
    if replied_on is None:
        # A follow-up narrows a question the authority has answered (typically refused on
        # cost, s.12); before any reply the request is still running on its own clock, and
        # the way to change it is to clarify or withdraw it, not to send another.
        raise Invalid(
            f"the request to {follows.authority.name} has no reply yet; a narrowed follow-up "
            "comes after the authority's response (for example a refusal on cost, s.12)",
            field="follows")
    if sent_on > today:
        raise Invalid(f"{sent_on:%-d %B %Y} is in the future; record a follow-up once it is sent",
                      field="sent_on")
    if sent_on < replied_on:
        raise Invalid(f"is before the reply it follows, received {replied_on:%-d %B %Y}",
                      field="sent_on")
    number = (session.scalar(select(func.max(Request.follow_up_number)).where(
        Request.campaign_id == first.campaign_id, Request.authority_id == first.authority_id))
        or 0) + 1
    follow_up = Request(campaign=first.campaign, authority=first.authority, follow_up_number=number,
                        first=first, question=question)
    session.add(follow_up)
    session.flush()
    audit.record(session, actor, "request", follow_up.id, "create", None,
                 {"campaign": first.campaign.slug, "authority": first.authority.slug,
                  "follow_up_of": first.id, "follow_up_number": number, "question": question})
    # Its own "sent" event starts its own clock (FOIA s.10(1)); the dates were checked above,
    # and a new request's timeline has nothing else for the event to clash with.
    add_event(session, actor, follow_up, EventKind.sent, sent_on, today=today, note=note)
    return follow_up


def use_as_source(session: Session, actor: audit.Actor, request: Request, today: dt.date) -> None:
    """Mark ``request`` (the first request or one of its follow-ups) as the one whose reply the
    authority's figures come from.

    :raises Conflict: when ``request`` has had no reply (its figures cannot come from it).
    """
    first = first_of(request)
    hold_request(session, first)
    if request.is_follow_up and state_of(request, today).first_response_on is None:
        raise Conflict(f"follow-up {request.follow_up_number} to {request.authority.name} has no "
                       "reply yet; its figures cannot be the source")
    chosen = request.id if request.is_follow_up else None
    if first.figures_from_id == chosen:
        return
    audit.record(session, actor, "request", first.id, "update",
                 {"figures_from_id": first.figures_from_id}, {"figures_from_id": chosen})
    first.figures_from_id = chosen
    session.flush()


def get_follow_up(session: Session, campaign_slug: str, authority_key: str, number: int) -> Request:
    """Follow-up ``number`` of a campaign's request to an authority. :raises NotFound:"""
    found = find_request(session, campaign_slug, authority_key, number)
    if found is None:
        raise NotFound(f"campaign {campaign_slug!r} has no follow-up {number} to {authority_key!r}")
    return found


@dataclass(frozen=True)
class NarrowedAnswer:
    """An authority that answered a narrowed question: for the methods note."""

    authority_id: int
    authority_name: str
    first_outcome: str | None
    first_exemptions: tuple[str, ...]
    question: str
    sent_on: dt.date | None


def narrowed_answers(session: Session, campaign: Campaign, today: dt.date) -> list[NarrowedAnswer]:
    """The authorities whose figures come from a follow-up that answered, by name, with what
    their first request's reply was and the narrowed wording."""
    first = aliased(Request)
    follow_ups = session.scalars(
        select(Request).join(first, first.figures_from_id == Request.id)
        .where(first.campaign_id == campaign.id)
        .options(selectinload(Request.events), selectinload(Request.authority),
                 selectinload(Request.first).selectinload(Request.events)))
    found = []
    for follow_up in follow_ups:
        state = state_of(follow_up, today)
        if state.outcome not in ANSWERED or follow_up.first is None:
            continue
        before = state_of(follow_up.first, today)
        found.append(NarrowedAnswer(follow_up.authority_id, follow_up.authority.name,
                                    before.outcome, before.exemptions, follow_up.question or "",
                                    state.sent_on))
    found.sort(key=lambda answer: answer.authority_name.casefold())
    return found
