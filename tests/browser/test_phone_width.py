"""At a phone's width (390 x 844): the header folds its links behind a "Menu" button, charts are
drawn for the column and fit it, the tile map fits, and no page scrolls sideways (issue 16,
point 11)."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

from foitrack.services import requests as request_service
from foitrack.services.design import create_from_file
from foitrack.services.figures import import_csv
from tests.browser.chromium import DESKTOP, images_loaded, new_page, sign_in
from tests.factories import TEST_ACTOR

pytestmark = pytest.mark.browser

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PHONE = {"width": 390, "height": 844}
TODAY = dt.date.today()
PAGES = ["/", "/campaigns/", "/campaigns/grooming-2019", "/campaigns/grooming-2019/aggregate",
         "/campaigns/grooming-2019/fact-sheets/west-mercia", "/chase", "/authorities/"]


@pytest.fixture(scope="module")
def campaign(live_server):
    with live_server.session() as session:
        made = create_from_file(session, TEST_ACTOR,
                                (FIXTURES / "grooming-2019.toml").read_text())
        import_csv(session, TEST_ACTOR, made,
                   io.BytesIO((FIXTURES / "grooming-2019.csv").read_bytes()))
        requests = request_service.campaign_requests(session, made)
        request_service.bulk_add_event(session, TEST_ACTOR, requests, "sent",
                                       TODAY - dt.timedelta(days=50), today=TODAY)
        session.commit()
    return "grooming-2019"


def test_the_header_takes_one_line_and_its_menu_opens(browser, live_server, campaign):
    page = new_page(browser, live_server, PHONE)
    sign_in(page, live_server.admin)
    page.goto("/")
    header = page.locator(".site-header").bounding_box()
    assert header is not None and header["height"] < 80, header  # was some 250px
    campaigns = page.locator("nav[aria-label=Main]").get_by_role("link", name="Campaigns")
    expect(campaigns).to_be_hidden()
    page.get_by_text("Menu", exact=True).click()
    expect(campaigns).to_be_visible()
    campaigns.click()
    page.wait_for_url("**/campaigns/")
    assert page.problems == [], page.problems  # type: ignore[attr-defined]


def test_without_script_the_menu_still_opens(browser, live_server, campaign):
    page = new_page(browser, live_server, PHONE, javascript=False)
    sign_in(page, live_server.researcher)
    page.goto("/")
    page.get_by_text("Menu", exact=True).click()
    expect(page.locator("nav[aria-label=Main]").get_by_role("link", name="Chase list")).to_be_visible()


def test_on_a_desktop_the_links_show_without_a_menu(browser, live_server, campaign):
    page = new_page(browser, live_server, DESKTOP)
    sign_in(page, live_server.admin)
    page.goto("/")
    expect(page.get_by_text("Menu", exact=True)).to_be_hidden()
    expect(page.locator("nav[aria-label=Main]").get_by_role("link", name="Campaigns")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_charts_and_the_map_fit_the_column_and_no_page_scrolls_sideways(browser, live_server,
                                                                         campaign):
    page = new_page(browser, live_server, PHONE)
    sign_in(page, live_server.admin)
    for path in PAGES:
        page.goto(path)
        images_loaded(page)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{path} scrolls {overflow}px sideways"
    page.goto("/campaigns/grooming-2019/aggregate")
    images = page.locator("figure.chart img")
    assert images.count() >= 3
    for index in range(images.count()):
        image = images.nth(index)
        expect(image).to_have_js_property("complete", True)
        box = image.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        # The phone's drawing, not the desktop's shrunk: shown at 90% of its size or more.
        assert "layout=narrow" in image.evaluate("i => i.currentSrc")
        natural = image.evaluate("i => i.naturalWidth")
        assert natural <= 400 and box["width"] >= 0.89 * natural, (natural, box)
    grid = page.locator("#figure-map .tilemap-grid").bounding_box()
    assert grid is not None and grid["x"] + grid["width"] <= PHONE["width"]
    assert page.problems == [], page.problems  # type: ignore[attr-defined]
