"""`foitrack requests event ... --follow-up N`: an event on a narrowed follow-up's own timeline
(a follow-up is a new request, FOIA s.1(1), with its own clock, s.10(1))."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from foitrack.cli import main
from foitrack.models import Event
from foitrack.services import follow_ups, requests
from tests.factories import TEST_ACTOR, design_for, make_campaign

D = dt.date.fromisoformat
TODAY = D("2019-07-31")


def _campaign(session):
    make_campaign(session, design_for(["kent", "essex"]))
    kent = requests.get_request(session, "grooming-2019", "kent")
    requests.add_event(session, TEST_ACTOR, kent, "sent", D("2019-04-01"), today=TODAY)
    requests.add_event(session, TEST_ACTOR, kent, "response", D("2019-04-25"), today=TODAY,
                       outcome="refused", exemptions="s.12")
    follow_ups.open_follow_up(session, TEST_ACTOR, kent, "Only 2018/19, no breakdown.",
                              D("2019-05-01"), today=TODAY)
    session.commit()


def _events(session):
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Event))


def test_follow_up_records_on_the_follow_ups_timeline(runner, session):
    """FOIA s.10(1): the follow-up's answer is on its own timeline; the first stays refused."""
    _campaign(session)
    result = runner.invoke(main, ["requests", "event", "grooming-2019", "kent", "response",
                                  "2019-05-20", "--outcome", "provided", "--follow-up", "1"])
    assert result.exit_code == 0, result.output
    assert "Kent Police" in result.output
    session.expire_all()
    follow_up = follow_ups.get_follow_up(session, "grooming-2019", "kent", 1)
    assert requests.state_of(follow_up, TODAY).outcome == "provided"
    first = requests.get_request(session, "grooming-2019", "kent")
    assert requests.state_of(first, TODAY).outcome == "refused"


def test_an_unknown_follow_up_is_refused_naming_the_option_and_nothing_is_recorded(
        runner, session):
    """FOIA s.1(1): a follow-up never sent has no timeline to record on."""
    _campaign(session)
    before = _events(session)
    result = runner.invoke(main, ["requests", "event", "grooming-2019", "kent", "response",
                                  "2019-05-20", "--outcome", "provided", "--follow-up", "2"])
    assert result.exit_code != 0
    assert "--follow-up" in result.output
    assert "has no follow-up 2 to 'kent'" in result.output
    assert _events(session) == before
