"""The public portal's charts and tile map (issue 20, point 3): in the page itself, drawn from
the release's frozen numbers, with words for screen readers, under the site's CSP."""

from __future__ import annotations

import base64
import re

import pytest

from tests.test_publish import change_west_mercia_total
from tests.views import test_public_data as portal
from tests.views.test_public_data import SLUG, WHO, client_for, publish

# The portal tests' published campaign, as fixtures of this module too.
campaign, embargoed, public = portal.campaign, portal.embargoed, portal.public

SVG = re.compile(r'<img src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)" alt="([^"]+)">')


@pytest.mark.parametrize("who", WHO)
def test_a_release_s_page_draws_its_charts_and_map_inside_itself(app, session, public, who):
    client = client_for(app, session, who)
    response = client.get(f"/data/{SLUG}/v1/")
    page = response.get_data(as_text=True)
    drawn = SVG.findall(page)
    assert drawn, "no chart in the page"
    for data, alt in drawn:
        assert base64.b64decode(data).startswith(b"<svg") and alt.startswith("Bar chart of")
    assert 'id="chart-national-total-offences"' in page
    # The phone's drawing, for a narrow screen.
    assert '<source media="(max-width: 640px)" srcset="data:image/svg+xml;base64,' in page
    # The tile map: a tile per force, the two asked linking to their own pages.
    assert 'id="force-map"' in page and page.count('class="tile tile-r') == 43
    assert re.search(r'data-code="E23000016">\s*<a href="/data/grooming-2019/v1/west-mercia"',
                     page)
    # Nothing the CSP (style-src 'self', script-src 'self') would refuse.
    assert "style=" not in page and "<script" not in page and "<style" not in page


def test_a_force_s_page_draws_its_figure_beside_the_total(app, session, public):
    page = app.test_client().get(f"/data/{SLUG}/v1/west-mercia").get_data(as_text=True)
    drawn = SVG.findall(page)
    assert len(drawn) == 1 and "West Mercia Police" in drawn[0][1]


def test_a_version_s_charts_keep_its_numbers_after_a_correction(app, session, public):
    client = app.test_client()
    first = SVG.findall(client.get(f"/data/{SLUG}/v1/").get_data(as_text=True))
    change_west_mercia_total(session, public, 130)
    publish(app, session, public, note="West Mercia's total was corrected.")
    assert SVG.findall(client.get(f"/data/{SLUG}/v1/").get_data(as_text=True)) == first
    del app.extensions["foitrack.web.page_cache"]  # nothing kept: drawn again, the same
    assert SVG.findall(client.get(f"/data/{SLUG}/v1/").get_data(as_text=True)) == first
    second = SVG.findall(client.get(f"/data/{SLUG}/v2/").get_data(as_text=True))
    assert [alt for _, alt in second] != [alt for _, alt in first]
