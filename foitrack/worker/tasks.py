"""The tasks: run a job, the scheduler's periodic ones, which ask for jobs, and the warm-up of a
campaign's heavy pages after a write.

A periodic task only asks for a job (a row, handed to the queue after commit); the job then
runs as any other, so `foitrack jobs` shows the scheduler's work beside a person's.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from celery import shared_task
from celery.signals import worker_ready

from foitrack import broker
from foitrack.errors import Invalid
from foitrack.exporters import chart_images
from foitrack.models import Campaign, JobKind
from foitrack.services import (
    audit,
    embargo,
    job_runner,
    jobs,
    page_data,
    proposals,
    send_reminders,
    shared_cache,
)
from foitrack.services.job_runner import Runtime
from foitrack.services.warm_up import through_the_queue
from foitrack.storage import FileStore
from foitrack.worker import runtime

log = logging.getLogger(__name__)

SCHEDULER = audit.Actor.system("scheduler")


def _runtime() -> Runtime:
    """The process's runtime, its writes watched: a reply filed or a request sent here changes
    its campaign's pages as a person's edit does, and has them warmed the same way."""
    rt = runtime.runtime()
    # Again in each process: a pool's children each have their own.
    through_the_queue(rt.config, runtime.app().extensions["foitrack.db"].sessionmaker)
    return rt


@shared_task(name=broker.RUN_JOB)
def run_job(job_id: int) -> str | None:
    state = job_runner.run(_runtime(), job_id)
    return state.value if state else None


WARM_UP_DRAWERS = 2


@shared_task(name=broker.WARM_UP)
def warm_up(campaign_id: int) -> bool:
    """Build a campaign's aggregate, charts and chart images into the shared cache, as its pages
    will ask for them (foitrack.services.page_data), so the first reader after a write does not
    wait for them. Safe to run twice: what is there already is not built again."""
    rt = _runtime()
    shared = shared_cache.for_config(rt.config)
    if shared is None:
        return False  # nowhere the web processes would find them
    with rt.new_session() as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            return False  # deleted since the write
        # Images drawn apart: the worker's threads (its pool is threads) share one
        # interpreter lock, which vl-convert would hold for every drawing; two at once, as
        # warming is most of what a worker does (a drawing process is some 150 MB).
        chart_images.allow_drawers(WARM_UP_DRAWERS)
        page_data.warm(session, shared, campaign, rt.today(), rt.clock,
                       draw=chart_images.draw_apart)
        session.rollback()  # read only
    return True


@shared_task(name=broker.PROPOSE_FIGURES)
def propose_figures(inbound_id: int) -> int:
    """Propose figures from a filed reply's attachments (issue 19), asked for at its filing
    once that committed. Safe to run twice."""
    rt = _runtime()
    with rt.new_session() as session:
        count = proposals.on_arrival(session, FileStore(rt.config["STORAGE_PATH"]), inbound_id)
        session.commit()
    return count


@worker_ready.connect
def take_up_own_jobs(sender: Any = None, **_kwargs: Any) -> None:
    """A worker starting under a name that has jobs running died with them: take them up."""
    name = getattr(sender, "hostname", None)
    if name:
        runtime.set_worker(name)
    _recover(name)


def _recover(restarted: str | None = None) -> list[int]:
    rt = _runtime()
    with rt.new_session() as session:
        ids = jobs.recover(session, restarted_worker=restarted)
        session.commit()
    if ids:
        log.warning("taking up jobs %s again", ids)
        broker.enqueue(rt.config, ids)
    return ids


@shared_task(name=broker.TICK)
def tick() -> dict[str, Any]:
    """Every minute: jobs whose worker died, jobs never handed over, campaigns due today,
    their owners' reminders 5 working days before, and releases whose embargo has lifted."""
    recovered = _recover()
    rt = _runtime()
    started = []
    with rt.new_session() as session:
        for campaign in jobs.due_campaigns(session, rt.today()):
            started.append(_scheduled_send(session, rt, campaign))
        reminders = send_reminders.remind_job(session, SCHEDULER, rt.mail, rt.today())
        fetch = None
        if rt.config.get("IMAP_HOST"):
            fetch = jobs.fetch(session, SCHEDULER,
                               every=dt.timedelta(minutes=rt.config.get("FETCH_MINUTES", 5)))
        # The portal opens them by itself on the first request after the time; this is the
        # trail's record that it did. (Their public pages read the frozen release, with no
        # cache to warm.)
        opened = embargo.record_openings(session, SCHEDULER,
                                         rt.config.get("NOW") or dt.datetime.now(dt.UTC))
        session.commit()
    return {"recovered": recovered, "sent": started, "fetch": fetch.id if fetch else None,
            "reminders": reminders.id if reminders else None,
            "opened": [f"{o.slug} v{o.version}" for o in opened]}


def _scheduled_send(session: Any, rt: Any, campaign: Any) -> str:
    from foitrack.services.requests import campaign_requests

    requests = campaign_requests(session, campaign)
    try:
        job = jobs.send_campaign(session, SCHEDULER, campaign, requests, rt.mail, rt.today())
    except Invalid as error:
        # Nothing to send (sent by hand, or no addresses): recorded, so it is not tried again.
        job = jobs.create(session, SCHEDULER, JobKind.send, campaign,
                          finished=f"scheduled send: {error}")
    log.info("scheduled send of %s: job %s", campaign.slug, job.id)
    return campaign.slug


@shared_task(name=broker.DIGEST)
def digest() -> int:
    rt = _runtime()
    with rt.new_session() as session:
        job = jobs.digest(session, SCHEDULER)
        session.commit()
        return job.id


@shared_task(name=broker.CHASE)
def chase() -> int | None:
    rt = _runtime()
    with rt.new_session() as session:
        job, _skipped = jobs.chase(session, SCHEDULER, rt.mail, rt.today(), rt.clock)
        session.commit()
        return job.id if job else None
