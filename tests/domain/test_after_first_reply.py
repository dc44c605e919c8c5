"""After the first reply (issue 17, "Wrong today"): what a review or decision notice does to
the outcome, the FOISA route to the Commissioner, the extension notice's exemption and a reply
not yet read. Pure: timelines of plain values, built through check() as the app builds them."""

from __future__ import annotations

import datetime as dt

import pytest

from foitrack.domain.clock import Regime
from foitrack.domain.timeline import (
    EventKind,
    Status,
    TimelineError,
    TimelineEvent,
    check,
    derive,
)

D = dt.date.fromisoformat
TODAY = D("2026-11-23")


def ev(kind, on, **kw):
    return TimelineEvent(kind=EventKind(kind), on=D(on), **kw)


def build(*events, regime=Regime.foia):
    """Add events one by one through check(), as the app does, numbered in entry order."""
    timeline = []
    for index, event in enumerate(events):
        event = TimelineEvent(**{**event.__dict__, "seq": index})
        check(timeline, event, TODAY, regime)
        timeline.append(event)
    return timeline


SENT = ev("sent", "2023-09-04")
REFUSED = ev("response", "2023-09-25", outcome="refused", exemptions=("s.31",))
REVIEW_ASKED = ev("internal_review_requested", "2023-09-26")


# ---- 1. the outcome that stands is the latest decision's ------------------------------------

def test_a_review_partly_overturning_a_refusal_leaves_the_information_part_provided():
    """FOIA s.45 Code of Practice (part 5, internal reviews): the review substitutes its decision; the Met's
    refusal partly overturned is "provided in part", and the first refusal stays on record."""
    timeline = build(SENT, REFUSED, REVIEW_ASKED,
                     ev("internal_review_outcome", "2023-10-20", outcome="partly_overturned"))
    state = derive(timeline, Regime.foia, TODAY)
    assert state.outcome == "part_provided"
    assert state.first_outcome == "refused"
    assert state.outcome_from is EventKind.internal_review_outcome
    assert state.exemptions == ("s.31",)  # still withheld in part under the same section
    assert [(d.kind, d.outcome, d.standing) for d in state.decisions] == [
        (EventKind.response, "refused", "refused"),
        (EventKind.internal_review_outcome, "partly_overturned", "part_provided")]


def test_a_review_upholding_the_refusal_leaves_it_refused():
    """FOIA s.45 Code of Practice: an upheld refusal stands."""
    timeline = build(SENT, REFUSED, REVIEW_ASKED,
                     ev("internal_review_outcome", "2023-10-20", outcome="upheld"))
    state = derive(timeline, Regime.foia, TODAY)
    assert (state.outcome, state.first_outcome) == ("refused", "refused")


COMPLAINED = (SENT, REFUSED, REVIEW_ASKED,
              ev("internal_review_outcome", "2023-10-20", outcome="upheld"),
              ev("ico_complaint", "2023-11-01"))


def test_a_decision_notice_ordering_steps_is_the_latest_decision():
    """FOIA s.50(4): a decision notice specifies the steps to be taken and the period for
    taking them; a complaint partly upheld with steps ordered orders part of what was refused
    disclosed, and the decision notice comes after the review in deciding what stands."""
    timeline = build(*COMPLAINED, ev("ico_decision", "2024-03-01", outcome="partly_upheld",
                                     steps_ordered="Disclose the 2022 figures"))
    state = derive(timeline, Regime.foia, TODAY)
    assert (state.outcome, state.outcome_from) == ("part_provided", EventKind.ico_decision)
    assert state.first_outcome == "refused"


def test_a_decision_notice_ordering_no_steps_leaves_the_refusal_standing():
    """FOIA s.50(4): a decision notice specifies the steps to be taken and the period for
    taking them. One recording no steps orders nothing disclosed: a complaint partly upheld is
    often upheld only for a procedural breach (a late s.17 notice) with the exemption upheld.
    The refusal stands, and the decision is kept in the history."""
    timeline = build(*COMPLAINED, ev("ico_decision", "2024-03-01", outcome="partly_upheld"))
    state = derive(timeline, Regime.foia, TODAY)
    assert (state.outcome, state.exemptions) == ("refused", ("s.31",))
    assert state.outcome_from is EventKind.ico_decision
    assert [(d.kind, d.outcome, d.standing) for d in state.decisions][-1] == (
        EventKind.ico_decision, "partly_upheld", "refused")


def test_a_response_after_the_decision_notice_sets_the_outcome():
    """FOIA s.50(4), s.1(1): the disclosure the authority then makes is recorded as a response,
    and it is the latest decision whatever the notice recorded."""
    timeline = build(*COMPLAINED, ev("ico_decision", "2024-03-01", outcome="upheld"),
                     ev("response", "2024-03-20", outcome="provided"))
    state = derive(timeline, Regime.foia, TODAY)
    assert (state.outcome, state.outcome_from) == ("provided", EventKind.response)
    assert state.first_outcome == "refused"


