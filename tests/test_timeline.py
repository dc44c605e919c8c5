"""Timelines: every kind of event, refused transitions, and the status, outcome and deadlines
they imply. Pure: no database."""

from __future__ import annotations

import datetime as dt

import pytest

from foitrack.domain.clock import Regime
from foitrack.domain.timeline import (
    EventKind,
    Lateness,
    Status,
    TimelineError,
    TimelineEvent,
    check,
    check_removal,
    derive,
)

D = dt.date.fromisoformat
K = EventKind
TODAY = D("2026-11-23")


def ev(kind, on, seq=0, **kw):
    return TimelineEvent(kind=K(kind), on=D(on), seq=seq, **kw)


def build(*events):
    """Add events one by one through check(), as the app does."""
    timeline = []
    for index, event in enumerate(events):
        event = TimelineEvent(**{**event.__dict__, "seq": index})
        check(timeline, event, TODAY)
        timeline.append(event)
    return timeline


SENT = ev("sent", "2023-04-28")  # statutory date 2023-05-31


def test_an_unsent_request_has_no_deadline():
    state = derive([], Regime.foia, TODAY)
    assert state.status is Status.not_sent and state.response_deadline is None


def test_sent_starts_the_clock_from_the_send_date_when_receipt_is_unknown():
    state = derive(build(SENT), Regime.foia, D("2023-05-02"))
    assert state.status is Status.awaiting_response
    assert state.response_deadline.due == D("2023-05-31")
    assert "The date of receipt is taken to be the day it was sent." in state.response_deadline.lines


def test_a_known_date_of_receipt_starts_the_clock():
    timeline = build(ev("sent", "2023-04-27", received_on=D("2023-04-28")))
    assert derive(timeline, Regime.foia, D("2023-05-02")).response_deadline.due == D("2023-05-31")


def test_acknowledged_and_notes_change_no_status():
    timeline = build(SENT, ev("acknowledged", "2023-05-02"), ev("note", "2023-05-03"))
    assert derive(timeline, Regime.foia, D("2023-05-04")).status is Status.awaiting_response


def test_a_note_may_come_before_sending():
    assert derive(build(ev("note", "2023-04-01"), SENT), Regime.foia, TODAY).status


def test_clarification_stops_the_clock_then_restarts_the_20_days():
    timeline = build(SENT, ev("clarification_requested", "2023-05-10"))
    state = derive(timeline, Regime.foia, D("2023-05-20"))
    assert state.status is Status.awaiting_clarification
    assert state.response_deadline.due is None
    assert "On hold since 2023-05-10" in state.response_deadline.lines[0]
    timeline = build(*timeline, ev("clarification_sent", "2023-05-12"))
    state = derive(timeline, Regime.foia, D("2023-05-20"))
    assert state.status is Status.awaiting_response
    # 20 working days following Fri 12 May 2023, skipping 29 May: Mon 12 June.
    assert state.response_deadline.due == D("2023-06-12")
    assert "From receipt of the clarification, 2023-05-12" in state.response_deadline.lines[0]


def test_fees_notice_to_payment_is_not_counted():
    timeline = build(SENT, ev("fees_notice", "2023-05-03"))
    state = derive(timeline, Regime.foia, D("2023-05-04"))
    assert state.status is Status.awaiting_fee and state.response_deadline.due is None
    timeline = build(*timeline, ev("fee_paid", "2023-05-05"))
    state = derive(timeline, Regime.foia, D("2023-05-09"))
    # Wed 3, Thu 4 and Fri 5 May are not counted: three working days later than 31 May.
    assert state.response_deadline.due == D("2023-06-05")
    assert any("fees notice (2023-05-03)" in line for line in state.response_deadline.lines)


def test_a_public_interest_extension_moves_the_due_date():
    timeline = build(SENT, ev("extension", "2023-05-30", due_on=D("2023-06-28")))
    state = derive(timeline, Regime.foia, D("2023-06-01"))
    assert state.response_deadline.due == D("2023-06-28")
    assert state.response_deadline.flags == []
    assert state.lateness is None


def test_an_extension_beyond_20_more_working_days_is_flagged():
    timeline = build(SENT, ev("extension", "2023-05-30", due_on=D("2023-07-31")))
    state = derive(timeline, Regime.foia, D("2023-06-01"))
    # 20 working days after 31 May 2023 is 28 June.
    assert state.response_deadline.flags == [
        "The extension runs past 2023-06-28, the 20 further working days the ICO's guidance allows."
    ]


def test_foisa_has_no_public_interest_extension():
    timeline = build(SENT, ev("extension", "2023-05-30", due_on=D("2023-06-28")))
    state = derive(timeline, Regime.foisa, D("2023-06-01"))
    # The same three May holidays are Scottish too, so the statutory date is 31 May either way.
    assert state.response_deadline.due == D("2023-05-31")
    assert "has no public interest extension" in state.response_deadline.flags[0]


