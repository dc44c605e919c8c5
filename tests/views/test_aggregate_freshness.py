"""The aggregate page, its charts and the fact sheets' charts are kept between loads, and
never show a number older than the database's: a change shows on the very next load."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import pytest

from foitrack.services.campaigns import get_campaign
from foitrack.services.design import create_from_file
from foitrack.services.figures import import_csv
from tests.factories import EXAMPLE_DESIGN, TEST_ACTOR, load_forces, make_user
from tests.pages import cell_names, csrf_token, sign_in

pytestmark = pytest.mark.postgres

BASE = "/campaigns/grooming-2019"
HEADER = b"authority,measure,period,dimension,category,value,caveat,source\n"


@pytest.fixture
def researcher(client, session):
    load_forces(session)
    campaign = create_from_file(session, TEST_ACTOR, EXAMPLE_DESIGN)
    import_csv(session, TEST_ACTOR, campaign, io.BytesIO(
        HEADER + b"E23000032,offences,2018-19,,,1234,,\nE23000016,offences,2018-19,,,100,,\n"))
    # Two of the 43 forces: low enough a coverage threshold that the release states the total.
    campaign.min_coverage = 0.02
    session.commit()
    user = make_user(session, role="researcher")
    sign_in(client, user.email)
    return user


def aggregate_table(client, query: str = "") -> str:
    page = client.get(f"{BASE}/aggregate{query}").get_data(as_text=True)
    return page.split('<table class="table" id="aggregate">', 1)[1].split("</table>", 1)[0]


def svg_text(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return " ".join(ET.fromstring(response.get_data()).itertext())


def test_a_figure_saved_in_the_grid_shows_on_the_next_load(client, researcher):
    assert ">1,334</a>" in aggregate_table(client)  # 1,234 + 100, twice to use the kept one
    assert ">1,334</a>" in aggregate_table(client)
    assert "1,334" in svg_text(client, f"{BASE}/charts/national-total-offences.svg")
    url = f"{BASE}/requests/kent/figures"
    page = client.get(url).get_data(as_text=True)
    total = cell_names(page)["Offences of sexual communication with a child recorded, 2018/19, total"]
    assert client.post(url, data={"csrf_token": csrf_token(client, url), total: "1235",
                                  f"base-{total}": "1234"}
                       ).status_code == 302
    table = aggregate_table(client)
    assert ">1,335</a>" in table and ">1,334</a>" not in table
    chart = svg_text(client, f"{BASE}/charts/national-total-offences.svg")
    assert "1,335" in chart and "1,334" not in chart


def test_a_change_by_another_worker_shows_on_the_next_load(client, researcher, session):
    """Another process's write: nothing tells this one, but the data version has moved."""
    assert ">1,334</a>" in aggregate_table(client)
    assert ">1,334</a>" in aggregate_table(client, "?authorities=kent,west-mercia")
    import_csv(session, TEST_ACTOR, get_campaign(session, "grooming-2019"),
               io.BytesIO(HEADER + b"E23000016,offences,2018-19,,,200,,\n"))
    session.commit()
    assert ">1,434</a>" in aggregate_table(client)
    assert ">1,434</a>" in aggregate_table(client, "?authorities=kent,west-mercia")
    assert "1,434" in svg_text(client, f"{BASE}/charts/national-total-offences.svg")


def test_a_fact_sheet_chart_follows_the_national_total(client, researcher, session):
    path = f"{BASE}/fact-sheets/kent/charts/offences.svg"
    assert "1,334" in svg_text(client, path) and "1,334" in svg_text(client, path)
    import_csv(session, TEST_ACTOR, get_campaign(session, "grooming-2019"),
               io.BytesIO(HEADER + b"E23000001,offences,2018-19,,,66,,\n"))
    session.commit()
    chart = svg_text(client, path)
    assert "1,400" in chart and "1,334" not in chart


def test_a_changed_design_shows_on_the_next_load(client, researcher):
    for _ in range(2):
        assert "TikTok" not in client.get(f"{BASE}/aggregate").get_data(as_text=True)
    url = f"{BASE}/design"
    design = EXAMPLE_DESIGN[EXAMPLE_DESIGN.index("[[measures]]"):].replace('"Other"]', '"Other", "TikTok"]')
    version = re.search(r'name="version" type="hidden" value="(\d+)"', client.get(url).get_data(
        as_text=True)).group(1)
    assert client.post(url, data={"csrf_token": csrf_token(client, url), "design": design,
                                  "version": version}
                       ).status_code == 302
    # The map's choice of categories comes from the kept map: it names the new one at once.
    assert "Communication method: TikTok" in client.get(f"{BASE}/aggregate").get_data(as_text=True)


def test_the_release_and_a_fact_sheet_use_the_kept_aggregate_and_never_an_old_one(client, researcher):
    release, sheet = f"{BASE}/release", f"{BASE}/fact-sheets/kent"
    assert "1,334" in client.get(release).get_data(as_text=True)
    assert "1,234" in client.get(sheet).get_data(as_text=True)
    url = f"{BASE}/requests/kent/figures"
    total = cell_names(client.get(url).get_data(as_text=True))[
        "Offences of sexual communication with a child recorded, 2018/19, total"]
    assert client.post(url, data={"csrf_token": csrf_token(client, url), total: "1235",
                                  f"base-{total}": "1234"}
                       ).status_code == 302
    page = client.get(release).get_data(as_text=True)
    assert "1,335" in page and "1,334" not in page
    page = client.get(sheet).get_data(as_text=True)
    assert "1,235" in page and "1,234" not in page
