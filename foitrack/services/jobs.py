"""Background jobs: asked for, claimed by a worker, followed, cancelled, and taken up again
when their worker died.

Asking for a job writes its row (and, for a send or a chase, its messages, each tied to the
job) in the caller's transaction; the job goes to the task queue only once that commits
(foitrack.broker.after_commit), so a worker never looks for rows that are not there yet, and a
transaction that rolls back asks for nothing.

A worker claims a job with a conditional UPDATE (queued -> running): a task delivered twice, or
handed over again by the tick, runs once. While running it beats (``heartbeat``) before each
message; a job whose worker restarted, or that has not beaten for STALE_AFTER, goes back to the
queue (``recover``), and its messages with it: one left "sending" that was never handed to the
mail server is sent again, one that was may have gone and is left for a person to check.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from foitrack import broker
from foitrack.db import rows_updated, utcnow
from foitrack.errors import Invalid, NotFound
from foitrack.models import (
    Campaign,
    CampaignStatus,
    DeliveryStatus,
    Job,
    JobKind,
    JobState,
    MessageKind,
    OutgoingMessage,
    Request,
)
from foitrack.services import audit

# A running job that has not beaten for this long has lost its worker (a send beats before
# every message, and one message takes at most the SMTP timeout and the throttle).
STALE_AFTER = dt.timedelta(minutes=5)
# A queued job no worker has taken for this long is handed to the broker again (the broker was
# down when it was asked for, or the embedded queue's folder was cleared).
UNCLAIMED_AFTER = dt.timedelta(minutes=2)


def create(session: Session, actor: audit.Actor, kind: JobKind, campaign: Campaign | None = None,
           params: dict[str, Any] | None = None, total: int = 0,
           finished: str | None = None) -> Job:
    """A new queued job, handed to the task queue when the caller's transaction commits; or,
    with ``finished``, one recorded as done with that summary (nothing to do)."""
    job = Job(kind=kind, campaign=campaign, params=json.dumps(params) if params else None,
              total=total, created_by=actor.label, created_by_user_id=actor.user_id)
    if finished is not None:
        job.state, job.summary, job.finished_at = JobState.done, finished, utcnow()
    session.add(job)
    session.flush()
    audit.record(session, actor, "job", job.id, "create", None,
                 {"kind": kind.value, "campaign": campaign.slug if campaign else None,
                  **({"params": params} if params else {})})
    if finished is None:
        broker.after_commit(session, job.id)
    return job


def params_of(job: Job) -> dict[str, Any]:
    return json.loads(job.params) if job.params else {}


def attach_messages(session: Session, job: Job, messages: Sequence[OutgoingMessage]) -> None:
    """Tie ``messages`` to ``job``: it sends them (each still claimed one by one)."""
    for message in messages:
        message.job_id = job.id
    job.total = len(messages)
    session.flush()


def get_job(session: Session, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"no job {job_id}")
    return job


def active_job(session: Session, kind: JobKind, campaign: Campaign | None = None) -> Job | None:
    """The queued or running job of ``kind`` (for ``campaign``), if there is one."""
    query = select(Job).where(Job.kind == kind, Job.state.in_([JobState.queued, JobState.running]))
    if campaign is not None:
        query = query.where(Job.campaign_id == campaign.id)
    return session.scalars(query.order_by(Job.id).limit(1)).first()


def jobs(session: Session, include_finished: bool = False, limit: int = 100,
         visible: ColumnElement[bool] | None = None) -> list[Job]:
    """Jobs newest first: those queued or running, or with ``include_finished`` every one."""
    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if not include_finished:
        query = query.where(Job.state.in_([JobState.queued, JobState.running]))
    if visible is not None:
        query = query.where(visible)
    return list(session.scalars(query))


def messages_of(session: Session, job: Job) -> list[OutgoingMessage]:
    return list(session.scalars(select(OutgoingMessage).where(OutgoingMessage.job_id == job.id)
                                .order_by(OutgoingMessage.id)))


@dataclass
class Progress:
    """How far a job has got: for a send or a chase, counted from its messages."""

    total: int
    done: int
    failed: int
    left: int
    to_check: int = 0  # left "sending" by an interrupted worker: may have gone
    cancelled: int = 0
    outbox: int = 0  # of done: written to the outbox folder, not sent

    def summary(self) -> str:
        parts = [f"{self.done - self.outbox} sent"]
        if self.outbox:
            parts.append(f"{self.outbox} written to the outbox (not sent: no mail server set)")
        if self.failed:
            parts.append(f"{self.failed} failed")
        if self.to_check:
            parts.append(f"{self.to_check} to check by hand")
        if self.cancelled:
            parts.append(f"{self.cancelled} cancelled")
        if self.left:
            parts.append(f"{self.left} left")
        return ", ".join(parts)


MESSAGE_JOBS = (JobKind.send, JobKind.chase, JobKind.digest, JobKind.right_of_reply)


def progress(session: Session, job: Job) -> Progress:
    if job.kind not in MESSAGE_JOBS:
        left = max(job.total - job.done - job.failed, 0) if not job.state.finished else 0
        return Progress(job.total, job.done, job.failed, left)
    counts: Counter[str] = Counter({status.value: count for status, count in session.execute(
        select(OutgoingMessage.status, func.count()).where(OutgoingMessage.job_id == job.id)
        .group_by(OutgoingMessage.status))})
    sent, outbox = counts["sent"], counts["outbox"]
    # A message "sending" while the job still runs is the one going now: left, not lost.
    sending_left = counts["sending"] if not job.state.finished else 0
    return Progress(
        total=sum(counts.values()), done=sent + outbox, failed=counts["failed"],
        left=counts["queued"] + sending_left, to_check=counts["sending"] - sending_left,
        cancelled=counts["cancelled"], outbox=outbox)


def cancel(session: Session, actor: audit.Actor, job: Job) -> Job:
    """Stop ``job``: at once if no worker has it yet, else before its next message. Messages
    not yet handed to the mail server are cancelled (never sent); those sent stay sent.

    :raises Invalid: when the job has finished already.
    """
    if job.state.finished:
        raise Invalid(f"job {job.id} has already finished ({job.state.value})", field="job")
    job.cancel_requested = True
    if job.state is JobState.queued:
        # Claimed meanwhile? The conditional UPDATE leaves it to the worker, which sees the flag.
        stopped = rows_updated(session, update(Job).where(Job.id == job.id,
                                                          Job.state == JobState.queued)
                               .values(state=JobState.cancelled, finished_at=utcnow(),
                                       cancel_requested=True))
        if stopped:
            cancel_messages(session, job.id)
        session.refresh(job)
    audit.record(session, actor, "job", job.id, "cancel", None, {"state": job.state.value})
    return job


def cancel_messages(session: Session, job_id: int) -> int:
    """The job's messages still to send become cancelled; returns how many."""
    return rows_updated(session, update(OutgoingMessage).where(
        OutgoingMessage.job_id == job_id,
        OutgoingMessage.status.in_([DeliveryStatus.queued, DeliveryStatus.failed]))
        .values(status=DeliveryStatus.cancelled))


