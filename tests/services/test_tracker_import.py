"""Importing an existing spreadsheet tracker."""

from __future__ import annotations

import datetime as dt

import pytest

from foitrack.domain.timeline import Status
from foitrack.errors import Invalid
from foitrack.services import audit, data_version, requests, tracker_import
from foitrack.services.campaigns import create_campaign
from tests.factories import TEST_ACTOR, load_forces

TODAY = dt.date(2019, 7, 1)


@pytest.fixture
def campaign(session):
    load_forces(session)
    found = create_campaign(session, TEST_ACTOR, title="Grooming 2019", request_text="Dear x",
                            authority_keys=["kent"])
    session.commit()
    return found


@pytest.mark.parametrize("written", ["West Mercia", "West Mercia Police", "W Mercia Police",
                                     "west mercia constabulary", "E23000016"])
def test_authority_names_are_matched_forgivingly(session, campaign, written):
    planned = tracker_import.plan(session, campaign, "t.csv",
                                  f"Force,Date sent\n{written},01/05/2019\n".encode(), TODAY)
    assert planned.rows[0].authority.slug == "west-mercia", planned.rows[0].how


def test_a_former_name_matches_the_renamed_force(session, campaign):
    planned = tracker_import.plan(session, campaign, "t.csv",
                                  b"Authority\nHampshire Constabulary\n", TODAY)
    assert planned.rows[0].authority.slug == "hampshire-and-isle-of-wight"


def test_a_dry_run_changes_nothing_and_lists_the_unmatched(session, campaign):
    text = (b"Force,Date sent,Date of reply,Status,Ref\n"
            b"W Mercia Police,01/05/2019,20/05/2019,Refused,FOI 123\n"
            b"Gotham City Police,01/05/2019,,,\n"
            b"Kent,2019-05-01,,Awaiting,K/1\n")
    planned = tracker_import.plan(session, campaign, "tracker.csv", text, TODAY)
    assert planned.summary() == "3 rows: 2 requests to record, 0 skipped, 1 not matched to an authority"
    assert planned.unmatched[0].how.startswith("no authority called 'Gotham City Police'")
    session.rollback()
    assert len(requests.campaign_requests(session, campaign)) == 1
    count = tracker_import.apply(session, TEST_ACTOR, campaign, planned, TODAY)
    session.commit()
    assert count == 2
    mercia = requests.get_request(session, campaign.slug, "west-mercia")
    state = requests.state_of(mercia, TODAY)
    assert (state.status, state.outcome, mercia.reference) == (Status.answered, "refused", "FOI 123")
    kent = requests.state_of(requests.get_request(session, campaign.slug, "kent"), TODAY)
    assert kent.status is Status.awaiting_response


def test_a_request_with_a_timeline_is_left_alone(session, campaign):
    kent = requests.get_request(session, campaign.slug, "kent")
    requests.add_event(session, TEST_ACTOR, kent, "sent", dt.date(2019, 5, 2), today=TODAY)
    session.commit()
    planned = tracker_import.plan(session, campaign, "t.csv", b"Force,Date sent\nKent,01/05/2019\n",
                                  TODAY)
    assert planned.rows[0].action.startswith("skip: the request already has a timeline")
    assert tracker_import.apply(session, TEST_ACTOR, campaign, planned, TODAY) == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"Force,Date sent\nKent,31/02/2019\n", "line 2, column sent: '31/02/2019' is not a date"),
        (b"Force,Date sent,Date of reply,Status\nKent,2019-05-01,2019-04-01,Refused\n",
         "is before the request was sent"),
        (b"Force,Date sent,Date of reply,Status\nKent,2019-05-01,2019-05-20,\n",
         "does not say what the authority decided"),
        (b"Force,Date sent,Status\nKent,2019-05-01,Lost in post\n", "'Lost in post' is not a status"),
        (b"Name,When\nKent,2019-05-01\n", None),
        (b"When,Where\n2019-05-01,Kent\n", "no column names the authority"),
        (b"", "is empty"),
    ],
)
def test_bad_trackers_say_where(session, campaign, text, message):
    if message is None:  # "Name" is accepted as the authority column
        assert tracker_import.plan(session, campaign, "t.csv", text, TODAY).rows[0].authority
        return
    with pytest.raises(Invalid, match=message):
        tracker_import.plan(session, campaign, "t.csv", text, TODAY)


