"""The right-of-reply page in a real browser (issue 20, point 5): at a phone's width it does not
scroll sideways and passes axe-core; a force's Preview shows its whole message; a day in the past
is refused beside its field."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Browser, expect

from foitrack.domain.clock import today_in_uk
from tests.browser.chromium import PHONE_390, LiveServer, Visits, fill_date, new_page, sign_in
from tests.factories import design_for, enter_figures, make_campaign

pytestmark = pytest.mark.browser
SLUG = "ror-browser"


@pytest.fixture(scope="module")
def campaign(live_server: LiveServer) -> str:
    with live_server.session() as session:
        found = make_campaign(session, design_for(["west-mercia", "kent", "sussex"], slug=SLUG))
        enter_figures(session, found, ("west-mercia", "2018-19", "", "", "122"),
                      ("west-mercia", "2018-19", "platform", "Instagram", "12"),
                      ("kent", "2018-19", "", "", "80"))
    return SLUG


def test_a_researcher_previews_a_force_and_a_past_day_is_refused_on_a_phone(
        browser: Browser, live_server: LiveServer, campaign: str):
    page = new_page(browser, live_server, PHONE_390)
    visits = Visits("right-of-reply", narrow=True)
    sign_in(page, live_server.researcher)
    page.goto(f"/campaigns/{campaign}/right-of-reply")
    expect(page.get_by_role("heading", name="Right of reply", exact=True)).to_be_visible()
    visits.check(page, "right of reply")
    page.get_by_role("button", name="Preview the message to West Mercia Police").click()
    expect(page.get_by_role("heading", name="The message to West Mercia Police, as it will go"))\
        .to_be_visible()
    expect(page.locator("#preview-body")).to_contain_text("West Mercia Police recorded 122")
    visits.check(page, "a force's message")
    past = today_in_uk() - dt.timedelta(days=1)
    fill_date(page, "Answer by", past)
    page.get_by_role("button", name="Send to the ticked forces").click()
    expect(page.locator(".error-summary")).to_contain_text(
        f"Answer by: {past.day} {past:%B %Y} is not in the future")
    expect(page.locator("#answer_by-error")).to_be_visible()
    visits.check(page, "a day in the past refused")
    assert page.problems == []  # type: ignore[attr-defined]
