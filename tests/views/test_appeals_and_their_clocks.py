"""Complaints and appeals with their clocks (issue 17, point 1), through the app: the request
page shows each later deadline with its source, the chase list reminds the researcher of their
own, and the tracker export gains the review, complaint and decision columns."""

from __future__ import annotations

import datetime as dt
import html
import io

import pytest

from foitrack.exporters import dataset as writers
from foitrack.services import datasets, requests
from tests.factories import TEST_ACTOR, design_for, make_campaign, make_user
from tests.pages import csrf_token, sign_in

D = dt.date.fromisoformat
TODAY = D("2024-03-05")
KENT = "/campaigns/grooming-2019/requests/kent"
SCOTLAND = "/campaigns/grooming-2019/requests/scotland"
NEW_COLUMNS = ["review_requested_on", "review_outcome", "complaint_on", "complaint_reference",
               "decision_on", "decision_outcome", "appeal_on"]


@pytest.fixture
def researcher(app, client, session):
    app.config["TODAY"] = TODAY
    make_campaign(session, design_for(["kent", "scotland"]))
    user = make_user(session, role="researcher")
    sign_in(client, user.email)
    return user


def record(session, slug: str, *events: tuple[str, str, dict]) -> None:
    request = requests.get_request(session, "grooming-2019", slug)
    for kind, on, fields in events:
        requests.add_event(session, TEST_ACTOR, request, kind, D(on), today=TODAY, **fields)
    session.commit()


THROUGH_REVIEW = (
    ("sent", "2023-09-01", {}),
    ("response", "2023-09-20", {"outcome": "refused", "exemptions": "s.31"}),
    ("internal_review_requested", "2023-10-02", {}),
    ("internal_review_outcome", "2023-10-10", {"outcome": "upheld"}),
)
DECIDED = (
    *THROUGH_REVIEW,
    ("ico_complaint", "2023-10-30", {"case_reference": "IC-254321-X9Y8"}),
    ("ico_decision", "2024-03-01", {"outcome": "upheld", "steps_ordered": "Disclose the figures"}),
)


