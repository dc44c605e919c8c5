"""Chart images on the aggregate page and the fact sheets, and their downloads."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html import unescape
from pathlib import Path

import pytest

from foitrack.services.design import create_from_file
from tests.factories import TEST_ACTOR

FIXTURES = Path(__file__).parent.parent / "fixtures"
BASE = "/campaigns/lockdown-2020"


def svg_text(response) -> str:
    root = ET.fromstring(response.get_data())  # raises unless the SVG is well-formed XML
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return " ".join(root.itertext())


def test_a_viewer_sees_the_national_total_as_svg_with_the_period_labels(client, lockdown_viewer):
    response = client.get(f"{BASE}/charts/national-total-offences.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.headers["Content-Disposition"].startswith("inline;")
    text = svg_text(response)
    for label in ("2017/18", "2018/19", "2019/20", "April to June 2020", "1,220"):
        assert label in text
    assert "Source: FOI responses to Online grooming in the first lockdown" in text


def test_the_png_is_a_png(client, lockdown_viewer):
    response = client.get(f"{BASE}/charts/force-change-offences.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.get_data().startswith(b"\x89PNG\r\n\x1a\n")


def test_download_gives_an_attachment_named_for_the_campaign_and_chart(client, lockdown_viewer):
    response = client.get(f"{BASE}/charts/shares-offences-platform.png?download=1")
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="lockdown-2020-shares-offences-platform.png"')


def test_the_chart_follows_the_pages_choice_of_authorities(client, lockdown_viewer):
    response = client.get(f"{BASE}/charts/national-total-offences.svg",
                          query_string={"authorities": "E23000031,E23000033,E23000032",
                                        "download": "1"})
    text = svg_text(response)
    assert "114" in text and "1,220" not in text  # Surrey, Sussex and Kent together
    assert "Figures from 3 of the 3 forces asked" in text
    assert 'filename="lockdown-2020-national-total-offences-E23000031-E23000033-E23000032.svg"' \
        in response.headers["Content-Disposition"]


@pytest.mark.parametrize("path", [
    "/charts/pie-chart.svg",  # no such chart
    "/charts/shares-offences-age.svg",  # a dimension this campaign does not have
    "/charts/national-total-offences.gif",  # no such format
    "/charts/national-total-offences.svg?authorities=nowhere",  # an unknown set
    "/fact-sheets/west-mercia/charts/arrests.svg",  # no such measure
    "/fact-sheets/nowhere/charts/offences.svg",  # no such force
])
def test_unknown_charts_are_not_found(client, lockdown_viewer, path):
    assert client.get(BASE + path).status_code == 404


def test_a_chart_without_figures_is_not_found(client, lockdown_viewer, session):
    create_from_file(session, TEST_ACTOR, (FIXTURES / "grooming-2019.toml").read_text())
    session.commit()
    assert client.get("/campaigns/grooming-2019/charts/national-total-offences.svg").status_code == 404


def test_a_signed_out_visitor_is_sent_to_sign_in(app, lockdown_viewer):
    response = app.test_client().get(f"{BASE}/charts/national-total-offences.svg")
    assert response.status_code == 302 and "/auth/sign-in" in response.location


def test_the_aggregate_page_shows_each_chart_with_its_downloads(client, lockdown_viewer):
    page = client.get(f"{BASE}/aggregate").get_data(as_text=True)
    images = re.findall(r'<img src="([^"]+)" alt="([^"]+)"', page)
    assert [src for src, _ in images] == [
        f"{BASE}/charts/{name}.svg"
        for name in ("national-total-offences", "force-change-offences", "force-rates-offences",
                     "shares-offences-platform")]
    assert all(alt.startswith("Bar chart of") for _, alt in images)
    assert f'href="{BASE}/charts/force-change-offences.png?download=1" download>PNG' in page
    assert f'href="{BASE}/charts/force-change-offences.svg?download=1" download>SVG' in page
    # The charts come before the table they summarise.
    assert page.index('class="charts"') < page.index('id="aggregate"')


def test_the_aggregate_pages_charts_carry_its_choice_of_authorities(client, lockdown_viewer):
    page = client.get(f"{BASE}/aggregate?authorities=E23000031,E23000033").get_data(as_text=True)
    sources = [unescape(src) for src in re.findall(r'<img src="([^"]+)"', page)]
    assert sources[0] == f"{BASE}/charts/national-total-offences.svg?authorities=E23000031,E23000033"


def test_no_checked_figures_no_charts(client, lockdown_viewer):
    page = client.get(f"{BASE}/aggregate?checked=1").get_data(as_text=True)
    assert "<img" not in page
    assert client.get(f"{BASE}/charts/national-total-offences.svg?checked=1").status_code == 404


def test_the_fact_sheet_shows_the_force_beside_the_total(client, lockdown_viewer):
    page = client.get(f"{BASE}/fact-sheets/E23000016").get_data(as_text=True)
    src = f"{BASE}/fact-sheets/west-mercia/charts/offences.svg"
    assert f'<img src="{src}"' in page
    assert f'href="{BASE}/fact-sheets/west-mercia/charts/offences.png?download=1" download>PNG' in page
    response = client.get(src)
    text = svg_text(response)
    assert "West Mercia Police" in text and "4,600" in text and "83" in text


def test_the_national_release_has_no_fact_sheet_charts(client, lockdown_viewer):
    page = client.get(f"{BASE}/release").get_data(as_text=True)
    assert "<figure" not in page
