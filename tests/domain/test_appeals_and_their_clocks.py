"""Complaints and appeals with their clocks (issue 17, point 1), through the pure timeline: each
deadline after the response, worked out and explained with its legal source; the FOISA path
checked section by section (s.10(1), s.20(5), s.21(1), s.47(4), s.56)."""

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
    reminders,
    with_seq,
)

D = dt.date.fromisoformat
FOIA, FOISA = Regime.foia, Regime.foisa


def ev(kind: str, on: str, **fields) -> TimelineEvent:
    return TimelineEvent(kind=EventKind(kind), on=D(on), **fields)


def build(*events: TimelineEvent, regime: Regime = FOIA) -> list[TimelineEvent]:
    """The events added one by one through check(), as the app does."""
    timeline: list[TimelineEvent] = []
    for event in with_seq(events):
        check(timeline, event, D("2026-01-01"), regime)
        timeline.append(event)
    return timeline


SENT = ev("sent", "2023-09-01")  # Friday: due 2023-09-29 under either Act
REFUSED = ev("response", "2023-09-20", outcome="refused", exemptions=("s.31",))
REVIEW_ASKED = ev("internal_review_requested", "2023-10-02")  # review due 2023-10-30
REVIEWED = ev("internal_review_outcome", "2023-10-10", outcome="upheld")
COMPLAINED = ev("ico_complaint", "2023-10-30", case_reference="IC-254321-X9Y8")
DECIDED = ev("ico_decision", "2024-03-01", outcome="upheld", steps_ordered="Disclose the figures")
THROUGH_REVIEW = (SENT, REFUSED, REVIEW_ASKED, REVIEWED)


# ---- FOIA --------------------------------------------------------------------------------------

def test_foia_complain_to_the_ico_within_six_weeks_of_the_final_response():
    """FOIA s.50(1)-(2) and the ICO's guidance on making an FOI complaint: within six weeks of
    the final response (the review's notice of 2023-10-10), calendar weeks: 2023-11-21."""
    state = derive(build(*THROUGH_REVIEW), FOIA, D("2023-10-20"))
    window = state.commissioner_window
    assert (window.name, window.due) == ("Complain to the ICO by", D("2023-11-21"))
    assert "Six weeks from the final response, the internal review's notice of 2023-10-10" \
        in window.lines[0]
    assert "ICO's guidance" in window.lines[1] and "FOIA s.50(2)(b)" in window.lines[1]


def test_foia_the_complaint_window_closes_once_a_complaint_is_made():
    """FOIA s.50(1): once the complaint is made, the window to make it is spent; the case
    reference is kept."""
    state = derive(build(*THROUGH_REVIEW, COMPLAINED), FOIA, D("2023-11-01"))
    assert state.commissioner_window is None
    assert (state.complaint_on, state.complaint_reference) == (D("2023-10-30"), "IC-254321-X9Y8")
    assert state.status is Status.with_commissioner


def test_foia_appeal_to_the_first_tier_tribunal_within_28_days_of_the_decision_notice():
    """FOIA s.57(1) and the GRC Rules 2009, rule 22(1)(b): 28 days from the notice being sent,
    calendar days: 2024-03-01 + 28 = 2024-03-29."""
    state = derive(build(*THROUGH_REVIEW, COMPLAINED, DECIDED), FOIA, D("2024-03-05"))
    window = state.appeal_window
    assert (window.name, window.due) == ("Appeal to the First-tier Tribunal by", D("2024-03-29"))
    assert "rule 22(1)(b)" in window.lines[1] and "FOIA s.57(1)" in window.lines[1]
    assert (state.decision_on, state.decision_outcome) == (D("2024-03-01"), "upheld")


def test_foia_a_decision_notice_gives_35_calendar_days_to_comply_by_default():
    """FOIA s.50(4): the notice names the steps and the time for them, 35 calendar days in
    ICO notices (not before the appeal period ends, s.50(6)): 2024-04-05."""
    state = derive(build(*THROUGH_REVIEW, COMPLAINED, DECIDED), FOIA, D("2024-03-05"))
    deadline = state.compliance_deadline
    assert (deadline.name, deadline.due) == ("Authority to comply by", D("2024-04-05"))
    assert "35 calendar days" in deadline.lines[0] and "FOIA s.50(4)" in deadline.lines[0]
    assert "Steps ordered: Disclose the figures" in deadline.lines


def test_foia_the_notice_s_own_date_for_compliance_wins():
    """FOIA s.50(4): the notice specifies the time; the date it gives is the one that counts."""
    decided = ev("ico_decision", "2024-03-01", outcome="partly_upheld", comply_by=D("2024-04-12"))
    state = derive(build(*THROUGH_REVIEW, COMPLAINED, decided), FOIA, D("2024-03-05"))
    assert state.compliance_deadline.due == D("2024-04-12")