# ---- what a worker does with a job --------------------------------------------------------------

def claim(session: Session, job_id: int, worker: str) -> bool:
    """Take ``job_id`` for ``worker`` if it is queued; False if another has it or it is done."""
    now = utcnow()
    return rows_updated(session, update(Job).where(Job.id == job_id, Job.state == JobState.queued)
                        .values(state=JobState.running, worker=worker, started_at=now,
                                heartbeat_at=now)) == 1


def heartbeat(session: Session, job_id: int) -> bool:
    """Say the job's worker is alive; returns False when a person has asked it to stop."""
    session.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=utcnow()))
    return not session.scalar(select(Job.cancel_requested).where(Job.id == job_id))


def finish(session: Session, job_id: int, state: JobState, summary: str | None = None,
           error: str | None = None, done: int | None = None, failed: int | None = None,
           total: int | None = None) -> None:
    values: dict[str, Any] = {"state": state, "finished_at": utcnow(), "summary": summary,
                              "error": error[:4000] if error else None}
    values.update({name: value for name, value in (("done", done), ("failed", failed),
                                                    ("total", total)) if value is not None})
    session.execute(update(Job).where(Job.id == job_id, Job.state == JobState.running)
                    .values(**values))


def recover(session: Session, restarted_worker: str | None = None,
            now: dt.datetime | None = None) -> list[int]:
    """Running jobs whose worker is gone go back to the queue; returns their ids (to enqueue),
    with the queued jobs no worker took within UNCLAIMED_AFTER.

    A worker is gone when it has just restarted under the same name (``restarted_worker``), or
    when its job has not beaten for STALE_AFTER.
    """
    now = now or utcnow()
    gone = Job.heartbeat_at < now - STALE_AFTER
    if restarted_worker:
        gone = or_(gone, Job.worker == restarted_worker)
    lost = list(session.scalars(select(Job.id).where(Job.state == JobState.running, gone)))
    for job_id in lost:
        # Never handed to the mail server: safe to send again. Handed over: may have gone.
        session.execute(update(OutgoingMessage).where(
            OutgoingMessage.job_id == job_id, OutgoingMessage.status == DeliveryStatus.sending,
            OutgoingMessage.handed_over_at.is_(None)).values(status=DeliveryStatus.queued))
        session.execute(update(Job).where(Job.id == job_id, Job.state == JobState.running)
                        .values(state=JobState.queued, worker=None))
    waiting = list(session.scalars(select(Job.id).where(
        Job.state == JobState.queued, Job.id.not_in(lost),
        Job.created_at < now - UNCLAIMED_AFTER)))
    return lost + waiting


