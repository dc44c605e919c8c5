"""Withdrawn and replaced responses on the pages (issue 17, point 3): recorded from the request
page, the outcome shown, the grid and the aggregate say which figures are left out, the checks
list them, and the dataset export flags them in its last column."""

from __future__ import annotations

import csv
import html
import io

import pytest
from openpyxl import load_workbook

from tests.factories import (
    CHECKS_DESIGN,
    CHECKS_TODAY,
    MERCIA,
    enter_figures,
    make_campaign,
    make_user,
    respond,
)
from tests.pages import csrf_token, sign_in

CAMPAIGN = "/campaigns/checks"
PAGE = f"{CAMPAIGN}/requests/west-mercia"


@pytest.fixture
def researcher(app, client, session):
    app.config["TODAY"] = CHECKS_TODAY
    campaign = make_campaign(session, CHECKS_DESIGN)
    for slug in ("west-mercia", "sussex"):
        respond(session, "checks", slug)
    enter_figures(session, campaign, (MERCIA, "2018-19", "", "", "31"),
                  ("E23000033", "2018-19", "", "", "5"))
    sign_in(client, make_user(session, role="researcher").email)
    return client


def post_event(client, kind: str, on: str, **fields):
    return client.post(f"{PAGE}/events", data={
        "csrf_token": csrf_token(client, PAGE), "kind": kind, "occurred_on": on, **fields})


def text_of(client, path: str) -> str:
    return html.unescape(client.get(path).get_data(as_text=True))


def test_a_withdrawal_is_recorded_from_the_page_and_the_outcome_says_so(researcher):
    assert post_event(researcher, "response_withdrawn", "2019-05-01",
                      note="On advice from the central referral unit").status_code == 302
    page = text_of(researcher, PAGE)
    assert "Response withdrawn by the authority" in page
    assert "None: the response was withdrawn by the authority on 1 May 2019" in page
    assert "The authority withdrew its response on 2019-05-01" in page
    assert "Withdrawn by the authority" in text_of(researcher, CAMPAIGN)


def test_a_replacement_is_recorded_from_the_page_with_its_outcome(researcher):
    post_event(researcher, "response_withdrawn", "2019-05-01")
    assert post_event(researcher, "response_replaced", "2019-05-20",
                      outcome="part_provided").status_code == 302
    page = text_of(researcher, PAGE)
    assert "Response replaced with corrected figures: Part provided" in page
    assert '<dd id="standing-outcome">Part provided' in page


def test_a_replacement_before_any_response_is_refused_on_the_page(app, client, session):
    app.config["TODAY"] = CHECKS_TODAY
    make_campaign(session, CHECKS_DESIGN)
    sign_in(client, make_user(session, role="researcher").email)
    response = post_event(client, "response_replaced", "2019-05-01")
    assert response.status_code == 400
    assert "record when it was sent first" in html.unescape(response.get_data(as_text=True))


def test_the_aggregate_grid_and_checks_say_which_figures_are_left_out(researcher):
    post_event(researcher, "response_withdrawn", "2019-05-01")
    aggregate = text_of(researcher, f"{CAMPAIGN}/aggregate")
    assert "1 figure from withdrawn responses left out" in aggregate
    grid = text_of(researcher, f"{PAGE}/figures")
    assert "1 figure below is from a response the authority withdrew" in grid
    findings = text_of(researcher, f"{CAMPAIGN}/checks/")
    assert "withdrawn-response" in findings
    assert "1 figure (total) from a response the authority withdrew" in findings


def test_the_dataset_exports_flag_them_in_a_last_column(researcher):
    post_event(researcher, "response_withdrawn", "2019-05-01")
    body = researcher.get(f"{CAMPAIGN}/export.csv?table=figures").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))
    assert list(rows[0])[-2:] == ["checked_by", "withdrawn"]
    assert {row["authority"]: row["withdrawn"] for row in rows} == {
        "Sussex Police": "false", "West Mercia Police": "true"}
    book = load_workbook(io.BytesIO(researcher.get(f"{CAMPAIGN}/export.xlsx").get_data()))
    sheet = next(s for s in book.worksheets if s.cell(1, 1).value == "authority_code")
    header = [c.value for c in sheet[1]]
    assert header[-1] == "withdrawn"
    assert {row[1]: row[-1] for row in sheet.iter_rows(min_row=2, values_only=True)} == {
        "Sussex Police": False, "West Mercia Police": True}
