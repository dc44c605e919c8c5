"""The task queue's plumbing: the Celery app, and jobs handed to it only once they are committed.

foitrack runs slow work (sending a campaign, chasing, fetching replies, digests, large exports)
on Celery, the field's standard task queue (MuckRock, froide and NYC OpenRecords use it too).
A job's truth is its row in the database (foitrack.models.job); the broker only carries
"run job N" to a worker, which claims the row before doing anything.

Where the broker is:
- FOITRACK_BROKER_URL, e.g. ``redis://127.0.0.1:6379/0``: production, shared by every web and
  worker machine.
- unset: the embedded default, kombu's filesystem transport in the instance folder. It needs no
  server, so `make run` works with SQLite alone (`foitrack serve` starts a worker beside
  itself); it suits one machine only.

Tasks are named by string here, so the web and the command line enqueue without importing the
worker's code (or Celery at all, until the first job is committed).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from celery import Celery

    from foitrack.db import Database

log = logging.getLogger(__name__)

RUN_JOB = "foitrack.run_job"
TICK = "foitrack.tick"
DIGEST = "foitrack.digest"
CHASE = "foitrack.chase"
# Build a campaign's heavy pages into the shared cache after a write (foitrack.services.page_data).
WARM_UP = "foitrack.warm_up"
# Propose figures from a filed reply's attachments (foitrack.services.proposals, issue 19).
PROPOSE_FIGURES = "foitrack.propose_figures"

# session.info key: the jobs this transaction asked for, handed to the broker after it commits.
_PENDING = "foitrack.jobs_to_enqueue"
# session.info key: plain tasks (name, args) to send after it commits, as the jobs are.
_TASKS = "foitrack.tasks_to_send"
# session.info key, put in each session of a watched factory: the settings it enqueues with.
_SETTINGS = "foitrack.broker_settings"


def embedded(config: Mapping[str, Any]) -> bool:
    """True when no broker is configured: the filesystem transport in the instance folder."""
    return not config.get("BROKER_URL")


def queue_folder(config: Mapping[str, Any]) -> Path:
    return Path(config["INSTANCE_PATH"]) / "queue"


def celery_app(config: Mapping[str, Any]) -> Celery:
    """A Celery app for foitrack's settings (one per process is enough: see ``app_for``)."""
    from celery import Celery
    from celery.schedules import crontab

    if embedded(config):
        folder = queue_folder(config)
        for name in ("messages", "control"):
            (folder / name).mkdir(parents=True, exist_ok=True)
        broker = "filesystem://"
        transport: dict[str, Any] = {
            "data_folder_in": str(folder / "messages"),
            "data_folder_out": str(folder / "messages"),
            "control_folder": str(folder / "control"),
            "polling_interval": 0.2,
        }
    else:
        broker = config["BROKER_URL"]
        # A task a worker took but never acknowledged (killed mid-job) goes back to the queue
        # after this long; the job's own heartbeat (services.jobs.recover) usually acts first.
        transport = {"visibility_timeout": 3600}
    app = Celery("foitrack", broker=broker, include=["foitrack.worker.tasks"])
    queue = config.get("QUEUE") or "foitrack"
    schedule: dict[str, Any] = {
        # Campaigns due to be sent today, jobs whose worker died, jobs never handed over, and
        # the mailbox fetch when FETCH_MINUTES have passed since the last (counted from the
        # job table, so a restarted scheduler fetches at once rather than after a full wait).
        "tick": {"task": TICK, "schedule": float(config.get("TICK_SECONDS", 60)),
                 "options": {"queue": queue}},
        "digest": {"task": DIGEST, "options": {"queue": queue},
                   "schedule": crontab(minute=0, hour=config.get("DIGEST_HOUR", 7))},
    }
    if config.get("AUTO_CHASE"):
        schedule["chase"] = {"task": CHASE, "options": {"queue": queue},
                             "schedule": crontab(minute=30, hour=config.get("DIGEST_HOUR", 7))}
    app.conf.update(
        broker_transport_options=transport,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=5,
        # A web request that commits a job must not hang on a broker that is down: the job
        # stays queued in the database and the scheduler's tick hands it over again.
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0.2,
                                   "interval_step": 0.5, "interval_max": 1},
        task_default_queue=queue,
        task_ignore_result=True,  # the job's row holds its outcome
        # Acknowledged when done, so a task whose worker was killed is delivered again; the
        # job's claim (a conditional UPDATE) makes the second delivery harmless.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        # The filesystem transport has no broadcast: no remote control there (cancelling is a
        # flag on the job's row, read by the worker between messages, so nothing needs it).
        worker_enable_remote_control=not embedded(config),
        timezone="Europe/London",
        beat_schedule=schedule,
    )
    return app


