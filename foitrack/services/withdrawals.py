"""Figures from a response the authority withdrew, and figures not entered again since it
sent a replacement: which they are, in one SQL condition that every reader shares (the
aggregate leaves them out, the checks list them, the exports flag them).

None of this is law: no Act provides for an authority taking back a response or correcting
one. It is practice (a force withdraws an answer on advice from the national referral unit, or
sends corrected figures), recorded as the events "response_withdrawn" and "response_replaced"
(domain.timeline). The rule, since a figure records when it was last entered but not (as a
rule) which reply it came from:

- A figure is *from a withdrawn response* when its request has a withdrawal (not removed)
  and the figure was last entered, changed or checked before that withdrawal was recorded;
  or, when the figure names the event it was taken from (``source_event_id``), when that event
  is dated on or before the withdrawal. Whatever is entered after the withdrawal was recorded
  was entered knowing of it. Flagged figures are kept, never deleted: a withdrawn answer is
  part of the record, and the researcher decides what replaces it.
- A figure is *not re-entered since a replacement* when the request's latest answer is a
  replacement and the figure was last entered, changed or checked before the replacement was
  recorded: it may be the old figure the correction changed. A finding to look at, not left
  out of the aggregate (most corrections change a few cells; an unchanged cell stays right).

The withdrawal that counts is the one on the request the figures come from: the figures stay on
an authority's first request, and when the researcher marks a narrowed follow-up (a new request,
FOIA s.1(1)) as their source (services.follow_ups), it is that follow-up's reply they were
copied from, so its withdrawal flags them, as a withdrawn first response's does.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from foitrack.domain.timeline import EventKind
from foitrack.models import Event, Figure, Request

_WITHDRAWN = EventKind.response_withdrawn.value


def _source_id(request: Any) -> Any:
    """The id of the request ``request``'s figures come from: itself, or the follow-up marked."""
    return func.coalesce(request.figures_from_id, request.id)


def _withdrawals() -> Any:
    """The requests whose figures' source has a withdrawal on its timeline: read once per
    statement, so a figure of a request with none is passed over without a look at events."""
    withdrawn = select(Event.request_id).where(Event.kind == _WITHDRAWN,
                                               Event.removed_at.is_(None))
    return select(Request.id).where(_source_id(Request).in_(withdrawn))


def from_withdrawn_response() -> ColumnElement[bool]:
    """True for a figure (the ``Figure`` of the statement) from a withdrawn response."""
    withdrawal = aliased(Event)
    source = aliased(Event)
    owner = aliased(Request)  # the figure's request: the withdrawal is on its figures' source
    # Each EXISTS names the one table it reads: the figure and the withdrawal are the outer
    # statement's (left to itself, the inner one would read every figure, not this one).
    linked_before = exists().where(source.id == Figure.source_event_id,
                                   source.occurred_on <= withdrawal.occurred_on
                                   ).correlate_except(source)
    return and_(
        Figure.request_id.in_(_withdrawals()),
        exists().where(
            owner.id == Figure.request_id, withdrawal.request_id == _source_id(owner),
            withdrawal.kind == _WITHDRAWN, withdrawal.removed_at.is_(None),
            or_(and_(Figure.source_event_id.is_(None), Figure.updated_at < withdrawal.created_at),
                linked_before)).correlate_except(withdrawal, owner))


def not_withdrawn() -> ColumnElement[bool]:
    """The figures the aggregate counts: all but those from a withdrawn response."""
    return or_(Figure.request_id.not_in(_withdrawals()), ~from_withdrawn_response())


def withdrawn_flag() -> Any:
    """from_withdrawn_response as a column of 1 and 0, the same on SQLite and PostgreSQL."""
    return case((from_withdrawn_response(), 1), else_=0)


def withdrawn_figure_ids(session: Session, request_id: int) -> set[int]:
    """The ids of a request's figures from a withdrawn response (for its grid)."""
    return set(session.scalars(select(Figure.id).where(Figure.request_id == request_id,
                                                       from_withdrawn_response())))
