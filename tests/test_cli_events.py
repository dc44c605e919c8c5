"""`foitrack requests events CAMPAIGN FILE.csv`: many events from a script, all or nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from foitrack.cli import main
from foitrack.models import Event, Request
from foitrack.services import requests
from foitrack.services.event_import import COLUMNS, read_rows
from tests.factories import load_forces

HEADER = "authority,kind,date,note,outcome,exemptions,due_on,received_on,reference"


def invoke(runner, *args, input=None):
    return runner.invoke(main, list(args), input=input, catch_exceptions=False)


@pytest.fixture
def campaign(runner, tmp_path):
    text = tmp_path / "request.txt"
    text.write_text("{{ salutation }},\n\nHow many offences did {{ authority.name }} record?\n",
                    encoding="utf-8")
    invoke(runner, "authorities", "load")
    result = invoke(runner, "campaigns", "create", "--title", "G", "--slug", "g",
                    "--authorities", "kent,surrey,west-mercia", "--text-file", str(text))
    assert result.exit_code == 0, result.output
    return "g"


def write(tmp_path, *rows, header=HEADER):
    path = tmp_path / "events.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return str(path)


def events(session):
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Event)) or 0


def test_the_columns_are_the_nine_documented():
    assert ",".join(COLUMNS) == HEADER


def test_each_row_is_recorded_as_requests_event_records_it(runner, campaign, session, tmp_path):
    path = write(tmp_path,
                 "E23000016,sent,2019-05-01,,,,,,",
                 "kent,sent,2019-05-01,by email,,,,2019-05-02,KENT/1",
                 "west-mercia,response,2019-05-29,,part_provided,s.40(2),,,FOI 123")
    result = invoke(runner, "requests", "events", campaign, path)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "  line 2: request sent on 2019-05-01 for West Mercia Police. Status: Awaiting response; "
        "response due 2019-05-31.",
        "  line 3: request sent on 2019-05-01 for Kent Police. Status: Awaiting response; "
        "response due 2019-06-03.",
        "  line 4: response received on 2019-05-29 for West Mercia Police. Status: Answered.",
        "Recorded 3 events in g.",
    ]
    kent = requests.get_request(session, "g", "kent")
    assert kent.reference == "KENT/1"
    [sent] = kent.events
    assert (sent.note, sent.received_on.isoformat()) == ("by email", "2019-05-02")
    mercia = requests.get_request(session, "g", "west-mercia")
    assert mercia.reference == "FOI 123"
    assert [e.exemptions for e in mercia.events if e.kind.value == "response"] == [["s.40(2)"]]


def test_the_same_line_as_the_single_command(runner, campaign, tmp_path):
    single = invoke(runner, "requests", "event", campaign, "surrey", "sent", "2019-05-01")
    bulk = invoke(runner, "requests", "events", campaign,
                  write(tmp_path, "kent,sent,2019-05-01,,,,,,"))
    assert single.output.replace("Recorded", "  line 2:").replace("Surrey", "Kent") == \
        bulk.output.splitlines(keepends=True)[0]


def test_a_bad_date_names_the_line_and_column_and_records_nothing(runner, campaign, session,
                                                                  tmp_path):
    path = write(tmp_path, "kent,sent,2019-05-01,,,,,,", "surrey,sent,2019-02-30,,,,,,")
    result = invoke(runner, "requests", "events", campaign, path)
    assert result.exit_code == 1
    assert result.output.strip() == ("Error: line 3, column date: '2019-02-30' is not a date in "
                                     "the form YYYY-MM-DD; nothing was changed")
    assert events(session) == 0


def test_a_row_the_timeline_refuses_undoes_the_rows_before_it(runner, campaign, session,
                                                               tmp_path):
    path = write(tmp_path, "kent,sent,2019-05-01,,,,,,", "surrey,sent,2019-05-01,,,,,,",
                 "surrey,response,2019-04-01,,provided,,,,")
    result = invoke(runner, "requests", "events", campaign, path)
    assert result.exit_code == 1
    assert "line 4, column date: " in result.output
    assert "nothing was changed" in result.output
    assert events(session) == 0
    # The campaign is not made live by the sent rows either.
    assert "draft" in invoke(runner, "campaigns", "list").output


def test_a_missing_outcome_names_its_column(runner, campaign, session, tmp_path):
    path = write(tmp_path, "kent,sent,2019-05-01,,,,,,", "kent,response,2019-05-20,,,,,,")
    result = invoke(runner, "requests", "events", campaign, path)
    assert result.exit_code == 1
    assert "line 3, column outcome: is required for this event; choose" in result.output
    assert events(session) == 0


def test_every_problem_of_shape_is_listed(runner, campaign, session, tmp_path):
    path = write(tmp_path, "atlantis,sent,2019-05-01,,,,,,", ",sent,,,,,,,",
                 "kent,sent,2019-05-01,,,,,")
    result = invoke(runner, "requests", "events", campaign, path)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "Error: 4 problems, nothing was changed:",
        "  line 2, column authority: campaign 'g' has no request to 'atlantis'",
        "  line 3, column authority: is required",
        "  line 3, column date: is required",
        "  line 4: has 8 cells but the header has 9",
    ]
    assert events(session) == 0


@pytest.mark.parametrize("header, problem", [
    ("authority,kind,date,note,outcome,exemptions,due_on,received_on",
     "line 1: the header has no 'reference' column"),
    (HEADER + ",status", "line 1: unknown column 'status'"),
    (HEADER.replace("note", "kind"), "line 1: column 'kind' appears more than once"),
])
def test_the_columns_must_be_exactly_the_nine(runner, campaign, session, tmp_path, header,
                                              problem):
    path = write(tmp_path, "kent,sent,2019-05-01,,,,,,", header=header)
    result = invoke(runner, "requests", "events", campaign, path)
    assert result.exit_code == 1
    assert f"  {problem}\n" in result.output
    assert f"  line 1: the columns are exactly {HEADER} (and, if wanted" in result.output
    assert events(session) == 0


def test_the_columns_may_come_in_any_order_and_any_case(runner, campaign, session, tmp_path):
    path = write(tmp_path, "2019-05-01,sent,kent,,,,,,",
                 header="Date,Kind,AUTHORITY,note,outcome,exemptions,due_on,received_on,reference")
    result = invoke(runner, "requests", "events", campaign, path)
    assert result.exit_code == 0, result.output
    assert events(session) == 1


def test_dry_run_shows_what_would_be_recorded_and_records_nothing(runner, campaign, session,
                                                                  tmp_path):
    path = write(tmp_path, "kent,sent,2019-05-01,,,,,,KENT/1", "kent,acknowledged,2019-05-02,,,,,,")
    result = invoke(runner, "requests", "events", campaign, path, "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "  line 2: request sent on 2019-05-01 for Kent Police. Status: Awaiting response; "
        "response due 2019-05-31.",
        "  line 3: acknowledged by the authority on 2019-05-02 for Kent Police. Status: Awaiting response; "
        "response due 2019-05-31.",
        "Dry run, nothing was recorded. Would record 2 events.",
    ]
    assert events(session) == 0
    assert requests.get_request(session, "g", "kent").reference is None
    assert "draft" in invoke(runner, "campaigns", "list").output


def test_an_unknown_campaign_exits_1(runner, campaign, tmp_path):
    result = invoke(runner, "requests", "events", "nope", write(tmp_path, "kent,sent,2019-05-01,,,,,,"))
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and "nothing was changed" in result.output


def test_standard_input_and_a_header_alone(runner, campaign, session):
    result = invoke(runner, "requests", "events", campaign, "-", input=HEADER + "\n")
    assert result.exit_code == 1
    assert "the file has a header but no rows" in result.output
    result = invoke(runner, "requests", "events", campaign, "-",
                    input=HEADER + "\nkent,sent,2019-05-01,,,,,,\n")
    assert result.exit_code == 0 and events(session) == 1


def test_the_service_reads_lines_as_the_file_has_them(app, session):
    from foitrack.services.campaigns import create_campaign
    from tests.factories import TEST_ACTOR

    load_forces(session)
    create_campaign(session, TEST_ACTOR, title="G", slug="g", request_text="Hello",
                    authority_keys=["kent"])
    data = (HEADER + '\nkent,note,2019-05-01,"two\nlines",,,,,\n\nkent,sent,2019-05-02,,,,,,\n')
    rows = read_rows(session, "g", data.encode())
    assert [(row.line, row.kind, row.note) for row in rows] == [(2, "note", "two\nlines"),
                                                                (5, "sent", None)]
    assert isinstance(rows[0].request, Request)