def page_text(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def test_the_request_page_shows_the_appeal_and_compliance_dates_with_their_sources(
        client, session, researcher):
    """FOIA s.57(1) with the GRC rules r.22(1)(b) (28 days), and s.50(4) (35 calendar days in
    ICO notices): both on the page, each with how it was worked out."""
    record(session, "kent", *DECIDED)
    page = page_text(client, KENT)
    assert "Appeal to the First-tier Tribunal by: <strong>29 March 2024</strong>" in page
    assert "Authority to comply by: <strong>5 April 2024</strong>" in page
    assert "rule 22(1)(b)" in page and "35 calendar days from the decision notice" in page
    assert "Complaint to the ICO (FOIA s.50), case reference IC-254321-X9Y8" in page
    assert "Steps ordered: Disclose the figures" in page


def test_the_request_page_shows_the_scottish_commissioner_s_six_months(client, session,
                                                                       researcher):
    """FOISA s.47(4)(a): six months from the review's notice (2023-10-10): 10 April 2024, the
    window FOISA gives, shown with its section."""
    record(session, "scotland", *THROUGH_REVIEW)
    page = page_text(client, SCOTLAND)
    assert "Apply to the Scottish Information Commissioner by: <strong>10 April 2024</strong>" \
        in page
    assert "(FOISA s.47(4))" in page


def test_the_request_page_shows_the_ico_window_after_a_review(client, session, researcher):
    """FOIA s.50(2) and the ICO's guidance: six weeks from the final response (2023-10-10)."""
    record(session, "kent", *THROUGH_REVIEW)
    page = page_text(client, KENT)
    assert "Complain to the ICO by: <strong>21 November 2023</strong>" in page
    assert "the ICO's guidance on making a freedom of information complaint" in page


def test_the_form_records_a_case_reference_and_a_date_for_compliance(client, session,
                                                                      researcher):
    """FOIA s.50(4): the notice's own date for compliance, given on the form, is the one kept."""
    record(session, "kent", *DECIDED[:-1])
    response = client.post(f"{KENT}/events", data={
        "csrf_token": csrf_token(client, KENT), "kind": "ico_decision",
        "occurred_on-day": "1", "occurred_on-month": "3", "occurred_on-year": "2024",
        "outcome": "partly_upheld", "case_reference": "IC-254321-X9Y8",
        "steps_ordered": "Disclose part", "comply_by-day": "12", "comply_by-month": "4",
        "comply_by-year": "2024"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    session.expire_all()  # the page wrote through its own session
    request = requests.get_request(session, "grooming-2019", "kent")
    decision = request.events[-1]
    assert (decision.case_reference, decision.steps_ordered, decision.comply_by) == (
        "IC-254321-X9Y8", "Disclose part", D("2024-04-12"))
    assert "Authority to comply by: <strong>12 April 2024</strong>" in page_text(client, KENT)


def test_the_chase_list_reminds_the_researcher_of_their_own_deadlines(app, client, session,
                                                                        researcher):
    """The FOIA s.45 Code of Practice, part 5: a review is asked for within 40 working days of
    the response (2024-01-10 -> 2024-03-06); the day before, the chase list says one is left."""
    record(session, "kent", ("sent", "2023-12-01", {}),
           ("response", "2024-01-10", {"outcome": "refused", "exemptions": "s.31"}))
    state = requests.state_of(requests.get_request(session, "grooming-2019", "kent"), TODAY)
    assert state.review_window.due == D("2024-03-06")
    page = page_text(client, "/chase")
    assert "Your own deadlines" in page
    assert "1 day left to ask for an internal review" in page


def test_the_tracker_gains_review_complaint_and_decision_columns_at_the_end(session,
                                                                            researcher):
    """FOIA s.45 Code (review), s.50 (complaint, decision notice), s.57 (appeal): the steps as
    recorded, in columns added after every existing one."""
    record(session, "kent", *DECIDED, ("tribunal_appeal", "2024-03-04",
                                      {"case_reference": "EA/2024/0123"}))
    names = [column.name for column in datasets.TRACKER_COLUMNS]
    assert names[15:22] == NEW_COLUMNS  # then response_withdrawn_on, added after them
    assert names[:15] == ["authority_code", "authority", "reference", "status", "outcome",
                          "exemptions", "sent_on", "received_on", "due", "responded_on",
                          "answered_on_time", "days_late", "last_chased", "first_outcome",
                          "outcome_from"]
    row = datasets.tracker_row(requests.get_request(session, "grooming-2019", "kent"), TODAY)
    assert [row[name] for name in NEW_COLUMNS] == [
        D("2023-10-02"), "upheld", D("2023-10-30"), "IC-254321-X9Y8", D("2024-03-01"),
        "upheld", D("2024-03-04")]


def test_the_tracker_csv_writes_the_new_columns(session, researcher):
    """FOIA s.50: the complaint's case reference and the decision reach the CSV's last columns."""
    record(session, "kent", *DECIDED)
    campaign = requests.get_request(session, "grooming-2019", "kent").campaign
    out = io.StringIO()
    writers.write_csv(datasets.campaign_dataset(session, campaign, TODAY).table("tracker"), out)
    header, *rows = out.getvalue().splitlines()
    # Present, after every column before them and in this order; not necessarily last, since
    # the follow-up columns (issue 17, point 2) come after them.
    names = header.split(",")
    at = names.index(NEW_COLUMNS[0])
    assert names[at:at + 8] == [*NEW_COLUMNS, "response_withdrawn_on"]
    assert at == 15
    kent = next(line for line in rows if "Kent Police" in line).split(",")
    assert kent[at:at + 8] == ["2023-10-02", "upheld", "2023-10-30", "IC-254321-X9Y8",
                               "2024-03-01", "upheld", "", ""]