@pytest.mark.parametrize(
    ("outcome", "exemptions"),
    [("provided", ()), ("part_provided", ("s.40(2)",)), ("not_held", ()),
     ("refused", ("s.12",)), ("ncnd", ("s.23(5)", "s.24(2)"))],
)
def test_a_response_records_the_outcome_apart_from_the_status(outcome, exemptions):
    timeline = build(SENT, ev("response", "2023-05-30", outcome=outcome, exemptions=exemptions))
    state = derive(timeline, Regime.foia, D("2023-06-01"))
    assert state.status is Status.answered
    assert state.outcome == outcome and state.exemptions == exemptions
    assert state.answered_on_time is True
    assert state.review_window.due == D("2023-07-26")  # 40 working days after 30 May 2023


def test_a_late_response_counts_its_working_days_late():
    timeline = build(SENT, ev("response", "2023-06-05", outcome="provided"))
    state = derive(timeline, Regime.foia, D("2023-06-06"))
    assert state.answered_on_time is False and state.answered_days_late == 3


def test_overdue_and_very_overdue():
    state = derive(build(SENT), Regime.foia, D("2023-06-02"))
    assert state.lateness is Lateness.overdue and state.working_days_late == 2
    # 40 working days after receipt is 28 June 2023; the day after, it is very overdue.
    assert derive(build(SENT), Regime.foia, D("2023-06-28")).lateness is Lateness.overdue
    assert derive(build(SENT), Regime.foia, D("2023-06-29")).lateness is Lateness.very_overdue


def test_due_soon():
    assert derive(build(SENT), Regime.foia, D("2023-05-24")).lateness is Lateness.due_soon
    assert derive(build(SENT), Regime.foia, D("2023-05-15")).lateness is None
    assert derive(build(SENT), Regime.foia, D("2023-05-31")).lateness is Lateness.due_soon


def test_internal_review_due_dates_and_overdue_review():
    timeline = build(SENT, ev("response", "2023-05-30", outcome="refused", exemptions=("s.12",)),
                     ev("internal_review_requested", "2023-06-01"))
    state = derive(timeline, Regime.foia, D("2023-06-02"))
    assert state.status is Status.awaiting_review
    assert state.review_deadline.due == D("2023-06-29")
    # 40 working days: 12 July (Battle of the Boyne, NI) is skipped too.
    assert any("up to 40 working days: 2023-07-28" in line for line in state.review_deadline.lines)
    late = derive(timeline, Regime.foia, D("2023-07-03"))
    assert late.lateness is Lateness.review_overdue and late.working_days_late == 2
    done = build(*timeline, ev("internal_review_outcome", "2023-06-20", outcome="upheld"))
    assert derive(done, Regime.foia, D("2023-07-03")).status is Status.reviewed
    assert derive(done, Regime.foia, D("2023-07-03")).lateness is None


def test_commissioner_complaint_and_decision_close_the_request():
    timeline = build(SENT, ev("response", "2023-05-30", outcome="refused", exemptions=("s.31",)),
                     ev("internal_review_requested", "2023-06-01"),
                     ev("internal_review_outcome", "2023-06-20", outcome="upheld"),
                     ev("ico_complaint", "2023-07-01"))
    assert derive(timeline, Regime.foia, TODAY).status is Status.with_commissioner
    closed = build(*timeline, ev("ico_decision", "2024-01-10", outcome="upheld",
                                 steps_ordered="Disclose the information"))
    assert derive(closed, Regime.foia, TODAY).status is Status.closed
    # The complaint upheld with steps ordered: the refusal no longer stands (FOIA s.50(4), the
    # notice specifies the steps to be taken); the first one is kept.
    assert derive(closed, Regime.foia, TODAY).outcome == "provided"
    assert derive(closed, Regime.foia, TODAY).first_outcome == "refused"


def test_silence_goes_to_the_commissioner_and_stays_overdue():
    timeline = build(SENT, ev("ico_complaint", "2023-07-10"))
    state = derive(timeline, Regime.foia, D("2023-07-11"))
    assert state.status is Status.with_commissioner
    assert state.lateness is Lateness.very_overdue


def test_withdrawn_requests_are_never_late():
    state = derive(build(SENT, ev("withdrawn", "2023-05-05")), Regime.foia, TODAY)
    assert state.status is Status.withdrawn and state.lateness is None


def test_chasers_are_remembered():
    timeline = build(SENT, ev("chaser_sent", "2023-06-01"), ev("chaser_sent", "2023-06-08"))
    assert derive(timeline, Regime.foia, D("2023-06-09")).last_chased_on == D("2023-06-08")