def message_ids_to_send(session: Session, job_id: int) -> list[int]:
    return list(session.scalars(select(OutgoingMessage.id).where(
        OutgoingMessage.job_id == job_id,
        OutgoingMessage.status.in_([DeliveryStatus.queued, DeliveryStatus.failed]))
        .order_by(OutgoingMessage.id)))


# ---- jobs a person or the scheduler asks for ----------------------------------------------------

def send_campaign(session: Session, actor: audit.Actor, campaign: Campaign,
                  requests: Sequence[Request], mail: Any, today: dt.date,
                  attach_template: bool = False) -> Job:
    """A job emailing ``campaign``'s request to each of ``requests`` not yet sent to, with any
    earlier message to them still to send (failed, or queued by an interrupted send).

    :raises Invalid: when there is nothing to send.
    """
    from foitrack.services import locks
    from foitrack.services import mail as mail_service

    # Two people pressing Send at once: the second waits here for the first to commit, then
    # finds its messages (and its job) and queues nothing twice.
    locks.hold_campaign_requests(session, campaign)
    running = active_job(session, JobKind.send, campaign)
    if running is not None:
        raise Invalid(f"this campaign is being sent already (job {running.id})", field="job")
    plan = mail_service.plan_campaign_send(session, campaign, requests)
    retries = mail_service.pending_messages(session, MessageKind.request, requests)
    queued = mail_service.queue_campaign(session, actor, campaign, plan.to_send, mail, today,
                                         attach_template)
    if not queued and not retries:
        raise Invalid("nothing to send: every authority chosen has been sent the request "
                      "or has no FOI email address", field="authorities")
    job = create(session, actor, JobKind.send, campaign)
    attach_messages(session, job, [*retries, *queued])
    return job


