"""The owner's reminder 5 working days before a campaign's send_on day, sent once per day set,
through the real outgoing mail path to a real SMTP server."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from foitrack.domain.clock import add_working_days
from foitrack.models import Job, JobKind, JobState, MessageKind, OutgoingMessage
from foitrack.services import campaigns, job_runner, jobs, mail, requests, send_reminders
from tests.factories import TEST_ACTOR, design_for, make_campaign, make_user

SEND_ON = dt.date(2027, 1, 8)  # a Friday
# Five working days before, as the FOI clock counts them: Thu 7, Wed 6, Tue 5, then Mon 4 is
# Scotland's New Year holiday and Fri 1 the UK's, so Thu 31 and Wed 30 December.
REMIND_ON = dt.date(2026, 12, 30)


@pytest.fixture
def settings(smtp_server, tmp_path):
    _server, port = smtp_server
    return mail.MailSettings(mail_from="research@charity.example", smtp_host="127.0.0.1",
                             smtp_port=port, smtp_starttls=False, throttle_seconds=0,
                             outbox=tmp_path / "outbox")


@pytest.fixture
def owner(session):
    return make_user(session, email="owner@charity.example")


@pytest.fixture
def campaign(session, owner):
    campaign = make_campaign(session, design_for(["kent", "sussex", "west-mercia"]))
    campaign.owner, campaign.send_on = owner, SEND_ON
    session.commit()
    return campaign


def _remind(app, session, settings, day):
    queued = send_reminders.queue(session, TEST_ACTOR, settings, day)
    session.commit()
    mail.deliver(app.extensions["foitrack.db"].session, settings, TEST_ACTOR, day,
                 message_ids=[m.id for m in queued])
    return queued


def test_the_reminder_day_counts_working_days_across_the_uk() -> None:
    assert send_reminders.reminder_day(SEND_ON) == REMIND_ON
    assert send_reminders.reminder_day(dt.date(2026, 12, 14)) == dt.date(2026, 12, 7)
    # Boxing Day (observed) on Monday 28 December is not a working day either.
    assert send_reminders.reminder_day(dt.date(2026, 12, 30)) == dt.date(2026, 12, 21)


def test_the_owner_is_reminded_5_working_days_before_and_once(app, session, campaign, settings,
                                                                smtp_server):
    server, _port = smtp_server
    assert _remind(app, session, settings, REMIND_ON - dt.timedelta(days=1)) == []
    assert len(_remind(app, session, settings, REMIND_ON)) == 1
    assert _remind(app, session, settings, REMIND_ON) == []  # run again: nothing more
    assert _remind(app, session, settings, dt.date(2027, 1, 7)) == []
    [message] = server.to("owner@charity.example")
    assert message["Subject"] == ("Reminder: Sexual communication with a child, 2017/18 and "
                                  "2018/19 will be emailed on Friday 8 January 2027")
    body = message.get_body(("plain",)).get_content()
    assert "is to be emailed on Friday 8 January 2027" in body
    assert "It will go to 3 authorities not yet sent to." in body
    assert "foitrack campaigns schedule grooming-2019 YYYY-MM-DD" in body
    session.expire_all()
    assert campaign.send_on_reminded == SEND_ON


def test_moving_the_day_re_arms_the_reminder(app, session, campaign, settings, smtp_server):
    server, _port = smtp_server
    assert len(_remind(app, session, settings, REMIND_ON)) == 1
    later = dt.date(2027, 1, 15)
    campaigns.update_campaign(session, TEST_ACTOR, campaign, {"send_on": later})
    session.commit()
    assert _remind(app, session, settings, REMIND_ON) == []  # not yet: 5 working days before
    assert len(_remind(app, session, settings, send_reminders.reminder_day(later))) == 1
    assert [m["Subject"].rsplit(" on ", 1)[1] for m in server.to("owner@charity.example")] == [
        "Friday 8 January 2027", "Friday 15 January 2027"]


def test_a_day_set_at_short_notice_is_reminded_of_at_once(app, session, campaign, settings):
    assert len(_remind(app, session, settings, dt.date(2027, 1, 6))) == 1


def test_no_reminder_once_sent_on_the_day_or_without_an_owner(app, session, campaign, settings,
                                                              smtp_server):
    server, _port = smtp_server
    jobs.send_campaign(session, TEST_ACTOR, campaign, requests.campaign_requests(session, campaign),
                       settings, REMIND_ON)
    session.commit()
    assert _remind(app, session, settings, REMIND_ON) == []  # sent early, by hand
    other = make_campaign(session, design_for(["kent"], slug="nobody-owns"))
    other.send_on = SEND_ON
    session.commit()
    assert _remind(app, session, settings, REMIND_ON) == []
    assert _remind(app, session, settings, SEND_ON) == []
    assert server.to("owner@charity.example") == []


def test_the_schedulers_job_sends_the_reminder(app, session, campaign, settings, smtp_server):
    """What the tick asks for: a job holding the reminders, run as a worker runs it."""
    server, port = smtp_server
    job = send_reminders.remind_job(session, TEST_ACTOR, settings, REMIND_ON)
    session.commit()
    assert job is not None and job.kind is JobKind.digest
    assert send_reminders.remind_job(session, TEST_ACTOR, settings, REMIND_ON) is None
    runtime = job_runner.Runtime(
        new_session=app.extensions["foitrack.db"].session, today=lambda: REMIND_ON,
        worker="test", config={"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port,
                               "SMTP_STARTTLS": False, "MAIL_FROM": "research@charity.example",
                               "MAIL_THROTTLE_SECONDS": 0})
    assert job_runner.run(runtime, job.id) is JobState.done
    assert len(server.to("owner@charity.example")) == 1
    session.expire_all()
    assert session.get(Job, job.id).summary == "1 sent"
    assert session.scalars(select(OutgoingMessage.kind)).all() == [MessageKind.digest]


def test_the_reminder_job_leaves_the_overdue_digest_to_its_hour(app, session, campaign, settings,
                                                                 smtp_server):
    """A request became overdue on the reminder day, so the owner's overdue digest is due that
    day too: the scheduler's reminder job sends the reminder only; the digest job (run at
    FOITRACK_DIGEST_HOUR) sends the digest."""
    server, port = smtp_server
    # Sent so that its 20th working day was the day before REMIND_ON: overdue from REMIND_ON.
    sent = next(day for day in (REMIND_ON - dt.timedelta(days=n) for n in range(20, 60))
                if add_working_days(day, 21).due == REMIND_ON)
    requests.add_event(session, TEST_ACTOR, requests.get_request(session, campaign.slug, "kent"),
                       "sent", sent, today=sent)
    session.commit()
    runtime = job_runner.Runtime(
        new_session=app.extensions["foitrack.db"].session, today=lambda: REMIND_ON,
        worker="test", config={"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port,
                               "SMTP_STARTTLS": False, "MAIL_FROM": "research@charity.example",
                               "MAIL_THROTTLE_SECONDS": 0})
    reminder = send_reminders.remind_job(session, TEST_ACTOR, settings, REMIND_ON)
    session.commit()
    assert job_runner.run(runtime, reminder.id) is JobState.done
    assert [m["Subject"].split(":")[0] for m in server.to("owner@charity.example")] == [
        "Reminder"]
    digest = jobs.digest(session, TEST_ACTOR)
    session.commit()
    assert job_runner.run(runtime, digest.id) is JobState.done
    subjects = [m["Subject"] for m in server.to("owner@charity.example")]
    assert subjects[1] == "foitrack: 1 requests became overdue on 2026-12-30"


def test_a_campaign_piloted_on_one_force_is_still_reminded_of_the_rest(app, session, campaign,
                                                                        settings, smtp_server):
    server, _port = smtp_server
    kent = requests.get_request(session, campaign.slug, "kent")
    jobs.send_campaign(session, TEST_ACTOR, campaign, [kent], settings, REMIND_ON)
    session.commit()
    assert len(_remind(app, session, settings, REMIND_ON)) == 1
    [message] = server.to("owner@charity.example")
    body = message.get_body(("plain",)).get_content()
    assert "It will go to 2 authorities not yet sent to." in body
