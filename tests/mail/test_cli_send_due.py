"""`foitrack mail send --due` from cron: today's campaign is sent once, a later one is not, and
owners are reminded 5 working days before; against a real SMTP server."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from foitrack.cli import main
from foitrack.domain.clock import add_working_days, today_in_uk
from foitrack.models import Job, JobKind, JobState
from foitrack.services import requests
from tests.factories import design_for, make_campaign, make_user


@pytest.fixture
def cron(app, cli_env, smtp_server):
    server, port = smtp_server
    env = {**cli_env, "FOITRACK_SMTP_HOST": "127.0.0.1", "FOITRACK_SMTP_PORT": str(port),
           "FOITRACK_SMTP_STARTTLS": "0", "FOITRACK_MAIL_FROM": "research@charity.example",
           "FOITRACK_MAIL_THROTTLE_SECONDS": "0"}
    return CliRunner(env=env), server


def run(runner, *args):
    return runner.invoke(main, list(args), catch_exceptions=False)


def _campaign(session, slug, forces, send_on, owner=None):
    campaign = make_campaign(session, design_for(forces, slug=slug))
    campaign.send_on, campaign.owner = send_on, owner
    session.commit()
    return campaign


def test_send_due_sends_todays_campaign_once_and_not_a_later_one(cron, session):
    runner, server = cron
    today = today_in_uk()
    due = _campaign(session, "due-today", ["kent", "sussex"], today)
    later = _campaign(session, "next-month", ["west-mercia"], today + dt.timedelta(days=40))
    first = run(runner, "mail", "send", "--due")
    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines()[-1].startswith("due-today: job ")
    assert first.stdout.splitlines()[-1].endswith(" done: 2 sent.")
    assert sorted(m["To"] for m in server.messages) == sorted(
        r.authority.foi_email for r in requests.campaign_requests(session, due))
    job = session.scalars(select(Job)).one()
    assert (job.kind, job.state, job.campaign_id) == (JobKind.send, JobState.done, due.id)
    again = run(runner, "mail", "send", "--due")
    assert again.stdout.strip() == "No campaign is due to be sent."
    assert len(server.messages) == 2
    session.expire_all()
    assert all(not r.events for r in requests.campaign_requests(session, later))


def test_send_due_reminds_the_owner_once(cron, session):
    runner, server = cron
    owner = make_user(session, email="owner@charity.example")
    send_on = add_working_days(today_in_uk(), 5).due
    _campaign(session, "soon", ["kent"], send_on, owner)
    first = run(runner, "mail", "send", "--due")
    assert first.stdout.splitlines() == ["Reminders: 1 sent.", "No campaign is due to be sent."]
    assert run(runner, "mail", "remind").stdout.strip() == "Reminders: 0 sent."
    assert [m["To"] for m in server.messages] == ["owner@charity.example"]


def test_send_due_takes_no_campaign(cron):
    runner, _server = cron
    refused = runner.invoke(main, ["mail", "send", "grooming-2019", "--due"])
    assert refused.exit_code == 2
    assert "--due sends every campaign that is due: give no CAMPAIGN" in refused.output
    assert runner.invoke(main, ["mail", "send"]).exit_code == 2
