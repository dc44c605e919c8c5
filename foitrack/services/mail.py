"""Sending: one personalised message per request, never twice, and chasers for late requests.

Sending is in two steps. ``queue_*`` writes the messages (status "queued") in the caller's
transaction. ``deliver`` then sends them one by one, committing after each: a message is marked
"sending" (committed) before it is handed to the mail server and "sent" (with its event) after.
An interrupted run resumes with the queued and failed ones; one left "sending" is never sent
again automatically, because it may have gone: it is shown for a person to check.
"""

from __future__ import annotations

import datetime as dt
import re
import smtplib
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session, selectinload

from foitrack.db import rows_updated, utcnow
from foitrack.domain.clock import ClockSettings, working_days_between
from foitrack.domain.reply_addresses import ReplyKey, reply_address, reply_keys_from
from foitrack.domain.timeline import (
    EventKind,
    TimelineError,
    derive,
    reminders,
    unread_reply_on,
)
from foitrack.errors import Invalid
from foitrack.models import (
    Campaign,
    DeliveryStatus,
    MessageKind,
    OutgoingMessage,
    Request,
    StoredFile,
)
from foitrack.services import audit
from foitrack.services.campaigns import DEFAULT_SALUTATION, render_text
from foitrack.services.mail_templates import render, template_for
from foitrack.services.requests import (
    ChaseRow,
    add_event,
    chase_campaigns,
    chase_list,
    get_request,
    state_of,
)
from foitrack.services.templates import XLSX_TYPE, template_bytes, template_filename


@dataclass(frozen=True)
class MailSettings:
    mail_from: str
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    throttle_seconds: float = 2.0
    outbox: Path | None = None
    chase_interval_days: int = 5  # no second chaser to a request within this many working days
    # The mailbox replies come to, each request's own address at it (a Reply-To signed with
    # reply_key, domain.reply_addresses). Opt-in: without both, no Reply-To, since a mail host
    # that does not deliver plus-addresses would bounce the authorities' replies unseen.
    reply_address: str | None = None
    reply_key: ReplyKey | None = field(default=None, repr=False)

    @property
    def domain(self) -> str:
        return self.mail_from.rsplit("@", 1)[-1].strip(">") or "foitrack.invalid"


class Transport(Protocol):
    # True for a real mail server: the throttle applies to it, never to the outbox folder.
    throttled: bool

    def send(self, message: EmailMessage,
             handing_over: Callable[[], None] | None = None) -> str | None:
        """Send ``message``; returns the outbox file name when it was only written there.
        ``handing_over`` is called just before the message is given to the mail server."""


class MaybeSent(Exception):
    """The connection failed after the message may have been accepted: never retry blindly."""


class SmtpTransport:
    throttled = True

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings

    def send(self, message: EmailMessage,
             handing_over: Callable[[], None] | None = None) -> str | None:
        s = self.settings
        smtp = smtplib.SMTP(s.smtp_host or "localhost", s.smtp_port, timeout=30)
        try:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password or "")
            if handing_over is not None:
                handing_over()
            try:
                smtp.send_message(message)
            except (smtplib.SMTPServerDisconnected, TimeoutError) as error:
                raise MaybeSent(str(error)) from error
        finally:
            try:
                smtp.quit()  # the message was accepted already; a failed goodbye changes nothing
            except (smtplib.SMTPException, OSError):
                smtp.close()
        return None


class OutboxTransport:
    """No mail server configured: messages are written as .eml files and nothing leaves."""

    throttled = False  # nothing leaves: nobody's server to be gentle with

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage,
             handing_over: Callable[[], None] | None = None) -> str | None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        token = re.sub(r"[^A-Za-z0-9]+", "-", str(message["Message-ID"]))[:60].strip("-")
        path = self.folder / f"{stamp}-{token}.eml"
        path.write_bytes(message.as_bytes())
        return path.name


