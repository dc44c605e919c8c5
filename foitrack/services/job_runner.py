"""Running one background job: what a worker does once the task queue hands it a job's id.

Like ``mail.deliver`` this commits as it goes (a message sent is recorded at once, whatever
happens to the next), so it takes a session factory, not a session.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from foitrack.domain.clock import ClockSettings
from foitrack.errors import Invalid
from foitrack.models import Job, JobKind, JobState
from foitrack.services import audit, jobs, mail
from foitrack.services.send_reminders import REMINDERS_ONLY

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """What a job needs from the process running it."""

    new_session: Callable[[], Any]  # a context manager yielding a Session
    config: Mapping[str, Any]
    today: Callable[[], dt.date]
    worker: str  # this worker's name, kept on the jobs it claims
    transport: mail.Transport | None = None  # None: from the settings (SMTP or the outbox)
    # A read-only session on one state of the database (foitrack.db.Database.snapshot), so an
    # export's totals match its own figures; None: an ordinary session.
    snapshot: Callable[[], Any] | None = None

    @property
    def mail(self) -> mail.MailSettings:
        return mail.settings_from(self.config)

    @property
    def clock(self) -> ClockSettings:
        return self.config.get("CLOCK") or ClockSettings()


def actor_of(job: Job) -> audit.Actor:
    """Whoever asked for the job: what it records is theirs, as if they had waited for it."""
    return audit.Actor(label=job.created_by, user_id=job.created_by_user_id)


def run(runtime: Runtime, job_id: int) -> JobState | None:
    """Claim and run ``job_id``; returns its final state, or None when it was not ours to run
    (another worker has it, or it has finished or been cancelled)."""
    with runtime.new_session() as session:
        if not jobs.claim(session, job_id, runtime.worker):
            session.rollback()
            return None
        session.commit()
        job = jobs.get_job(session, job_id)
        kind, actor = job.kind, actor_of(job)
    try:
        state, summary = RUNNERS[kind](runtime, job_id, actor)
    except Exception as error:
        log.exception("job %s (%s) failed", job_id, kind.value)
        with runtime.new_session() as session:
            jobs.finish(session, job_id, JobState.failed, error=f"{type(error).__name__}: {error}")
            session.commit()
        return JobState.failed
    with runtime.new_session() as session:
        jobs.finish(session, job_id, state, summary=summary)
        session.commit()
    return state


def _keep_going(runtime: Runtime, job_id: int) -> Callable[[], bool]:
    def beat() -> bool:
        with runtime.new_session() as session:
            going = jobs.heartbeat(session, job_id)
            session.commit()
        return going
    return beat


def _send_messages(runtime: Runtime, job_id: int, actor: audit.Actor) -> tuple[JobState, str]:
    """A send, a chase or a digest: deliver the job's messages still to send."""
    with runtime.new_session() as session:
        ids = jobs.message_ids_to_send(session, job_id)
    report = mail.deliver(runtime.new_session, runtime.mail, actor, runtime.today(),
                          transport=runtime.transport, message_ids=ids,
                          keep_going=_keep_going(runtime, job_id))
    with runtime.new_session() as session:
        if report.stopped:
            jobs.cancel_messages(session, job_id)
        job = jobs.get_job(session, job_id)
        summary = jobs.progress(session, job).summary()
        session.commit()
    return (JobState.cancelled if report.stopped else JobState.done), summary


def _digest(runtime: Runtime, job_id: int, actor: audit.Actor) -> tuple[JobState, str]:
    with runtime.new_session() as session:
        job = jobs.get_job(session, job_id)
        # The scheduler's send_on reminders come as a digest job of their own: sending them
        # must not bring the day's overdue digest forward from its hour.
        if not jobs.params_of(job).get(REMINDERS_ONLY):
            queued = mail.queue_digests(session, actor, runtime.mail, runtime.today(),
                                        runtime.clock)
            jobs.attach_messages(session, job, queued)
        session.commit()
    return _send_messages(runtime, job_id, actor)


def _right_of_reply(runtime: Runtime, job_id: int, actor: audit.Actor) -> tuple[JobState, str]:
    """Write the round's messages (services.right_of_reply), then send them as any others."""
    from foitrack.services import right_of_reply

    with runtime.new_session() as session:
        skipped = right_of_reply.compose_for_job(session, actor, jobs.get_job(session, job_id),
                                                 runtime.mail, runtime.today(), runtime.clock)
        session.commit()
    state, summary = _send_messages(runtime, job_id, actor)
    return state, summary + (f"; not sent: {'; '.join(skipped)}" if skipped else "")


def _fetch(runtime: Runtime, job_id: int, actor: audit.Actor) -> tuple[JobState, str]:
    from foitrack.services import inbound, mail_fetch
    from foitrack.storage import FileStore

    settings = inbound.imap_settings_from(runtime.config)
    if settings is None:
        raise Invalid("no mailbox is set (FOITRACK_IMAP_HOST)", field="IMAP_HOST")
    report = mail_fetch.fetch_and_file(runtime.new_session, settings,
                                       FileStore(runtime.config["STORAGE_PATH"]), actor,
                                       runtime.today())
    with runtime.new_session() as session:
        # Done: kept in foitrack (filed, in the triage inbox, or kept before); failed: left
        # unread in the mailbox for a person.
        _count(session, job_id, report.fetched, report.kept, len(report.refused))
        session.commit()
    return JobState.done, report.summary()


def _export(runtime: Runtime, job_id: int, actor: audit.Actor) -> tuple[JobState, str]:
    """Build the dataset as the download would, into a kept file the job's page links to."""
    import tempfile

    from foitrack.models import StoredFile
    from foitrack.services import campaigns, datasets
    from foitrack.storage import FileStore

    with runtime.new_session() as session:
        job = jobs.get_job(session, job_id)
        params, slug = jobs.params_of(job), job.campaign.slug if job.campaign else ""
    fmt, table, day = params["format"], params.get("table", "figures"), runtime.today()
    with tempfile.SpooledTemporaryFile(max_size=4 * 2**20) as spool:
        with (runtime.snapshot or runtime.new_session)() as session:
            data = datasets.campaign_dataset(session, campaigns.get_campaign(session, slug), day,
                                             runtime.clock, params.get("checked_only", False))
            datasets.write_export(data, fmt, spool, table)
        spool.seek(0)
        content = spool.read()
    name = datasets.export_filename(slug, fmt, table, day)
    digest = FileStore(runtime.config["STORAGE_PATH"]).put(content)
    with runtime.new_session() as session:
        kept = StoredFile(sha256=digest, filename=name, content_type=datasets.EXPORT_FORMATS[fmt],
                          size=len(content), created_by=actor.label)
        session.add(kept)
        session.flush()
        job = jobs.get_job(session, job_id)
        job.result_file_id, job.done = kept.id, 1
        session.commit()
    return JobState.done, f"{name} is ready ({len(content):,} bytes)"


def _count(session: Session, job_id: int, total: int, done: int, failed: int) -> None:
    job = jobs.get_job(session, job_id)
    job.total, job.done, job.failed = total, done, failed


RUNNERS: dict[JobKind, Callable[[Runtime, int, audit.Actor], tuple[JobState, str]]] = {
    JobKind.send: _send_messages,
    JobKind.chase: _send_messages,
    JobKind.digest: _digest,
    JobKind.fetch: _fetch,
    JobKind.export: _export,
    JobKind.right_of_reply: _right_of_reply,
}