def chase(session: Session, actor: audit.Actor, mail: Any, today: dt.date,
          settings: Any = None, campaign: Campaign | None = None,
          request_ids: Collection[int] | None = None) -> tuple[Job | None, list[str]]:
    """A job sending the chasers due (``mail.queue_chasers``) and any still to send; None when
    there are none. Returns the job and why the others were not chased. With ``request_ids``
    (the requests a person ticked), only those are chased, and only their chasers still to
    send are sent.

    :raises Invalid: when ``request_ids`` is given and empty (field "requests").
    """
    from foitrack.services import locks
    from foitrack.services import mail as mail_service

    if request_ids is not None and not request_ids:
        raise Invalid("tick at least one request to chase", field="requests")
    # Two chase runs at once (a person and the scheduler): the second waits for the first and
    # then finds its chasers waiting, so no request gets two.
    if request_ids is not None:
        locks.hold_requests(session, session.scalars(
            select(Request).where(Request.id.in_(request_ids))))
    elif campaign is not None:
        locks.hold_campaign_requests(session, campaign)
    else:
        locks.hold_requests(session, session.scalars(select(Request).join(Request.campaign).where(
            Campaign.status != CampaignStatus.closed)))
    slug = campaign.slug if campaign else None
    queued, skipped = mail_service.queue_chasers(session, actor, mail, today, settings, slug,
                                                 request_ids)
    session.flush()
    waiting = select(OutgoingMessage).where(
        OutgoingMessage.id.in_(mail_service.pending_ids(session, MessageKind.chaser, slug)),
        or_(OutgoingMessage.job_id.is_(None), OutgoingMessage.job_id.not_in(
            select(Job.id).where(Job.state.in_([JobState.queued, JobState.running])))))
    if request_ids is not None:
        waiting = waiting.where(OutgoingMessage.request_id.in_(request_ids))
    pending = session.scalars(waiting.order_by(OutgoingMessage.id))
    messages = list(pending)
    # A request whose earlier chaser is tried again in this job is chased, not passed over.
    retried = tuple(f"{m.request.authority.name} ({m.request.campaign.slug}): "
                    for m in messages if m.request is not None)
    skipped = [reason for reason in skipped if not reason.startswith(retried)]
    if not messages:
        return None, skipped
    job = create(session, actor, JobKind.chase, campaign)
    attach_messages(session, job, messages)
    return job, skipped


def fetch(session: Session, actor: audit.Actor, every: dt.timedelta | None = None,
          now: dt.datetime | None = None) -> Job | None:
    """A mailbox fetch, unless one is queued or running (fetches run one at a time) or, with
    ``every``, one was asked for less than that long ago."""
    if active_job(session, JobKind.fetch) is not None:
        return None
    if every is not None:
        last = session.scalar(select(func.max(Job.created_at)).where(Job.kind == JobKind.fetch))
        if last is not None and last > (now or utcnow()) - every:
            return None
    return create(session, actor, JobKind.fetch)


def export(session: Session, actor: audit.Actor, campaign: Campaign, fmt: str,
           table: str = "figures", checked_only: bool = False) -> Job:
    """A dataset export built in the background into a kept file, for a campaign too large to
    build within a page load. :raises Invalid: for a format or table there is not."""
    from foitrack.services.datasets import CSV_TABLES, EXPORT_FORMATS

    if fmt not in EXPORT_FORMATS:
        raise Invalid(f"the format must be one of {', '.join(EXPORT_FORMATS)}", field="format")
    if table not in CSV_TABLES:
        raise Invalid(f"the table must be one of {', '.join(CSV_TABLES)}", field="table")
    return create(session, actor, JobKind.export, campaign,
                  params={"format": fmt, "table": table, "checked_only": checked_only}, total=1)


def digest(session: Session, actor: audit.Actor) -> Job:
    return create(session, actor, JobKind.digest)


def due_campaigns(session: Session, today: dt.date) -> list[Campaign]:
    """Campaigns whose ``send_on`` day has come and whose send has not been asked for since.

    A send asked for before the day (a pilot to two or three forces) does not count: the
    scheduled send then goes to the rest, as "not yet sent to" always means.
    """
    # A timestamp against a date: PostgreSQL compares from the date's midnight, and SQLite's
    # stored "2027-01-08 07:15:00" sorts after "2027-01-08" and before "2027-01-09".
    asked_since = select(Job.id).where(Job.kind == JobKind.send, Job.campaign_id == Campaign.id,
                                       Job.created_at >= Campaign.send_on).exists()
    return list(session.scalars(select(Campaign).where(
        Campaign.send_on.is_not(None), Campaign.send_on <= today,
        ~asked_since).order_by(Campaign.id)))
