"""Issue 17 point 1, leftovers: `foitrack requests event` and the event CSV import take a
complaint's, decision notice's and appeal's fields as the web form does (case_reference,
steps_ordered, comply_by), with the nine columns and the options kept as they were."""

from __future__ import annotations

from foitrack.models import Event
from foitrack.services import requests
from tests import test_cli_events as bulk
from tests.test_cli_events import HEADER, events, invoke, write

campaign = bulk.campaign  # a campaign "g" to Kent, Surrey and West Mercia

DECISION_HEADER = HEADER + ",case_reference,steps_ordered,comply_by"
UP_TO_REVIEW = (
    "kent,sent,2023-09-01,,,,,,,,,",
    "kent,response,2023-09-20,,refused,s.31,,,,,,",
    "kent,internal_review_requested,2023-10-02,,,,,,,,,",
    "kent,internal_review_outcome,2023-10-10,,upheld,,,,,,,",
)


def _kent_events(session):
    session.expire_all()
    return {e.kind.value: e for e in requests.get_request(session, "g", "kent").events}


def test_the_import_records_the_case_reference_steps_and_date_for_compliance(runner, campaign,
                                                                           session, tmp_path):
    """FOIA s.50(4): a decision notice specifies the steps the authority must take and the
    period to take them in; the ICO's case reference is on every later letter."""
    path = write(tmp_path, *UP_TO_REVIEW,
                 "kent,ico_complaint,2023-10-30,,,,,,,IC-254321-X9Y8,,",
                 'kent,ico_decision,2024-03-01,,upheld,,,,,IC-254321-X9Y8,'
                 '"Disclose the figures, by force",2024-04-05',
                 "kent,tribunal_appeal,2024-03-20,,,,,,,EA/2024/0123,,",
                 "kent,tribunal_decision,2024-09-10,,refused,s.31,,,,EA/2024/0123,,",
                 header=DECISION_HEADER)
    result = invoke(runner, "requests", "events", campaign, path)
    assert result.exit_code == 0, result.output
    found = _kent_events(session)
    decision = found["ico_decision"]
    assert (decision.case_reference, decision.steps_ordered, decision.comply_by.isoformat()) == (
        "IC-254321-X9Y8", "Disclose the figures, by force", "2024-04-05")
    assert found["ico_complaint"].case_reference == "IC-254321-X9Y8"
    assert found["tribunal_decision"].outcome == "refused"


def test_a_file_without_the_new_columns_is_read_as_before(runner, campaign, session, tmp_path):
    result = invoke(runner, "requests", "events", campaign,
                    write(tmp_path, "kent,sent,2019-05-01,,,,,,"))
    assert result.exit_code == 0, result.output
    assert events(session) == 1


def test_a_bad_date_for_compliance_names_its_row_and_column_and_records_nothing(
        runner, campaign, session, tmp_path):
    path = write(tmp_path, *UP_TO_REVIEW,
                 "kent,ico_complaint,2023-10-30,,,,,,,,,",
                 "kent,ico_decision,2024-03-01,,upheld,,,,,,Disclose,2024-13-05",
                 header=DECISION_HEADER)
    result = invoke(runner, "requests", "events", campaign, path)
    assert result.exit_code == 1
    assert "line 7, column comply_by: '2024-13-05' is not a date" in result.output
    assert events(session) == 0


def test_a_case_reference_on_a_kind_that_takes_none_names_its_row_and_column(
        runner, campaign, session, tmp_path):
    path = write(tmp_path, "kent,sent,2023-09-01,,,,,,,IC-1,,", header=DECISION_HEADER)
    result = invoke(runner, "requests", "events", campaign, path)
    assert result.exit_code == 1
    assert "line 2" in result.output and "case_reference" in result.output
    assert events(session) == 0


def test_the_single_command_takes_the_decision_fields(runner, campaign, session):
    for args in (("sent", "2023-09-01"), ("response", "2023-09-20", "--outcome", "refused"),
                 ("internal_review_requested", "2023-10-02"),
                 ("internal_review_outcome", "2023-10-10", "--outcome", "upheld"),
                 ("ico_complaint", "2023-10-30", "--case-reference", "IC-254321-X9Y8")):
        result = invoke(runner, "requests", "event", campaign, "kent", *args)
        assert result.exit_code == 0, result.output
    result = invoke(runner, "requests", "event", campaign, "kent", "ico_decision", "2024-03-01",
                    "--outcome", "upheld", "--case-reference", "IC-254321-X9Y8",
                    "--steps-ordered", "Disclose the figures", "--comply-by", "2024-04-05")
    assert result.exit_code == 0, result.output
    decision = _kent_events(session)["ico_decision"]
    assert isinstance(decision, Event)
    assert (decision.steps_ordered, decision.comply_by.isoformat()) == (
        "Disclose the figures", "2024-04-05")
    bad = invoke(runner, "requests", "event", campaign, "kent", "note", "2024-03-02",
                 "--comply-by", "2024-02-30")
    assert bad.exit_code == 2 and "--comply-by" in bad.output
