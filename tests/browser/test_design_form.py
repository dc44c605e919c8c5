"""Designing a campaign's data by the form, in a real browser (issue 16, point 2): a new
campaign starts from the example, rows are added and filled by their labels, quarters come
from the shortcut, and the saved design gives the figure grid its rows."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from foitrack.services.campaigns import create_campaign
from tests.browser.chromium import Visits, new_page, sign_in
from tests.factories import REQUEST_TEXT, TEST_ACTOR

pytestmark = pytest.mark.browser


def test_designing_a_campaign_by_the_form(browser, live_server):
    with live_server.session() as session:
        create_campaign(session, TEST_ACTOR, title="Knife crime by quarter", slug="knives",
                        request_text=REQUEST_TEXT, authority_keys=["E23000016"])
        session.commit()
    visits = Visits("design-form")
    page = new_page(browser, live_server)
    sign_in(page, live_server.researcher)
    page.goto("/campaigns/knives/design")
    expect(page.locator("#design-start")).to_contain_text("Started from the example design")
    expect(page.get_by_label("Measure 1 key", exact=True)).to_have_value("offences")
    visits.check(page, "design form, started from the example")

    page.get_by_label("Measure 1 key", exact=True).fill("knife-offences")
    page.get_by_label("Measure 1 name", exact=True).fill("Knife offences recorded")
    page.get_by_label("Measure 1 unit", exact=True).fill("offences")
    page.get_by_label("First quarter").fill("2023 Q1")
    page.get_by_label("Last quarter").fill("2024 Q2")
    page.get_by_role("button", name="Fill the periods with these quarters").click()
    expect(page.get_by_label("Period 6 name", exact=True)).to_have_value("Q2 2024")
    expect(page).to_have_url(re.compile("/design#design-periods$"))  # back where it was pressed
    expect(page.get_by_label("Measure 1 name", exact=True)).to_have_value("Knife offences recorded")

    # The example's period group and second breakdown are not wanted here.
    page.get_by_role("button", name="Remove period group 1").click()
    page.get_by_role("button", name="Remove breakdown 2").click()
    for _ in range(3):
        page.get_by_role("button", name="Remove category group 1").click()
    page.get_by_role("button", name="Add another category group").click()
    page.get_by_label("Category group 1 key", exact=True).fill("apps")
    page.get_by_label("Category group 1 name", exact=True).fill("Apps")
    page.get_by_label("Category group 1 breakdown", exact=True).fill("platform")
    page.get_by_label("Category group 1 categories", exact=True).fill("Instagram\nSnapchat")
    page.get_by_label("Breakdown 1 overlapping", exact=True).uncheck()
    # Enter in a field saves, as the Save button does (not the first "Remove" of the form).
    page.get_by_label("Suppression threshold").fill("3")
    page.get_by_label("Suppression threshold").press("Enter")
    expect(page.locator(".notification")).to_contain_text("Saved the data design")
    visits.check(page, "design saved")
    expect(page.locator("#design-summary")).to_contain_text("Q1 2023: 2023-01-01 to 2023-03-31")
    expect(page.get_by_label("Breakdown 1 overlapping", exact=True)).not_to_be_checked()

    page.goto("/campaigns/knives/requests/west-mercia/figures")
    expect(page.locator("body")).to_contain_text("Knife offences recorded")
    expect(page.locator("body")).to_contain_text("Q2 2024")
    expect(page.locator("body")).to_contain_text("Snapchat")
    assert not page.problems  # type: ignore[attr-defined]
