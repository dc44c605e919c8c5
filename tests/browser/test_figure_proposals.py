"""Figures proposed from a PDF reply, in a real browser (issue 19): the request page says how many
wait, the review page shows each beside the crop of the page it was read from, accepting the
chosen ones saves them as figures, and the figure's page and the aggregate's "figures behind this
number" show the crop of the place it was read from."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from foitrack.models import Figure
from foitrack.services import proposals
from foitrack.services.design import create_from_file
from foitrack.services.requests import get_request
from foitrack.storage import FileStore
from tests.browser.chromium import Visits, new_page, sign_in, wait_until
from tests.factories import TEST_ACTOR
from tests.test_extraction_cli import DESIGN, reply_pdf
from tests.test_figure_proposals import attach

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def proposed(live_server):
    store = FileStore(live_server.app.config["STORAGE_PATH"])
    with live_server.session() as session:
        campaign = create_from_file(session, TEST_ACTOR, DESIGN)
        request = get_request(session, campaign.slug, "E23000016")
        attach(session, store, request, reply_pdf())
        proposals.make(session, store, request)
        session.commit()


def test_accepting_proposals_from_a_pdf_reply_beside_their_crops(browser, live_server, proposed):
    page = new_page(browser, live_server)
    sign_in(page, live_server.researcher)
    page.goto("/campaigns/grooming-2019/requests/west-mercia")
    page.get_by_role("link", name="Figures proposed: 4 to review").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Figures proposed from")
    crop = page.get_by_alt_text("Page 1 of reply.pdf around the cell page 1, table 1, row 5, column 2")
    crop.scroll_into_view_if_needed()
    wait_until(page, lambda: crop.evaluate("i => i.complete && i.naturalWidth > 0"),
               "the crop has not loaded")
    visits = Visits("figure-proposals")
    visits.check(page, "review")
    page.get_by_label("Choose offences, 2018-19, total").check()
    page.get_by_label("Value for offences, 2018-19, total").fill("41")
    page.get_by_label("Choose offences, 2018-19, Instagram").check()
    page.get_by_role("button", name="Accept selected").click()
    expect(page.locator(".notification").first).to_contain_text("Accepted: 2 new")
    expect(page.get_by_label("Choose offences, 2018-19, total")).to_have_count(0)
    assert page.problems == []  # type: ignore[attr-defined]
    with live_server.session() as session:
        values = {f.category.label if f.category else None: f.value
                  for f in session.scalars(select(Figure))}
    assert values == {None: 41, "Instagram": 12}
    # The figure's page (through the grid's link to it) shows where it was read, and its crop.
    with live_server.session() as session:
        total = session.scalars(select(Figure.id).where(Figure.category_id.is_(None))).one()
    page.goto("/campaigns/grooming-2019/requests/west-mercia/figures")
    page.locator(f'a.cell-link[href$="/figures/{total}"]').click()
    where = "page 1, table 1, row 5, column 2"
    expect(page.locator("#read-from")).to_contain_text(f"reply.pdf, {where}")
    crop = page.get_by_alt_text(f"Page 1 of reply.pdf around the cell {where}")
    wait_until(page, lambda: crop.evaluate("i => i.complete && i.naturalWidth > 0"),
               "the crop on the figure's page has not loaded")
    visits.check(page, "figure")
    page.goto("/campaigns/grooming-2019/aggregate/cell?measure=offences&period=2018-19")
    crop = page.get_by_alt_text(f"Page 1 of reply.pdf around the cell {where}, West Mercia Police")
    crop.scroll_into_view_if_needed()
    wait_until(page, lambda: crop.evaluate("i => i.complete && i.naturalWidth > 0"),
               "the crop behind the aggregate's number has not loaded")
    visits.check(page, "figures behind the number")
    assert page.problems == []  # type: ignore[attr-defined]
