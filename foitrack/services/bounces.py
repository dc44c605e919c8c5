"""Bounces: finding the message a bounce returns, and recording on its request that it failed.

A request returned undelivered right after it went is not counted as sent (its clock has not
started: domain.timeline), shows on the dashboard, and the address it went to is flagged on the
authority for someone to check (cleared when the address is changed).
"""

from __future__ import annotations

import datetime as dt
import re
from email.utils import getaddresses

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from foitrack.domain.bounces import Bounce
from foitrack.domain.timeline import EventKind
from foitrack.models import DeliveryStatus, Event, OutgoingMessage
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
    """Record on the request of ``message`` that it came back: "delivery failed" (a note when
    delivery is only delayed), the reason kept on the message, and the authority's address
    flagged when that is where it went.

    :raises Invalid: when the timeline refuses the event (e.g. no sending recorded by then).
    """
    request = message.request
    assert request is not None
    failure = bounce.failed(message.to_address)
    reason = (f"{failure.status}: {failure.diagnostic}" if failure and failure.diagnostic
              and failure.status not in failure.diagnostic else
              (failure.diagnostic if failure and failure.diagnostic else bounce.reason))
    permanent = failure.permanent if failure else bounce.permanent
    what = {"request": "the request", "chaser": "a chaser"}.get(message.kind.value,
                                                               message.kind.value.replace("_", " "))
    note = (f"{'Delivery failed' if permanent else 'Delivery delayed'}: {what} to "
            f"{message.to_address} came back: {reason}")
    event = add_event(session, actor, request,
                      EventKind.delivery_failed if permanent else EventKind.note, on,
                      today=today, note=note[:4000])
    message.last_error = f"returned undelivered: {reason}"[:2000]
    authority = request.authority
    if permanent and (authority.foi_email or "").strip().lower() == message.to_address.lower():
        before = {"address_bounced_on": authority.address_bounced_on,
                  "address_bounce_reason": authority.address_bounce_reason}
        authority.address_bounced_on = on
        authority.address_bounce_reason = reason[:500]
        audit.record(session, actor, "authority", authority.id, "update", before,
                     {"address_bounced_on": on, "address_bounce_reason": reason[:500]})
    return event


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()