REFUSED = [
    ([], ev("response", "2023-05-01", outcome="provided"), "has not been sent by then"),
    ([SENT], ev("response", "2023-04-27", outcome="provided"), "has not been sent by then"),
    ([SENT], ev("sent", "2023-05-01"), "already sent on 2023-04-28"),
    ([SENT], ev("internal_review_requested", "2023-05-02"), "no response to review yet"),
    ([SENT], ev("internal_review_outcome", "2023-05-02", outcome="upheld"), "no internal review"),
    ([SENT], ev("clarification_sent", "2023-05-02"), "has not asked for clarification"),
    ([SENT], ev("fee_paid", "2023-05-02"), "no unpaid fees notice"),
    ([SENT], ev("ico_decision", "2023-05-02", outcome="upheld"), "no complaint has been made"),
    ([SENT], ev("extension", "2023-05-02"), "give the date the authority said"),
    ([SENT], ev("extension", "2023-05-02", due_on=D("2023-05-01")), "must be after the day"),
    ([SENT], ev("response", "2023-05-02"), "say what the authority decided"),
    ([SENT], ev("response", "2023-05-02", outcome="maybe"), "'maybe' is not an outcome"),
    ([SENT], ev("acknowledged", "2027-01-01"), "the date is in the future"),
    ([SENT, ev("withdrawn", "2023-05-01")], ev("acknowledged", "2023-05-02"), "was withdrawn"),
    ([SENT, ev("response", "2023-05-03", outcome="provided")],
     ev("clarification_requested", "2023-05-04"), "has already responded"),
    ([SENT, ev("clarification_requested", "2023-05-03")],
     ev("clarification_requested", "2023-05-04"), "already asked for on 2023-05-03"),
    ([SENT], ev("note", "2023-05-02", outcome="provided"), "has no outcome"),
    ([SENT], ev("acknowledged", "2023-05-02", exemptions=("s.12",)),
     "only an extension for the public interest test, a response"),
    ([], ev("sent", "2023-05-02", received_on=D("2023-05-01")), "receipt cannot be before"),
]


@pytest.mark.parametrize(("before", "new", "why"), REFUSED, ids=[r[2] for r in REFUSED])
def test_events_that_make_no_sense_are_refused_with_the_reason(before, new, why):
    timeline = build(*before)
    with pytest.raises(TimelineError, match=why):
        check(timeline, new, TODAY)


def test_a_back_dated_event_that_breaks_what_follows_is_refused():
    timeline = build(SENT, ev("response", "2023-05-20", outcome="refused"),
                     ev("internal_review_requested", "2023-05-25"))
    # A second "sent" is refused; so is a withdrawal dated before the review it would void.
    with pytest.raises(TimelineError, match="was withdrawn on 2023-05-22"):
        check(timeline, ev("withdrawn", "2023-05-22"), TODAY)


def test_events_on_one_day_are_taken_in_their_natural_order():
    # Entered response first, then the sending, both on one day: still valid.
    timeline = build(ev("note", "2023-04-28"))
    same_day = [ev("response", "2023-04-28", seq=5, outcome="provided"), ev("sent", "2023-04-28", seq=6)]
    check(timeline, same_day[1], TODAY)
    state = derive([*timeline, *same_day], Regime.foia, TODAY)
    assert state.status is Status.answered and state.answered_on_time


def test_removing_an_event_that_others_depend_on_is_refused():
    timeline = build(SENT, ev("response", "2023-05-20", outcome="refused"))
    with pytest.raises(TimelineError, match="cannot remove it"):
        check_removal(timeline, timeline[0])
    check_removal(timeline, timeline[1])


# For every kind of event, a timeline it makes sense after, and the status it leaves.
RESPONDED = [SENT, ev("response", "2023-05-20", outcome="refused", exemptions=("s.12",))]
REVIEWED = [*RESPONDED, ev("internal_review_requested", "2023-05-22")]
COMPLAINED = [*REVIEWED, ev("internal_review_outcome", "2023-06-01", outcome="upheld"),
              ev("ico_complaint", "2023-06-05")]
