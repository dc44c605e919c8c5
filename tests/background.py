"""Running the jobs a test asked for, in the test's own process.

The queue's own tests (tests/queue) start real worker processes on a real broker; tests of a
page or a service that merely asks for a job run it here, through the same code a worker runs
(foitrack.services.job_runner), without the broker in between.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from foitrack.models import Job, JobState
from foitrack.services import job_runner


def runtime(app: Flask) -> job_runner.Runtime:
    database = app.extensions["foitrack.db"]
    return job_runner.Runtime(new_session=database.session, config=app.config,
                              today=lambda: app.config.get("TODAY") or _uk_today(),
                              worker="tests@inline")


def _uk_today():
    from foitrack.domain.clock import today_in_uk

    return today_in_uk()


def run_queued_jobs(app: Flask) -> list[JobState | None]:
    """Run every queued job, oldest first; returns their final states."""
    database = app.extensions["foitrack.db"]
    with database.session() as session:
        ids = list(session.scalars(select(Job.id).where(Job.state == JobState.queued)
                                   .order_by(Job.id)))
    return [job_runner.run(runtime(app), job_id) for job_id in ids]