def test_foia_a_complaint_upheld_with_no_steps_recorded_has_no_date_to_comply_by():
    """FOIA s.50(4): a decision notice specifies the steps to be taken and the period for
    taking them; one recording no steps (a complaint upheld for a late reply alone) gives
    nothing to comply with, so no 35-day default is made up, and the refusal stands."""
    for outcome in ("upheld", "partly_upheld"):
        decided = ev("ico_decision", "2024-03-01", outcome=outcome)
        state = derive(build(*THROUGH_REVIEW, COMPLAINED, decided), FOIA, D("2024-03-05"))
        assert state.compliance_deadline is None and state.appeal_window is not None
        assert state.outcome == "refused"


def test_foia_a_complaint_not_upheld_orders_no_steps():
    """FOIA s.50(4): only a notice finding a failure orders steps."""
    decided = ev("ico_decision", "2024-03-01", outcome="not_upheld")
    state = derive(build(*THROUGH_REVIEW, COMPLAINED, decided), FOIA, D("2024-03-05"))
    assert state.compliance_deadline is None and state.appeal_window is not None


def test_foia_an_appeal_is_recorded_after_the_decision_and_ends_its_window():
    """FOIA s.57(1): an appeal lies against a decision notice; once made its window is spent,
    and steps it affects wait for it (s.50(6))."""
    appeal = ev("tribunal_appeal", "2024-03-20", case_reference="EA/2024/0123")
    state = derive(build(*THROUGH_REVIEW, COMPLAINED, DECIDED, appeal), FOIA, D("2024-03-21"))
    assert state.appeal_window is None and state.appeal_on == D("2024-03-20")
    assert "FOIA s.50(6)" in state.compliance_deadline.flags[0]


def test_foia_an_appeal_needs_a_decision_notice():
    """FOIA s.57(1): the appeal is against a decision notice; without one there is nothing to
    appeal."""
    with pytest.raises(TimelineError, match="no decision of the Commissioner"):
        build(*THROUGH_REVIEW, COMPLAINED, ev("tribunal_appeal", "2024-03-20"))


def test_foia_appeals_go_to_the_tribunal_not_the_court_of_session():
    """FOIA s.57: appeals go to the First-tier Tribunal; FOISA s.56's Court of Session is not
    for a FOIA request."""
    with pytest.raises(TimelineError, match=r"First-tier Tribunal \(s.57\)"):
        build(*THROUGH_REVIEW, COMPLAINED, DECIDED, ev("court_of_session_appeal", "2024-03-20"))


def test_foia_the_review_window_names_the_code_of_practice():
    """The FOIA s.45 Code of Practice (2018), part 5: a review is asked for within 40 working
    days of the response; the working says so, as the s.10 date names s.10."""
    state = derive(build(SENT, REFUSED), FOIA, D("2023-09-25"))
    assert state.review_window.due == D("2023-11-15")
    assert state.review_window.lines[-1].startswith("Source: the s.45 Code of Practice (2018)")


def test_the_steps_are_labelled_by_the_request_s_law():
    """FOIA s.50 (a complaint to the ICO) and FOISA s.47 (an application to the Scottish
    Information Commissioner): one kind of event, named by the Act."""
    assert EventKind.ico_complaint.label_for(FOIA) == "Complaint to the ICO (FOIA s.50)"
    assert EventKind.ico_complaint.label_for(FOISA) == \
        "Application to the Scottish Information Commissioner (FOISA s.47)"
    assert EventKind.ico_decision.label_for(FOISA) == \
        "Scottish Information Commissioner's decision (FOISA s.49)"


def test_a_date_for_compliance_before_the_notice_is_refused():
    """FOIA s.50(4): the time for compliance runs after the notice."""
    with pytest.raises(TimelineError, match="date for compliance must be after"):
        build(*THROUGH_REVIEW, COMPLAINED,
              ev("ico_decision", "2024-03-01", outcome="upheld", comply_by=D("2024-02-01")))


def test_a_case_reference_belongs_to_complaints_decisions_and_appeals():
    """FOIA s.50, s.57: the Commissioner's or the Tribunal's reference; a response has none."""
    with pytest.raises(TimelineError, match="no case reference"):
        build(SENT, ev("response", "2023-09-20", outcome="provided", case_reference="IC-1"))


# ---- FOISA, section by section ------------------------------------------------------------------

def test_foisa_s10_1_response_within_20_working_days():
    """FOISA s.10(1)(a): the 20th working day after receipt (Scottish holidays): 2023-09-29."""
    state = derive(build(SENT, regime=FOISA), FOISA, D("2023-09-05"))
    assert state.response_deadline.due == D("2023-09-29")


def test_foisa_s20_5_require_a_review_within_40_working_days_of_the_response():
    """FOISA s.20(5): the requirement for review within 40 working days of the response
    (2023-09-20): 2023-11-15, the working naming s.20(5)."""
    state = derive(build(SENT, REFUSED, regime=FOISA), FOISA, D("2023-09-25"))
    assert state.review_window.due == D("2023-11-15")
    assert state.review_window.lines[-1] == \
        "Source: FOISA s.20(5) (a requirement for review within 40 working days)."


