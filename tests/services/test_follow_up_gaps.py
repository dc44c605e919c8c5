"""Narrowed follow-ups (issue 17, point 2) where the first request was assumed everywhere: the
event import, the chaser's wording, the fact sheet's pick, the tracker and API, inbound matching
and withdrawn answers. A follow-up is a new request for information (FOIA s.1(1), FOISA s.1(1))
with its own clock (FOIA s.10(1)); the figures stay on the first request."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import func, select

from foitrack.errors import Invalid
from foitrack.exporters import dataset as writers
from foitrack.models import Event, MessageKind, Request
from foitrack.services import (
    aggregate,
    checks,
    datasets,
    follow_ups,
    mail,
    release,
    requests,
    tracker_import,
)
from foitrack.services.campaigns import create_campaign
from foitrack.services.event_import import record_events
from foitrack.services.figures import import_csv
from tests.factories import FIGURES_HEADER, TEST_ACTOR, design_for, enter_figures, make_campaign

D = dt.date.fromisoformat
TODAY = D("2019-07-31")
FORCES = ["kent", "surrey", "essex"]
NARROWED = "How many offences did you record in 2018/19? No breakdown is needed."
SLUG = "grooming-2019"


@pytest.fixture
def campaign(session):
    """Three forces asked on 1 April 2019; Kent and Surrey refused on cost (s.12) on 25 April;
    Kent was sent a narrowed follow-up on 1 May."""
    found = make_campaign(session, design_for(FORCES))
    for slug in FORCES:
        add(session, slug, "sent", "2019-04-01")
    for slug in ("kent", "surrey"):
        add(session, slug, "response", "2019-04-25", outcome="refused", exemptions="s.12")
    follow_ups.open_follow_up(session, TEST_ACTOR, first(session, "kent"), NARROWED,
                              D("2019-05-01"), today=TODAY)
    session.commit()
    return found


def first(session, slug):
    return requests.get_request(session, SLUG, slug)


def kent_follow_up(session):
    return follow_ups.get_follow_up(session, SLUG, "kent", 1)


def add(session, slug, kind, on, request=None, **kw):
    request = request or first(session, slug)
    return requests.add_event(session, TEST_ACTOR, request, kind, D(on), today=TODAY, **kw)


def event_count(session):
    return session.scalar(select(func.count()).select_from(Event)) or 0


HEADER = "authority,kind,date,note,outcome,exemptions,due_on,received_on,reference"


def test_an_event_row_with_a_follow_up_number_goes_on_the_follow_ups_timeline(session, campaign):
    """FOIA s.10(1): each follow-up has its own timeline; `follow_up` 1 records on it, an empty
    or absent cell on the first request, as files written before follow-ups were read."""
    data = (f"{HEADER},follow_up\n"
            "kent,response,2019-05-20,,provided,,,,,1\n"
            "essex,response,2019-04-26,,provided,,,,,\n").encode()
    recorded = record_events(session, TEST_ACTOR, SLUG, data, today=TODAY)
    assert [r.request.follow_up_number for r in recorded] == [1, 0]
    assert requests.state_of(kent_follow_up(session), TODAY).outcome == "provided"
    assert requests.state_of(first(session, "kent"), TODAY).outcome == "refused"


@pytest.mark.parametrize("cell, message", [
    ("2", "'kent' has no follow-up 2 in campaign 'grooming-2019'"),
    ("one", "is a follow-up's number (0 or empty for the first request)"),
])
def test_an_unknown_follow_up_number_is_refused_naming_the_row_and_nothing_is_recorded(
        session, campaign, cell, message):
    """FOIA s.1(1): a follow-up that was never sent has no timeline to record on."""
    before = event_count(session)
    data = (f"{HEADER},follow_up\n"
            "essex,response,2019-04-26,,provided,,,,,\n"
            f"kent,response,2019-05-20,,provided,,,,,{cell}\n").encode()
    with pytest.raises(Invalid) as raised:
        record_events(session, TEST_ACTOR, SLUG, data, today=TODAY)
    problem = raised.value.problems[0]
    assert (problem.line, problem.field, problem.message) == (3, "follow_up", message)
    session.rollback()
    assert event_count(session) == before


def test_a_follow_ups_chaser_quotes_the_narrowed_question_not_the_first(session, campaign):
    """FOIA s.1(1), s.10(1): the chaser is about the late follow-up, a new request; it quotes
    what that request asked so the authority can tell which of the two is chased."""
    _, body = mail.compose(session, kent_follow_up(session), MessageKind.chaser, TODAY)
    assert "This is my narrowed request, which asked:\n\n" + NARROWED in body
    original = requests.get_request(session, SLUG, "kent").campaign.current_version.request_text
    assert original.strip()[:40] not in body
    _, first_body = mail.compose(session, first(session, "kent"), MessageKind.chaser, TODAY)
    assert "narrowed" not in first_body


def test_the_fact_sheet_takes_the_first_request_whatever_the_order(session, campaign):
    """The figures stay on the first request (services.follow_ups); the fact sheet reads their
    caveats from it even when a follow-up (a new request, FOIA s.1(1)) comes first in the
    campaign's list of requests, whose order is not promised."""
    data = FIGURES_HEADER + "kent,offences,2018-19,,,50,Excludes online offences,Reply\n"
    import_csv(session, TEST_ACTOR, campaign, io.BytesIO(data.encode()))
    session.commit()
    campaign.requests.sort(key=lambda r: -r.follow_up_number)
    assert campaign.requests[0].follow_up_number == 1
    national = aggregate.build(session, campaign)
    sheet = release.fact_sheet(session, campaign, national, "kent", TODAY)
    text = "\n".join(line.text for line in sheet.lines)
    assert "Kent Police's caveats: Excludes online offences" in text


