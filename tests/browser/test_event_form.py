"""The add-event form in a real browser (issue 16, point 7): with JavaScript only the chosen
kind's fields show, and a value typed into a field then hidden is not sent; "Save and go to
the next force" opens the next force."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from foitrack.services import requests as request_service
from foitrack.services.design import create_from_file
from tests.browser.chromium import Visits, fill_date, new_page, sign_in
from tests.factories import TEST_ACTOR, design_for

pytestmark = pytest.mark.browser

TODAY = dt.date.today()


@pytest.fixture(scope="module")
def sent(live_server):
    """grooming-2019 to Kent and Surrey, both sent a week ago."""
    with live_server.session() as session:
        campaign = create_from_file(session, TEST_ACTOR, design_for(["kent", "surrey"]))
        for request in request_service.campaign_requests(session, campaign):
            request_service.add_event(session, TEST_ACTOR, request, "sent",
                                      TODAY - dt.timedelta(days=7), today=TODAY)
        session.commit()


def test_only_the_chosen_kinds_fields_show(browser, live_server, sent):
    page = new_page(browser, live_server)
    sign_in(page, live_server.researcher)
    page.goto("/campaigns/grooming-2019/requests/kent")
    kind = page.get_by_label("What happened")
    expect(kind).to_have_value("acknowledged")  # sent, nothing heard yet
    outcome = page.get_by_label("Outcome")
    expect(outcome).to_be_hidden()
    expect(page.get_by_role("group", name="Date of receipt")).to_be_hidden()
    kind.select_option(label="Response received")
    expect(outcome).to_be_visible()
    expect(outcome).to_have_attribute("aria-required", "true")
    expect(page.get_by_label("Sections cited")).to_be_visible()
    expect(page.get_by_role("group", name="New due date")).to_be_hidden()
    Visits("event-form").check(page, "response fields")
    # An outcome chosen, then the kind changed to a note: the hidden outcome is not sent.
    outcome.select_option("provided")
    kind.select_option(label="Note")
    expect(outcome).to_be_hidden()
    expect(outcome).to_be_disabled()
    fill_date(page, "Date", TODAY)
    page.get_by_label("Note").fill("Phoned the FOI team")
    page.get_by_role("button", name="Save and go to the next force").click()
    expect(page.locator(".notification").first).to_contain_text("Recorded: note")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Surrey Police")
    assert page.problems == []  # type: ignore[attr-defined]


def test_without_javascript_every_field_shows_with_its_kinds(browser, live_server, sent):
    page = new_page(browser, live_server, javascript=False)
    sign_in(page, live_server.researcher)
    page.goto("/campaigns/grooming-2019/requests/surrey")
    for label in ("Outcome", "Sections cited"):
        expect(page.get_by_label(label)).to_be_visible()
    for legend in ("New due date", "Date of receipt"):
        expect(page.get_by_role("group", name=legend)).to_be_visible()
    expect(page.get_by_text("Only for: Extension for the public interest test (required).")).to_be_visible()
