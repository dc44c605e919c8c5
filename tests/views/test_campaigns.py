"""A researcher's campaign in the browser: create for the 43, pilot, send the rest, track."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from foitrack.services import requests
from tests.factories import REQUEST_TEXT, load_forces, make_user
from tests.pages import bulk, csrf_token, post_new_campaign, sign_in, statuses


@pytest.fixture
def researcher(app, client, session):
    app.config["TODAY"] = dt.date(2019, 6, 4)
    load_forces(session)
    user = make_user(session, role="researcher")
    sign_in(client, user.email)
    return user


def test_create_a_campaign_for_the_43(client, researcher):
    response = post_new_campaign(client)
    assert response.status_code == 302 and response.location == "/campaigns/grooming-2019"
    page = client.get("/campaigns/grooming-2019").get_data(as_text=True)
    assert "Campaign created with 43 requests, none sent yet." in page
    found = statuses(page)
    assert len(found) == 43 and set(found.values()) == {"Not sent"}


def test_a_bad_campaign_shows_every_problem(client, researcher):
    response = post_new_campaign(client, title="", request_text="Dear {{ authority.nmae }}")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert '<a href="#title">Title: This field is required.</a>' in page
    response = post_new_campaign(client, request_text="Dear {{ authority.nmae }}")
    assert "has no attribute &#39;nmae&#39;" in response.get_data(as_text=True)


def test_hand_picked_authorities(client, researcher):
    response = post_new_campaign(client, target_set="", authorities=["kent", "sussex"])
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert statuses(page) == {"Kent Police": "Not sent", "Sussex Police": "Not sent"}


def test_pilot_then_send_the_rest_then_track(client, researcher, session):
    post_new_campaign(client)
    assert bulk(client, "sent", "2019-05-01", ["kent", "surrey"]).status_code == 302
    page = client.get("/campaigns/grooming-2019").get_data(as_text=True)
    assert "Recorded sent on 1 May 2019 for 2 requests." in page
    found = statuses(page)
    assert found["Kent Police"] == "Awaiting response" and found["Gwent Police"] == "Not sent"
    rest = [slug for slug in re.findall(r'name="requests" value="([^"]+)"', page)
            if slug not in ("kent", "surrey")]
    assert bulk(client, "sent", "2019-05-08", rest).status_code == 302
    page = client.get("/campaigns/grooming-2019").get_data(as_text=True)
    assert set(statuses(page).values()) == {"Awaiting response"}
    assert "43 sent, 0 answered" in page
    assert page.count("Overdue: 2 working days late") == 2  # the pilot, due 31 May


def test_a_bulk_action_that_fails_for_one_records_nothing(client, researcher):
    post_new_campaign(client)
    bulk(client, "sent", "2019-05-01", ["kent"])
    response = bulk(client, "sent", "2019-05-08", ["kent", "surrey"])
    page = client.get(response.location).get_data(as_text=True)
    assert "Nothing was recorded. Kent Police: Request sent on 2019-05-08: the request was already" in page
    assert statuses(page)["Surrey Police"] == "Not sent"


def event(client, authority, **fields):
    url = f"/campaigns/grooming-2019/requests/{authority}"
    data = {"csrf_token": csrf_token(client, url), **fields}
    return client.post(f"{url}/events", data=data)


def test_a_request_page_shows_its_timeline_and_explains_its_deadline(client, researcher):
    post_new_campaign(client)
    bulk(client, "sent", "2019-05-01", ["west-mercia"])
    page = client.get("/campaigns/grooming-2019/requests/west-mercia").get_data(as_text=True)
    assert "Response: <strong>31 May 2019</strong>" in page
    assert "2019-05-06 May Day (UK)" in page and "2019-05-27 Spring Bank Holiday (UK)" in page
    assert "Dear Freedom of Information Officer,\n\nHow many offences did West Mercia Police record?" in page
    response = event(client, "west-mercia", kind="response", occurred_on="2019-05-20",
                     outcome="refused", exemptions="12", note="Cost limit")
    assert response.status_code == 302
    page = client.get("/campaigns/grooming-2019/requests/west-mercia").get_data(as_text=True)
    assert "Response received: Refused (s.12)" in page
    assert "Answered on time." in page
    # 40 working days after 20 May 2019, skipping 27 May and 12 July (NI): 17 July.
    assert "Ask for an internal review by: <strong>17 July 2019</strong>" in page


def test_a_refused_event_says_why_beside_the_field(client, researcher, session):
    post_new_campaign(client)
    response = event(client, "kent", kind="internal_review_requested", occurred_on="2019-05-20")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "the request has not been sent by then" in page
    assert 'href="#occurred_on-day"' in page  # the date's first box (GOV.UK)
    request = requests.get_request(session, "grooming-2019", "kent")
    assert request.events == []


def test_the_reference_is_saved(client, researcher):
    post_new_campaign(client)
    url = "/campaigns/grooming-2019/requests/kent"
    client.post(f"{url}/reference", data={"csrf_token": csrf_token(client, url), "reference": "FOI/2019/123"})
    assert "FOI/2019/123" in client.get(url).get_data(as_text=True)


def test_the_chase_list_page_and_its_csv(client, researcher):
    post_new_campaign(client)
    bulk(client, "sent", "2019-05-01", ["kent", "surrey"])
    event(client, "surrey", kind="response", occurred_on="2019-05-20", outcome="provided")
    page = client.get("/chase").get_data(as_text=True)
    assert "1 request" in page and ">Kent Police</a>" in page and "Surrey Police" not in page
    csv_text = client.get("/chase.csv").get_data(as_text=True)
    assert csv_text.splitlines()[1].startswith("Kent Police,E23000032,grooming-2019,2019-05-31,2,overdue")


def test_editing_the_wording_after_the_pilot_makes_version_2(client, researcher, session):
    post_new_campaign(client)
    bulk(client, "sent", "2019-05-01", ["kent"])
    url = "/campaigns/grooming-2019/edit"
    response = client.post(url, data={
        "csrf_token": csrf_token(client, url), "title": "Grooming 2019", "status": "active",
        "subject": "FOI request", "request_text": "{{ salutation }}, a clearer question.",
    })
    assert response.status_code == 302
    assert "The wording is now version 2." in client.get("/campaigns/grooming-2019").get_data(as_text=True)
    kent = client.get("/campaigns/grooming-2019/requests/kent").get_data(as_text=True)
    assert "version 1 (sent with it)" in kent and "How many offences did Kent Police record?" in kent


def test_the_edit_page_sets_how_far_apart_the_repeats_are(client, researcher, session):
    from foitrack.services.campaigns import get_campaign

    post_new_campaign(client)
    url = "/campaigns/grooming-2019/edit"
    form = {"csrf_token": csrf_token(client, url), "title": "Grooming 2019", "status": "active",
            "subject": "FOI request", "request_text": "{{ salutation }}, a question."}
    assert client.post(url, data={**form, "cadence_months": "3"}).status_code == 302
    assert get_campaign(session, "grooming-2019").cadence_months == 3
    refused = client.post(url, data={**form, "cadence_months": "0"})
    assert refused.status_code == 400 and "cadence_months" in refused.get_data(as_text=True)
    # Left empty (an older page, or a script that does not know it): as it was.
    assert client.post(url, data=form).status_code == 302
    session.expire_all()
    assert get_campaign(session, "grooming-2019").cadence_months == 3


def test_campaign_list_shows_progress(client, researcher):
    post_new_campaign(client)
    bulk(client, "sent", "2019-05-01", ["kent", "surrey"])
    page = client.get("/campaigns/").get_data(as_text=True)
    assert '<progress max="43" value="0"' in page
    row = page.split('id="campaigns"', 1)[1]
    assert re.search(r'<td class="numeric">43</td>\s*<td class="numeric">2</td>', row)


def test_viewers_see_no_write_forms(app, session):
    app.config["TODAY"] = dt.date(2019, 6, 4)
    load_forces(session)
    from foitrack.services.campaigns import create_campaign
    from tests.factories import TEST_ACTOR

    create_campaign(session, TEST_ACTOR, title="Grooming 2019", request_text=REQUEST_TEXT,
                    authority_keys=["kent"])
    session.commit()
    viewer = make_user(session, role="viewer")
    client = app.test_client()
    sign_in(client, viewer.email)
    page = client.get("/campaigns/grooming-2019").get_data(as_text=True)
    assert "bulk-form" not in page and "Edit campaign" not in page
    assert "Add an event" not in client.get("/campaigns/grooming-2019/requests/kent").get_data(as_text=True)


def test_removing_an_event_from_the_request_page(client, researcher, session):
    post_new_campaign(client)
    bulk(client, "sent", "2019-05-01", ["kent"])
    event(client, "kent", kind="response", occurred_on="2019-05-20", outcome="not_held")
    request = requests.get_request(session, "grooming-2019", "kent")
    wrong = next(e for e in request.events if e.kind.value == "response")
    url = "/campaigns/grooming-2019/requests/kent"
    response = client.post(f"{url}/events/{wrong.id}/remove", data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "It stays on the record, struck through." in page
    assert '<li class="removed">' in page
    assert "Awaiting response" in page
