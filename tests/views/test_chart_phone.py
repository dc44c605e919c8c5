"""The pages' charts on a phone: a narrow drawing offered through <picture>, served as its own
SVG, while the downloads keep the full drawing (issue 16, point 11)."""

from __future__ import annotations

import re
from html import unescape

BASE = "/campaigns/lockdown-2020"


def width_of(response) -> float:
    return float(re.search(r'<svg[^>]* width="([\d.]+)"', response.get_data(as_text=True)).group(1))


def test_the_aggregate_page_offers_each_chart_drawn_for_a_phone(client, lockdown_viewer):
    page = client.get(f"{BASE}/aggregate").get_data(as_text=True)
    sources = re.findall(r'<source media="\(max-width: 640px\)" srcset="([^"]+)" '
                         r'type="image/svg\+xml">\s*<img src="([^"]+)"', page)
    assert sources and len(sources) == page.count("<img src=")
    for narrow, full in sources:
        assert unescape(narrow) == f"{full}?layout=narrow"


def test_the_narrow_drawing_is_narrower_and_the_download_is_not(client, lockdown_viewer):
    full = client.get(f"{BASE}/charts/force-change-offences.svg")
    narrow = client.get(f"{BASE}/charts/force-change-offences.svg?layout=narrow")
    assert narrow.status_code == 200 and narrow.mimetype == "image/svg+xml"
    assert width_of(narrow) <= 400 < width_of(full)
    download = client.get(f"{BASE}/charts/force-change-offences.svg?layout=narrow&download=1")
    assert width_of(download) == width_of(full)
    # A PNG is always the full drawing, for print.
    assert client.get(f"{BASE}/charts/force-change-offences.png?layout=narrow").status_code == 200


def test_the_fact_sheet_chart_has_a_narrow_drawing(client, lockdown_viewer):
    page = client.get(f"{BASE}/fact-sheets/E23000016").get_data(as_text=True)
    assert f'srcset="{BASE}/fact-sheets/west-mercia/charts/offences.svg?layout=narrow"' in page
    response = client.get(f"{BASE}/fact-sheets/west-mercia/charts/offences.svg?layout=narrow")
    assert response.status_code == 200 and width_of(response) <= 400