def settings_from(config: Any) -> MailSettings:
    """Mail settings from the app's configuration (FOITRACK_SMTP_*, FOITRACK_MAIL_*)."""
    return MailSettings(
        mail_from=config.get("MAIL_FROM") or "foitrack@localhost",
        smtp_host=config.get("SMTP_HOST"), smtp_port=config.get("SMTP_PORT", 587),
        smtp_username=config.get("SMTP_USERNAME"), smtp_password=config.get("SMTP_PASSWORD"),
        smtp_starttls=config.get("SMTP_STARTTLS", True),
        throttle_seconds=config.get("MAIL_THROTTLE_SECONDS", 2.0),
        outbox=Path(config["OUTBOX_PATH"]) if config.get("OUTBOX_PATH") else None,
        chase_interval_days=config.get("CHASE_INTERVAL_DAYS", 5),
        reply_address=config.get("REPLY_ADDRESS") or None, reply_key=reply_keys_from(config),
    )


def transport_for(settings: MailSettings) -> Transport:
    if settings.smtp_host:
        return SmtpTransport(settings)
    return OutboxTransport(settings.outbox or Path("outbox"))


def token_for(request: Request) -> str:
    """The reference token put in subjects, e.g. FOI-1234-WESTMERCIA: replies quote it back.
    The number is the request's own, so two authorities with alike names never share one."""
    short = re.sub(r"[^A-Za-z0-9]", "", request.authority.short_name).upper()[:12] or "X"
    return f"FOI-{request.id}-{short}"


TOKEN = re.compile(r"\[(FOI-(\d+)-([A-Z0-9]{1,12}))\]")


def _context(request: Request, today: dt.date, settings: ClockSettings | None) -> dict[str, Any]:
    campaign = request.campaign
    version = request.version or campaign.current_version
    state = state_of(request, today, settings)
    due = state.response_deadline.due if state.response_deadline else None
    return {
        "salutation": DEFAULT_SALUTATION,
        "authority": {"name": request.authority.name, "short_name": request.authority.short_name},
        "subject": version.subject,
        # A narrowed follow-up is a new request (FOIA s.1(1)) with its own wording: its
        # messages (a chaser above all) quote what it asked, not the campaign's first question.
        "request_text": request.question if request.question
        else render_text(version.request_text, request.authority),
        "follow_up_number": request.follow_up_number,
        "reference": request.reference,
        "sent_on": state.sent_on.isoformat() if state.sent_on else "",
        "due": due.isoformat() if due else "",
        "days_late": working_days_between(due, today, request.authority.regime) if due else 0,
        "responded_on": state.first_response_on.isoformat() if state.first_response_on else "",
        "outcome": {"refused": "refused it", "part_provided": "provided the information in part",
                    "ncnd": "neither confirmed nor denied holding it",
                    "not_held": "said the information is not held"}.get(state.outcome or "",
                                                                      "answered it"),
        "exemptions": ", ".join(state.exemptions),
        "commissioner": request.authority.regime.commissioner,
    }


def compose(session: Session, request: Request, kind: MessageKind, today: dt.date,
            settings: ClockSettings | None = None) -> tuple[str, str]:
    """The (subject, body) of a message of ``kind`` for ``request``, token included."""
    subject_template, body_template = template_for(session, request.campaign, kind)
    context = _context(request, today, settings)
    subject = render(subject_template, context, "subject")
    body = render(body_template, context, "body")
    return f"{subject} [{token_for(request)}]", body


def _queue(session: Session, actor: audit.Actor, request: Request, kind: MessageKind,
           mail: MailSettings, today: dt.date, settings: ClockSettings | None,
           attach_template: bool = False) -> OutgoingMessage:
    subject, body = compose(session, request, kind, today, settings)
    return write_message(session, actor, request, kind, subject, body, mail, attach_template)


def write_message(session: Session, actor: audit.Actor, request: Request, kind: MessageKind,
                  subject: str, body: str, mail: MailSettings,
                  attach_template: bool = False) -> OutgoingMessage:
    """A composed message to ``request``'s authority, queued (status "queued") and audited,
    for the sender to deliver."""
    message = OutgoingMessage(
        request=request, kind=kind, to_address=request.authority.foi_email or "",
        subject=subject, body=body, message_id=make_msgid(domain=mail.domain),
        attach_template=attach_template, created_by=actor.label,
    )
    session.add(message)
    session.flush()
    audit.record(session, actor, "outgoing_message", message.id, "queue", None,
                 {"kind": kind.value, "to": message.to_address, "subject": subject,
                  "request_id": request.id})
    return message


