"""Jobs as rows: handed to the broker only after commit, claimed once, cancelled, taken up again
when their worker died (issue 21, points 4 and 5)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import redis
from sqlalchemy import select

from foitrack.db import utcnow
from foitrack.models import DeliveryStatus, Job, JobKind, JobState, OutgoingMessage
from foitrack.services import jobs, mail, requests
from tests.factories import TEST_ACTOR, design_for, make_campaign
from tests.queue.conftest import REDIS_URL, redis_is_up

TODAY = dt.date(2019, 5, 1)


@pytest.fixture
def campaign(session):
    return make_campaign(session, design_for(["west-mercia", "kent", "sussex"]))


@pytest.fixture
def settings(tmp_path):
    return mail.MailSettings(mail_from="research@charity.example", outbox=tmp_path / "outbox",
                             throttle_seconds=0)


@pytest.fixture
def redis_queue(app):
    """The app's jobs go to a queue of this test's own on the real Redis."""
    if not redis_is_up():
        pytest.fail(f"Redis is not answering at {REDIS_URL}")
    queue = f"test-{uuid.uuid4().hex[:12]}"
    app.config.update(BROKER_URL=REDIS_URL, QUEUE=queue)
    client = redis.Redis.from_url(REDIS_URL)
    yield lambda: client.llen(queue)
    client.delete(queue)


def _send(session, campaign, settings) -> Job:
    return jobs.send_campaign(session, TEST_ACTOR, campaign,
                              requests.campaign_requests(session, campaign), settings, TODAY)


def test_a_job_reaches_the_broker_only_when_its_transaction_commits(session, campaign, settings,
                                                                    redis_queue):
    _send(session, campaign, settings)
    session.flush()
    assert redis_queue() == 0  # written, not committed: no worker may look for it yet
    session.rollback()
    assert redis_queue() == 0 and session.scalar(select(Job.id)) is None
    job = _send(session, campaign, settings)
    session.commit()
    assert redis_queue() == 1
    assert session.get(Job, job.id).state is JobState.queued


def test_a_send_ties_its_messages_to_its_job_and_refuses_a_second_while_it_runs(
        session, campaign, settings):
    job = _send(session, campaign, settings)
    session.commit()
    assert [m.job_id for m in jobs.messages_of(session, job)] == [job.id] * 3
    progress = jobs.progress(session, job)
    assert (progress.total, progress.done, progress.left) == (3, 0, 3)
    with pytest.raises(Exception, match="being sent already"):
        _send(session, campaign, settings)


def test_a_job_is_claimed_once(session, campaign, settings):
    job = _send(session, campaign, settings)
    session.commit()
    assert jobs.claim(session, job.id, "w1@host") is True
    assert jobs.claim(session, job.id, "w2@host") is False  # delivered twice: runs once
    session.commit()
    session.refresh(job)
    assert job.worker == "w1@host"


def test_cancelling_a_queued_send_cancels_its_messages_and_frees_the_requests(
        session, campaign, settings):
    job = _send(session, campaign, settings)
    session.commit()
    jobs.cancel(session, TEST_ACTOR, job)
    session.commit()
    assert job.state is JobState.cancelled
    assert {m.status for m in jobs.messages_of(session, job)} == {DeliveryStatus.cancelled}
    with pytest.raises(Exception, match="already finished"):
        jobs.cancel(session, TEST_ACTOR, job)
    # Nothing went: the campaign can be sent again, to all three.
    plan = mail.plan_campaign_send(session, campaign, requests.campaign_requests(session, campaign))
    assert len(plan.to_send) == 3


def test_a_job_whose_worker_died_goes_back_with_the_messages_it_had_not_handed_over(
        session, campaign, settings):
    job = _send(session, campaign, settings)
    session.commit()
    jobs.claim(session, job.id, "w1@host")
    first, second, third = jobs.messages_of(session, job)
    first.status, first.sent_at = DeliveryStatus.sent, utcnow()
    # Claimed, then the worker died before the mail server saw it: safe to send again.
    second.status = DeliveryStatus.sending
    # Handed over when it died: it may have gone, so a person checks.
    third.status, third.handed_over_at = DeliveryStatus.sending, utcnow()
    session.commit()
    assert jobs.recover(session) == []  # beating a moment ago, under another name: alive
    assert jobs.recover(session, restarted_worker="w1@host") == [job.id]
    session.commit()
    session.expire_all()
    assert session.get(Job, job.id).state is JobState.queued
    assert [m.status for m in jobs.messages_of(session, job)] == [
        DeliveryStatus.sent, DeliveryStatus.queued, DeliveryStatus.sending]
    assert jobs.message_ids_to_send(session, job.id) == [second.id]


def test_a_job_silent_for_too_long_is_taken_up_by_the_tick(session, campaign, settings):
    job = _send(session, campaign, settings)
    session.commit()
    jobs.claim(session, job.id, "w1@host")
    session.commit()
    later = utcnow() + jobs.STALE_AFTER + dt.timedelta(seconds=1)
    assert jobs.recover(session, now=later) == [job.id]


def test_a_queued_job_never_taken_is_handed_over_again(session, campaign, settings):
    job = _send(session, campaign, settings)
    session.commit()
    assert jobs.recover(session) == []
    later = utcnow() + jobs.UNCLAIMED_AFTER + dt.timedelta(seconds=1)
    assert jobs.recover(session, now=later) == [job.id]


def test_a_campaign_is_due_on_its_send_on_day_once(session, campaign):
    campaign.send_on = TODAY
    session.commit()
    assert jobs.due_campaigns(session, TODAY - dt.timedelta(days=1)) == []
    assert jobs.due_campaigns(session, TODAY) == [campaign]
    jobs.create(session, TEST_ACTOR, JobKind.send, campaign)
    assert jobs.due_campaigns(session, TODAY) == []  # asked for: not again


def test_a_pilot_sent_before_the_day_leaves_the_rest_to_the_scheduled_send(session, campaign):
    """Pilot on two or three forces, fix the wording, send to the rest: a send asked for before
    send_on does not stop the scheduled one; one asked for on the day does."""
    campaign.send_on = TODAY
    pilot = jobs.create(session, TEST_ACTOR, JobKind.send, campaign)
    pilot.created_at = dt.datetime.combine(TODAY - dt.timedelta(days=3), dt.time(15),
                                           tzinfo=dt.UTC)
    session.commit()
    assert jobs.due_campaigns(session, TODAY) == [campaign]
    scheduled = jobs.create(session, TEST_ACTOR, JobKind.send, campaign)
    scheduled.created_at = dt.datetime.combine(TODAY, dt.time(7, 15), tzinfo=dt.UTC)
    session.commit()
    assert jobs.due_campaigns(session, TODAY) == []


def test_progress_counts_what_the_messages_say(session, campaign, settings):
    job = _send(session, campaign, settings)
    session.commit()
    first, second, third = jobs.messages_of(session, job)
    first.status, second.status, third.status = (DeliveryStatus.outbox, DeliveryStatus.failed,
                                                  DeliveryStatus.sending)
    job.state = JobState.done
    session.commit()
    progress = jobs.progress(session, job)
    assert (progress.done, progress.outbox, progress.failed, progress.to_check, progress.left) == \
        (1, 1, 1, 1, 0)
    assert progress.summary() == ("0 sent, 1 written to the outbox (not sent: no mail server "
                                  "set), 1 failed, 1 to check by hand")
    assert session.scalars(select(OutgoingMessage.job_id)).all() == [job.id] * 3


def test_the_digest_job_mails_each_owner_the_requests_late_today(app, session, campaign):
    """The scheduler's daily digest, run as any job: the owner of a campaign whose requests
    became overdue today gets one message listing them."""
    from tests.background import run_queued_jobs
    from tests.factories import make_user

    campaign.owner = make_user(session, email="owner@charity.example")
    for request in requests.campaign_requests(session, campaign):
        requests.add_event(session, TEST_ACTOR, request, "sent", TODAY, today=TODAY)
    session.commit()
    app.config["TODAY"] = dt.date(2019, 6, 3)  # due Fri 31 May: overdue from Mon 3 June
    jobs.digest(session, TEST_ACTOR)
    session.commit()
    assert run_queued_jobs(app) == [JobState.done]
    digest = session.scalars(select(OutgoingMessage).where(
        OutgoingMessage.to_address == "owner@charity.example")).one()
    assert digest.status is DeliveryStatus.outbox and digest.job_id is not None
    assert digest.body.count("due 2019-05-31") == 3


def test_a_broker_that_is_down_loses_no_job(app, session, campaign, settings):
    """The commit stands and the job stays queued in the database; the scheduler's tick hands
    it over again once the broker is back (jobs.recover lists it)."""
    from tests.queue.conftest import free_port

    app.config.update(BROKER_URL=f"redis://127.0.0.1:{free_port()}/0", QUEUE="nowhere")
    job = _send(session, campaign, settings)
    session.commit()  # logs the broker's refusal; raises nothing
    session.expire_all()
    assert session.get(Job, job.id).state is JobState.queued
    assert len(jobs.messages_of(session, job)) == 3
    later = utcnow() + jobs.UNCLAIMED_AFTER + dt.timedelta(seconds=1)
    assert jobs.recover(session, now=later) == [job.id]


@pytest.mark.postgres
def test_two_sends_asked_for_at_once_queue_each_message_once(app, session, campaign, settings):
    """Two people pressing Send at the same moment: the second waits for the first to commit,
    then finds nothing left to send (it was 3 messages each, 6 in all, before the hold)."""
    import threading

    database = app.extensions["foitrack.db"]
    first_holds, first_may_commit = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def first() -> None:
        with database.session() as mine:
            found = mine.get(type(campaign), campaign.id)
            _send(mine, found, settings)
            first_holds.set()
            first_may_commit.wait(10)
            mine.commit()

    def second() -> None:
        first_holds.wait(10)
        with database.session() as mine:
            found = mine.get(type(campaign), campaign.id)
            try:
                _send(mine, found, settings)
                mine.commit()
                outcome["second"] = "queued"
            except Exception as error:  # noqa: BLE001 - the refusal is what is expected
                outcome["second"] = str(error)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    first_holds.wait(10)
    import time

    time.sleep(0.5)  # the second is waiting on the hold now (or would have queued already)
    assert "second" not in outcome
    first_may_commit.set()
    for thread in threads:
        thread.join(30)
    assert "being sent already" in str(outcome["second"])
    assert len(session.scalars(select(OutgoingMessage)).all()) == 3
