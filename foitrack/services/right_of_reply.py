"""Right of reply before publication: each force is sent its own figures as held and the lines
drafted about it, with a day to answer by; its reply is filed to its request as any other.

A round writes one message per force (MessageKind.right_of_reply, its wording a campaign's own
or the default, as a chaser's) and a RightOfReply row keeping what the force was shown: the
figures as held then and the draft lines. The message goes through the usual mail path (a
background job, or the outbox folder when no mail server is set), its reference token in the
subject, so the force's answer is matched to the request by it, by its thread, or by the
request's own reply address (services.inbound). A correction is made on the figure grid like
any other edit (services.figures): audited, and unchecked until checked again; the status
here says, for each force, whether its figures have changed since the message.

Nothing here is stored that can be derived: when a message went is the message's own
``sent_at``; whether the force answered is whether a reply was filed to its request since;
"overdue" is the answer-by day against today.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from foitrack.domain.clock import ClockSettings, today_in_uk
from foitrack.domain.phrasing import long_date
from foitrack.errors import Invalid
from foitrack.models import (
    Campaign,
    Category,
    DeliveryStatus,
    Dimension,
    Figure,
    InboundMessage,
    Job,
    JobKind,
    JobState,
    Measure,
    MessageKind,
    OutgoingMessage,
    Period,
    Request,
    RightOfReply,
)
from foitrack.services import aggregate as agg
from foitrack.services import audit, jobs, locks
from foitrack.services import mail as mail_service
from foitrack.services.mail_templates import render, template_for
from foitrack.services.release import fact_sheet
from foitrack.services.requests import campaign_requests

# Never more than a year ahead: a later day is a typing slip (2207 for 2027), and a force is
# not kept waiting that long before a publication.
LONGEST_WAIT = dt.timedelta(days=366)

# The values the right-of-reply wording may use beyond a chaser's (for checking an edited one).
SAMPLE = {"answer_by": "Friday 15 January 2027",
          "figures": "- Offences recorded, 2018/19: 122",
          "lines": "- West Mercia Police recorded 122 offences in 2018/19.",
          "campaign": "Sexual communication with a child"}


@dataclass(frozen=True)
class HeldFigure:
    """One figure as a force is shown it: where it sits in the grid and its value as held."""

    measure: str
    period: str
    dimension: str | None
    category: str | None
    value: str

    @property
    def cell(self) -> tuple[str, str, str | None, str | None]:
        return (self.measure, self.period, self.dimension, self.category)

    @property
    def where(self) -> str:
        breakdown = f", {self.dimension}: {self.category}" if self.category else ""
        return f"{self.measure}, {self.period}{breakdown}"

    @property
    def text(self) -> str:
        return f"{self.where}: {self.value}"

    def kept(self) -> dict[str, Any]:
        return {"measure": self.measure, "period": self.period, "dimension": self.dimension,
                "category": self.category, "value": self.value}

    @classmethod
    def from_kept(cls, kept: dict[str, Any]) -> HeldFigure:
        return cls(kept["measure"], kept["period"], kept.get("dimension"), kept.get("category"),
                   kept["value"])


def figures_held(session: Session, request_ids: Collection[int]) -> dict[int, list[HeldFigure]]:
    """Each request's figures as held now, in the grid's order (measure, period, the total
    before its breakdowns); requests without figures are left out."""
    rows = session.execute(
        select(Figure, Measure, Period, Category, Dimension)
        .join(Measure, Figure.measure_id == Measure.id)
        .join(Period, Figure.period_id == Period.id)
        .outerjoin(Category, Figure.category_id == Category.id)
        .outerjoin(Dimension, Category.dimension_id == Dimension.id)
        .where(Figure.request_id.in_(list(request_ids)))
        .order_by(Figure.request_id, Measure.position, Measure.id, Period.start, Period.id,
                  Dimension.position.nulls_first(), Dimension.id.nulls_first(),
                  Category.position.nulls_first(), Category.id.nulls_first()))
    held: dict[int, list[HeldFigure]] = {}
    for figure, measure, period, category, dimension in rows:
        held.setdefault(figure.request_id, []).append(HeldFigure(
            measure.label, period.label, dimension.label if dimension else None,
            category.label if category else None, figure.figure_value.text))
    return held


def check_answer_by(answer_by: dt.date | None, today: dt.date) -> dt.date:
    """:raises Invalid: (field "answer_by") unless ``answer_by`` is a day after today and
    within LONGEST_WAIT."""
    if answer_by is None:
        raise Invalid("give the day the forces are to answer by", field="answer_by")
    if answer_by <= today:
        raise Invalid(f"{long_date(answer_by)} is not in the future: give a day after today "
                      f"({long_date(today)}) for the forces to answer by", field="answer_by")
    if answer_by - today > LONGEST_WAIT:
        raise Invalid(f"{long_date(answer_by)} is more than a year away: check the year",
                      field="answer_by")
    return answer_by


@dataclass(frozen=True)
class Draft:
    """One force's right-of-reply message as it will go: plain values, for a preview."""

    request_id: int
    authority_name: str
    authority_slug: str
    to_address: str
    subject: str
    body: str
    figures: tuple[HeldFigure, ...]
    lines: tuple[str, ...]


