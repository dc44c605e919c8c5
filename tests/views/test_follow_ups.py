"""Narrowed follow-up requests (issue 17, point 2), through the pages: sending one from the
request page, its own page and clock, the campaign's list and the chase list, and the mark
that says which request the figures come from."""

from __future__ import annotations

import datetime as dt
import html

import pytest

from foitrack.models import Request
from foitrack.services import requests
from tests.factories import TEST_ACTOR, design_for, make_campaign, make_user
from tests.pages import csrf_token, sign_in

TODAY = dt.date(2019, 6, 10)
PAGE = "/campaigns/grooming-2019/requests/kent"
NARROWED = "How many offences in 2018/19 alone, without the breakdown by platform?"
D = dt.date.fromisoformat


@pytest.fixture
def researcher(app, client, session):
    """Kent and Surrey asked on 1 April 2019; Kent refused on cost (s.12) on 25 April, Surrey
    has not replied."""
    app.config["TODAY"] = TODAY
    make_campaign(session, design_for(["kent", "surrey"]))
    for slug in ("kent", "surrey"):
        record(session, slug, "sent", "2019-04-01")
    record(session, "kent", "response", "2019-04-25", outcome="refused", exemptions="s.12")
    user = make_user(session, role="researcher")
    sign_in(client, user.email)
    return user


def record(session, slug, kind, on, request=None, **fields):
    request = request or requests.get_request(session, "grooming-2019", slug)
    requests.add_event(session, TEST_ACTOR, request, kind, D(on), today=TODAY, **fields)
    session.commit()


def send(client, page=PAGE, follows="0", question=NARROWED, sent_on="2019-05-01"):
    return client.post(f"{page}/follow-ups", data={
        "follow_up-csrf_token": csrf_token(client, page), "follow_up-follows": follows,
        "follow_up-question": question, "follow_up-sent_on": sent_on})


def test_a_narrowed_follow_up_is_sent_from_the_request_page(client, researcher, session):
    """FOIA s.1(1), s.10(1): the follow-up is a new request with its own 20 working days: sent
    1 May 2019, due 31 May (the bank holidays of 6 and 27 May skipped, s.10(6)). The form
    starts from the original wording."""
    page = html.unescape(client.get(PAGE).get_data(as_text=True))
    assert "Send a narrowed follow-up" in page
    assert "Dear Kent Police, ...</textarea>" in page  # prefilled from the original wording
    response = send(client)
    assert response.status_code == 302, html.unescape(response.get_data(as_text=True))
    assert response.headers["Location"].endswith(f"{PAGE}?follow_up=1")
    session.expire_all()
    follow_up, = requests.get_request(session, "grooming-2019", "kent").follow_ups
    assert (follow_up.follow_up_number, follow_up.question) == (1, NARROWED)
    own = html.unescape(client.get(f"{PAGE}?follow_up=1").get_data(as_text=True))
    assert "narrowed follow-up 1" in own and NARROWED in own
    assert "1 of 2" in own and "Next force: Surrey Police" in own  # where Kent stands
    assert "31 May 2019" in own  # its own response date
    first = html.unescape(client.get(PAGE).get_data(as_text=True))
    assert 'id="follow-ups"' in first and "Follow-up 1" in first


def test_an_event_is_recorded_on_the_follow_up_not_the_first_request(client, researcher,
                                                                      session):
    """FOIA s.10(1): each request keeps its own timeline and clock."""
    send(client)
    page = f"{PAGE}?follow_up=1"
    response = client.post(f"{PAGE}/events?follow_up=1", data={
        "csrf_token": csrf_token(client, page), "kind": "response", "occurred_on": "2019-05-20",
        "outcome": "provided"})
    assert response.status_code == 302, html.unescape(response.get_data(as_text=True))
    assert response.headers["Location"].endswith(page)
    session.expire_all()
    first = requests.get_request(session, "grooming-2019", "kent")
    assert [e.kind.value for e in first.follow_ups[0].events] == ["sent", "response"]
    assert [e.kind.value for e in first.events] == ["sent", "response"]
    assert requests.state_of(first, TODAY).outcome == "refused"


