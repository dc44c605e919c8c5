"""Background jobs: a campaign send, a chase run, a mailbox fetch, a digest, a large export.

The row is the job's truth, whatever queue carries it: its state and progress are read from
here by the pages, the API and `foitrack jobs`, and a worker claims it here (a conditional
UPDATE) before doing anything, so a task delivered twice runs once.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foitrack.db import Base, UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from foitrack.models.campaign import Campaign
    from foitrack.models.stored_file import StoredFile


class JobKind(enum.StrEnum):
    send = "send"  # a campaign's request, by email
    chase = "chase"  # chasers for late requests
    fetch = "fetch"  # replies from the IMAP mailbox
    digest = "digest"  # each owner's requests that became overdue today
    export = "export"  # a dataset too large to build within a page load
    right_of_reply = "right_of_reply"  # forces shown their figures before publication

    @property
    def label(self) -> str:
        return {"send": "Send the request", "chase": "Send chasers", "fetch": "Fetch replies",
                "digest": "Overdue digest", "export": "Dataset export",
                "right_of_reply": "Right of reply"}[self.value]


class JobState(enum.StrEnum):
    queued = "queued"  # waiting for a worker
    running = "running"  # a worker has claimed it
    done = "done"  # finished (some messages may have failed: see the counts)
    failed = "failed"  # stopped by an error; nothing after it was done
    cancelled = "cancelled"  # stopped by a person; what was done before stays done

    @property
    def finished(self) -> bool:
        return self in (JobState.done, JobState.failed, JobState.cancelled)


class Job(Base):
    __tablename__ = "job"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[JobKind] = mapped_column(str_enum(JobKind, "job_kind", 20))
    state: Mapped[JobState] = mapped_column(str_enum(JobState, "job_state", 20),
                                            default=JobState.queued, index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"),
                                                    index=True)
    # What the job was asked for, as JSON (e.g. an export's format and authorities).
    params: Mapped[str | None] = mapped_column(Text)
    # Progress for jobs that are not a list of messages (those count their messages).
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    summary: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    # Asked to stop: a queued job stops at once, a running one before its next message.
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str] = mapped_column(String(254))
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The worker running it and when it last said so: a job whose worker has died (restarted,
    # or silent for too long) is taken up again (foitrack.services.jobs.recover).
    worker: Mapped[str | None] = mapped_column(String(200))
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # An export's file, once built.
    result_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))

    campaign: Mapped[Campaign | None] = relationship()
    result_file: Mapped[StoredFile | None] = relationship()

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.kind.value} {self.state.value}>"
