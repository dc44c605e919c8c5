"""The repeat form: the periods and wording moved on, shown as a diff to accept or edit."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import select

from foitrack.models import Campaign
from tests.factories import fixture_design, make_campaign, make_user
from tests.pages import csrf_token, sign_in

PAGE = "/campaigns/grooming-2019/repeat"
TODAY = dt.date(2020, 3, 2)


@pytest.fixture
def researcher(app, client, session):
    app.config["TODAY"] = TODAY
    make_campaign(session, fixture_design("grooming-2019"))
    user = make_user(session, role="researcher")
    sign_in(client, user.email)
    return user


def _field(page: str, name: str) -> str:
    found = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page)
    return html.unescape(found.group(1)) if found else ""


def _textarea(page: str) -> str:
    found = re.search(r'<textarea[^>]*name="request_text"[^>]*>(.*?)</textarea>', page, re.S)
    assert found
    return html.unescape(found.group(1)).lstrip("\r\n")


def test_the_form_proposes_the_wording_and_shows_the_diff(client, researcher):
    page = client.get(PAGE).get_data(as_text=True)
    assert _field(page, "title") == "Sexual communication with a child, 2018/19 and 2019/20"
    assert _field(page, "slug") == "grooming-2020"
    assert "2018/19 and in 2019/20, with the communication method" in _textarea(page)
    diff = html.unescape(re.search(r'<pre class="letter" id="wording-diff">(.*?)</pre>', page,
                                   re.S).group(1))
    assert ("-2017/18 and in 2018/19, with the communication method used and the victim's age "
            "band where\n+2018/19 and in 2019/20, with the communication method used and the "
            "victim's age band where\n") in diff
    periods = re.search(r'<table class="table" id="moved-periods">(.*?)</table>', page, re.S)
    cells = [re.sub(r"<[^>]+>", "", cell).strip()
             for cell in re.findall(r"<td>(.*?)</td>", periods.group(1), re.S)]
    assert cells[:4] == ["2017/18 (2017-18): 2017-04-01 to 2018-03-31",
                         "2018/19 (2018-19): 2018-04-01 to 2019-03-31",
                         "2018/19 (2018-19): 2018-04-01 to 2019-03-31",
                         "2019/20 (2019-20): 2019-04-01 to 2020-03-31"]
    # "the two years" has no year to move: named, for the researcher to check.
    assert "label &#39;the two years&#39; (two-years): no year of its dates in it" in page


def test_accepting_keeps_the_proposed_wording_and_the_send_on_day(client, researcher, session):
    page = client.get(PAGE).get_data(as_text=True)
    made = client.post(PAGE, data={
        "csrf_token": csrf_token(client, PAGE), "title": _field(page, "title"),
        "slug": _field(page, "slug"), "request_text": _textarea(page), "send_on": "2020-04-06"})
    assert made.status_code == 302 and made.headers["Location"].endswith("/campaigns/grooming-2020")
    repeat = session.scalar(select(Campaign).where(Campaign.slug == "grooming-2020"))
    assert repeat.current_version.request_text == _textarea(page)
    assert repeat.send_on == dt.date(2020, 4, 6)
    assert [p.label for p in repeat.periods] == ["2018/19", "2019/20"]


def test_an_edited_wording_is_kept_and_a_past_day_is_refused_beside_its_field(client, researcher,
                                                                               session):
    edited = "{{ salutation }},\n\nHow many in 2019/20 alone?"
    refused = client.post(PAGE, data={
        "csrf_token": csrf_token(client, PAGE), "title": "Next", "slug": "next",
        "request_text": edited, "send_on": "2020-03-01"})
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "2020-03-01 has passed: choose today or a later day" in page
    assert _textarea(page) == edited  # what was typed is kept, with its own diff
    assert "+How many in 2019/20 alone?" in html.unescape(page)
    assert session.scalar(select(Campaign.id).where(Campaign.slug == "next")) is None
    # As a browser sends it, lines ending in CR LF: kept as typed, with plain line ends.
    made = client.post(PAGE, data={"csrf_token": csrf_token(client, PAGE), "title": "Next",
                                   "slug": "next", "request_text": edited.replace("\n", "\r\n")})
    assert made.status_code == 302
    repeat = session.scalar(select(Campaign).where(Campaign.slug == "next"))
    assert repeat.current_version.request_text == edited and repeat.send_on is None


def test_a_campaign_without_a_design_repeats_with_its_wording_as_it_was(client, researcher,
                                                                       session):
    from foitrack.services import campaigns
    from tests.factories import REQUEST_TEXT, TEST_ACTOR

    campaigns.create_campaign(session, TEST_ACTOR, title="Plain", request_text=REQUEST_TEXT,
                              authority_keys=["kent"])
    session.commit()
    page = client.get("/campaigns/plain/repeat").get_data(as_text=True)
    assert 'id="moved-periods"' not in page
    assert '<p id="wording-diff">The wording is as last time\'s.</p>' in page
    assert _textarea(page) == REQUEST_TEXT
