"""After the first reply (issue 17, "Wrong today"), through the pages: an extension notice with
the exemption it weighs, and a reply filed but not yet read, which is shown as such and left
off the chase list."""

from __future__ import annotations

import datetime as dt
import html

import pytest

from foitrack.services import requests
from tests.factories import TEST_ACTOR, design_for, make_campaign, make_user
from tests.pages import csrf_token, sign_in

TODAY = dt.date(2019, 6, 10)  # Kent and Surrey, sent on 1 May, were due on 30 May
PAGE = "/campaigns/grooming-2019/requests/kent"
D = dt.date.fromisoformat


@pytest.fixture
def researcher(app, client, session):
    app.config["TODAY"] = TODAY
    make_campaign(session, design_for(["kent", "surrey"]))
    for slug in ("kent", "surrey"):
        record(session, slug, "sent", "2019-05-01")
    user = make_user(session, role="researcher")
    sign_in(client, user.email)
    return user


def record(session, slug, kind, on, **fields):
    request = requests.get_request(session, "grooming-2019", slug)
    requests.add_event(session, TEST_ACTOR, request, kind, D(on), today=TODAY, **fields)
    session.commit()


def test_an_extension_notice_is_recorded_with_the_exemption_it_weighs(client, researcher,
                                                                      session):
    """FOIA s.10(3) and s.17(2): the notice extending the time for the public interest test
    names the exemption being weighed, so the form takes it on an extension."""
    response = client.post(f"{PAGE}/events", data={
        "csrf_token": csrf_token(client, PAGE), "kind": "extension", "occurred_on": "2019-05-20",
        "due_on": "2019-06-27", "exemptions": "s.31"})
    assert response.status_code == 302, html.unescape(response.get_data(as_text=True))
    session.expire_all()  # the page wrote through its own session
    kent = requests.get_request(session, "grooming-2019", "kent")
    extension, = [e for e in kent.events if e.kind.value == "extension"]
    assert extension.exemptions == ["s.31"]
    page = html.unescape(client.get(PAGE).get_data(as_text=True))
    assert "weighing s.31 (s.17(2))" in page


def test_a_reply_to_read_is_shown_so_and_not_offered_for_chasing(client, researcher, session):
    """No Act: a reply filed from the mailbox may be the answer; FOIA s.10(1) still counts the
    request late, but it is not chased until someone has read it."""
    assert "Kent Police" in client.get("/chase").get_data(as_text=True)
    record(session, "kent", "reply_received", "2019-06-03")
    page = client.get(PAGE).get_data(as_text=True)
    assert "Reply received: to read" in page
    chase = client.get("/chase").get_data(as_text=True)
    assert "Kent Police" not in chase
    assert "Surrey Police" in chase
    campaign = client.get("/campaigns/grooming-2019").get_data(as_text=True)
    assert "Reply received: to read" in campaign
