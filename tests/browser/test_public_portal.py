"""The public data portal (/data/) in a real browser, at a desktop's and a phone's width, signed
out and signed in: every page passes axe-core with no violation at all, none scrolls sideways
on a phone, the charts and the tile map (drawn from the release's frozen content, inside the
page) are shown, and every download link answers the file the page lists (issue 20, point 3)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from foitrack.services import publishing
from foitrack.services import requests as request_service
from foitrack.services.design import create_from_file
from foitrack.services.figures import import_csv
from tests.browser.chromium import (
    ARTIFACTS,
    DESKTOP,
    PHONE,
    Visits,
    assert_no_sideways_scroll,
    images_loaded,
    new_page,
    sign_in,
)
from tests.factories import TEST_ACTOR

pytestmark = pytest.mark.browser

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SLUG = "grooming-2019"
TODAY = dt.date.today()
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
PAGES = [
    ("list", "/data/", 200),
    ("release", f"/data/{SLUG}/", 200),
    ("version", f"/data/{SLUG}/v1/", 200),
    ("force", f"/data/{SLUG}/v2/west-mercia", 200),
    ("corrections", f"/data/{SLUG}/corrections", 200),
    ("unknown", f"/data/{SLUG}/v9/", 404),
]


@pytest.fixture(scope="module")
def released(live_server):
    """The grooming campaign published twice (version 2 a correction), with its files."""
    root = Path(live_server.app.instance_path) / "releases"
    with live_server.session() as session:
        made = create_from_file(session, TEST_ACTOR,
                                (FIXTURES / "grooming-2019.toml").read_text())
        import_csv(session, TEST_ACTOR, made,
                   io.BytesIO((FIXTURES / "grooming-2019.csv").read_bytes()))
        request_service.bulk_add_event(session, TEST_ACTOR,
                                       request_service.campaign_requests(session, made), "sent",
                                       TODAY - dt.timedelta(days=50), today=TODAY)
        for note in (None, "West Mercia's 2018/19 figure was corrected."):
            release = publishing.publish(session, TEST_ACTOR, made, title="Online grooming",
                                         today=TODAY, note=note)
            session.flush()
            publishing.write_files(release, publishing.release_folder(root, release))
        session.commit()
    return SLUG


def check(visits: Visits, page: Page, name: str) -> None:
    """Photograph the page, and fail on any axe-core violation whatever its impact, and (on a
    phone) on a page wider than the screen."""
    images_loaded(page)
    broken = page.evaluate("Array.from(document.images).filter(i => !i.naturalWidth)"
                           ".map(i => i.currentSrc.slice(0, 60))")
    assert not broken, f"{name}: images that did not load: {broken}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    number = len(visits.seen) + 1
    page.screenshot(path=str(ARTIFACTS / f"{visits.prefix}-{number:02d}-{name}.png"),
                    full_page=True)
    visits.seen.append(name)
    if visits.narrow:
        assert_no_sideways_scroll(page, name)
    results = visits.axe.run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    violations = results.response["violations"]
    assert not violations, f"{name} ({page.url}): " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(n["target"]) for n in v["nodes"][:5]) for v in violations)


def charts_shown(page: Page, width: int, narrow: bool) -> None:
    """Every chart is an image in view, no wider than the screen, drawn for the column on a
    phone; and drawn from the page itself, not fetched."""
    images = page.locator("figure.chart img")
    assert images.count() > 0
    for index in range(images.count()):
        image = images.nth(index)
        expect(image).to_be_visible()
        assert image.get_attribute("alt")
        box = image.bounding_box()
        assert box is not None and box["width"] > 100 and box["x"] + box["width"] <= width + 1
        shown = image.evaluate("i => i.currentSrc")
        assert shown.startswith("data:image/svg+xml;base64,")
        narrow_src = image.evaluate("i => i.previousElementSibling.srcset")
        assert (shown == narrow_src) is narrow, "the phone's drawing on a phone only"


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("who", ["signed-out", "signed-in"])
def test_the_public_pages_are_accessible_fit_and_show_their_charts_and_map(
        browser, live_server, released, viewport, who):
    width = viewport["width"]
    narrow = viewport is PHONE
    visits = Visits(f"public-{who}-{'phone' if narrow else 'desktop'}", narrow=narrow)
    page = new_page(browser, live_server, viewport)
    if who == "signed-in":
        sign_in(page, live_server.researcher)
    for name, path, expected in PAGES:
        response = page.goto(path)
        assert response is not None and response.status == expected, (name, path)
        check(visits, page, name)
        if name in ("release", "version", "force"):
            charts_shown(page, width, narrow)

    # The release's page: its tile map, each force's tile a link to its page.
    page.goto(f"/data/{SLUG}/v2/")
    tile_map = page.locator("#force-map")
    expect(tile_map).to_be_visible()
    assert tile_map.locator("li.tile").count() == 43
    box = tile_map.locator(".tilemap-grid").bounding_box()
    assert box is not None and box["x"] + box["width"] <= width + 1
    expect(page.locator("#chart-national-total-offences img")).to_be_visible()
    tile = tile_map.locator("li.tile[data-code=E23000016] a")
    expect(tile).to_be_visible()
    tile.click()
    page.wait_for_url(re.compile(r"/data/grooming-2019/v2/west-mercia$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("West Mercia Police")

    # Every download the release lists answers the very file, by its SHA-256.
    page.goto(f"/data/{SLUG}/v2/")
    rows = page.locator("table:has(caption:text('SHA-256')) tbody tr")
    assert rows.count() >= 5
    for index in range(rows.count()):
        link = rows.nth(index).locator("a")
        listed = rows.nth(index).locator("code").inner_text()
        answer = page.request.get(link.get_attribute("href") or "")
        assert answer.status == 200, link.inner_text()
        assert hashlib.sha256(answer.body()).hexdigest() == listed, link.inner_text()

    # The corrections log leads to each version.
    page.goto(f"/data/{SLUG}/corrections")
    expect(page.locator("main")).to_contain_text("West Mercia's 2018/19 figure was corrected.")
    page.get_by_role("link", name="Version 1").click()
    page.wait_for_url(re.compile(r"/data/grooming-2019/v1/$"))
    assert page.problems == [], page.problems  # type: ignore[attr-defined]
