"""The consistency checks page, explaining a finding, and the warnings a save or import gives."""

from __future__ import annotations

import html
import io
import re

import pytest
from sqlalchemy import select

from foitrack.models import Figure, FindingExplanation
from foitrack.services import requests
from tests.factories import (
    CHECKS_DESIGN,
    FIGURES_HEADER,
    MERCIA,
    enter_figures,
    make_campaign,
    make_user,
    respond,
)
from tests.pages import cell_names, csrf_token, sign_in

PAGE = "/campaigns/checks/checks/"
JUMP = "year-on-year-jump|west-mercia|offences|2018-19||"


@pytest.fixture
def campaign(session):
    found = make_campaign(session, CHECKS_DESIGN)
    for slug in ("west-mercia", "sussex"):
        respond(session, "checks", slug)
    enter_figures(session, found, (MERCIA, "2017-18", "", "", "8"), (MERCIA, "2018-19", "", "", "31"),
                  ("E23000033", "2018-19", "", "", "5"), ("E23000033", "2018-19", "age", "Under 13", "6"))
    return found


def signed_in(app, session, role):
    client = app.test_client()
    sign_in(client, make_user(session, role=role).email)
    return client


def section(page: str, name: str) -> str:
    """The rows of the open or explained findings table."""
    match = re.search(rf'<table class="table" id="{name}-findings">(.*?)</table>', page, re.S)
    return match.group(1) if match else ""


def test_the_page_lists_open_findings_with_links_to_the_figures(app, session, campaign):
    client = signed_in(app, session, "researcher")
    page = client.get(PAGE).get_data(as_text=True)
    assert "Open (2)" in page and "Explained (0)" in page
    rows = section(page, "open")
    assert rows.index("Sussex Police") < rows.index("West Mercia Police")
    assert "check: 8 -&gt; 31 (2017/18 to 2018/19)" in rows
    assert ('<a href="/campaigns/checks/requests/west-mercia/figures">West Mercia Police</a>'
            in rows)
    assert "categories-exceed-total" in rows and "offences, 2018/19, Victim age" in rows


def test_the_campaign_page_links_to_the_checks_with_the_open_count(app, session, campaign):
    client = signed_in(app, session, "viewer")
    page = client.get("/campaigns/checks").get_data(as_text=True)
    assert f'href="{PAGE}">Consistency checks (2 open)</a>' in page


def test_a_researcher_explains_a_finding_and_opens_it_again(app, session, campaign):
    client = signed_in(app, session, "researcher")
    response = client.post(f"{PAGE}explain", data={
        "csrf_token": csrf_token(client, PAGE), "key": JUMP,
        "note": "The force confirmed 31 in its letter of 2 May."})
    assert response.status_code == 302
    page = client.get(PAGE).get_data(as_text=True)
    assert "Open (1)" in page and "Explained (1)" in page
    explained = section(page, "explained")
    assert "The force confirmed 31 in its letter of 2 May." in explained
    assert "West Mercia Police" in explained and "West Mercia" not in section(page, "open")
    assert "Consistency checks (1 open)" in client.get("/campaigns/checks").get_data(as_text=True)
    response = client.post(f"{PAGE}unexplain", data={"csrf_token": csrf_token(client, PAGE),
                                                     "key": JUMP})
    assert response.status_code == 302
    assert "Open (2)" in client.get(PAGE).get_data(as_text=True)
    assert session.scalar(select(FindingExplanation)) is None


def test_an_explanation_needs_a_note(app, session, campaign):
    client = signed_in(app, session, "researcher")
    response = client.post(f"{PAGE}explain", data={"csrf_token": csrf_token(client, PAGE),
                                                   "key": JUMP, "note": "  "})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "note: say what explains the finding" in page and 'aria-invalid="true"' in page
    assert session.scalar(select(FindingExplanation)) is None


def test_the_form_needs_its_csrf_token(app, session, campaign):
    client = signed_in(app, session, "researcher")
    response = client.post(f"{PAGE}explain", data={"key": JUMP, "note": "Confirmed"})
    assert response.status_code == 400
    assert session.scalar(select(FindingExplanation)) is None


def test_a_viewer_reads_the_findings_but_cannot_explain_them(app, session, campaign):
    client = signed_in(app, session, "viewer")
    page = client.get(PAGE).get_data(as_text=True)
    assert "Open (2)" in page and "Mark explained" not in page
    # The figure grid is for researchers: a viewer is sent to the request's page.
    assert '<a href="/campaigns/checks/requests/west-mercia">West Mercia Police</a>' in page
    response = client.post(f"{PAGE}explain", data={"csrf_token": csrf_token(client, PAGE),
                                                   "key": JUMP, "note": "Confirmed"})
    assert response.status_code == 403
    assert session.scalar(select(FindingExplanation)) is None