DECIDED = [*COMPLAINED, ev("ico_decision", "2023-10-05", outcome="upheld")]
VALID = {
    K.sent: ([], ev("sent", "2023-04-28"), Status.awaiting_response),
    K.acknowledged: ([SENT], ev("acknowledged", "2023-05-02"), Status.awaiting_response),
    K.clarification_requested: ([SENT], ev("clarification_requested", "2023-05-02"),
                                Status.awaiting_clarification),
    K.clarification_sent: ([SENT, ev("clarification_requested", "2023-05-02")],
                           ev("clarification_sent", "2023-05-03"), Status.awaiting_response),
    K.fees_notice: ([SENT], ev("fees_notice", "2023-05-02"), Status.awaiting_fee),
    K.fee_paid: ([SENT, ev("fees_notice", "2023-05-02")], ev("fee_paid", "2023-05-04"),
                 Status.awaiting_response),
    K.extension: ([SENT], ev("extension", "2023-05-30", due_on=D("2023-06-20")),
                  Status.awaiting_response),
    K.response: ([SENT], ev("response", "2023-05-20", outcome="provided"), Status.answered),
    K.withdrawn: ([SENT], ev("withdrawn", "2023-05-02"), Status.withdrawn),
    K.internal_review_requested: (RESPONDED, ev("internal_review_requested", "2023-05-22"),
                                  Status.awaiting_review),
    K.internal_review_outcome: (REVIEWED, ev("internal_review_outcome", "2023-06-01",
                                             outcome="upheld"), Status.reviewed),
    K.ico_complaint: (RESPONDED, ev("ico_complaint", "2023-06-05"), Status.with_commissioner),
    K.ico_decision: (COMPLAINED, ev("ico_decision", "2023-10-05", outcome="upheld"),
                     Status.closed),
    K.chaser_sent: ([SENT], ev("chaser_sent", "2023-06-02"), Status.awaiting_response),
    K.reply_received: ([SENT], ev("reply_received", "2023-05-10"), Status.awaiting_response),
    K.note: ([SENT], ev("note", "2023-05-10"), Status.awaiting_response),
    K.delivery_failed: ([SENT], ev("delivery_failed", "2023-04-28"), Status.not_sent),
    # Appeals against the decision (FOIA s.57, FOISA s.56): each under its own Act, the 4th item.
    K.tribunal_appeal: (DECIDED, ev("tribunal_appeal", "2023-10-20"), Status.closed),
    K.court_of_session_appeal: (DECIDED, ev("court_of_session_appeal", "2023-10-20"),
                                Status.closed, Regime.foisa),
    # The appeal decided (FOIA s.58, FOISA s.56): the decision that stands, nothing more due.
    K.tribunal_decision: ([*DECIDED, ev("tribunal_appeal", "2023-10-20")],
                          ev("tribunal_decision", "2024-03-01", outcome="refused"),
                          Status.closed),
    K.response_withdrawn: (RESPONDED, ev("response_withdrawn", "2023-05-25"),
                           Status.awaiting_response),
    K.response_replaced: (RESPONDED, ev("response_replaced", "2023-05-25"), Status.answered),
}


@pytest.mark.parametrize("kind", list(EventKind), ids=[k.value for k in EventKind])
def test_every_kind_of_event_is_accepted_where_it_makes_sense(kind):
    before, new, status, *law = VALID[kind]  # a KeyError here: a new kind with no test
    regime = law[0] if law else Regime.foia
    timeline = build(*before)
    check(timeline, new, TODAY, regime)
    assert derive([*timeline, new], regime, TODAY).status is status


def test_an_extension_given_after_the_statutory_date_does_not_excuse_lateness():
    timeline = build(SENT, ev("extension", "2023-06-05", due_on=D("2023-06-28")))
    state = derive(timeline, Regime.foia, D("2023-06-07"))
    assert state.response_deadline.due == D("2023-05-31")
    assert state.lateness is Lateness.overdue and state.working_days_late == 5
    assert "after the statutory date 2023-05-31" in state.response_deadline.flags[0]


def test_a_clarification_asked_for_after_the_statutory_date_is_flagged():
    timeline = build(SENT, ev("clarification_requested", "2023-06-02"),
                     ev("clarification_sent", "2023-06-05"))
    state = derive(timeline, Regime.foia, D("2023-06-06"))
    assert any("the request was already late" in flag for flag in state.response_deadline.flags)


def test_foisa_allows_a_review_of_silence_once_late_and_needs_one_before_the_commissioner():
    silent = [SENT]
    with pytest.raises(TimelineError, match="once the 20 working days have passed"):
        check(build(*silent), ev("internal_review_requested", "2023-05-15"), TODAY, Regime.foisa)
    check(build(*silent), ev("internal_review_requested", "2023-06-05"), TODAY, Regime.foisa)
    with pytest.raises(TimelineError, match="no response to review yet"):
        check(build(*silent), ev("internal_review_requested", "2023-06-05"), TODAY, Regime.foia)
    with pytest.raises(TimelineError, match=r"comes after the authority's review \(s.47\(1\)\)"):
        check(build(*RESPONDED), ev("ico_complaint", "2023-06-05"), TODAY, Regime.foisa)
    check(build(*RESPONDED), ev("ico_complaint", "2023-06-05"), TODAY, Regime.foia)


def test_a_response_ordered_by_a_decision_notice_can_be_recorded():
    closed = build(*COMPLAINED, ev("ico_decision", "2023-10-05", outcome="upheld"))
    check(closed, ev("response", "2023-11-01", outcome="provided"), TODAY)
    with pytest.raises(TimelineError, match="it is closed"):
        check(closed, ev("fees_notice", "2023-11-01"), TODAY)
