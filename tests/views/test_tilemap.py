"""The tile maps on the campaign page (by request status) and the aggregate page (by a figure)."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from pathlib import Path

import pytest

from foitrack.services import requests as request_service
from foitrack.services.design import create_from_file
from foitrack.services.figures import import_csv
from tests.factories import TEST_ACTOR, load_forces, make_user
from tests.pages import sign_in

FIXTURES = Path(__file__).parent.parent / "fixtures"
TODAY = dt.date(2019, 6, 4)


@pytest.fixture
def campaign(app, client, session):
    """The acceptance campaign, sent to all UK police (so British Transport Police has no tile)."""
    app.config["TODAY"] = TODAY
    load_forces(session)
    text = (FIXTURES / "grooming-2019.toml").read_text().replace(
        'authorities = "england-wales"', 'authorities = "uk-police"')
    made = create_from_file(session, TEST_ACTOR, text)
    session.commit()
    sign_in(client, make_user(session, role="researcher").email)
    return made


def event(session, campaign, slug, kind, on, **fields):
    found = next(r for r in campaign.requests if r.authority.slug == slug)
    request_service.add_event(session, TEST_ACTOR, found, kind, on, today=TODAY, **fields)
    session.commit()


def tiles(page: str) -> dict[str, tuple[str, str, str]]:
    """Each tile by ONS code: (its classes, its link, its title)."""
    found = re.findall(r'<li class="tile ([^"]+)" data-code="([^"]+)">\s*<(?:a href="([^"]*)"|span) '
                       r'title="([^"]+)"', page)
    return {code: (classes, link, html.unescape(title)) for classes, code, link, title in found}


def test_the_campaign_map_has_a_tile_for_every_force_linking_to_its_request(client, session, campaign):
    event(session, campaign, "west-mercia", "sent", dt.date(2019, 5, 1))
    event(session, campaign, "west-mercia", "response", dt.date(2019, 5, 20), outcome="provided")
    event(session, campaign, "kent", "sent", dt.date(2019, 4, 26))  # due 28 May: overdue
    page = client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    shown = tiles(page.split('id="status-map"', 1)[1])
    assert len(shown) == 43
    for r in campaign.requests:
        if r.authority.code and r.authority.code.startswith(("E23", "W15")):
            classes, link, title = shown[r.authority.code]
            assert link == f"/campaigns/{campaign.slug}/requests/{r.authority.slug}"
            assert title.startswith(f"{r.authority.name}: ")
    classes, _, title = shown["E23000016"]
    assert "fill-state-figures" in classes and title == "West Mercia Police: Answered with figures"
    classes, _, title = shown["E23000032"]
    assert "fill-state-overdue" in classes
    assert title.startswith("Kent Police: Overdue, ") and title.endswith(" working days late")
    assert "fill-state-not_sent" in shown["E23000031"][0]
    assert page.index('id="status-map"') < page.index("<h2>Requests</h2>")  # the table stays


def test_the_campaign_map_tells_each_answer_and_wait_apart_with_a_key(client, session, campaign):
    """Issue 16, point 10: provided, refused, NCND and not held were one green "Answered",
    and nothing showed a request due soon or extended."""
    for slug in ("west-mercia", "kent", "surrey", "sussex", "dorset", "essex", "cumbria"):
        event(session, campaign, slug, "sent", dt.date(2019, 5, 1))  # due 30 May
    event(session, campaign, "west-mercia", "response", dt.date(2019, 5, 20), outcome="provided")
    event(session, campaign, "kent", "response", dt.date(2019, 5, 20), outcome="refused",
          exemptions="s.12")
    event(session, campaign, "surrey", "response", dt.date(2019, 5, 20), outcome="ncnd",
          exemptions="s.31")
    event(session, campaign, "sussex", "response", dt.date(2019, 5, 20), outcome="not_held")
    event(session, campaign, "dorset", "extension", dt.date(2019, 5, 20), due_on=dt.date(2019, 6, 27))
    page = client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    section = page.split('id="status-map"', 1)[1].split("</figure>", 1)[0]
    shown = tiles(section)
    fills = {code: re.search(r"fill-(\S+)", shown[code][0]).group(1) for code in shown}
    assert fills["E23000016"] == "state-figures"
    assert fills["E23000032"] == "state-refused" and shown["E23000032"][2] == "Kent Police: Refused (s.12)"
    assert fills["E23000031"] == "state-ncnd"
    assert fills["E23000033"] == "state-not_held"
    assert fills["E23000039"] == "state-extended"  # Dorset
    assert fills["E23000002"] == "state-overdue"  # Cumbria, due 30 May
    assert len({fills[c] for c in ("E23000016", "E23000032", "E23000031", "E23000033",
                                   "E23000039", "E23000002")}) == 6
    key = {fill: (text, int(count)) for fill, text, count in re.findall(
        r'<li data-fill="([^"]+)">.*?</span>([^<]+?) <span class="hint">\((\d+)\)', section)}
    assert key["state-refused"] == ("Refused", 1)
    assert key["state-extended"] == ("Extended by the authority", 1)
    assert key["state-not_held"] == ("Not held", 1)
    assert key["state-ncnd"] == ("Neither confirm nor deny", 1)
    assert key["state-overdue"] == ("Overdue", 2)  # Cumbria and Essex
    assert '<span class="tile-glyph">×</span>' in section


def test_a_request_due_soon_has_its_own_state(client, session, campaign):
    event(session, campaign, "kent", "sent", dt.date(2019, 5, 10))  # due 10 June: 4 days left
    page = client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    assert "fill-state-due_soon" in tiles(page)["E23000032"][0]
    assert '<li data-fill="state-due_soon">' in page


def test_the_campaign_map_lists_the_forces_it_cannot_draw(client, campaign):
    page = client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    off = page.split('class="tilemap-off"', 1)[1].split("</div>", 1)[0]
    for name in ("British Transport Police", "Police Scotland", "Police Service of Northern Ireland"):
        assert f">{name}</a>: Not sent" in off


def test_the_map_uses_no_inline_style(client, campaign):
    page = client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    section = page.split('id="status-map"', 1)[1].split("</figure>", 1)[0]
    assert "style=" not in section and "<script" not in section and "<svg" not in section


@pytest.fixture
def figures(session, campaign):
    import_csv(session, TEST_ACTOR, campaign, io.BytesIO((FIXTURES / "grooming-2019.csv").read_bytes()))
    session.commit()
    return campaign


def test_the_aggregate_map_shows_west_mercias_figure(client, figures):
    page = client.get(f"/campaigns/{figures.slug}/aggregate").get_data(as_text=True)
    assert "Offences of sexual communication with a child recorded, total: 2018/19" in page
    classes, link, title = tiles(page)["E23000016"]
    assert title == "West Mercia Police: 122"
    assert link == f"/campaigns/{figures.slug}/fact-sheets/west-mercia"
    assert re.search(r"fill-seq-[1-5]", classes)
    assert page.index('id="changes"') < page.index('id="figure-map"') < page.index('id="by-authority"')


def test_the_aggregate_map_shows_a_change_on_a_diverging_scale(client, figures):
    page = client.get(f"/campaigns/{figures.slug}/aggregate?map_show=change_pct").get_data(as_text=True)
    assert "change from 2017/18 to 2018/19 (per cent)" in page
    classes, _, title = tiles(page)["E23000016"]
    assert title == "West Mercia Police: 73 → 122 (+67%)"
    assert re.search(r"fill-div-[45]", classes)


def test_the_aggregate_map_of_a_category_shows_suppressed_figures_apart(client, figures):
    url = (f"/campaigns/{figures.slug}/aggregate?map_period=2017-18"
           "&map_category=platform:WhatsApp")
    page = client.get(url).get_data(as_text=True)
    shown = tiles(page)
    assert "fill-suppressed" in shown["E23000037"][0]  # Gloucestershire: 1-4
    assert "fill-no-figure" in shown["E23000002"][0]  # Cumbria does not record the platform
    assert "Suppressed (a small number)" in page


def test_the_first_period_has_no_change_to_show(client, figures):
    page = client.get(f"/campaigns/{figures.slug}/aggregate?map_period=2017-18&map_show=change")
    text = page.get_data(as_text=True)
    assert "2017/18 is the first period: there is no change to show." in text
    assert tiles(text)["E23000016"][2] == "West Mercia Police: 73"


def test_the_map_follows_the_chosen_subset(client, figures):
    page = client.get(f"/campaigns/{figures.slug}/aggregate?authorities=kent,west-mercia")
    shown = tiles(page.get_data(as_text=True))
    assert shown["E23000016"][2] == "West Mercia Police: 122"
    assert "fill-not-asked" in shown["E23000031"][0]  # Surrey is outside the subset


def test_a_refusal_without_figures_is_not_drawn_as_no_reply_on_the_figure_map(client, session,
                                                                              campaign):
    """Issue 16, point 10: on the figures map a s.12 refusal looked like no reply."""
    lines = (FIXTURES / "grooming-2019.csv").read_text().splitlines()
    kept = [line for line in lines if not line.startswith(("E23000032", "E23000031"))]
    import_csv(session, TEST_ACTOR, campaign, io.BytesIO("\n".join(kept).encode()))
    session.commit()
    event(session, campaign, "kent", "sent", dt.date(2019, 5, 1))
    event(session, campaign, "kent", "response", dt.date(2019, 5, 20), outcome="refused",
          exemptions="s.12")
    event(session, campaign, "surrey", "sent", dt.date(2019, 5, 1))
    page = client.get(f"/campaigns/{campaign.slug}/aggregate").get_data(as_text=True)
    shown = tiles(page)
    assert "fill-state-refused" in shown["E23000032"][0]
    assert shown["E23000032"][2] == "Kent Police: no figure: refused (s.12)"
    assert "fill-no-reply" in shown["E23000031"][0]  # Surrey: sent, no reply yet
    assert "Refused or withheld" in page and "No reply yet" in page