def _bullets(items: Sequence[str]) -> str:
    return "\n".join(f"- {item}" for item in items)


def draft_lines(session: Session, campaign: Campaign, requests: Sequence[Request],
                today: dt.date, settings: ClockSettings | None = None,
                checked_only: bool = False) -> dict[int, list[str]]:
    """Each request's draft local lines: its fact sheet (services.release), as it would be
    published from the figures held now."""
    if not requests:
        return {}
    national = agg.build(session, campaign, checked_only=checked_only)
    # Only the lines are used: the methods note (half a sheet's cost) is left empty.
    return {request.id: [line.text for line in fact_sheet(
        session, campaign, national, request.authority.slug, today, settings, methods=()).lines]
        for request in requests}


def drafts(session: Session, campaign: Campaign, requests: Sequence[Request],
           answer_by: dt.date, today: dt.date, settings: ClockSettings | None = None,
           checked_only: bool = False) -> list[Draft]:
    """The message each of ``requests`` (those with figures) would be sent, composed from the
    campaign's right-of-reply wording. :raises Invalid: when the wording is broken."""
    held = figures_held(session, [r.id for r in requests])
    with_figures = [r for r in requests if r.id in held]
    lines = draft_lines(session, campaign, with_figures, today, settings, checked_only)
    subject_template, body_template = template_for(session, campaign, MessageKind.right_of_reply)
    found = []
    for request in with_figures:
        figures, own_lines = held[request.id], lines[request.id]
        context = {**mail_service._context(request, today, settings),
                   "answer_by": f"{answer_by:%A} {long_date(answer_by)}",
                   "figures": _bullets([f.text for f in figures]),
                   "lines": _bullets(own_lines) or "(no lines yet)",
                   "campaign": campaign.title}
        subject = render(subject_template, context, "subject")
        found.append(Draft(request.id, request.authority.name, request.authority.slug,
                           request.authority.foi_email or "",
                           f"{subject} [{mail_service.token_for(request)}]",
                           render(body_template, context, "body"), tuple(figures),
                           tuple(own_lines)))
    return found


def _rounds(session: Session, request_ids: Collection[int]) -> dict[int, RightOfReply]:
    """Each request's latest right of reply that was not cancelled before it went."""
    latest: dict[int, RightOfReply] = {}
    for kept in session.scalars(
            select(RightOfReply).join(OutgoingMessage, RightOfReply.message_id == OutgoingMessage.id)
            .where(RightOfReply.request_id.in_(list(request_ids)),
                   OutgoingMessage.status != DeliveryStatus.cancelled)
            .options(selectinload(RightOfReply.message))
            .order_by(RightOfReply.id)):
        latest[kept.request_id] = kept
    return latest


def _chosen(session: Session, campaign: Campaign,
            request_ids: Collection[int]) -> tuple[list[Request], list[str]]:
    """The campaign's first requests among ``request_ids``, and why any other id was not."""
    requests = [r for r in campaign_requests(session, campaign) if r.id in set(request_ids)]
    unknown = sorted(set(request_ids) - {r.id for r in requests})
    return requests, [f"request {i}: not a request of {campaign.slug}" for i in unknown]


