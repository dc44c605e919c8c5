"""The scheduler in a real worker reminds a campaign's owner 5 working days before its
send_on day, once, and does not send the campaign early."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from foitrack.domain.clock import add_working_days, today_in_uk
from foitrack.models import Campaign, Job, JobKind
from tests.factories import design_for, make_campaign, make_user
from tests.queue.conftest import wait_for

pytestmark = pytest.mark.slow


def test_the_scheduler_reminds_the_owner_once(app, session, slow_smtp, start_worker):
    owner = make_user(session, email="owner@charity.example")
    campaign = make_campaign(session, design_for(["kent", "sussex"], slug="soon"))
    send_on = add_working_days(today_in_uk(), 5).due
    campaign.owner, campaign.send_on = owner, send_on
    session.commit()
    start_worker("w1", "--beat")  # the scheduler in the worker, as `foitrack serve` runs it
    wait_for(lambda: slow_smtp.to("owner@charity.example"), what="the reminder")
    time.sleep(2.5)  # more ticks: nothing more, and the campaign is not sent early
    assert [m["To"] for m in slow_smtp.messages] == ["owner@charity.example"]
    assert slow_smtp.messages[0]["Subject"].startswith("Reminder: Sexual communication")
    session.expire_all()
    assert session.scalar(select(Campaign.send_on_reminded)) == send_on
    assert session.scalars(select(Job.kind)).all() == [JobKind.digest]