_apps: dict[tuple[str, str], Celery] = {}


def app_for(config: Mapping[str, Any]) -> Celery:
    """The process's Celery app for this broker and queue, made once."""
    key = (str(config.get("BROKER_URL") or queue_folder(config)), str(config.get("QUEUE")))
    if key not in _apps:
        _apps[key] = celery_app(config)
    return _apps[key]


def warm(config: Mapping[str, Any]) -> None:
    """Build the process's Celery app and load its broker's transport now, at start-up. Left to
    the first send, importing Celery and kombu's transport costs that request 0.3-0.6 s, half
    of the one second in which "Send by email" must answer with its progress page (issue 21).
    No connection is opened: the broker may be down at start-up (``enqueue`` copes)."""
    app = app_for(config)
    app.amqp  # noqa: B018 - the producer's machinery, made on first use
    with app.connection_for_write() as connection:
        connection.transport  # noqa: B018 - imports the transport's module; connects nothing


def enqueue(config: Mapping[str, Any], job_ids: list[int]) -> list[int]:
    """Hand jobs to the broker now; returns those it could not take (they stay queued in the
    database, and the scheduler's tick hands them over again)."""
    app = app_for(config)
    missed = []
    for job_id in job_ids:
        try:
            app.send_task(RUN_JOB, args=[job_id], queue=config.get("QUEUE") or "foitrack")
        except Exception:  # noqa: BLE001 - any broker fault: the row is kept, the tick retries
            log.exception("could not hand job %s to the broker; it stays queued", job_id)
            missed.append(job_id)
    return missed


def queued(session: Session) -> bool:
    """True when ``session``'s work can be handed to a worker on a configured broker (not the
    embedded queue, where a service does slow work itself, as it would without a queue)."""
    settings = session.info.get(_SETTINGS)
    return settings is not None and not embedded(settings)


def task_after_commit(session: Session, name: str, args: list[Any]) -> None:
    """Send task ``name`` once ``session``'s transaction commits, and not if it rolls back. A
    broker that does not answer costs that task only (logged): use it for work that can be
    asked for again, and a job (``after_commit``) for work that must not be lost."""
    session.info.setdefault(_TASKS, []).append((name, args))


def _send(config: Mapping[str, Any], tasks: list[tuple[str, list[Any]]]) -> None:
    app = app_for(config)
    for name, args in tasks:
        try:
            app.send_task(name, args=args, queue=config.get("QUEUE") or "foitrack")
        except Exception:  # noqa: BLE001 - any broker fault: logged, the rest still sent
            log.exception("could not send %s%s to the broker", name, tuple(args))


def after_commit(session: Session, job_id: int) -> None:
    """Have ``job_id`` handed to the broker once ``session``'s transaction commits, and not at
    all if it rolls back: a worker never sees a job whose rows are not there yet."""
    session.info.setdefault(_PENDING, []).append(job_id)


# The settings each watched session factory's jobs are enqueued with (the latest given).
_watched: weakref.WeakKeyDictionary[Any, Mapping[str, Any]] = weakref.WeakKeyDictionary()


def watch(database: Database, config: Mapping[str, Any]) -> None:
    """Enqueue the jobs each of ``database``'s sessions asked for, after each commit, with
    ``config``'s broker (watching again only changes the settings)."""
    maker = database.sessionmaker
    first = maker not in _watched
    _watched[maker] = config
    # Each new session knows the settings (the mapping itself: a test's app sets its broker
    # after it is made), for ``queued``.
    maker.configure(info={**maker.kw.get("info", {}), _SETTINGS: config})
    if not first:
        return

    def committed(session: Session) -> None:
        pending = session.info.pop(_PENDING, None)
        tasks = session.info.pop(_TASKS, None)
        settings = _watched.get(maker)
        if pending and settings is not None:
            enqueue(settings, pending)
        if tasks and settings is not None:
            _send(settings, tasks)

    def rolled_back(session: Session) -> None:
        session.info.pop(_PENDING, None)
        session.info.pop(_TASKS, None)

    event.listen(maker, "after_commit", committed)
    # A real rollback of the whole transaction (not a savepoint's) forgets what it asked for.
    event.listen(maker, "after_rollback", rolled_back)
