"""Bounces: finding the message a bounce returns, and recording on its request that it failed.

A request returned undelivered right after it went is not counted as sent (its clock has not
started: domain.timeline), shows on the dashboard, and the address it went to is flagged on the
authority for someone to check (cleared when the address is changed). Only a bounce that surely
returns the latest sending does that (record); anything less is a note for a person.
"""

from __future__ import annotations

import datetime as dt
import re
from email.utils import getaddresses

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from foitrack.domain.bounces import Bounce, FailedRecipient
from foitrack.domain.clock import today_in_uk
from foitrack.domain.timeline import EventKind
from foitrack.models import DeliveryStatus, Event, MessageKind, OutgoingMessage
from foitrack.services import audit
from foitrack.services.requests import add_event

# Messages a bounce may return: any that may have left.
_MAY_HAVE_GONE = (DeliveryStatus.sent, DeliveryStatus.sending)


def bounced_message(session: Session, bounce: Bounce) -> OutgoingMessage | None:
    """The message ``bounce`` returns: by its Message-ID, else by its recipient and subject
    (the latest such message)."""
    if bounce.original_message_id:
        found = session.scalar(select(OutgoingMessage).where(
            OutgoingMessage.message_id == bounce.original_message_id))
        if found is not None:
            return found
    if not bounce.original_subject:
        return None
    addresses = {r.address.lower() for r in bounce.recipients}
    addresses |= {a.lower() for _, a in getaddresses([bounce.original_to or ""]) if a}
    if not addresses:
        return None
    wanted = _squeezed(bounce.original_subject)
    candidates = session.scalars(select(OutgoingMessage).where(
        func.lower(OutgoingMessage.to_address).in_(sorted(addresses)),
        OutgoingMessage.status.in_(_MAY_HAVE_GONE)).order_by(OutgoingMessage.id.desc()))
    return next((m for m in candidates if _squeezed(m.subject) == wanted), None)


def record(session: Session, actor: audit.Actor, message: OutgoingMessage, bounce: Bounce,
           on: dt.date, today: dt.date) -> Event:
    """Record on the request of ``message`` what its bounce says, the reason kept on the message.

    "Delivery failed" undoes the sending (domain.timeline), so it is recorded only when the
    bounce surely concerns this sending: matched by the Message-ID it returns (a recipient and
    subject are public, and anyone can quote them), naming the address the message went to with
    a permanent (5.x.x) failure, and returning the request's latest sending of its kind (a late
    bounce of an earlier one must not undo a re-send that arrived). Only then is the
    authority's address flagged. A weaker match is a note asking a person to check the
    address; a delay, or a report that names no failure (relayed, delivered), is a note.

    :raises Invalid: when the timeline refuses the event (e.g. no sending recorded by then).
    """
    request = message.request
    assert request is not None
    failure = bounce.failed(message.to_address)
    reason = (f"{failure.status}: {failure.diagnostic}" if failure and failure.diagnostic
              and failure.status not in failure.diagnostic else
              (failure.diagnostic if failure and failure.diagnostic else bounce.reason))
    what = {"request": "the request", "chaser": "a chaser"}.get(message.kind.value,
                                                               message.kind.value.replace("_", " "))
    by_id = bool(bounce.original_message_id) and bounce.original_message_id == message.message_id
    failed = (failure is not None and failure.permanent and by_id
              and _is_latest_sending(session, message))
    if failed:
        note = f"Delivery failed: {what} to {message.to_address} came back: {reason}"
    elif failure is not None and not failure.permanent:
        note = f"Delivery delayed: {what} to {message.to_address} came back: {reason}"
    elif not bounce.recipients:
        note = (f"A delivery report about {what} to {message.to_address} names no failure "
                f"(relayed or delivered): nothing to do")
    else:
        note = (f"A bounce may concern this request: {what} to {message.to_address}: {reason}; "
                f"check the address ({_why_unsure(failure, by_id)})")
    event = add_event(session, actor, request,
                      EventKind.delivery_failed if failed else EventKind.note, on,
                      today=today, note=note[:4000])
    if bounce.recipients:
        message.last_error = f"returned undelivered: {reason}"[:2000]
    authority = request.authority
    if failed and (authority.foi_email or "").strip().lower() == message.to_address.lower():
        before = {"address_bounced_on": authority.address_bounced_on,
                  "address_bounce_reason": authority.address_bounce_reason}
        authority.address_bounced_on = on
        authority.address_bounce_reason = reason[:500]
        audit.record(session, actor, "authority", authority.id, "update", before,
                     {"address_bounced_on": on, "address_bounce_reason": reason[:500]})
    return event


def _is_latest_sending(session: Session, message: OutgoingMessage) -> bool:
    """Whether nothing of ``message``'s kind went to its request after it: no later message,
    and (for the request itself) no sending recorded by hand on a later day."""
    later = session.scalar(select(OutgoingMessage.id).where(
        OutgoingMessage.request_id == message.request_id, OutgoingMessage.kind == message.kind,
        OutgoingMessage.id > message.id, OutgoingMessage.status.in_(_MAY_HAVE_GONE)).limit(1))
    if later is not None:
        return False
    if message.kind is not MessageKind.request or message.request is None:
        return True
    went = today_in_uk(message.sent_at) if message.sent_at else None
    return went is None or not any(
        e.kind is EventKind.sent and e.removed_at is None and e.occurred_on > went
        for e in message.request.events)


def _why_unsure(failure: FailedRecipient | None, by_id: bool) -> str:
    if failure is None:
        return "it names another address, not the one the message went to"
    if not by_id:
        return "matched by recipient and subject only, not by the message's own Message-ID"
    return "it returns an earlier sending, not the latest"


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()