def queue_round(session: Session, actor: audit.Actor, campaign: Campaign,
                request_ids: Collection[int], answer_by: dt.date | None,
                mail: mail_service.MailSettings, today: dt.date,
                settings: ClockSettings | None = None,
                checked_only: bool = False) -> tuple[list[OutgoingMessage], list[str]]:
    """Write the right-of-reply message to each force of ``request_ids`` (status "queued"),
    with a RightOfReply row keeping what it shows. Returns the messages and, for each force
    not written to, why: no figures, no FOI address, one being sent already, or the same
    figures, lines and day sent already (so pressing Send twice sends once).

    :raises Invalid: naming the field: no force ticked ("authorities"), the day ("answer_by").
    """
    if not request_ids:
        raise Invalid("tick at least one force; nothing was sent", field="authorities")
    answer_by = check_answer_by(answer_by, today)
    locks.hold_requests(session, session.scalars(
        select(Request).where(Request.id.in_(list(request_ids)))))
    requests, skipped = _chosen(session, campaign, request_ids)
    earlier = _rounds(session, [r.id for r in requests])
    composed = {d.request_id: d for d in drafts(session, campaign, requests, answer_by, today,
                                                settings, checked_only)}
    queued = []
    for request in requests:
        name = request.authority.name
        draft = composed.get(request.id)
        before = earlier.get(request.id)
        if draft is None:
            skipped.append(f"{name}: has no figures to show")
        elif not draft.to_address:
            skipped.append(f"{name}: has no FOI email address")
        elif before is not None and before.message.status in mail_service.STILL_TO_SEND + (
                DeliveryStatus.sending,):
            skipped.append(f"{name}: its right of reply is being sent already")
        elif before is not None and before.answer_by == answer_by \
                and before.figures == [f.kept() for f in draft.figures] \
                and before.lines == list(draft.lines):
            skipped.append(f"{name}: these figures and lines were sent already, to answer by "
                           f"{long_date(answer_by)}")
        else:
            queued.append(_queue(session, actor, request, draft, answer_by, mail))
    return queued, skipped


def _queue(session: Session, actor: audit.Actor, request: Request, draft: Draft,
           answer_by: dt.date, mail: mail_service.MailSettings) -> OutgoingMessage:
    message = mail_service.write_message(session, actor, request, MessageKind.right_of_reply,
                                         draft.subject, draft.body, mail)
    kept = RightOfReply(request_id=request.id, message_id=message.id, answer_by=answer_by,
                        figures=[f.kept() for f in draft.figures], lines=list(draft.lines),
                        created_by=actor.label)
    session.add(kept)
    session.flush()
    audit.record(session, actor, "right_of_reply", kept.id, "create", None,
                 {"request_id": request.id, "answer_by": answer_by.isoformat(),
                  "figures": len(draft.figures), "lines": len(draft.lines)})
    return message


def send(session: Session, actor: audit.Actor, campaign: Campaign, request_ids: Collection[int],
         answer_by: dt.date | None, today: dt.date,
         checked_only: bool = False) -> tuple[Job | None, list[str]]:
    """Ask for a background job sending a right-of-reply round to the forces of
    ``request_ids``: checked here (the day, the choice, which forces have figures and an
    address), composed and sent by the job (``compose_for_job``), since a force's lines take a
    fact sheet each, too long to write 43 of within a page's answer. None when no force can be
    sent one; the reasons say why for each left out now (the job's summary names any it then
    finds sent already).

    :raises Invalid: naming the field: no force ticked ("authorities"), the day ("answer_by").
    """
    if not request_ids:
        raise Invalid("tick at least one force; nothing was sent", field="authorities")
    answer_by = check_answer_by(answer_by, today)
    requests, skipped = _chosen(session, campaign, request_ids)
    held = figures_held(session, [r.id for r in requests])
    chosen = []
    for request in requests:
        if request.id not in held:
            skipped.append(f"{request.authority.name}: has no figures to show")
        elif not request.authority.foi_email:
            skipped.append(f"{request.authority.name}: has no FOI email address")
        else:
            chosen.append(request)
    if not chosen:
        return None, skipped
    job = jobs.create(session, actor, JobKind.right_of_reply, campaign,
                      params={"request_ids": [r.id for r in chosen],
                              "answer_by": answer_by.isoformat(), "checked_only": checked_only},
                      total=len(chosen))
    return job, skipped


