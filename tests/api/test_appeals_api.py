"""Complaints and appeals through the API (issue 17, point 1): an event takes the
Commissioner's case reference and a decision's steps and date, and a request's representation
gains the review, complaint and decision columns, after every existing one."""

from __future__ import annotations

import datetime as dt

from foitrack.web.api import REQUEST_SCHEMA

URL = "/api/v1/campaigns/grooming-2019/requests/west-mercia"
STEPS = [
    {"kind": "sent", "occurred_on": "2023-09-01"},
    {"kind": "response", "occurred_on": "2023-09-20", "outcome": "refused",
     "exemptions": ["s.31"]},
    {"kind": "internal_review_requested", "occurred_on": "2023-10-02"},
    {"kind": "internal_review_outcome", "occurred_on": "2023-10-10", "outcome": "upheld"},
    {"kind": "ico_complaint", "occurred_on": "2023-10-30", "case_reference": "IC-254321-X9Y8"},
    {"kind": "ico_decision", "occurred_on": "2024-03-01", "outcome": "upheld",
     "steps_ordered": "Disclose the figures", "comply_by": "2024-04-12"},
    {"kind": "tribunal_appeal", "occurred_on": "2024-03-04"},
]


def test_the_api_records_the_later_steps_and_returns_their_columns(app, client, grooming,
                                                                    tokens):
    """FOIA s.45 Code (review), s.50 (complaint, case reference, decision notice and the steps
    it orders, s.50(4)), s.57 (appeal to the First-tier Tribunal): recorded through the API,
    returned as columns added at the end."""
    app.config["TODAY"] = dt.date(2024, 3, 5)
    for step in STEPS:
        made = client.post(f"{URL}/events", json=step, headers=tokens["researcher"])
        assert made.status_code == 201, made.json
    body = client.get(URL, headers=tokens["viewer"]).json
    assert {name: body[name] for name in (
        "review_requested_on", "review_outcome", "complaint_on", "complaint_reference",
        "decision_on", "decision_outcome", "appeal_on")} == {
        "review_requested_on": "2023-10-02", "review_outcome": "upheld",
        "complaint_on": "2023-10-30", "complaint_reference": "IC-254321-X9Y8",
        "decision_on": "2024-03-01", "decision_outcome": "upheld", "appeal_on": "2024-03-04"}
    decision = next(e for e in body["events"] if e["kind"] == "ico_decision")
    assert (decision["steps_ordered"], decision["comply_by"]) == ("Disclose the figures",
                                                                  "2024-04-12")
    names = list(REQUEST_SCHEMA["properties"])
    assert names.index("outcome_from") < names.index("review_requested_on")
