"""Every page a signed-in admin can open, at a desktop's width and at a phone's: photographed,
checked with axe-core, free of script errors, and never wider than the phone's screen."""

from __future__ import annotations

import datetime as dt
import io
from email.message import EmailMessage
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from foitrack.models import Authority, CampaignMember, Figure, Request, User
from foitrack.services import inbound, removed_figures
from foitrack.services import requests as request_service
from foitrack.services.design import create_from_file
from foitrack.services.figures import import_csv
from foitrack.services.mail import token_for
from foitrack.storage import FileStore
from tests.browser.chromium import DESKTOP, PHONE, Visits, fill_date, new_page, sign_in
from tests.factories import TEST_ACTOR, make_user

pytestmark = pytest.mark.browser

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TODAY = dt.date.today()
# The smallest PDF a viewer opens: one empty page.
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]"
       b"/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 300 200]>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")


@pytest.fixture(scope="module")
def campaign_data(live_server):
    """Both acceptance campaigns, sent, with a refusal, West Mercia's emailed reply and a PDF."""
    with live_server.session() as session:
        made = {}
        for name in ("grooming-2019", "lockdown-2020"):
            campaign = create_from_file(session, TEST_ACTOR, (FIXTURES / f"{name}.toml").read_text())
            import_csv(session, TEST_ACTOR, campaign,
                       io.BytesIO((FIXTURES / f"{name}.csv").read_bytes()))
            made[name] = campaign
        requests = request_service.campaign_requests(session, made["grooming-2019"])
        request_service.bulk_add_event(session, TEST_ACTOR, requests, "sent",
                                       TODAY - dt.timedelta(days=50), today=TODAY)
        by_slug = {r.authority.slug: r for r in requests}
        request_service.add_event(session, TEST_ACTOR, by_slug["cumbria"], "response",
                                  TODAY - dt.timedelta(days=30), today=TODAY, outcome="refused",
                                  exemptions="s.12")
        west_mercia = by_slug["west-mercia"]
        message = EmailMessage()
        message["From"] = "FOI Team <information@westmercia.pnn.police.uk>"
        message["To"] = "research@example.org"
        message["Subject"] = f"RE: Freedom of Information request {token_for(west_mercia)}"
        message["Message-ID"] = "<reply-1@westmercia.example>"
        message.set_content("Dear requester,\n\nPlease find our response attached.\n\nFOI Team")
        message.add_attachment(PDF, maintype="application", subtype="pdf",
                               filename="FOI 2019-123 response.pdf")
        raw = message.as_bytes()
        store = FileStore(live_server.app.config["STORAGE_PATH"])
        inbound.import_message(session, TEST_ACTOR, store, message, raw, TODAY)
        # The second campaign under embargo, with the researcher and a viewer let in, and one
        # of its figures emptied from the grid (West Mercia's, which no test here reads).
        lockdown = made["lockdown-2020"]
        lockdown.embargo_until = TODAY + dt.timedelta(days=60)
        researcher = session.scalar(select(User).where(User.email == live_server.researcher))
        for member in (researcher, make_user(session, role="viewer")):
            session.add(CampaignMember(campaign_id=lockdown.id, user_id=member.id, added_by="tests"))
        emptied = session.scalar(select(Figure).join(Request).join(Authority).where(
            Request.campaign_id == lockdown.id, Authority.slug == "west-mercia").limit(1))
        removed_figures.record_removal(session, TEST_ACTOR, emptied)
        session.delete(emptied)
        session.commit()
        cumbria_event = next(e.id for e in by_slug["cumbria"].events if e.kind.value == "response")
    return {"event": cumbria_event}


PAGES = [
    ("dashboard", "/"),
    ("campaigns", "/campaigns/"),
    ("new campaign", "/campaigns/new"),
    ("campaign", "/campaigns/grooming-2019"),
    ("campaign, lockdown", "/campaigns/lockdown-2020"),
    ("request", "/campaigns/grooming-2019/requests/west-mercia"),
    ("request refused", "/campaigns/grooming-2019/requests/cumbria"),
    ("remove event", "/campaigns/grooming-2019/requests/cumbria/events/{event}/remove"),
    ("removed figures", "/campaigns/lockdown-2020/requests/west-mercia/figures/removed/"),
    ("members", "/campaigns/lockdown-2020/members"),
    ("figure grid with reply", "/campaigns/grooming-2019/requests/west-mercia/figures"),
    ("data design", "/campaigns/grooming-2019/design"),
    ("aggregate", "/campaigns/grooming-2019/aggregate"),
    ("aggregate, lockdown", "/campaigns/lockdown-2020/aggregate"),
    ("figures behind a number", "/campaigns/grooming-2019/aggregate/cell?measure=offences&period=2018-19"),
    ("release", "/campaigns/grooming-2019/release"),
    ("consistency checks", "/campaigns/grooming-2019/checks/"),
    ("fact sheets", "/campaigns/grooming-2019/fact-sheets/"),
    ("fact sheet", "/campaigns/grooming-2019/fact-sheets/west-mercia"),
    ("import figures", "/campaigns/grooming-2019/figures/import"),
    ("import templates", "/campaigns/grooming-2019/templates/import"),
    ("send by email", "/campaigns/grooming-2019/send"),
    ("chase by email", "/campaigns/grooming-2019/chase"),
    ("message wording", "/campaigns/grooming-2019/mail-templates"),
    ("chase list", "/chase"),
    ("replies inbox", "/mail/inbox"),
    ("sent mail", "/mail/outbox"),
    ("tracker import", "/campaigns/grooming-2019/tracker/import"),
    ("authorities", "/authorities/"),
    ("import authorities", "/authorities/import"),
    ("edit authority", "/authorities/west-mercia/edit"),
    ("authority", "/authorities/west-mercia"),
    ("sets", "/authorities/sets"),
    ("users", "/users/"),
    ("new user", "/users/new"),
    ("password", "/auth/password"),
    ("API tokens", "/account/tokens/"),
]