def compose_for_job(session: Session, actor: audit.Actor, job: Job,
                    mail: mail_service.MailSettings, today: dt.date,
                    settings: ClockSettings | None = None) -> list[str]:
    """What a right-of-reply job does before sending: write its round's messages (queue_round)
    and take any earlier ones to its forces still to send (failed before), all tied to the job.
    Safe to run twice: a job that has its messages already writes none. Returns why any force
    was not written to."""
    if jobs.messages_of(session, job):
        return []
    params = jobs.params_of(job)
    assert job.campaign is not None  # asked for by send(), always for a campaign
    request_ids = set(params["request_ids"])
    queued, skipped = queue_round(session, actor, job.campaign, request_ids,
                                  dt.date.fromisoformat(params["answer_by"]), mail, today,
                                  settings, params.get("checked_only", False))
    # Failed before (or left by a cancelled job): tried again with this round.
    running = set(session.scalars(select(Job.id).where(
        Job.state.in_([JobState.queued, JobState.running]), Job.id != job.id)))
    requests, _ = _chosen(session, job.campaign, request_ids)
    retries = [m for m in mail_service.pending_messages(session, MessageKind.right_of_reply,
                                                        requests)
               if m.job_id is None or m.job_id not in running]
    again = tuple(f"{m.request.authority.name}: its right" for m in retries
                  if m.request is not None)
    skipped = [reason for reason in skipped if not reason.startswith(again)]
    messages = sorted({m.id: m for m in [*retries, *queued]}.values(), key=lambda m: m.id)
    jobs.attach_messages(session, job, messages)
    return skipped


# ---- where each force stands ---------------------------------------------------------------

class ReplyStatus(enum.StrEnum):
    not_sent = "not_sent"  # no right of reply yet (or only one cancelled before it went)
    sending = "sending"  # written, not yet gone (queued, or failed and to be tried again)
    awaiting = "awaiting"  # sent; no reply filed since; the answer-by day not passed
    replied = "replied"  # a reply filed to the request since it was sent
    overdue = "overdue"  # sent; no reply filed since; the answer-by day has passed

    @property
    def label(self) -> str:
        return {"not_sent": "not sent", "sending": "being sent", "awaiting": "sent, awaiting",
                "replied": "replied", "overdue": "overdue"}[self.value]


@dataclass(frozen=True)
class FigureChange:
    """A figure that differs from what the force was shown: ``before`` or ``after`` is None
    for one removed or added since."""

    where: str
    before: str | None
    after: str | None

    @property
    def text(self) -> str:
        if self.before is None:
            return f"{self.where}: added, {self.after}"
        if self.after is None:
            return f"{self.where}: removed (was {self.before})"
        return f"{self.where}: {self.before} → {self.after}"


def changes_since(shown: Sequence[HeldFigure], now: Sequence[HeldFigure]) -> list[FigureChange]:
    """What differs between the figures a force was shown and those held now, cell by cell,
    in the order shown (then those added)."""
    current = {f.cell: f for f in now}
    before = {f.cell: f for f in shown}
    found = [FigureChange(f.where, f.value, current[f.cell].value if f.cell in current else None)
             for f in shown if current.get(f.cell) is None or current[f.cell].value != f.value]
    found += [FigureChange(f.where, None, f.value) for f in now if f.cell not in before]
    return found