def test_foisa_s21_1_the_review_is_due_within_20_working_days():
    """FOISA s.21(1): the authority answers the requirement for review within 20 working days
    of receiving it (2023-10-02): 2023-10-30."""
    state = derive(build(SENT, REFUSED, REVIEW_ASKED, regime=FOISA), FOISA, D("2023-10-05"))
    assert state.review_deadline.due == D("2023-10-30")
    assert state.review_deadline.name == "Internal review (FOISA s.21(1))"


def test_foisa_s47_4_apply_to_the_commissioner_within_six_months():
    """FOISA s.47(4)(a)-(b): six months from the review's notice (2023-10-10 -> 2024-04-10),
    or, with none, from the date it was due (2023-10-30 -> 2024-04-30)."""
    reviewed = derive(build(*THROUGH_REVIEW, regime=FOISA), FOISA, D("2023-10-20"))
    assert reviewed.commissioner_window.due == D("2024-04-10")
    assert "FOISA s.47(4)" in reviewed.commissioner_window.lines[0]
    silent = derive(build(SENT, REFUSED, REVIEW_ASKED, regime=FOISA), FOISA, D("2023-11-01"))
    assert silent.commissioner_window.due == D("2024-04-30")


def test_foisa_s56_appeal_to_the_court_of_session_within_42_days():
    """FOISA s.56 and the Rules of the Court of Session, rule 41.20(1)(b): 42 days from the
    decision (2024-02-29 -> 2024-04-11), on a point of law."""
    decided = ev("ico_decision", "2024-02-29", outcome="not_upheld")
    state = derive(build(*THROUGH_REVIEW, COMPLAINED, decided, regime=FOISA), FOISA,
                   D("2024-03-01"))
    window = state.appeal_window
    assert (window.name, window.due) == ("Appeal to the Court of Session by", D("2024-04-11"))
    assert "FOISA s.56" in window.lines[1] and "rule 41.20(1)(b)" in window.lines[1]
    appeal = ev("court_of_session_appeal", "2024-04-01")
    after = derive(build(*THROUGH_REVIEW, COMPLAINED, decided, appeal, regime=FOISA), FOISA,
                   D("2024-04-02"))
    assert after.appeal_window is None and after.appeal_on == D("2024-04-01")


def test_foisa_s56_appeals_go_to_the_court_of_session_not_the_tribunal():
    """FOISA s.56: a Scottish decision is appealed to the Court of Session; FOIA s.57's
    tribunal is not for it."""
    with pytest.raises(TimelineError, match=r"Court of Session, on a point of law \(s.56\)"):
        build(*THROUGH_REVIEW, COMPLAINED, DECIDED, ev("tribunal_appeal", "2024-03-20"),
              regime=FOISA)


def test_foisa_s49_6_no_default_date_for_compliance():
    """FOISA s.49(6)(b): the Commissioner's decision sets its own time; foitrack assumes none
    (FOIA's 35 days are the ICO's practice, not Scotland's)."""
    state = derive(build(*THROUGH_REVIEW, COMPLAINED, DECIDED, regime=FOISA), FOISA,
                   D("2024-03-05"))
    assert state.compliance_deadline is None


# ---- reminders -------------------------------------------------------------------------------

def test_a_reminder_counts_down_the_days_left_to_ask_for_a_review():
    """The FOIA s.45 Code of Practice, part 5: the review window ends 2023-11-15; three days
    before, the researcher is reminded."""
    state = derive(build(SENT, REFUSED), FOIA, D("2023-11-12"))
    found = reminders(state, FOIA, D("2023-11-12"))
    assert [(r.due, r.text) for r in found] == [
        (D("2023-11-15"), "3 days left to ask for an internal review")]


def test_no_reminder_far_ahead_or_once_passed():
    """FOIA s.45 Code, part 5: a window 40 working days away is not yet a reminder; one
    passed is gone."""
    state = derive(build(SENT, REFUSED), FOIA, D("2023-09-25"))
    assert reminders(state, FOIA, D("2023-09-25")) == []
    assert reminders(state, FOIA, D("2023-11-16")) == []


def test_reminders_cover_the_commissioner_and_the_appeal():
    """FOISA s.47(4) and FOIA s.57 with the GRC rules r.22(1)(b): each window is a reminder in
    its last days."""
    foisa = derive(build(*THROUGH_REVIEW, regime=FOISA), FOISA, D("2024-04-09"))
    assert [r.text for r in reminders(foisa, FOISA, D("2024-04-09"))] == [
        "1 day left to apply to the Scottish Information Commissioner"]
    foia = derive(build(*THROUGH_REVIEW, COMPLAINED, DECIDED), FOIA, D("2024-03-29"))
    assert [r.text for r in reminders(foia, FOIA, D("2024-03-29"))] == [
        "Last day to appeal to the First-tier Tribunal"]


def test_no_review_reminder_once_the_complaint_is_with_the_ico():
    """FOIA s.50(1): a complaint may be made without a review; once it is, the s.45 Code's
    window to ask for a review is no longer shown or reminded of."""
    state = derive(build(SENT, REFUSED, ev("ico_complaint", "2023-10-02")), FOIA, D("2023-11-10"))
    assert state.review_window is None
    assert reminders(state, FOIA, D("2023-11-10")) == []