def test_upheld_means_opposite_things_for_a_review_and_a_decision_notice():
    """FOIA s.45 Code (the refusal upheld) against s.50 (the complaint upheld); under s.50(4)
    the decision notice specifies the steps to be taken, so it gives only with steps."""
    from foitrack.domain.timeline import outcome_after, standing_outcome

    assert outcome_after("refused", EventKind.internal_review_outcome, "upheld") == "refused"
    assert outcome_after("refused", EventKind.ico_decision, "upheld") == "refused"
    assert outcome_after("refused", EventKind.ico_decision, "upheld", "Disclose") == "provided"
    assert standing_outcome([REFUSED, ev("ico_decision", "2023-12-01", outcome="partly_upheld")]
                            ) == "refused"
    assert standing_outcome([REFUSED, ev("ico_decision", "2023-12-01", outcome="partly_upheld",
                                         steps_ordered="Disclose part")]) == "part_provided"
    # A decision on a request never answered leaves it unanswered until the response comes.
    assert outcome_after(None, EventKind.ico_decision, "upheld") is None
    assert standing_outcome([REFUSED, ev("internal_review_outcome", "2023-10-20",
                                         outcome="overturned")]) == "provided"


# ---- 2. FOISA: the Commissioner when the review is not answered in time ------------------------

def test_foisa_allows_the_commissioner_once_the_review_is_overdue():
    """FOISA s.47(1): an applicant may apply when the authority fails to respond to the
    requirement for review within the 20 working days of s.21(1) (due 2023-10-24 here)."""
    timeline = build(SENT, REFUSED, REVIEW_ASKED, ev("ico_complaint", "2023-10-25"),
                     regime=Regime.foisa)
    assert derive(timeline, Regime.foisa, TODAY).status is Status.with_commissioner


def test_foisa_refuses_the_commissioner_while_the_review_is_still_in_time():
    """FOISA s.21(1) and s.47(1): before the review is due, it is too early to apply."""
    with pytest.raises(TimelineError, match=r"after 2023-10-24 if it has not answered"):
        build(SENT, REFUSED, REVIEW_ASKED, ev("ico_complaint", "2023-10-24"),
              regime=Regime.foisa)


def test_foisa_gives_six_months_from_the_date_the_review_was_due():
    """FOISA s.47(4)(a): apply within six months of the review notice or of the date by which
    it was due."""
    overdue = derive(build(SENT, REFUSED, REVIEW_ASKED, regime=Regime.foisa), Regime.foisa,
                     D("2023-11-01"))
    assert overdue.commissioner_window.due == D("2024-04-24")
    reviewed = derive(build(SENT, REFUSED, REVIEW_ASKED,
                            ev("internal_review_outcome", "2023-10-20", outcome="upheld"),
                            regime=Regime.foisa), Regime.foisa, D("2023-11-01"))
    assert reviewed.commissioner_window.due == D("2024-04-20")


def test_foisa_review_of_silence_can_be_asked_for_40_working_days_from_the_due_date():
    """FOISA s.20(5): with no response, the requirement for review is due within 40 working
    days of the date the response was due (2023-10-02 here)."""
    state = derive(build(SENT, regime=Regime.foisa), Regime.foisa, D("2023-10-10"))
    assert state.response_deadline.due == D("2023-10-02")
    assert state.review_window.due == D("2023-11-27")


# ---- 3. the extension notice names the exemption weighed ----------------------------------------

def test_a_foia_extension_notice_may_name_the_exemption_weighed():
    """FOIA s.10(3) and s.17(2): the notice extending for the public interest test must name
    the exemption being considered."""
    timeline = build(SENT, ev("extension", "2023-09-20", due_on=D("2023-10-30"),
                              exemptions=("s.31",)))
    deadline = derive(timeline, Regime.foia, D("2023-10-03")).response_deadline
    assert deadline.due == D("2023-10-30")
    assert any("weighing s.31 (s.17(2))" in line for line in deadline.lines)


def test_a_foisa_extension_names_no_exemption():
    """FOISA s.10: there is no public interest extension, so none is weighed under one."""
    with pytest.raises(TimelineError, match="has no public interest extension"):
        build(SENT, ev("extension", "2023-09-20", due_on=D("2023-10-30"), exemptions=("s.35",)),
              regime=Regime.foisa)


# ---- 5. a reply filed but not yet read --------------------------------------------------------

def test_a_reply_not_yet_classified_is_to_read_and_the_next_event_reads_it():
    """No Act: a reply filed from the mailbox says nothing until classified (FOIA s.10(1) runs
    on, so the request stays late by the clock)."""
    filed = build(SENT, ev("reply_received", "2023-10-05"))
    state = derive(filed, Regime.foia, D("2023-10-10"))
    assert state.reply_to_read_on == D("2023-10-05")
    assert state.lateness is not None  # still late by the clock: it is not chased, though
    read = build(*filed, ev("acknowledged", "2023-10-06"))
    assert derive(read, Regime.foia, D("2023-10-10")).reply_to_read_on is None