@dataclass(frozen=True)
class ForceStatus:
    """One force's right of reply, as the status table and the checklist read it."""

    request_id: int
    authority_name: str
    authority_slug: str
    has_figures: bool
    status: ReplyStatus
    answer_by: dt.date | None = None
    sent_at: dt.datetime | None = None
    to_outbox: bool = False  # written to the outbox folder: not emailed
    replied_at: dt.datetime | None = None
    changes: tuple[FigureChange, ...] = field(default_factory=tuple)
    message_id: int | None = None  # the outgoing message

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def statuses(session: Session, campaign: Campaign, today: dt.date) -> list[ForceStatus]:
    """Every force of the campaign (its first request), by name: its right of reply's status,
    and which of its figures changed since it was sent."""
    requests = campaign_requests(session, campaign)
    ids = [r.id for r in requests]
    rounds = _rounds(session, ids)
    held = figures_held(session, ids)
    replies: dict[int, list[dt.datetime]] = {}
    for request_id, received_at in session.execute(
            select(InboundMessage.request_id, InboundMessage.received_at)
            .where(InboundMessage.request_id.in_(list(rounds)), InboundMessage.is_bounce.is_(False))
            .order_by(InboundMessage.received_at, InboundMessage.id)):
        if request_id is not None:
            replies.setdefault(request_id, []).append(received_at)
    found = []
    for request in requests:
        has_figures = request.id in held
        kept = rounds.get(request.id)
        name, slug = request.authority.name, request.authority.slug
        if kept is None:
            found.append(ForceStatus(request.id, name, slug, has_figures, ReplyStatus.not_sent))
            continue
        message = kept.message
        sent_at = message.sent_at if message.status in (DeliveryStatus.sent,
                                                         DeliveryStatus.outbox) else None
        replied_at = next((at for at in replies.get(request.id, [])
                           if sent_at is not None and at >= sent_at), None)
        if sent_at is None:
            status = ReplyStatus.sending
        elif replied_at is not None:
            status = ReplyStatus.replied
        elif today > kept.answer_by:
            status = ReplyStatus.overdue
        else:
            status = ReplyStatus.awaiting
        changes = changes_since([HeldFigure.from_kept(f) for f in kept.figures],
                                held.get(request.id, []))
        found.append(ForceStatus(request.id, name, slug, has_figures, status, kept.answer_by,
                                 sent_at, message.status is DeliveryStatus.outbox, replied_at,
                                 tuple(changes), message.id))
    return found


@dataclass(frozen=True)
class Checklist:
    """The right of reply, counted for the release's checklist."""

    with_figures: int  # forces with figures (those a right of reply can be sent to)
    not_sent: int  # of them, not sent one yet
    sending: int
    sent: int  # gone (emailed or written to the outbox): awaiting, replied or overdue
    awaiting: int
    replied: int
    overdue: int
    changed_since: int  # forces whose figures changed since their right of reply

    @property
    def done(self) -> bool:
        """Every force with figures was sent one, and none is still awaiting or being sent."""
        return self.with_figures > 0 and self.not_sent == 0 and self.sending == 0 \
            and self.awaiting == 0

    def summary(self) -> str:
        parts = [f"{self.sent} of {self.with_figures} forces with figures sent",
                 f"{self.replied} replied", f"{self.overdue} overdue"]
        if self.awaiting:
            parts.append(f"{self.awaiting} awaiting")
        if self.sending:
            parts.append(f"{self.sending} being sent")
        parts.append(f"{self.changed_since} with figures changed since")
        return ", ".join(parts)


def checklist(session: Session, campaign: Campaign, today: dt.date | None = None) -> Checklist:
    """The counts the release's checklist shows (today: the day in the UK unless given)."""
    return tally(statuses(session, campaign, today or today_in_uk()))


def tally(rows: Sequence[ForceStatus]) -> Checklist:
    """The checklist's counts of ``rows`` (statuses)."""
    counted = [r for r in rows if r.has_figures or r.status is not ReplyStatus.not_sent]

    def count(status: ReplyStatus) -> int:
        return sum(1 for r in counted if r.status is status)

    gone = (ReplyStatus.awaiting, ReplyStatus.replied, ReplyStatus.overdue)
    return Checklist(
        with_figures=sum(1 for r in rows if r.has_figures),
        not_sent=sum(1 for r in rows if r.has_figures and r.status is ReplyStatus.not_sent),
        sending=count(ReplyStatus.sending),
        sent=sum(1 for r in counted if r.status in gone),
        awaiting=count(ReplyStatus.awaiting), replied=count(ReplyStatus.replied),
        overdue=count(ReplyStatus.overdue),
        changed_since=sum(1 for r in counted if r.changed))