@dataclass
class SendPlan:
    """What sending a campaign would do: who gets a message, who cannot, who already has one."""

    to_send: list[Request]
    no_address: list[Request]
    already: list[Request]


def plan_campaign_send(session: Session, campaign: Campaign,
                       requests: Sequence[Request]) -> SendPlan:
    # Queued, failed (to be retried) or sent: not again. Written to the outbox, or cancelled
    # before it went: nothing left.
    queued = {m.request_id for m in session.scalars(
        select(OutgoingMessage).where(OutgoingMessage.kind == MessageKind.request,
                                      OutgoingMessage.status.not_in([DeliveryStatus.outbox,
                                                                     DeliveryStatus.cancelled]),
                                      OutgoingMessage.request_id.in_([r.id for r in requests])))}
    waiting = {m.request_id for m in session.scalars(
        select(OutgoingMessage).where(OutgoingMessage.kind == MessageKind.request,
                                      OutgoingMessage.status.in_([DeliveryStatus.queued,
                                                                  DeliveryStatus.sending,
                                                                  DeliveryStatus.failed]),
                                      OutgoingMessage.request_id.in_([r.id for r in requests])))}
    plan = SendPlan([], [], [])
    for request in requests:
        if _returned(request) and request.id not in waiting:
            # It came back undelivered and counts as not sent: it may go again (to the
            # address as it is now).
            (plan.to_send if request.authority.foi_email else plan.no_address).append(request)
        elif request.id in queued or any(e.kind.value == "sent" and e.removed_at is None
                                         for e in request.events):
            plan.already.append(request)
        elif not request.authority.foi_email:
            plan.no_address.append(request)
        else:
            plan.to_send.append(request)
    return plan


def _returned(request: Request) -> bool:
    """Sent, returned undelivered, and so not counted as sent (domain.timeline)."""
    timeline = request.timeline()
    if not any(e.kind is EventKind.delivery_failed for e in timeline):
        return False
    last = max(e.on for e in timeline)
    try:
        return derive(timeline, request.authority.regime, last).sent_on is None
    except TimelineError:
        return False


def queue_campaign(session: Session, actor: audit.Actor, campaign: Campaign,
                   requests: Sequence[Request], mail: MailSettings, today: dt.date,
                   attach_template: bool = False) -> list[OutgoingMessage]:
    """Queue the request message for each of ``requests`` that has none yet (idempotent)."""
    plan = plan_campaign_send(session, campaign, requests)
    attach = attach_template and bool(campaign.measures)
    return [_queue(session, actor, r, MessageKind.request, mail, today, None, attach)
            for r in plan.to_send]


def queue_chasers(session: Session, actor: audit.Actor, mail: MailSettings, today: dt.date,
                  settings: ClockSettings | None = None,
                  campaign_slug: str | None = None,
                  request_ids: Collection[int] | None = None,
                  ) -> tuple[list[OutgoingMessage], list[str]]:
    """Chasers for overdue requests: at most one per request within the chase interval; with
    ``request_ids``, for those of them alone (the ones a person ticked), of any campaign, closed
    or not, when no ``campaign_slug`` is given.

    Returns the queued messages and, for the others (of ``request_ids``: only those), why none
    was queued.
    """
    queued, skipped = [], []
    if request_ids is None:
        rows = chase_list(session, today, settings, campaign_slug=campaign_slug)
    else:
        rows = _chase_rows_of(session, today, settings, campaign_slug, set(request_ids))
    for row in rows:
        # By id when known: a narrowed follow-up is chased on its own (services.follow_ups).
        found = session.get(Request, row.request_id) if row.request_id is not None else None
        request = found or get_request(session, row.campaign_slug, row.authority_slug)
        label = f"{row.authority_name} ({row.campaign_slug})"
        if row.lateness.value == "review_overdue":
            # The s.10 chaser would be wrong here: an overdue review is chased by hand.
            skipped.append(f"{label}: internal review overdue (chase it by hand)")
            continue
        if not request.authority.foi_email:
            skipped.append(f"{label}: no FOI address")
            continue
        waiting = session.scalar(select(OutgoingMessage.id).where(
            OutgoingMessage.request_id == request.id, OutgoingMessage.kind == MessageKind.chaser,
            OutgoingMessage.status.in_([DeliveryStatus.queued, DeliveryStatus.sending,
                                        DeliveryStatus.failed])))
        if waiting is not None:
            skipped.append(f"{label}: a chaser is waiting to be sent (or tried again)")
            continue
        last = row.last_chased  # the "chaser sent" events of its timeline, by hand or by mail
        if last is not None and working_days_between(last, today, request.authority.regime) < \
                mail.chase_interval_days:
            skipped.append(f"{label}: chased on {last.isoformat()}")
            continue
        queued.append(_queue(session, actor, request, MessageKind.chaser, mail, today, settings))
    if request_ids is not None:
        # Ticked, but answered (or no longer late) since the page was drawn, or of another
        # campaign than the one chased: said, not passed over in silence.
        listed = {row.request_id for row in rows}
        for request_id in sorted(set(request_ids) - listed):
            found = session.get(Request, request_id)
            if found is not None and (campaign_slug is None or found.campaign.slug == campaign_slug):
                unread = unread_reply_on(found.timeline())
                why = (f"reply received {unread.isoformat()}: to read" if unread
                       else "not late now")
                skipped.append(f"{found.authority.name} ({found.campaign.slug}): {why}")
    return queued, skipped