def test_the_campaign_and_chase_lists_show_the_follow_up_as_its_own_row(client, researcher):
    """FOIA s.10(1): late on its own date (31 May), the follow-up is chased on its own."""
    send(client)
    campaign = html.unescape(client.get("/campaigns/grooming-2019").get_data(as_text=True))
    assert "Kent Police: narrowed follow-up 1" in campaign
    assert f'href="{PAGE}?follow_up=1"' in campaign
    chase = html.unescape(client.get("/chase").get_data(as_text=True))
    assert "Kent Police: narrowed follow-up 1" in chase
    assert "Surrey Police" in chase


def test_a_follow_up_to_a_request_with_no_reply_is_refused_with_a_message(client, researcher,
                                                                         session):
    """FOIA s.10(1): Surrey has not replied; a narrowed follow-up comes after a response, so
    the form says why and nothing is recorded."""
    page = "/campaigns/grooming-2019/requests/surrey"
    response = send(client, page=page)
    assert response.status_code == 400
    text = html.unescape(response.get_data(as_text=True))
    assert "has no reply yet" in text
    session.expire_all()
    assert session.query(Request).filter(Request.follow_up_number > 0).count() == 0


def test_an_empty_narrowed_question_is_refused_beside_its_field(client, researcher, session):
    """Bad input: the field is named and nothing changes."""
    response = send(client, question="  ")
    assert response.status_code == 400
    assert 'id="follow_up-question-error"' in response.get_data(as_text=True)
    session.expire_all()
    assert requests.get_request(session, "grooming-2019", "kent").follow_ups == []


def test_use_as_source_marks_the_follow_up(client, researcher, session):
    """FOIA s.17: once marked, the answered follow-up is where Kent's figures come from."""
    send(client)
    first = requests.get_request(session, "grooming-2019", "kent")
    session.expire_all()
    first = requests.get_request(session, "grooming-2019", "kent")
    record(session, "kent", "response", "2019-05-20", request=first.follow_ups[0],
           outcome="provided")
    page = f"{PAGE}?follow_up=1"
    assert "Use as source of figures" in client.get(page).get_data(as_text=True)
    response = client.post(f"{PAGE}/source?follow_up=1",
                           data={"csrf_token": csrf_token(client, page)})
    assert response.status_code == 302
    session.expire_all()
    first = requests.get_request(session, "grooming-2019", "kent")
    assert first.figures_from_id == first.follow_ups[0].id
    shown = html.unescape(client.get(PAGE).get_data(as_text=True))
    assert "Narrowed follow-up 1</a></dd>" in shown  # the summary names the source


def test_a_viewer_cannot_send_a_follow_up(app, client, session):
    """Permissions as for other request writes: a viewer sees no form and is refused."""
    app.config["TODAY"] = TODAY
    make_campaign(session, design_for(["kent"]))
    record(session, "kent", "sent", "2019-04-01")
    record(session, "kent", "response", "2019-04-25", outcome="refused", exemptions="s.12")
    sign_in(client, make_user(session, role="viewer").email)
    assert "Send a narrowed follow-up" not in client.get(PAGE).get_data(as_text=True)
    assert send(client).status_code == 403


def test_the_request_pages_with_follow_ups_repeat_no_element_id(client, researcher, session):
    """No Act: one id per element, on the first request's page and the follow-up's, with the
    follow-up form, the event form and a "Use as source" button on each answered request."""
    import collections
    import re

    send(client)
    first = requests.get_request(session, "grooming-2019", "kent")
    record(session, "kent", "response", "2019-05-20", request=first.follow_ups[0],
           outcome="provided")
    for page in (PAGE, f"{PAGE}?follow_up=1"):
        ids = re.findall(r'\sid="([^"]+)"', client.get(page).get_data(as_text=True))
        repeated = [i for i, n in collections.Counter(ids).items() if n > 1]
        assert repeated in ([], ["csrf_token"]), (page, repeated)  # csrf_token: as before