def test_an_xlsx_tracker(session, campaign, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["Force", "Date sent", "Date of reply", "Status"])
    book.active.append(["Sussex Police", dt.datetime(2019, 5, 1), dt.datetime(2019, 5, 29), "Partial"])
    book.save(tmp_path / "t.xlsx")
    planned = tracker_import.plan(session, campaign, "t.xlsx", (tmp_path / "t.xlsx").read_bytes(),
                                  TODAY)
    row = planned.rows[0]
    assert (row.authority.slug, row.sent, row.reply, row.outcome) == (
        "sussex", dt.date(2019, 5, 1), dt.date(2019, 5, 29), "part_provided")


def test_a_reference_typed_in_foitrack_is_kept_and_the_preview_says_so(session, campaign):
    kent = requests.get_request(session, campaign.slug, "kent")
    requests.set_reference(session, TEST_ACTOR, kent, "KENT/TYPED/1")
    session.commit()
    planned = tracker_import.plan(session, campaign, "t.csv",
                                  b"Force,Date sent,Ref\nKent,01/05/2019,K/FROM/TRACKER\n", TODAY)
    assert planned.rows[0].kept_reference == "KENT/TYPED/1"
    assert planned.rows[0].action == ("sent 2019-05-01; keeps the reference 'KENT/TYPED/1' typed "
                                      "in foitrack (the tracker says 'K/FROM/TRACKER')")
    assert planned.summary().endswith("; 1 references typed in foitrack kept")
    history = len(audit.history(session, "request", kent.id))
    assert tracker_import.apply(session, TEST_ACTOR, campaign, planned, TODAY) == 1
    session.commit()
    kent = requests.get_request(session, campaign.slug, "kent")
    assert kent.reference == "KENT/TYPED/1"
    assert len(audit.history(session, "request", kent.id)) == history


def test_a_reference_typed_after_the_preview_is_kept_too(session, campaign):
    planned = tracker_import.plan(session, campaign, "t.csv",
                                  b"Force,Date sent,Ref\nKent,01/05/2019,K/FROM/TRACKER\n", TODAY)
    assert planned.rows[0].kept_reference is None
    kent = requests.get_request(session, campaign.slug, "kent")
    requests.set_reference(session, TEST_ACTOR, kent, "KENT/TYPED/2")
    session.commit()
    tracker_import.apply(session, TEST_ACTOR, campaign, planned, TODAY)
    session.commit()
    assert requests.get_request(session, campaign.slug, "kent").reference == "KENT/TYPED/2"


def test_a_reference_from_the_tracker_is_on_the_record(session, campaign):
    before = data_version.current(session)
    planned = tracker_import.plan(session, campaign, "t.csv", b"Force,Ref\nKent,K/1\n", TODAY)
    tracker_import.apply(session, TEST_ACTOR, campaign, planned, TODAY)
    session.commit()
    # Only the reference changed, and the cached pages see it: the data version went up.
    assert data_version.current(session)[0] > before[0]
    planned = tracker_import.plan(session, campaign, "t.csv",
                                  b"Force,Date sent,Ref\nWest Mercia,01/05/2019,WM/2\n", TODAY)
    tracker_import.apply(session, TEST_ACTOR, campaign, planned, TODAY)
    session.commit()
    for key, reference in (("kent", "K/1"), ("west-mercia", "WM/2")):  # existing and new
        found = requests.get_request(session, campaign.slug, key)
        assert found.reference == reference
        assert [(e.before, e.after) for e in audit.history(session, "request", found.id)
                if e.after and "reference" in e.after] == [({"reference": None},
                                                           {"reference": reference})]


def test_a_reference_too_long_is_refused_in_the_preview(session, campaign):
    with pytest.raises(Invalid) as refused:
        tracker_import.plan(session, campaign, "t.csv",
                            b"Force,Ref\nKent," + b"9" * 101 + b"\n", TODAY)
    assert str(refused.value.problems[0]) == ("line 2, column reference: is longer than 100 "
                                              "characters")