def _chase_rows_of(session: Session, today: dt.date, settings: ClockSettings | None,
                   campaign_slug: str | None, request_ids: set[int]) -> list[ChaseRow]:
    """The chase list's rows of ``request_ids``, of ``campaign_slug`` or of their campaigns."""
    slugs = [campaign_slug] if campaign_slug else sorted(set(session.scalars(
        select(Campaign.slug).join(Request).where(Request.id.in_(request_ids)))))
    return [row for slug in slugs for row in chase_list(session, today, settings, slug)
            if row.request_id in request_ids]


def build_email(message: OutgoingMessage, mail: MailSettings) -> EmailMessage:
    email = EmailMessage()
    email["From"] = mail.mail_from
    email["To"] = message.to_address
    email["Subject"] = message.subject
    if message.request is not None and mail.reply_key and mail.reply_address:
        email["Reply-To"] = reply_address(mail.reply_address, message.request.id,
                                          message.request.authority.slug, mail.reply_key)
    email["Message-ID"] = message.message_id
    email["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    email.set_content(message.body)
    if message.attach_template and message.request is not None:
        request = message.request
        email.add_attachment(template_bytes(request.campaign, request), maintype="application",
                             subtype=XLSX_TYPE.split("/", 1)[1],
                             filename=template_filename(request.campaign, request))
    return email


@dataclass
class DeliveryReport:
    sent: int = 0
    written_to_outbox: int = 0
    failed: list[str] | None = None
    unknown: list[str] | None = None
    stopped: bool = False  # cancelled before the end

    def summary(self) -> str:
        parts = [f"{self.sent} sent"]
        if self.written_to_outbox:
            parts.append(f"{self.written_to_outbox} written to the outbox (no mail server set)")
        if self.failed:
            parts.append(f"{len(self.failed)} failed, to be tried again")
        if self.unknown:
            parts.append(f"{len(self.unknown)} may have been sent before an interruption: check")
        return ", ".join(parts)


def recipient_domain(address: str) -> str:
    return address.rsplit("@", 1)[-1].strip().strip(">").lower()


class Throttle:
    """At most one message per ``seconds`` to each recipient domain: a mail server is not
    flooded, while 43 forces on 43 domains go out without waiting on each other."""

    def __init__(self, seconds: float, sleep: Callable[[float], None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self.sleep, self.clock = seconds, sleep, clock
        self.last: dict[str, float] = {}

    def wait_for(self, address: str) -> None:
        domain = recipient_domain(address)
        if self.seconds and domain in self.last:
            wait = self.last[domain] + self.seconds - self.clock()
            if wait > 0:
                self.sleep(wait)
        self.last[domain] = self.clock()


def deliver(new_session: Callable[[], Any], mail: MailSettings, actor: audit.Actor,
            today: dt.date, transport: Transport | None = None,
            message_ids: Sequence[int] | None = None,
            sleep: Callable[[float], None] = time.sleep,
            keep_going: Callable[[], bool] | None = None) -> DeliveryReport:
    """Send queued (and earlier failed) messages, one transaction each, throttled per
    recipient domain on a real mail server.

    ``keep_going`` is asked before each message (a job's heartbeat, which says whether a
    person has cancelled it); when it answers False the rest are left as they are and the
    report says ``stopped``.
    """
    transport = transport or transport_for(mail)
    throttle = Throttle(mail.throttle_seconds if transport.throttled else 0, sleep)
    report = DeliveryReport(failed=[], unknown=[])
    with new_session() as session:
        query = select(OutgoingMessage.id, OutgoingMessage.status, OutgoingMessage.to_address) \
            .order_by(OutgoingMessage.id)
        if message_ids is not None:
            query = query.where(OutgoingMessage.id.in_(message_ids))
        pending = list(session.execute(query))
    for message_id, status, to_address in pending:
        if status is DeliveryStatus.sending:
            report.unknown.append(str(message_id))  # type: ignore[union-attr]
            continue
        if status not in STILL_TO_SEND:
            continue
        if keep_going is not None and not keep_going():
            report.stopped = True
            break
        throttle.wait_for(to_address)
        with new_session() as session:
            _deliver_one(session, message_id, mail, actor, today, transport, report)
    return report


def _deliver_one(session: Session, message_id: int, mail: MailSettings, actor: audit.Actor,
                 today: dt.date, transport: Transport, report: DeliveryReport) -> None:
    message = session.get(OutgoingMessage, message_id)
    assert message is not None
    try:
        email = build_email(message, mail)
    except Exception as error:  # noqa: BLE001 - any fault in one message is that message's
        _fail_message(session, actor, message, f"cannot be built: {error}", report)
        return
    # Claimed with a conditional update: two sends running at once cannot both take it.
    claimed = rows_updated(session, update(OutgoingMessage)
                           .where(OutgoingMessage.id == message_id, _still_to_send())
                           .values(status=DeliveryStatus.sending,
                                   attempts=OutgoingMessage.attempts + 1, handed_over_at=None))
    session.commit()
    if claimed != 1:
        return
    session.refresh(message)

    def handing_over() -> None:
        # Committed before the mail server sees a byte of the message: a worker killed
        # before this line had not sent it (services.jobs.recover sends it again).
        message.handed_over_at = utcnow()
        session.commit()

    try:
        outbox_name = transport.send(email, handing_over)
    except MaybeSent as error:
        message.last_error = f"connection lost after sending: {error}; check by hand"
        session.commit()
        report.unknown.append(str(message_id))  # type: ignore[union-attr]
        return
    except Exception as error:  # noqa: BLE001 - refused, unreachable: try again later
        _fail_message(session, actor, message, f"{type(error).__name__}: {error}", report)
        return
    message.status = DeliveryStatus.outbox if outbox_name else DeliveryStatus.sent
    message.outbox_file = outbox_name
    message.sent_at = utcnow()
    _record_on_timeline(session, actor, message, today, outbox_name)
    audit.record(session, actor, "outgoing_message", message.id, message.status.value,
                 None, {"to": message.to_address})
    session.commit()
    if outbox_name:
        report.written_to_outbox += 1
    else:
        report.sent += 1


def _record_on_timeline(session: Session, actor: audit.Actor, message: OutgoingMessage,
                        today: dt.date, outbox_name: str | None) -> None:
    """A request sent starts its clock: a "sent" event. A request written to the outbox has
    not gone, so its clock has not started: no event. A chaser is recorded either way, as what
    it is, so that the chase list does not offer the same request again the next minute."""
    if message.request is None or message.kind not in (MessageKind.request, MessageKind.chaser):
        return
    if outbox_name and message.kind is MessageKind.request:
        return
    kind = "sent" if message.kind is MessageKind.request else "chaser_sent"
    note = (f"written to the outbox, not emailed (no mail server set): {outbox_name}"
            if outbox_name else f"emailed to {message.to_address}: {message.subject}")
    try:
        add_event(session, actor, message.request, kind, today, today=today, note=note)
    except Invalid as error:
        # Sent all the same (e.g. someone recorded the sending by hand meanwhile).
        message.last_error = f"sent, but not added to the timeline: {error}"


def _fail_message(session: Session, actor: audit.Actor, message: OutgoingMessage, reason: str,
                  report: DeliveryReport) -> None:
    session.rollback()
    message = session.get(OutgoingMessage, message.id)  # type: ignore[assignment]
    message.status = DeliveryStatus.failed
    message.last_error = reason[:2000]
    audit.record(session, actor, "outgoing_message", message.id, "failed", None,
                 {"error": message.last_error})
    session.commit()
    report.failed.append(f"{message.to_address}: {message.last_error}")  # type: ignore[union-attr]


def pending_ids(session: Session, kind: MessageKind, campaign_slug: str | None = None) -> list[int]:
    """Messages of ``kind`` still to send (queued, or failed and to be tried again)."""
    query = select(OutgoingMessage.id).where(OutgoingMessage.kind == kind, _still_to_send())
    if campaign_slug:
        query = query.join(Request).join(Campaign).where(Campaign.slug == campaign_slug)
    return list(session.scalars(query.order_by(OutgoingMessage.id)))


def pending_messages(session: Session, kind: MessageKind,
                     requests: Sequence[Request]) -> list[OutgoingMessage]:
    """The messages of ``kind`` to ``requests`` still to send: those a send tries again."""
    return list(session.scalars(select(OutgoingMessage).where(
        OutgoingMessage.kind == kind, OutgoingMessage.request_id.in_([r.id for r in requests]),
        _still_to_send()).order_by(OutgoingMessage.id)))


# A message still to send: new, or failed and tried again. One sent, or left "sending" after a
# lost connection (it may have gone), is never sent again by itself.
STILL_TO_SEND = (DeliveryStatus.queued, DeliveryStatus.failed)


def _still_to_send() -> ColumnElement[bool]:
    return OutgoingMessage.status.in_(STILL_TO_SEND)


def retry_unknown(session: Session, actor: audit.Actor, message_id: int, was_sent: bool,
                  today: dt.date) -> None:
    """A person's answer about a message left "sending": it went (recorded on the timeline, on
    the day it was handed to the mail server) or it did not (tried again by the next send)."""
    message = session.get(OutgoingMessage, message_id)
    if message is None or message.status is not DeliveryStatus.sending:
        return
    message.status = DeliveryStatus.sent if was_sent else DeliveryStatus.failed
    if was_sent:
        message.sent_at = message.handed_over_at or utcnow()
    else:
        message.last_error = "did not go (checked by hand): to be sent again"
    if was_sent and message.request is not None and message.kind in (MessageKind.request,
                                                                      MessageKind.chaser):
        from foitrack.domain.clock import today_in_uk

        on = min(today, today_in_uk(message.handed_over_at)) if message.handed_over_at else today
        kind = "sent" if message.kind is MessageKind.request else "chaser_sent"
        add_event(session, actor, message.request, kind, on, today=today,
                  note=f"emailed to {message.to_address} (confirmed by hand)")
    audit.record(session, actor, "outgoing_message", message.id, "resolved", None,
                 {"sent": was_sent})


def message_to_check(session: Session, message_id: int,
                     visible: ColumnElement[bool]) -> OutgoingMessage | None:
    """A message meeting ``visible`` left "sending" by an interrupted send, for a person to
    say whether it went; None for any other (one still being sent by a running job is not
    theirs to answer for yet)."""
    from foitrack.models import Job, JobState

    running = select(Job.id).where(Job.state.in_([JobState.queued, JobState.running]))
    return session.scalar(select(OutgoingMessage).where(
        OutgoingMessage.id == message_id, OutgoingMessage.status == DeliveryStatus.sending,
        or_(OutgoingMessage.job_id.is_(None), OutgoingMessage.job_id.not_in(running)), visible))


def queue_digests(session: Session, actor: audit.Actor, mail: MailSettings, today: dt.date,
                  settings: ClockSettings | None = None) -> list[OutgoingMessage]:
    """To each campaign owner, the requests that became overdue since the last working day, and
    the owner's own deadlines coming up (own_deadlines), each with its date and source."""
    from foitrack.domain.clock import add_working_days

    by_owner: dict[str, list[str]] = {}
    for row in chase_list(session, today, settings):
        if row.due is None or row.lateness.value == "review_overdue":
            continue
        request = get_request(session, row.campaign_slug, row.authority_slug)
        if add_working_days(row.due, 1, request.authority.regime).due != today:
            continue  # overdue before today: already in an earlier digest
        owner = request.campaign.owner
        if owner is not None:
            by_owner.setdefault(owner.email, []).append(
                f"- {row.authority_name} ({row.campaign_title}): due {row.due.isoformat()}")
    own = own_deadlines(session, today, settings)
    queued = []
    for email in sorted(by_owner.keys() | own.keys()):
        lines, coming = by_owner.get(email, []), own.get(email, [])
        subject = (f"foitrack: {len(lines)} requests became overdue on {today.isoformat()}"
                   if lines else
                   f"foitrack: {len(coming)} of your own deadlines coming up, {today.isoformat()}")
        if session.scalar(select(OutgoingMessage.id).where(
                OutgoingMessage.kind == MessageKind.digest, OutgoingMessage.to_address == email,
                OutgoingMessage.subject.like(f"%{today.isoformat()}"))):
            continue  # one digest a day, however often it is run
        parts = []
        if lines:
            parts.append("These requests passed their due date without a response:\n\n"
                         + "\n".join(lines) + "\n\nThe chase list has them all.")
        if coming:
            parts.append("Your own deadlines coming up (a right is lost, or left to the other "
                         "side's discretion, once one passes):\n\n" + "\n".join(coming))
        message = OutgoingMessage(
            kind=MessageKind.digest, to_address=email, subject=subject,
            body="\n\n".join(parts), message_id=make_msgid(domain=mail.domain),
            created_by=actor.label)
        session.add(message)
        session.flush()
        queued.append(message)
    return queued


def own_deadlines(session: Session, today: dt.date,
                  settings: ClockSettings | None = None) -> dict[str, list[str]]:
    """By owner's email, a line for each of the requester's own deadlines (to ask for a review,
    to go to the Commissioner, to appeal: domain.timeline.reminders) due within
    REMINDER_WORKING_DAYS on their campaigns still open, soonest first, with its date and the
    law or guidance the date comes from. In every digest until it passes: a right lost is not
    got back, so it is said each day rather than once."""
    found: dict[str, list[tuple[dt.date, str]]] = {}
    campaigns = chase_campaigns(session.scalars(select(Campaign).where(
        Campaign.owner_id.is_not(None))), None)
    requests = session.scalars(
        select(Request).where(Request.campaign_id.in_([c.id for c in campaigns]))
        .options(selectinload(Request.events), selectinload(Request.authority),
                 selectinload(Request.campaign).selectinload(Campaign.owner)))
    for request in requests:
        owner = request.campaign.owner
        if owner is None or not owner.active:
            continue
        regime = request.authority.regime
        for reminder in reminders(state_of(request, today, settings), regime, today):
            source = f" Source: {reminder.source}" if reminder.source else ""
            found.setdefault(owner.email, []).append((reminder.due, (
                f"- {request.authority.name} ({request.campaign.title}): {reminder.text}, "
                f"by {_long_day(reminder.due)}.{source}")))
    return {email: [line for _, line in sorted(lines)] for email, lines in found.items()}


def _long_day(day: dt.date) -> str:
    return f"{day.strftime('%A')} {day.day} {day.strftime('%B %Y')} ({day.isoformat()})"


# ---- what the correspondence pages list -------------------------------------------------------

OUTBOX_LENGTH = 500


def outbox(session: Session, visible: ColumnElement[bool]) -> list[OutgoingMessage]:
    """The latest outgoing messages meeting ``visible`` (membership.visible_message_clause),
    newest first, up to OUTBOX_LENGTH."""
    return list(session.scalars(select(OutgoingMessage).where(visible)
                                .order_by(OutgoingMessage.id.desc()).limit(OUTBOX_LENGTH)))


def sent_to(session: Session, request_id: int) -> list[OutgoingMessage]:
    """Every message written to one request's authority, oldest first."""
    return list(session.scalars(select(OutgoingMessage)
                                .where(OutgoingMessage.request_id == request_id)
                                .order_by(OutgoingMessage.id)))


def stored_file(session: Session, public_id: str) -> StoredFile | None:
    """The kept file (an attachment, a message, an imported template) a link names by its
    public id."""
    return session.scalar(select(StoredFile).where(StoredFile.public_id == public_id))
