"""Rates on the aggregate page (issue 18): the tile map per 100,000 people with each force's
rank by rate, the table's rate column with the population years used, the by-authority rates,
and the rates chart."""

from __future__ import annotations

import html
import re

import pytest

from tests.factories import make_fixture_campaign, make_user
from tests.pages import sign_in

BASE = "/campaigns/grooming-2019/aggregate"


@pytest.fixture
def page_of(client, session):
    make_fixture_campaign(session, "grooming-2019")
    sign_in(client, make_user(session, role="viewer").email)
    return lambda query="": client.get(f"{BASE}{query}").get_data(as_text=True)


def _tiles(page: str) -> dict[str, tuple[str, str]]:
    """Each tile of the figure map by ONS code: (its classes, its title)."""
    found = re.findall(r'<li class="tile ([^"]+)" data-code="([^"]+)">\s*<(?:a href="[^"]*"|span) '
                       r'title="([^"]+)"', page.split('id="figure-map"', 1)[1])
    return {code: (classes, html.unescape(title)) for classes, code, title in found}


@pytest.mark.parametrize("query", ["?map_show=rate", "?per=100000"])
def test_the_map_shows_the_rate_per_100000_with_the_rank_by_rate(page_of, query):
    page = page_of(query)
    assert ("Offences of sexual communication with a child recorded, total: 2018/19, per "
            "100,000 people") in page
    tiles = _tiles(page)
    assert tiles["E23000016"][1] == ("West Mercia Police: 9.5 per 100,000 people (122; rank 20 "
                                     "of 42 by rate)")
    assert tiles["E23000034"][1].startswith("City of London Police: 110.2 per 100,000 people "
                                            "(9; not ranked: resident population under 100,000")
    # Coloured by the rate: the legend's ranges are rates, to one decimal place.
    legend = re.findall(r'<span class="swatch fill-seq-\d"[^>]*></span>([^<]+)<', page)
    assert legend and all(re.fullmatch(r"[\d.,]+ to [\d.,]+ ", entry) for entry in legend)
    assert '<option value="rate" selected>the rate per 100,000 people</option>' in page


def test_the_raw_figure_is_still_the_default(page_of):
    tiles = _tiles(page_of())
    assert tiles["E23000016"][1] == "West Mercia Police: 122"


def test_the_table_has_a_rate_column_and_names_the_population_years(page_of):
    page = page_of()
    header = page[page.index('id="aggregate"'):page.index("</thead>")]
    assert '<th scope="col" class="numeric">Rate</th>' in header
    assert re.search(r'<td class="numeric"><span title="4,373 over a population of [\d,]+, across 43 '
                     r'authorities">7\.4</span></td>', page)
    assert ('Rate: per 100,000 people, over the authorities that gave a usable figure and have a '
            'population estimate (never the national population over a partial sum). Population: '
            'mid-year estimates for mid-2017 and mid-2018.') in html.unescape(page)


def test_the_by_authority_table_ranks_by_rate(page_of):
    page = page_of()
    table = page[page.index('id="by-authority"'):]
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", table, re.S)
               if "West Mercia Police" in r and ">2018/19<" in r)
    cells = [re.sub(r"<[^>]+>", "", cell).strip()
             for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    assert cells[3:7] == ["122", "14 of 43", "9.5", "20 of 42"]


def test_the_rates_chart_is_offered_beside_the_counts(page_of, client):
    page = page_of()
    assert f'<img src="{BASE.rsplit("/", 1)[0]}/charts/force-rates-offences.svg"' in page
    response = client.get("/campaigns/grooming-2019/charts/force-rates-offences.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"


def test_the_city_of_londons_unranked_rate_is_shown_apart_not_as_the_darkest_class(page_of):
    """Its 110.2 on 9 offences is the highest rate, but too few residents to rank: it is not
    coloured on the scale, and both its tile and the key say why."""
    page = page_of("?map_show=rate")
    tiles = _tiles(page)
    classes, title = tiles["E23000034"]
    assert "fill-not-ranked" in classes.split() and "fill-seq-5" not in classes.split()
    assert title.endswith("; not coloured by rate)")
    assert all("fill-not-ranked" not in classes.split()
               for code, (classes, _) in tiles.items() if code != "E23000034")
    key = html.unescape(page.split('id="figure-map-key"', 1)[1])
    assert re.search(r'<span class="swatch fill-not-ranked" aria-hidden="true"></span>Not ranked, '
                     r"so not coloured \(resident population under 100,000: a rate per resident "
                     r'is not meaningful for it\) <span class="hint">\(1\)</span>', key)
    # The scale's classes are worked out without it: the top class ends below its rate.
    legend = re.findall(r'<span class="swatch fill-seq-\d"[^>]*></span>[\d.,]+ to ([\d.,]+) ', page)
    assert max(float(high.replace(",", "")) for high in legend) < 110.2
