"""A request's representation lists its narrowed follow-ups (issue 17, point 2): each a new
request (FOIA s.1(1)) with its own clock (s.10(1)), on the authority's one request resource."""

from __future__ import annotations

import datetime as dt

from foitrack.services import follow_ups, requests
from foitrack.web.api import REQUEST_SCHEMA
from tests.factories import TEST_ACTOR

URL = "/api/v1/campaigns/grooming-2019/requests/west-mercia"
D = dt.date.fromisoformat
TODAY = D("2023-12-01")
NARROWED = "Only 2022/23, with no breakdown."


def test_the_request_lists_its_follow_ups_and_where_the_figures_come_from(
        app, client, session, grooming, tokens):
    """FOIA s.1(1), s.10(1): the follow-up sent on Monday 2 October 2023 is due on the 20th
    working day after, Monday 30 October; marked as the source, the figures come from it."""
    app.config["TODAY"] = TODAY
    first = requests.get_request(session, "grooming-2019", "west-mercia")
    requests.add_event(session, TEST_ACTOR, first, "sent", D("2023-09-01"), today=TODAY)
    requests.add_event(session, TEST_ACTOR, first, "response", D("2023-09-20"), today=TODAY,
                       outcome="refused", exemptions="s.12")
    narrowed = follow_ups.open_follow_up(session, TEST_ACTOR, first, NARROWED, D("2023-10-02"),
                                         today=TODAY)
    session.commit()
    body = client.get(URL, headers=tokens["viewer"]).json
    assert body["figures_from"] == "first request" and body["follow_ups"] == [
        {"number": 1, "sent_on": "2023-10-02", "due_on": "2023-10-30", "status": "awaiting_response",
         "outcome": None, "wording": NARROWED}]
    assert body["follow_up_status"] == "awaiting_response" and body["outcome"] == "refused"
    requests.add_event(session, TEST_ACTOR, narrowed, "response", D("2023-11-01"), today=TODAY,
                       outcome="provided")
    follow_ups.use_as_source(session, TEST_ACTOR, narrowed, TODAY)
    session.commit()
    body = client.get(URL, headers=tokens["viewer"]).json
    assert body["figures_from"] == "follow-up 1"
    assert (body["follow_ups"][0]["status"], body["follow_ups"][0]["outcome"]) == (
        "answered", "provided")
    assert {"follow_ups", "figures_from"} <= set(REQUEST_SCHEMA["required"])
    listed = client.get("/api/v1/campaigns/grooming-2019/requests", headers=tokens["viewer"]).json
    rows = [r for r in listed["items"] if r["authority"] == "West Mercia Police"]
    assert len(rows) == 1 and rows[0]["follow_up_count"] == 1