# The outermost elements that stick out past the screen's right edge, for the failure message.
WIDEST = """() => Array.from(document.querySelectorAll('body *'))
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-wrap')
          && !(e.parentElement && e.parentElement.getBoundingClientRect().right > window.innerWidth + 1))
  .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
          (e.className ? '.' + String(e.className).split(' ').join('.') : '')).join(', ')"""


def _resolve(app, path: str) -> str:
    """Fail early, with the path, if a page in the list is not a route of the app."""
    adapter = app.url_map.bind("localhost")
    adapter.match(path.split("?")[0], method="GET")
    return path


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_page_is_accessible_and_fits(browser, live_server, campaign_data, viewport):
    width = "desktop" if viewport is DESKTOP else "phone"
    visits = Visits(f"page-{width}")
    page = new_page(browser, live_server, viewport)
    sign_in(page, live_server.admin)
    for name, path in PAGES:
        url = _resolve(live_server.app, path.format(**campaign_data))
        response = page.goto(url)
        assert response is not None and response.status == 200, f"{name}: {url} gave " \
            f"{response.status if response else 'nothing'}"
        visits.check(page, name)
        # Wide tables scroll inside their own box; the page itself never scrolls sideways.
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{name} is {overflow}px wider than a {viewport['width']}px screen: " \
            + page.evaluate(WIDEST)
    assert page.problems == [], page.problems  # type: ignore[attr-defined]


def test_tables_are_readable_without_javascript(browser, live_server, campaign_data):
    page = new_page(browser, live_server, javascript=False)
    sign_in(page, live_server.researcher)
    page.goto("/campaigns/grooming-2019")
    expect(page.locator("#requests tbody tr")).to_have_count(43)
    expect(page.locator("#requests")).to_contain_text("West Mercia Police")
    page.goto("/campaigns/grooming-2019/aggregate")
    expect(page.locator("#aggregate")).to_contain_text("4,373")
    expect(page.locator("#aggregate")).to_contain_text("3,217")
    # The figure grid is an ordinary form: a figure saved without any script.
    page.goto("/campaigns/lockdown-2020/requests/surrey/figures")
    cell = page.locator("input.cell").first
    cell.fill("12")
    page.get_by_role("button", name="Save figures").click()
    expect(page.locator(".notification").first).to_contain_text("Saved figures for Surrey Police")


def test_the_reply_is_shown_beside_the_figure_grid(browser, live_server, campaign_data):
    page = new_page(browser, live_server)
    sign_in(page, live_server.researcher)
    page.goto("/campaigns/grooming-2019/requests/west-mercia/figures")
    panel = page.locator(".reply-panel")
    expect(panel).to_contain_text("FOI 2019-123 response.pdf")
    viewer = panel.locator("iframe.reply-viewer")
    expect(viewer).to_have_attribute("title", "FOI 2019-123 response.pdf")
    # The framed file is served inline, as a PDF, and may be framed by this site only.
    response = page.request.get(viewer.get_attribute("src"))
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")
    assert "frame-ancestors 'self'" in response.headers["content-security-policy"]
    # Side by side at a desktop's width.
    grid_box = page.locator(".grid-main").bounding_box()
    panel_box = panel.bounding_box()
    assert grid_box and panel_box and panel_box["x"] > grid_box["x"] + grid_box["width"] - 1


def test_removing_an_event_asks_first(browser, live_server, campaign_data):
    page = new_page(browser, live_server)
    sign_in(page, live_server.researcher)
    page.goto("/campaigns/lockdown-2020/requests/kent")
    page.get_by_label("What happened").select_option(label="Note")
    fill_date(page, "Date", TODAY)
    page.get_by_label("Note").fill("Phoned the FOI team")
    page.get_by_role("button", name="Add to the timeline").click()
    page.get_by_role("link", name="Remove this event").first.click()
    expect(page.get_by_role("heading", name="Remove this event?")).to_be_visible()
    page.get_by_role("link", name="Cancel").click()
    expect(page.locator("#timeline li.removed")).to_have_count(0)
    page.get_by_role("link", name="Remove this event").first.click()
    page.get_by_role("button", name="Remove the event").click()
    expect(page.locator(".notification").first).to_contain_text("Removed: note")
    expect(page.locator("#timeline li.removed")).to_have_count(1)
