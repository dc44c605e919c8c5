"""The series pages (issue 18, section 2): the table, its national line and changes, the charts,
the revisions, and an embargoed campaign kept from whoever is not let into it."""

from __future__ import annotations

import io
import re

import pytest
from flask import render_template

from foitrack.services import series as service
from foitrack.services.campaigns import get_campaign
from foitrack.services.design import create_from_file
from foitrack.services.figures import import_csv
from tests.factories import (
    TEST_ACTOR,
    fixture_design,
    fixture_figures,
    make_fixture_campaign,
    make_user,
)
from tests.pages import sign_in

PAGE = "/series/series"


@pytest.fixture
def linked(session):
    """series-2019, -2020 and -2021, each the repeat of the one before, in the series "series"."""
    campaigns = [make_fixture_campaign(session, f"series-{year}") for year in (2019, 2020, 2021)]
    for source, repeat in zip(campaigns, campaigns[1:], strict=False):
        service.attach_repeat(session, source, repeat)
    session.commit()
    return campaigns


@pytest.fixture
def people(session, linked):
    """The owner of an embargoed fourth campaign, linked into the series, and a viewer not let
    in."""
    owner = make_user(session)
    outsider = make_user(session, role="viewer")
    hidden = create_from_file(session, TEST_ACTOR, fixture_design("series-2022"), owner=owner)
    import_csv(session, TEST_ACTOR, hidden, io.BytesIO(fixture_figures("series-2022")))
    service.link(session, TEST_ACTOR, service.get_series(session, "series"), hidden)
    session.commit()
    return {"owner": owner, "outsider": outsider}


def _signed_in(app, user):
    client = app.test_client()
    assert sign_in(client, user.email).status_code == 302
    return client


def _rows(page: str) -> list[list[str]]:
    body = page[page.index('id="series-table"'):]
    body = body[:body.index("</table>")]
    return [[re.sub(r"<[^>]+>", " ", cell).split() for cell in
             re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_the_series_page_shows_the_table_national_line_changes_and_revisions(app, session,
                                                                             linked):
    client = _signed_in(app, make_user(session, role="viewer"))
    page = client.get(PAGE).get_data(as_text=True)
    rows = _rows(page)
    assert [" ".join(w) for w in rows[0]] == ["Authority", "2017/18", "2018/19", "2019/20",
                                              "2020/21"]
    assert rows[3] == [["West", "Mercia", "Police"], ["60"], ["75", "(r)"], ["90"], ["100"]]
    assert rows[2][2] == ["44", "*"]  # Kent's 2018/19 from the 2019 campaign
    assert rows[4] == [["All", "authorities", "with", "a", "figure"], ["110", "3", "of", "3"],
                       ["131", "3", "of", "3"], ["143", "3", "of", "3"], ["104", "2", "of", "3"]]
    assert ("2019/20 to 2020/21, the 2 with exact figures for both: 93 to 104 (+11, x1.12)"
            in page)
    assert ("<strong>West Mercia Police, 2018/19</strong>: revised: 73 in the 2019 campaign, 75 "
            "in the 2020 campaign. The 2019 campaign&#39;s release used 73; the 2020 "
            "campaign&#39;s used 75.") in page


def test_the_charts_plot_the_series_and_are_served(app, session, linked):
    client = _signed_in(app, make_user(session, role="viewer"))
    page = client.get(PAGE).get_data(as_text=True)
    sources = re.findall(r'<img src="([^"]+)"', page)
    assert sources == ["/series/series/charts/national-total-offences.svg",
                       "/series/series/charts/by-authority-offences.svg"]
    svg = client.get(sources[0])
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert all(f">{total}<" in svg.get_data(as_text=True) for total in ("110", "131", "143", "104"))
    png = client.get("/series/series/charts/by-authority-offences.png?download=1")
    assert png.mimetype == "image/png" and png.headers["Content-Disposition"].startswith(
        "attachment")
    assert client.get("/series/series/charts/nothing.svg").status_code == 404


def test_the_table_downloads_as_the_command_writes_it(app, session, linked):
    client = _signed_in(app, make_user(session, role="viewer"))
    response = client.get("/series/series/table.csv?measure=offences")
    assert response.get_data(as_text=True) == (
        "authority_code,authority,2017/18,2018/19,2019/20,2020/21\n"
        "E23000002,Cumbria Constabulary,10,12,3,4\n"
        "E23000032,Kent Police,40,44,50,not recorded\n"
        "E23000016,West Mercia Police,60,75,90,100\n"
        ",All authorities with a figure,110,131,143,104\n"
        ",Authorities with a figure,3,3,3,2\n")


def test_an_embargoed_campaign_is_hidden_from_a_viewer_not_let_in(app, session, people):
    client = _signed_in(app, people["outsider"])
    page = client.get(PAGE).get_data(as_text=True)
    for secret in ("2021/22", "777", "101", "series-2022", "2020/21 and 2021/22"):
        assert secret not in page
    assert _rows(page)[3][-1] == ["100"]
    chart = client.get("/series/series/charts/by-authority-offences.svg").get_data(as_text=True)
    assert "777" not in chart
    assert "series-2022" not in client.get("/series/").get_data(as_text=True)
    assert "777" not in client.get("/series/series/table.csv").get_data(as_text=True)

    seen = _signed_in(app, people["owner"]).get(PAGE).get_data(as_text=True)
    assert "2021/22" in seen and "777" in seen
    assert "revised: 100 in the 2021 campaign, 101 in the 2022 campaign" in seen


def test_a_series_of_only_hidden_campaigns_is_not_found(app, session, people):
    made = service.create_series(session, TEST_ACTOR, slug="secret", name="Secret series")
    secret = get_campaign(session, "series-2022")
    service.unlink(session, TEST_ACTOR, secret)
    service.link(session, TEST_ACTOR, made, secret)
    session.commit()
    client = _signed_in(app, people["outsider"])
    assert client.get("/series/secret").status_code == 404
    assert client.get("/series/secret/charts/national-total-offences.svg").status_code == 404
    assert "Secret series" not in client.get("/series/").get_data(as_text=True)
    assert _signed_in(app, people["owner"]).get("/series/secret").status_code == 200


def test_the_campaign_page_partial_links_to_the_series(app, session, linked):
    with app.test_request_context("/"):
        html = render_template("series/_campaign_link.html", campaign=linked[1])
        alone = render_template("series/_campaign_link.html",
                                campaign=make_fixture_campaign(session, "grooming-2019"))
    assert '<a href="/series/series">Online grooming</a>' in html
    assert alone.strip() == ""


def test_signed_out_visitors_are_sent_to_sign_in(client, linked):
    assert client.get(PAGE).status_code == 302


def test_new_charts_past_the_render_budget_are_refused_as_on_the_aggregate_page(app, session,
                                                                               linked):
    """The same 429, in the same words, as every other chart: one check (web/render_budget)."""
    app.config["CHART_RENDERS_PER_MINUTE"] = 1
    client = _signed_in(app, make_user(session, role="viewer"))
    assert client.get("/series/series/charts/national-total-offences.svg").status_code == 200
    refused = client.get("/series/series/charts/by-authority-offences.svg")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 61
    assert re.search(r"You have asked for more new charts than we draw for one person in a "
                     r"minute\. Try again in \d+ seconds; charts already drawn are still shown\.",
                     refused.get_data(as_text=True))
    # What was drawn is still served.
    assert client.get("/series/series/charts/national-total-offences.svg").status_code == 200
