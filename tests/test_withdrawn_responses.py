"""Withdrawn and replaced responses (issue 17, point 3): an authority takes back its answer or
sends corrected figures. The state after each, the figures of a withdrawn response flagged and
left out of the aggregate with a note, the findings, the export column, and the migration."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import exc, select, text
from sqlalchemy.orm import sessionmaker

from foitrack import migrate
from foitrack.db import make_engine
from foitrack.domain.clock import Regime
from foitrack.domain.timeline import (
    EventKind,
    Status,
    TimelineError,
    TimelineEvent,
    check,
    derive,
    standing_outcome,
    with_seq,
)
from foitrack.errors import Invalid
from foitrack.models import Event, Figure
from foitrack.services import aggregate, checks, datasets, requests
from foitrack.services.requests import state_of
from tests.factories import (
    CHECKS_DESIGN,
    CHECKS_TODAY,
    MERCIA,
    TEST_ACTOR,
    enter_figures,
    make_campaign,
    respond,
)

D = dt.date.fromisoformat
SUSSEX = "E23000033"


def timeline(*events: tuple[str, str, dict]) -> list[TimelineEvent]:
    return with_seq([TimelineEvent(EventKind(kind), D(on), **fields) for kind, on, fields in events])


ANSWERED = (("sent", "2023-04-28", {}), ("response", "2023-05-20", {"outcome": "provided"}))
TODAY = D("2023-07-01")


# ---- the timeline ---------------------------------------------------------------------------


def test_after_a_withdrawal_no_answer_stands_and_the_deadline_says_so():
    events = timeline(*ANSWERED, ("response_withdrawn", "2023-06-01", {}))
    state = derive(events, Regime.foia, TODAY)
    assert state.outcome is None and state.response_withdrawn_on == D("2023-06-01")
    assert state.status is Status.awaiting_response
    assert state.first_response_on == D("2023-05-20") and state.answered_on_time
    assert any("withdrew its response on 2023-06-01" in line
               for line in state.response_deadline.lines)
    assert standing_outcome(events) is None


@pytest.mark.parametrize("outcome, stands", [(None, "provided"), ("part_provided", "part_provided")])
def test_a_replacement_keeps_it_answered_with_its_own_outcome_if_given(outcome, stands):
    fields = {"outcome": outcome} if outcome else {}
    for before in ((), (("response_withdrawn", "2023-06-01", {}),)):
        events = timeline(*ANSWERED, *before, ("response_replaced", "2023-06-10", fields))
        state = derive(events, Regime.foia, TODAY)
        assert state.status is Status.answered and state.outcome == stands
        assert state.response_withdrawn_on is None
        assert standing_outcome(events) == stands


def test_a_new_response_after_a_withdrawal_stands():
    events = timeline(*ANSWERED, ("response_withdrawn", "2023-06-01", {}),
                      ("response", "2023-06-20", {"outcome": "refused"}))
    state = derive(events, Regime.foia, TODAY)
    assert (state.status, state.outcome, state.response_withdrawn_on) == (
        Status.answered, "refused", None)


@pytest.mark.parametrize("kind", ["response_withdrawn", "response_replaced"])
def test_neither_comes_before_a_response(kind):
    with pytest.raises(TimelineError, match="no response to"):
        check(timeline(("sent", "2023-04-28", {})), TimelineEvent(EventKind(kind), D("2023-05-02")),
              TODAY)


def test_a_response_is_withdrawn_once_until_another_comes():
    events = timeline(*ANSWERED, ("response_withdrawn", "2023-06-01", {}))
    with pytest.raises(TimelineError, match="already withdrawn on 2023-06-01"):
        check(events, TimelineEvent(EventKind.response_withdrawn, D("2023-06-02")), TODAY)


def test_a_replacement_outcome_is_a_response_outcome_and_a_withdrawal_has_none():
    with pytest.raises(TimelineError, match="not an outcome of this event"):
        check(timeline(*ANSWERED),
              TimelineEvent(EventKind.response_replaced, D("2023-06-02"), outcome="upheld"), TODAY)
    with pytest.raises(TimelineError, match="has no outcome"):
        check(timeline(*ANSWERED),
              TimelineEvent(EventKind.response_withdrawn, D("2023-06-02"), outcome="provided"),
              TODAY)


# ---- the figures ----------------------------------------------------------------------------


@pytest.fixture
def campaign(session):
    found = make_campaign(session, CHECKS_DESIGN)
    for slug in ("west-mercia", "sussex"):
        respond(session, "checks", slug)
    enter_figures(session, found, (MERCIA, "2018-19", "", "", "31"),
                  (MERCIA, "2018-19", "age", "Under 13", "6"), (SUSSEX, "2018-19", "", "", "5"))
    return found


def record(session, kind: str, on: str = "2019-05-01", **fields) -> Event:
    request = requests.get_request(session, "checks", "west-mercia")
    event = requests.add_event(session, TEST_ACTOR, request, kind, D(on), today=CHECKS_TODAY,
                               **fields)
    session.commit()
    return event


def mercia_figures(session) -> dict[str, Figure]:
    request = requests.get_request(session, "checks", "west-mercia")
    return {("total" if f.category is None else f.category.label): f
            for f in session.scalars(select(Figure).where(Figure.request_id == request.id))}


def test_the_service_records_both_and_the_state_follows(session, campaign):
    request = requests.get_request(session, "checks", "west-mercia")
    with pytest.raises(Invalid, match="not an outcome"):
        requests.add_event(session, TEST_ACTOR, request, "response_replaced", D("2019-05-01"),
                           today=CHECKS_TODAY, outcome="upheld")
    record(session, "response_withdrawn", note="Withdrawn on the NPCC's advice")
    state = state_of(request, CHECKS_TODAY)
    assert state.outcome is None and state.response_withdrawn_on == D("2019-05-01")
    record(session, "response_replaced", "2019-05-20", outcome="part_provided")
    state = state_of(request, CHECKS_TODAY)
    assert (state.status, state.outcome) == (Status.answered, "part_provided")


def test_figures_of_a_withdrawn_response_are_left_out_of_the_aggregate_with_a_count(
        session, campaign):
    assert aggregate.build(session, campaign).row("offences", "2018-19").total == 36
    record(session, "response_withdrawn")
    result = aggregate.build(session, campaign)
    total = result.row("offences", "2018-19")
    assert total.total == 5 and total.usable == 1
    assert result.withdrawn_left_out == 2
    # Kept, not deleted: both figures are still there.
    assert set(mercia_figures(session)) == {"total", "Under 13"}
    # A withdrawn answer is no reply to count: the force is not replied, not uncounted.
    assert total.not_replied == 1


def test_a_figure_entered_again_after_the_withdrawal_counts(session, campaign):
    record(session, "response_withdrawn")
    record(session, "response", "2019-05-10", outcome="provided")
    enter_figures(session, campaign, (MERCIA, "2018-19", "", "", "30"))
    result = aggregate.build(session, campaign)
    assert result.row("offences", "2018-19").total == 35
    assert result.withdrawn_left_out == 1  # the "Under 13" figure, not entered again


def test_a_figure_that_names_its_reply_is_flagged_by_that_reply_alone(session, campaign):
    """A figure taken from the withdrawn response stays flagged however recently it was
    changed; one entered after the withdrawal, naming no reply, is not (nor because of its
    neighbour)."""
    response = session.scalar(select(Event).where(
        Event.request_id == requests.get_request(session, "checks", "west-mercia").id,
        Event.kind == EventKind.response))
    record(session, "response_withdrawn")
    enter_figures(session, campaign, (MERCIA, "2018-19", "age", "Under 13", "7"))
    figures = mercia_figures(session)
    figures["total"].source_event_id = response.id
    figures["total"].value = 32
    session.commit()
    result = aggregate.build(session, campaign)
    assert result.withdrawn_left_out == 1
    assert result.row("offences", "2018-19", "Under 13").total == 7
    assert result.row("offences", "2018-19").total == 5


def test_the_checks_list_figures_from_a_withdrawn_response(session, campaign):
    record(session, "response_withdrawn")
    found = [f for f in checks.findings(session, campaign, today=CHECKS_TODAY)
             if f.check == checks.WITHDRAWN_RESPONSE]
    assert [(f.authority, f.period) for f in found] == [("west-mercia", "2018-19")]
    assert "2 figures (total, Under 13 (Victim age)) from a response the authority withdrew" \
        in found[0].detail


def test_the_checks_list_figures_not_entered_again_since_a_replacement(session, campaign):
    record(session, "response_replaced")
    enter_figures(session, campaign, (MERCIA, "2018-19", "", "", "30"))
    found = [f for f in checks.findings(session, campaign, today=CHECKS_TODAY)
             if f.check == checks.NOT_REENTERED]
    assert len(found) == 1 and found[0].authority == "west-mercia"
    assert "1 figure (Under 13 (Victim age)) not entered again since" in found[0].detail
    # Not left out of the aggregate: most of a correction's cells stay as they were.
    assert aggregate.build(session, campaign).row("offences", "2018-19").total == 35


def test_the_figures_export_flags_them_in_a_last_column(session, campaign):
    record(session, "response_withdrawn")
    rows = list(datasets.figure_rows(session, campaign))
    assert list(rows[0])[-1] == "withdrawn"
    flags = {(r["authority"], r["category"]): r["withdrawn"] for r in rows}
    assert flags == {("Sussex Police", ""): False, ("West Mercia Police", ""): True,
                     ("West Mercia Police", "Under 13"): True}
    tracker = {row["authority"]: row for row in datasets.tracker_rows(session, campaign,
                                                                       CHECKS_TODAY)}
    # After the appeal column; the follow-up columns (issue 17, point 2) come after it.
    names = list(tracker["Sussex Police"])
    assert names.index("response_withdrawn_on") == names.index("appeal_on") + 1
    assert tracker["West Mercia Police"]["response_withdrawn_on"] == D("2019-05-01")
    assert tracker["West Mercia Police"]["outcome"] == ""
    texts = list(datasets.figure_text_rows(session, campaign))
    assert sorted(row[-1] for row in texts) == ["false", "true", "true"]
    assert [c.name for c in datasets.FIGURE_COLUMNS][-2:] == ["checked_by", "withdrawn"]


# ---- the migration --------------------------------------------------------------------------

BEFORE = "a27b9c3d4e5f"
AFTER = "b28c4d5e6f7a"


@pytest.mark.postgres
def test_the_migration_adds_the_kinds_and_going_down_keeps_them_as_notes(scratch):
    engine = make_engine(scratch.new_url())
    try:
        # To the head, not AFTER: the rows are written through today's models, which later
        # migrations (follow-ups' columns on request) have moved on; going down passes AFTER.
        migrate.upgrade(engine)
        with sessionmaker(engine)() as session:
            make_campaign(session, CHECKS_DESIGN)
            respond(session, "checks", "west-mercia")
            record(session, "response_withdrawn", note="On advice")
            record(session, "response_replaced", "2019-05-20", outcome="part_provided")
        migrate.downgrade(engine, BEFORE)
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT kind, note, outcome FROM event WHERE kind = 'note' ORDER BY id")).all()
        assert [tuple(row) for row in rows] == [
            ("note", "Response withdrawn by the authority: On advice", None),
            ("note", "Response replaced with corrected figures (outcome: part_provided)", None)]
        with pytest.raises(exc.IntegrityError), engine.begin() as connection:
            connection.execute(text("UPDATE event SET kind = 'response_withdrawn'"))
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision()
        with engine.begin() as connection:
            connection.execute(text(
                "UPDATE event SET kind = 'response_replaced' WHERE kind = 'note'"))
    finally:
        engine.dispose()
