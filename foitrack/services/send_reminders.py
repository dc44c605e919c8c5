"""Reminding a campaign's owner, 5 working days before its ``send_on`` day, that the request
is about to be emailed by itself: time to check the wording and the list of authorities.

A reminder is sent once per ``send_on`` day: ``Campaign.send_on_reminded`` keeps the day it was
sent for, so moving ``send_on`` re-arms it, and a second run (the scheduler's tick every minute,
`foitrack mail send --due` from cron, both at once) sends nothing more. The message goes out
the way the overdue digest does (an outgoing message to the owner, delivered by
``mail.deliver`` or by a job), as a message of the digest's kind: the mail to the people who
use foitrack rather than to authorities.
"""

from __future__ import annotations

import datetime as dt
from email.utils import make_msgid

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from foitrack.db import rows_updated
from foitrack.domain.clock import Regime, is_working_day
from foitrack.models import Campaign, Job, JobKind, MessageKind, OutgoingMessage, User
from foitrack.services import audit, jobs
from foitrack.services import mail as mail_service
from foitrack.services.requests import campaign_requests

REMINDER_WORKING_DAYS = 5


# A digest job's parameter: send the reminders attached to it, not the overdue digest.
REMINDERS_ONLY = "reminders_only"


def reminder_day(send_on: dt.date, days: int = REMINDER_WORKING_DAYS) -> dt.date:
    """The ``days``-th working day before ``send_on`` (working days as the FOI clock counts
    them: no weekends, no bank holiday in any part of the UK)."""
    day, counted = send_on, 0
    while counted < days:
        day -= dt.timedelta(days=1)
        if is_working_day(day, Regime.foia):
            counted += 1
    return day


def due(session: Session, today: dt.date) -> list[Campaign]:
    """Campaigns whose owner is to be reminded today: ``send_on`` is still to come, within
    5 working days (or fewer: a day set at short notice is reminded of at once), not yet
    reminded for that day, and with authorities still to send to (a campaign piloted on two or
    three forces is still reminded of the rest; one sent to all by hand early is not)."""
    found = session.scalars(
        select(Campaign).join(User, User.id == Campaign.owner_id).where(
            Campaign.send_on.is_not(None), Campaign.send_on > today, User.active.is_(True),
            or_(Campaign.send_on_reminded.is_(None), Campaign.send_on_reminded != Campaign.send_on)
        ).order_by(Campaign.id))
    # Few campaigns are within 5 working days of their day: each is planned as the send would.
    return [c for c in found if c.send_on is not None and reminder_day(c.send_on) <= today
            and mail_service.plan_campaign_send(session, c, campaign_requests(session, c)).to_send]


def queue(session: Session, actor: audit.Actor, mail: mail_service.MailSettings,
          today: dt.date) -> list[OutgoingMessage]:
    """The reminders due today, queued (``mail.deliver`` or a job sends them), each campaign
    marked reminded for its ``send_on`` day."""
    queued = []
    for campaign in due(session, today):
        send_on, owner = campaign.send_on, campaign.owner
        assert send_on is not None and owner is not None  # as ``due`` chose them
        # Marked with a conditional UPDATE: of two runs at once, only one reminds.
        if not rows_updated(session, update(Campaign).where(
                Campaign.id == campaign.id, Campaign.send_on == send_on,
                or_(Campaign.send_on_reminded.is_(None),
                    Campaign.send_on_reminded != send_on)).values(send_on_reminded=send_on)):
            continue
        set_committed_value(campaign, "send_on_reminded", send_on)  # as the UPDATE wrote it
        message = OutgoingMessage(
            kind=MessageKind.digest, to_address=owner.email,
            subject=f"Reminder: {campaign.title} will be emailed on {_day(send_on)}",
            body=_body(session, campaign, send_on, today), created_by=actor.label,
            message_id=make_msgid(domain=mail.domain))
        session.add(message)
        session.flush()
        audit.record(session, actor, "campaign", campaign.id, "send_on_reminder", None,
                     {"send_on": send_on, "to": owner.email})
        queued.append(message)
    return queued


def remind_job(session: Session, actor: audit.Actor, mail: mail_service.MailSettings,
               today: dt.date) -> Job | None:
    """The reminders due today, queued and given to a job to send (the scheduler's way); None
    when there are none. The job is of the digest's kind (its messages are), marked
    ``reminders_only`` so its runner sends just them and leaves the day's overdue digest to
    its hour (FOITRACK_DIGEST_HOUR)."""
    messages = queue(session, actor, mail, today)
    if not messages:
        return None
    job = jobs.create(session, actor, JobKind.digest, params={REMINDERS_ONLY: True})
    jobs.attach_messages(session, job, messages)
    return job


def _day(day: dt.date) -> str:
    return f"{day.strftime('%A')} {day.day} {day.strftime('%B %Y')}"


def _body(session: Session, campaign: Campaign, send_on: dt.date, today: dt.date) -> str:
    plan = mail_service.plan_campaign_send(session, campaign, campaign_requests(session, campaign))
    lines = [
        f"The request of the campaign \"{campaign.title}\" ({campaign.slug}) is to be emailed "
        f"on {_day(send_on)}, {REMINDER_WORKING_DAYS} working days from now or fewer "
        f"(today is {_day(today)}).",
        "",
        f"It will go to {len(plan.to_send)} authorities not yet sent to.",
    ]
    if plan.no_address:
        lines.append(f"{len(plan.no_address)} have no FOI email address and will not get it: "
                     + ", ".join(r.authority.name for r in plan.no_address) + ".")
    lines += [
        "",
        "Check the wording and the list of authorities now. To move the day or send it "
        "yourself, edit the campaign (\"Send by email on\"), or run "
        f"`foitrack campaigns schedule {campaign.slug} YYYY-MM-DD` (or --clear).",
    ]
    return "\n".join(lines)