def grid_form(client, url: str) -> dict[str, str]:
    """The grid as a browser posts it: every cell as shown, with what it held when drawn."""
    page = client.get(url).get_data(as_text=True)
    cells = re.findall(r'name="((?:base-)?cell-[0-9-]+)" value="([^"]*)"', page)
    return {"csrf_token": csrf_token(client, url),
            **{name: html.unescape(value) for name, value in cells}}


def test_a_grid_save_that_trips_a_check_is_saved_with_a_warning(app, session, campaign):
    client = signed_in(app, session, "researcher")
    url = "/campaigns/checks/requests/west-mercia/figures"
    names = cell_names(client.get(url).get_data(as_text=True))
    instagram = names["Offences recorded, 2018/19, Instagram"]
    under_13 = names["Offences recorded, 2018/19, Under 13"]
    response = client.post(url, data={**grid_form(client, url), instagram: "40", under_13: "35",
                                      "source": "Reply table 2"})
    assert response.status_code == 302
    page = html.unescape(client.get(url).get_data(as_text=True))
    assert "Saved figures for West Mercia Police: 2 new, 0 changed, 2 unchanged." in page
    assert 'class="notification notification-warning"' in page
    assert ("West Mercia Police, offences, 2018/19, Victim age: the categories add up to at "
            "least 35, more than the total of 31 (categories-exceed-total)") in page
    assert "West Mercia Police, offences, 2018/19, total: check: 8 -> 31" in page
    # Only the request saved is checked (the page names Sussex only as the previous force).
    assert "Sussex Police, offences" not in page and "Sussex Police:" not in page
    assert session.scalar(select(Figure).where(Figure.value == 35)) is not None


def test_the_warning_goes_once_the_cell_is_put_right(app, session, campaign):
    client = signed_in(app, session, "researcher")
    url = "/campaigns/checks/requests/sussex/figures"
    names = cell_names(client.get(url).get_data(as_text=True))
    under_13 = names["Offences recorded, 2018/19, Under 13"]
    client.post(url, data={**grid_form(client, url), "source": "Reply"})
    page = html.unescape(client.get(url).get_data(as_text=True))
    assert "Saved figures for Sussex Police: 0 new, 0 changed, 2 unchanged." in page
    assert "Sussex Police, offences, 2018/19, Victim age: the categories add up to at " in page
    client.post(url, data={**grid_form(client, url), under_13: "4", "source": "Reply"})
    page = client.get(url).get_data(as_text=True)
    assert "Saved figures for Sussex Police: 0 new, 1 changed" in page
    assert "notification-warning" not in page


def test_a_csv_import_that_trips_a_check_warns(app, session, campaign):
    client = signed_in(app, session, "researcher")
    url = "/campaigns/checks/figures/import"
    data = (FIGURES_HEADER + "E23000033,offences,2018-19,age,13 and over,9,,Reply\n").encode()
    response = client.post(url, data={"csrf_token": csrf_token(client, url),
                                      "file": (io.BytesIO(data), "more.csv")})
    assert response.status_code == 302
    page = html.unescape(client.get("/campaigns/checks").get_data(as_text=True))
    assert "Imported more.csv: 1 new" in page
    assert ("Sussex Police, offences, 2018/19, Victim age: the categories add up to at least 15, "
            "more than the total of 5 (categories-exceed-total)") in page
    assert "West Mercia" not in page.split("notification-warning")[1].split("</div>")[0]


def test_a_template_preview_warns_of_what_the_import_would_trip(app, session, campaign):
    from openpyxl import load_workbook

    client = signed_in(app, session, "researcher")
    template = client.get("/campaigns/checks/requests/sussex/template.xlsx").data
    book = load_workbook(io.BytesIO(template))
    sheet = book["Figures"]
    row = next(r for r in range(1, sheet.max_row + 1) if sheet[f"H{r}"].value == "2017-18"
               and sheet[f"D{r}"].value == "Total")
    sheet[f"E{row}"] = 50
    out = io.BytesIO()
    book.save(out)
    url = "/campaigns/checks/templates/import"
    response = client.post(url, data={"csrf_token": csrf_token(client, url),
                                      "file": (io.BytesIO(out.getvalue()), "sussex.xlsx")})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200 and "Check before importing" in page
    warnings = page.split('id="check-warnings"')[1].split("</div>")[0]
    assert "Sussex Police, offences, 2018/19, total: check: 50 -> 5 (2017/18 to 2018/19)" in warnings
    assert "(categories-exceed-total)" in warnings  # already there, still open
    assert session.scalar(select(Figure).where(Figure.value == 50)) is None  # only a preview
    assert requests.get_request(session, "checks", "sussex") is not None
