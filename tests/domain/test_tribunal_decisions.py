"""Issue 17 point 1, leftovers: the decision on an appeal against the Commissioner's decision
(the First-tier Tribunal's, FOIA s.58; the Court of Session's, FOISA s.56) is the request's
latest decision: the outcome shown is the latest of the review, the decision notice and it."""

from __future__ import annotations

import pytest

from foitrack.domain.timeline import (
    CLASSIFYING,
    EVENT_FIELDS,
    EventKind,
    TimelineError,
    derive,
    outcome_label,
    standing_outcome,
)
from tests.domain.test_appeals_and_their_clocks import (
    COMPLAINED,
    DECIDED,
    FOIA,
    FOISA,
    THROUGH_REVIEW,
    D,
    build,
    ev,
)

APPEALED = ev("tribunal_appeal", "2024-03-20", case_reference="EA/2024/0123")
# The authority appealed the notice ordering disclosure and won: s.31 upheld.
FTT_DECIDED = ev("tribunal_decision", "2024-09-10", outcome="refused", exemptions=("s.31",),
                 case_reference="EA/2024/0123")


def test_foia_s58_the_tribunal_s_decision_is_the_outcome_that_stands():
    """FOIA s.58(1): the Tribunal allows the appeal (substituting its own notice) or dismisses
    it. The decision notice ordered disclosure ("provided"); the Tribunal, on the authority's
    appeal, upheld the s.31 exemption: the request stands refused, the history kept."""
    before = derive(build(*THROUGH_REVIEW, COMPLAINED, DECIDED, APPEALED), FOIA, D("2024-04-01"))
    assert before.outcome == "provided"
    events = build(*THROUGH_REVIEW, COMPLAINED, DECIDED, APPEALED, FTT_DECIDED)
    state = derive(events, FOIA, D("2024-09-11"))
    assert (state.outcome, state.exemptions) == ("refused", ("s.31",))
    assert state.outcome_from is EventKind.tribunal_decision
    assert [d.kind for d in state.decisions] == [
        EventKind.response, EventKind.internal_review_outcome, EventKind.ico_decision,
        EventKind.tribunal_decision]
    assert standing_outcome(events) == "refused"


def test_foisa_s56_the_court_of_session_s_decision_is_the_outcome_that_stands():
    """FOISA s.56: the Court of Session decides the appeal on a point of law; what it leaves
    standing is the request's outcome."""
    decided = ev("ico_decision", "2024-02-29", outcome="not_upheld")
    events = build(*THROUGH_REVIEW, COMPLAINED, decided, ev("court_of_session_appeal", "2024-04-01"),
                   ev("tribunal_decision", "2025-01-15", outcome="provided"), regime=FOISA)
    assert derive(events, FOISA, D("2025-01-16")).outcome == "provided"


def test_a_decision_on_an_appeal_needs_the_appeal():
    """FOIA s.58, FOISA s.56: there is a decision on an appeal only once one is made."""
    with pytest.raises(TimelineError, match="no appeal against the Commissioner's decision"):
        build(*THROUGH_REVIEW, COMPLAINED, DECIDED, FTT_DECIDED)


def test_an_appeal_is_decided_once():
    """FOIA s.58: the Tribunal decides the appeal once (a further appeal, to the Upper
    Tribunal, is not recorded as a second decision)."""
    with pytest.raises(TimelineError, match="the appeal was decided on 2024-09-10"):
        build(*THROUGH_REVIEW, COMPLAINED, DECIDED, APPEALED, FTT_DECIDED,
              ev("tribunal_decision", "2024-10-01", outcome="provided"))


def test_a_decision_on_an_appeal_says_how_the_information_stands():
    with pytest.raises(TimelineError, match="say what the decision leaves standing"):
        build(*THROUGH_REVIEW, COMPLAINED, DECIDED, APPEALED, ev("tribunal_decision", "2024-09-10"))


def test_the_decision_is_labelled_by_the_request_s_law_and_takes_its_fields():
    kind = EventKind.tribunal_decision
    assert kind.label_for(FOIA) == "First-tier Tribunal decision (FOIA s.58)"
    assert kind.label_for(FOISA) == "Court of Session decision (FOISA s.56)"
    assert dict(EVENT_FIELDS[kind]) == {"outcome": True, "exemptions": False,
                                        "case_reference": False}
    assert outcome_label("refused", kind.value) == "Refused"
    assert kind in CLASSIFYING  # a reply bringing the decision is classified by it


def test_no_clock_runs_from_the_tribunal_s_decision():
    """No deadline is built on the decision: permission to appeal to the Upper Tribunal is
    asked of the First-tier Tribunal within 28 days of its sending the written reasons (GRC
    Rules 2009 r.42(2)), a date foitrack does not record (see docs/lifecycle.md)."""
    state = derive(build(*THROUGH_REVIEW, COMPLAINED, DECIDED, APPEALED, FTT_DECIDED), FOIA,
                   D("2024-09-11"))
    assert state.appeal_window is None
    assert [d.name for d in state.own_deadlines()] == []