def _kent_answered_and_marked(session, campaign):
    follow_up = kent_follow_up(session)
    add(session, "", "response", "2019-05-20", request=follow_up, outcome="provided")
    follow_ups.use_as_source(session, TEST_ACTOR, follow_up, TODAY)
    enter_figures(session, campaign, ("kent", "2018-19", "", "", 50))
    return follow_up


def test_figures_from_a_withdrawn_follow_up_answer_are_flagged_and_listed(session, campaign):
    """FOIA s.1(1): the marked follow-up's reply is where the figures came from, so when the
    authority withdraws it (practice, not law: services.withdrawals) they are flagged, left
    out of the aggregate and listed by the checks, as a withdrawn first response's are."""
    follow_up = _kent_answered_and_marked(session, campaign)
    assert aggregate.build(session, campaign).withdrawn_left_out == 0
    add(session, "", "response_withdrawn", "2019-06-01", request=follow_up)
    session.commit()
    assert aggregate.build(session, campaign).withdrawn_left_out == 1
    found = [f for f in checks.findings(session, campaign, today=TODAY)
             if f.check == checks.WITHDRAWN_RESPONSE]
    assert len(found) == 1 and "withdrew" in found[0].message


def test_a_withdrawn_first_response_does_not_flag_figures_from_a_marked_follow_up(
        session, campaign):
    """FOIA s.1(1): once a follow-up is marked as the source, the figures came from its reply;
    the first request's (here Kent's s.12 refusal, withdrawn) is not where they came from."""
    _kent_answered_and_marked(session, campaign)
    add(session, "kent", "response_withdrawn", "2019-06-01")
    session.commit()
    assert aggregate.build(session, campaign).withdrawn_left_out == 0


FOLLOW_UP_COLUMNS = ["follow_up_count", "figures_from", "follow_up_sent_on", "follow_up_due_on",
                     "follow_up_status", "follow_up_outcome"]


def _tracker_csv(session, campaign):
    out = io.StringIO()
    writers.write_csv(datasets.campaign_dataset(session, campaign, TODAY).table("tracker"), out)
    header, *rows = out.getvalue().splitlines()
    return header.split(","), [row.split(",") for row in rows]


def test_the_tracker_keeps_one_row_per_authority_with_follow_up_columns_at_the_end(
        session, campaign):
    """FOIA s.1(1), s.10(1): Kent's narrowed follow-up, a new request with its own clock (sent
    1 May 2019, due 31 May past the bank holidays of 6 and 27 May, s.10(6)), is described on
    Kent's one row, after every existing column, in their order."""
    names = [column.name for column in datasets.TRACKER_COLUMNS]
    assert names[-6:] == FOLLOW_UP_COLUMNS
    assert names[:-6][-1] == "response_withdrawn_on"
    follow_up = kent_follow_up(session)
    add(session, "", "response", "2019-05-20", request=follow_up, outcome="provided")
    follow_ups.use_as_source(session, TEST_ACTOR, follow_up, TODAY)
    session.commit()
    header, rows = _tracker_csv(session, campaign)
    assert header[-6:] == FOLLOW_UP_COLUMNS
    assert len(rows) == 3  # one a force: Kent's follow-up has no row of its own
    by_name = {row[1]: dict(zip(header, row, strict=True)) for row in rows}
    kent = by_name["Kent Police"]
    assert kent["outcome"] == "refused" and kent["sent_on"] == "2019-04-01"
    assert [kent[name] for name in FOLLOW_UP_COLUMNS] == [
        "1", "follow-up 1", "2019-05-01", "2019-05-31", "answered", "provided"]
    assert [by_name["Essex Police"][name] for name in FOLLOW_UP_COLUMNS] == [
        "0", "first request", "", "", "", ""]


def test_a_tracker_exported_with_follow_ups_imports_one_request_per_authority(
        session, campaign):
    """A re-imported tracker (services.tracker_import) reads the first request's columns; the
    follow-up columns at the end (a follow-up is a new request, FOIA s.1(1)) do not confuse it."""
    header, rows = _tracker_csv(session, campaign)
    data = "\n".join(",".join(row) for row in [header, *rows]).encode()
    other = create_campaign(session, TEST_ACTOR, title="Again", request_text="Dear x",
                            authority_keys=["essex"])
    session.commit()
    planned = tracker_import.plan(session, other, "tracker.csv", data, TODAY)
    assert planned.unmatched == []
    assert sorted(r.authority.slug for r in planned.rows) == ["essex", "kent", "surrey"]
    tracker_import.apply(session, TEST_ACTOR, other, planned, TODAY)
    session.commit()
    kent = requests.get_request(session, other.slug, "kent")
    state = requests.state_of(kent, TODAY)
    assert (state.sent_on, state.outcome) == (D("2019-04-01"), "refused")
    assert session.scalar(select(func.count()).select_from(Request).where(
        Request.campaign_id == other.id)) == 3
