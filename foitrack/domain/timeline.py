"""A request's timeline: which events make sense, and the status, outcome and deadlines it implies.

Pure functions over plain values (no Flask, no database). The workflow status (where the
request is) and the outcome (what the authority decided) are kept apart, as froide does,
and both are derived from the events, never typed in.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, cast

from foitrack.domain.clock import (
    ClockSettings,
    Count,
    Pause,
    Regime,
    add_working_days,
    explain_count,
    working_days_between,
)


class EventKind(enum.StrEnum):
    sent = "sent"
    acknowledged = "acknowledged"
    clarification_requested = "clarification_requested"
    clarification_sent = "clarification_sent"
    fees_notice = "fees_notice"
    fee_paid = "fee_paid"
    extension = "extension"
    response = "response"
    withdrawn = "withdrawn"
    internal_review_requested = "internal_review_requested"
    internal_review_outcome = "internal_review_outcome"
    ico_complaint = "ico_complaint"
    ico_decision = "ico_decision"
    chaser_sent = "chaser_sent"
    reply_received = "reply_received"
    note = "note"
    delivery_failed = "delivery_failed"
    # Appeals against the Commissioner's decision, one kind per Act (kept together, last, so
    # the natural same-day order of the kinds above does not move).
    tribunal_appeal = "tribunal_appeal"  # FOIA s.57: to the First-tier Tribunal (GRC)
    court_of_session_appeal = "court_of_session_appeal"  # FOISA s.56: to the Court of Session
    # The authority took back its answer (often on advice from the national referral unit), or
    # sent corrected figures: practice, not law; no Act provides for either (see _on_*).
    response_withdrawn = "response_withdrawn"
    response_replaced = "response_replaced"
    # The decision on an appeal against the Commissioner's decision: the First-tier Tribunal's
    # (FOIA s.58) or, under FOISA, the Court of Session's (s.56). One kind for both, as for the
    # complaint and the decision notice; label_for names the body.
    tribunal_decision = "tribunal_decision"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]

    def label_for(self, regime: Regime) -> str:
        """The label under ``regime``'s Act: the Commissioner is the ICO under FOIA (s.50) and
        the Scottish Information Commissioner under FOISA (s.47), and the two name the steps
        differently (a complaint, an application)."""
        return _KIND_LABELS_BY_LAW.get((self, regime), self.label)


_KIND_LABELS = {
    EventKind.sent: "Request sent",
    EventKind.acknowledged: "Acknowledged by the authority",
    EventKind.clarification_requested: "Authority asked for clarification",
    EventKind.clarification_sent: "Clarification sent",
    EventKind.fees_notice: "Fees notice received",
    EventKind.fee_paid: "Fee paid",
    EventKind.extension: "Extension for the public interest test",
    EventKind.response: "Response received",
    EventKind.withdrawn: "Request withdrawn",
    EventKind.internal_review_requested: "Internal review requested",
    EventKind.internal_review_outcome: "Internal review outcome",
    EventKind.ico_complaint: "Complaint to the Commissioner",
    EventKind.ico_decision: "Commissioner's decision",
    EventKind.chaser_sent: "Chaser sent",
    EventKind.reply_received: "Reply received (to classify)",
    EventKind.note: "Note",
    EventKind.delivery_failed: "Delivery failed",
    EventKind.tribunal_appeal: "Appeal to the First-tier Tribunal",
    EventKind.court_of_session_appeal: "Appeal to the Court of Session",
    EventKind.response_withdrawn: "Response withdrawn by the authority",
    EventKind.response_replaced: "Response replaced with corrected figures",
    EventKind.tribunal_decision: "Decision on the appeal",
}
_KIND_LABELS_BY_LAW = {
    (EventKind.ico_complaint, Regime.foia): "Complaint to the ICO (FOIA s.50)",
    (EventKind.ico_complaint, Regime.foisa):
        "Application to the Scottish Information Commissioner (FOISA s.47)",
    (EventKind.ico_decision, Regime.foia): "ICO decision notice (FOIA s.50(3))",
    (EventKind.ico_decision, Regime.foisa):
        "Scottish Information Commissioner's decision (FOISA s.49)",
    (EventKind.tribunal_appeal, Regime.foia): "Appeal to the First-tier Tribunal (FOIA s.57)",
    (EventKind.court_of_session_appeal, Regime.foisa):
        "Appeal to the Court of Session (FOISA s.56)",
    (EventKind.tribunal_decision, Regime.foia): "First-tier Tribunal decision (FOIA s.58)",
    (EventKind.tribunal_decision, Regime.foisa): "Court of Session decision (FOISA s.56)",
}

# On one day, events are taken in this natural order whatever order they were entered in.
_SAME_DAY_ORDER = {kind: rank for rank, kind in enumerate(EventKind)}
# Our own messages and their return on one day (a request or a chaser sent, returned undelivered
# minutes later, sent again): taken in the order entered, so each failure follows its message.
_SAME_DAY_ORDER[EventKind.chaser_sent] = _SAME_DAY_ORDER[EventKind.delivery_failed] = \
    _SAME_DAY_ORDER[EventKind.sent]


class ResponseOutcome(enum.StrEnum):
    provided = "provided"
    part_provided = "part_provided"
    not_held = "not_held"
    refused = "refused"
    ncnd = "ncnd"

    @property
    def label(self) -> str:
        return {
            ResponseOutcome.provided: "Provided",
            ResponseOutcome.part_provided: "Part provided",
            ResponseOutcome.not_held: "Not held",
            ResponseOutcome.refused: "Refused",
            ResponseOutcome.ncnd: "Neither confirm nor deny",
        }[self]

    @property
    def is_refusal(self) -> bool:
        return self in (ResponseOutcome.refused, ResponseOutcome.ncnd, ResponseOutcome.part_provided)


class ReviewOutcome(enum.StrEnum):
    upheld = "upheld"
    partly_overturned = "partly_overturned"
    overturned = "overturned"

    @property
    def label(self) -> str:
        return {
            ReviewOutcome.upheld: "Original decision upheld",
            ReviewOutcome.partly_overturned: "Original decision partly overturned",
            ReviewOutcome.overturned: "Original decision overturned",
        }[self]


class CommissionerOutcome(enum.StrEnum):
    upheld = "upheld"
    partly_upheld = "partly_upheld"
    not_upheld = "not_upheld"
    resolved_informally = "resolved_informally"

    @property
    def label(self) -> str:
        return {
            CommissionerOutcome.upheld: "Complaint upheld",
            CommissionerOutcome.partly_upheld: "Complaint partly upheld",
            CommissionerOutcome.not_upheld: "Complaint not upheld",
            CommissionerOutcome.resolved_informally: "Resolved informally",
        }[self]


OUTCOMES: dict[EventKind, type[enum.StrEnum]] = {
    EventKind.response: ResponseOutcome,
    EventKind.internal_review_outcome: ReviewOutcome,
    EventKind.ico_decision: CommissionerOutcome,
    # FOIA s.58(1): the Tribunal allows the appeal or substitutes its own notice, or dismisses
    # it; FOISA s.56: the Court decides on the point of law. Either side may appeal, so
    # "allowed" says nothing about the information by itself: the outcome recorded is how the
    # information stands after the decision, in the response's own terms.
    EventKind.tribunal_decision: ResponseOutcome,
}


def outcome_label(code: str | None, kind: str | None = None) -> str:
    """How people read an outcome code ("ncnd" -> "Neither confirm nor deny"); "" for none.

    ``kind`` (an EventKind value) picks the event's own list, since "upheld" means one thing
    after an internal review and another after a complaint. Without it the response's list is
    tried first, then the review's and the Commissioner's. A code no list knows (an old row,
    an import) is shown with its underscores as spaces rather than refused.
    """
    if not code:
        return ""
    lists = list(OUTCOMES.values())
    if kind in OUTCOMES:
        lists.insert(0, OUTCOMES[EventKind(kind)])
    for outcomes in lists:
        if code in outcomes.__members__:
            return str(cast(Any, outcomes(code)).label)  # each outcome enum has its label
    return code.replace("_", " ")


# The fields each kind of event takes besides its date, time and note, each with whether it
# must be given: the one list that both the checks below (_refuse_misplaced_fields) and the web
# form (which shows each kind only its own fields) read, so the two cannot drift apart. Each
# handler still refuses a required field left out, saying the law's reason.
_TAKES: dict[EventKind, dict[str, bool]] = {
    EventKind.sent: {"received_on": False},
    # FOIA s.17(1)-(2): the notice announcing a s.10(3) extension names the exemption being
    # weighed (_on_extension refuses one under an Act with no such extension).
    EventKind.extension: {"due_on": True, "exemptions": False},
    EventKind.response: {"outcome": True, "exemptions": False},
    EventKind.internal_review_outcome: {"outcome": True, "exemptions": False},
    # FOIA s.50, FOISA s.47: the Commissioner's own case reference, for every later letter.
    EventKind.ico_complaint: {"case_reference": False},
    # FOIA s.50(4), FOISA s.49(6): a decision notice upholding a complaint names the steps the
    # authority must take and the time it has to take them (comply_by).
    EventKind.ico_decision: {"outcome": True, "case_reference": False, "steps_ordered": False,
                             "comply_by": False},
    # FOIA s.57, FOISA s.56: the tribunal's or the court's own reference.
    EventKind.tribunal_appeal: {"case_reference": False},
    EventKind.court_of_session_appeal: {"case_reference": False},
    # What the decision leaves standing, the sections it upholds, and its reference.
    EventKind.tribunal_decision: {"outcome": True, "exemptions": False, "case_reference": False},
    # A replacement may change what was decided (corrected figures that are now only part of
    # what was asked); without an outcome, the one that stood before it stands again.
    EventKind.response_replaced: {"outcome": False},
}
EVENT_FIELDS: Mapping[EventKind, Mapping[str, bool]] = MappingProxyType(
    {kind: MappingProxyType(_TAKES.get(kind, {})) for kind in EventKind})

# What each of those fields is called in a refusal.
_FIELD_NOUNS = {"outcome": "outcome", "exemptions": "sections cited",
                "due_on": "new due date", "received_on": "date of receipt",
                "case_reference": "case reference", "steps_ordered": "steps ordered",
                "comply_by": "date for compliance"}


def kinds_taking(name: str) -> tuple[EventKind, ...]:
    """The kinds of event that take the field ``name`` (a key of EVENT_FIELDS' values)."""
    return tuple(kind for kind in EventKind if name in EVENT_FIELDS[kind])


def kinds_requiring(name: str) -> tuple[EventKind, ...]:
    """The kinds of event that cannot be recorded without the field ``name``."""
    return tuple(kind for kind in EventKind if EVENT_FIELDS[kind].get(name))


class Status(enum.StrEnum):
    not_sent = "not_sent"
    awaiting_response = "awaiting_response"
    awaiting_clarification = "awaiting_clarification"
    awaiting_fee = "awaiting_fee"
    answered = "answered"
    awaiting_review = "awaiting_review"
    reviewed = "reviewed"
    with_commissioner = "with_commissioner"
    closed = "closed"
    withdrawn = "withdrawn"

    @property
    def label(self) -> str:
        return {
            Status.not_sent: "Not sent",
            Status.awaiting_response: "Awaiting response",
            Status.awaiting_clarification: "Clarification asked for",
            Status.awaiting_fee: "Fee asked for",
            Status.answered: "Answered",
            Status.awaiting_review: "Awaiting internal review",
            Status.reviewed: "Reviewed",
            Status.with_commissioner: "With the Commissioner",
            Status.closed: "Closed",
            Status.withdrawn: "Withdrawn",
        }[self]

    @property
    def awaiting_authority(self) -> bool:
        """The authority owes the first answer: the response clock applies."""
        return self in (Status.awaiting_response, Status.awaiting_clarification, Status.awaiting_fee)


class Lateness(enum.StrEnum):
    due_soon = "due_soon"
    overdue = "overdue"
    very_overdue = "very_overdue"
    review_overdue = "review_overdue"

    @property
    def label(self) -> str:
        return {
            Lateness.due_soon: "Due soon",
            Lateness.overdue: "Overdue",
            Lateness.very_overdue: "Very overdue",
            Lateness.review_overdue: "Internal review overdue",
        }[self]


class TimelineError(ValueError):
    """An event that makes no sense where it falls in the timeline; the message says why."""


@dataclass(frozen=True)
class TimelineEvent:
    """One step of a request, as plain values."""

    kind: EventKind
    on: dt.date
    seq: int = 0  # order of entry, to break ties on one day after the natural order
    at: dt.time | None = None
    outcome: str | None = None
    exemptions: tuple[str, ...] = ()
    received_on: dt.date | None = None  # sent: the date of receipt when known and different
    due_on: dt.date | None = None  # extension: the date the authority gave
    # complaint, decision, appeal: the Commissioner's (or tribunal's, court's) case reference
    case_reference: str | None = None
    steps_ordered: str | None = None  # decision notice: the steps the authority must take
    comply_by: dt.date | None = None  # decision notice: the date it must take them by

    def sort_key(self) -> tuple[dt.date, int, int]:
        return (self.on, _SAME_DAY_ORDER[self.kind], self.seq)


@dataclass
class Deadline:
    """A due date with its working, or why there is none (the clock is stopped)."""

    name: str
    due: dt.date | None
    lines: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    count: Count | None = None


@dataclass(frozen=True)
class Decision:
    """One decision on the request, in order: the response, a review, a decision notice, the
    decision on an appeal against it.

    ``outcome`` is the event's own outcome (of its kind's enum); ``standing`` is what the
    request's outcome became after it, a ResponseOutcome value (``outcome_after``)."""

    kind: EventKind
    on: dt.date
    outcome: str
    standing: str | None
    exemptions: tuple[str, ...] = ()
    # A decision notice's steps ordered (FOIA s.50(4)): without them it changed nothing.
    steps_ordered: str | None = None


@dataclass
class RequestState:
    status: Status = Status.not_sent
    # What stands now: the latest decision's effect (a response, then a review, then a
    # decision notice), always a ResponseOutcome value; ``first_outcome`` is the first
    # response's, and ``decisions`` the whole history.
    outcome: str | None = None
    exemptions: tuple[str, ...] = ()
    first_outcome: str | None = None
    outcome_from: EventKind | None = None
    decisions: tuple[Decision, ...] = ()
    sent_on: dt.date | None = None
    received_on: dt.date | None = None
    first_response_on: dt.date | None = None
    last_response_on: dt.date | None = None
    last_chased_on: dt.date | None = None
    response_deadline: Deadline | None = None
    review_deadline: Deadline | None = None
    review_window: Deadline | None = None
    lateness: Lateness | None = None
    working_days_late: int = 0
    answered_on_time: bool | None = None
    answered_days_late: int = 0
    # FOISA s.47(4): apply to the Scottish Information Commissioner by this date.
    commissioner_window: Deadline | None = None
    # A reply filed from the mailbox that no later event has classified (unread_reply_on):
    # still late by the clock, but not to be chased until someone has read it.
    reply_to_read_on: dt.date | None = None
    # After the response: the requester's and the authority's later deadlines, each with its
    # working and its source (see docs/lifecycle.md). ``commissioner_window`` above is FOISA
    # s.47(4) for a Scottish authority and the ICO's six weeks for the rest.
    appeal_window: Deadline | None = None  # FOIA s.57 (28 days), FOISA s.56 (42 days)
    compliance_deadline: Deadline | None = None  # the decision notice's steps (FOIA s.50(4))
    # The later steps as recorded, for the tracker and the API (the last of each kind).
    review_requested_on: dt.date | None = None
    review_outcome: str | None = None
    complaint_on: dt.date | None = None
    complaint_reference: str | None = None
    decision_on: dt.date | None = None
    decision_outcome: str | None = None
    appeal_on: dt.date | None = None

    def own_deadlines(self) -> list[Deadline]:
        """The requester's own deadlines still open: to ask for a review, to go to the
        Commissioner, to appeal. Each is a right lost (or left to the other side's discretion)
        when it passes, so they are the ones to be reminded of."""
        return [d for d in (self.review_window, self.commissioner_window, self.appeal_window)
                if d is not None and d.due is not None]

    def later_deadlines(self) -> list[Deadline]:
        """Every deadline after the response, in the lifecycle's order, for the request page."""
        return [d for d in (self.review_deadline, self.review_window, self.commissioner_window,
                            self.appeal_window, self.compliance_deadline) if d is not None]
    # The authority withdrew its answer on this date and has sent none since: no answer stands
    # (the outcome is None), whatever was decided before.
    response_withdrawn_on: dt.date | None = None


def ordered(events: Iterable[TimelineEvent]) -> list[TimelineEvent]:
    return sorted(events, key=TimelineEvent.sort_key)


@dataclass
class _Walk:
    """State while walking the timeline in order."""

    sent_on: dt.date | None = None
    received_on: dt.date | None = None
    clock_start: dt.date | None = None
    clock_start_reason: str = ""
    open_clarification: dt.date | None = None
    open_fee: dt.date | None = None
    pauses: list[Pause] = field(default_factory=list)
    extension_to: dt.date | None = None
    extension_on: dt.date | None = None
    extension_exemptions: tuple[str, ...] = ()
    responded: list[TimelineEvent] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    review_requested_on: dt.date | None = None  # the last requirement for review
    review_decided_on: dt.date | None = None  # the last review's notice
    open_review: dt.date | None = None
    review_done: bool = False
    open_complaint: dt.date | None = None
    review_outcome: str | None = None  # the last review's outcome
    complaint: TimelineEvent | None = None  # the last complaint to the Commissioner
    decision: TimelineEvent | None = None  # the Commissioner's decision notice
    appeal: TimelineEvent | None = None  # an appeal against it (FOIA s.57, FOISA s.56)
    appeal_decided: dt.date | None = None  # the Tribunal's (FOIA s.58) or Court's decision
    withdrawn_on: dt.date | None = None
    closed_on: dt.date | None = None
    last_chased: dt.date | None = None
    outcome: str | None = None
    exemptions: tuple[str, ...] = ()
    status: Status = Status.not_sent
    regime: Regime = Regime.foia
    settings: ClockSettings = field(default_factory=ClockSettings)
    flags: list[str] = field(default_factory=list)
    # Nothing but notes since the sending: a delivery failure now is the request's own.
    only_sent: bool = False
    # The authority withdrew its answer on this date, with nothing sent since, and what stood
    # before it (a replacement without an outcome puts that back).
    answer_withdrawn_on: dt.date | None = None
    withdrawn_outcome: str | None = None
    withdrawn_exemptions: tuple[str, ...] = ()

    def statutory_due(self) -> dt.date | None:
        """The 20th working day as things stand (no extension), or None before sending."""
        if self.clock_start is None:
            return None
        return add_working_days(self.clock_start, self.settings.response_days, self.regime,
                                self.pauses).due


def _fail(event: TimelineEvent, why: str) -> TimelineError:
    return TimelineError(f"{event.kind.label} on {event.on.isoformat()}: {why}")


# Each handler checks that its event can happen where it falls and moves the walk on. The first
# line of each docstring is the law behind it (FOIA, FOISA, EIR), for a reader checking a rule.


def _on_nothing(walk: _Walk, event: TimelineEvent) -> None:
    """No legal effect: a note, or an acknowledgement, which no Act requires."""


def _on_chaser(walk: _Walk, event: TimelineEvent) -> None:
    """No legal effect: a chaser does not change the 20 working days; it is remembered for the list."""
    walk.last_chased = event.on


def _on_reply(walk: _Walk, event: TimelineEvent) -> None:
    """No legal effect until classified: a reply filed from the mailbox changes nothing
    until a researcher says what it was."""


def _on_sent(walk: _Walk, event: TimelineEvent) -> None:
    """FOIA s.10(1), FOISA s.10(1)(a), EIR reg.5(2): 20 working days from the date of receipt."""
    if walk.sent_on is not None:
        raise _fail(event, f"the request was already sent on {walk.sent_on.isoformat()}")
    if event.received_on is not None and event.received_on < event.on:
        raise _fail(event, "the date of receipt cannot be before the date it was sent")
    walk.sent_on = event.on
    walk.received_on = event.received_on or event.on
    walk.clock_start = walk.received_on
    walk.clock_start_reason = "received"
    walk.status = Status.awaiting_response


def _on_clarification_requested(walk: _Walk, event: TimelineEvent) -> None:
    """FOIA s.1(3), FOISA s.1(3), EIR reg.9(2): the authority may ask what is wanted."""
    if walk.responded:
        raise _fail(event, "the authority has already responded; clarification comes before")
    if walk.open_clarification is not None:
        raise _fail(event, f"clarification was already asked for on "
                           f"{walk.open_clarification.isoformat()} and not yet sent")
    due = walk.statutory_due()
    if due is not None and event.on > due and not walk.responded:
        walk.flags.append(f"Clarification was asked for on {event.on.isoformat()}, after the "
                          f"statutory date {due.isoformat()}: the request was already late.")
    walk.open_clarification = event.on
    walk.status = Status.awaiting_clarification


def _on_clarification_sent(walk: _Walk, event: TimelineEvent) -> None:
    """FOIA s.1(3), FOISA s.1(3), EIR reg.9(4): the 20 days run again from the clarification."""
    if walk.open_clarification is None:
        raise _fail(event, "the authority has not asked for clarification")
    walk.open_clarification = None
    # s.1(3): the authority need not comply until it has the clarification; the 20 days
    # run again from its receipt, and an earlier extension or fee no longer applies.
    walk.clock_start = event.on
    walk.clock_start_reason = "clarification received"
    walk.extension_to = None
    walk.pauses = []
    walk.status = Status.awaiting_fee if walk.open_fee else Status.awaiting_response


def _on_fees_notice(walk: _Walk, event: TimelineEvent) -> None:
    """FOIA s.9(1), FOISA s.9(1), EIR reg.8: a fees notice, before the response."""
    if walk.responded:
        raise _fail(event, "the authority has already responded")
    if walk.open_fee is not None:
        raise _fail(event, f"a fees notice of {walk.open_fee.isoformat()} is still unpaid")
    walk.open_fee = event.on
    walk.status = Status.awaiting_fee


def _on_fee_paid(walk: _Walk, event: TimelineEvent) -> None:
    """FOIA s.10(2), FOISA s.10(2): days from the fees notice to payment are not counted."""
    if walk.open_fee is None:
        raise _fail(event, "there is no unpaid fees notice")
    walk.pauses.append(
        Pause(walk.open_fee, event.on, f"between fees notice ({walk.open_fee.isoformat()}) "
                                       "and payment, not counted (s.10(2))")
    )
    walk.open_fee = None
    walk.status = (
        Status.awaiting_clarification if walk.open_clarification else Status.awaiting_response
    )


def _on_extension(walk: _Walk, event: TimelineEvent) -> None:
    """FOIA s.10(3) and s.17(2): more time for the public interest test, said within the 20
    days; FOISA has no such extension (_response_deadline flags one)."""
    if walk.responded:
        raise _fail(event, "the authority has already responded")
    if event.due_on is None:
        raise _fail(event, "give the date the authority said it will respond by")
    if event.due_on <= event.on:
        raise _fail(event, "the new date must be after the day the extension was given")
    if event.exemptions and not walk.regime.has_public_interest_extension:
        raise _fail(event, f"the {walk.regime.act} has no public interest extension, so an "
                           "extension notice weighs no exemption (FOIA s.17(2) is what "
                           "makes one name it)")
    walk.extension_to = event.due_on
    walk.extension_on = event.on
    walk.extension_exemptions = event.exemptions


def _on_response(walk: _Walk, event: TimelineEvent) -> None:
    """FOIA s.1(1) and s.17, FOISA s.1(1) and s.16, EIR reg.5 and reg.14: the answer, or a
    refusal notice; a response after a decision notice is still recorded (FOIA s.50(4))."""
    if event.outcome is None:
        raise _fail(event, "say what the authority decided (the outcome)")
    walk.responded.append(event)
    walk.answer_withdrawn_on = None  # a new response after a withdrawn one stands
    walk.outcome = event.outcome
    walk.exemptions = event.exemptions
    walk.decisions.append(Decision(event.kind, event.on, event.outcome, event.outcome,
                                   event.exemptions))
    walk.open_clarification = None
    walk.open_fee = None
    walk.status = Status.answered


def _on_withdrawn(walk: _Walk, event: TimelineEvent) -> None:
    """No Act governs a withdrawal: nothing is owed after it, so nothing may follow it."""
    walk.withdrawn_on = event.on
    walk.status = Status.withdrawn


def _on_review_requested(walk: _Walk, event: TimelineEvent) -> None:
    """FOISA s.20(1), EIR reg.11(1), FOIA the s.45 Code of Practice: review of a response (and
    under FOISA of a failure to respond)."""
    if not walk.responded and walk.regime is Regime.foisa:
        # FOISA s.20(1): a review may be required of a failure to respond, once late.
        due = walk.statutory_due()
        if due is None or event.on <= due:
            raise _fail(event, f"under FOISA a review of a failure to respond can be asked "
                               f"for once the 20 working days have passed ({due})")
    elif not walk.responded:
        raise _fail(event, "there is no response to review yet; with no response at all, "
                           "complain to the Commissioner instead")
    if walk.open_review is not None:
        raise _fail(event, f"an internal review asked for on {walk.open_review.isoformat()} "
                           "is still open")
    walk.open_review = event.on
    walk.review_requested_on = event.on
    walk.status = Status.awaiting_review


def _on_review_outcome(walk: _Walk, event: TimelineEvent) -> None:
    """FOISA s.21(1), EIR reg.11(4), FOIA the s.45 Code: the authority's review decision."""
    if walk.open_review is None:
        raise _fail(event, "no internal review has been asked for")
    if event.outcome is None:
        raise _fail(event, "say what the review decided (the outcome)")
    walk.open_review = None
    walk.review_done = True
    walk.review_decided_on = event.on
    walk.review_outcome = event.outcome
    walk.status = Status.reviewed
    _decide(walk, event)


def _on_complaint(walk: _Walk, event: TimelineEvent) -> None:
    """FOIA s.50(1) (EIR reg.18), FOISA s.47(1): an application to the Commissioner, under
    FOISA only after a requirement for review, once the authority has answered it or failed
    to within the 20 working days of s.21(1)."""
    if walk.regime is Regime.foisa and not walk.review_done:
        if walk.open_review is None:
            raise _fail(event, "under FOISA an application to the Scottish Information "
                               "Commissioner comes after the authority's review (s.47(1)), or "
                               "its failure to answer a requirement for review in time: "
                               "require a review first (s.20(1))")
        due = _review_due(walk, walk.open_review)
        if event.on <= due:
            raise _fail(event, "under FOISA an application to the Scottish Information "
                               "Commissioner comes after the authority's review, or after "
                               f"{due.isoformat()} if it has not answered the requirement for "
                               "review by then (s.21(1), s.47(1))")
    if walk.open_complaint is not None:
        raise _fail(event, f"a complaint made on {walk.open_complaint.isoformat()} is still open")
    walk.open_complaint = event.on
    walk.complaint = event
    walk.status = Status.with_commissioner


def _on_decision(walk: _Walk, event: TimelineEvent) -> None:
    """FOIA s.50(3), FOISA s.49: the Commissioner's decision notice closes the request."""
    if walk.open_complaint is None:
        raise _fail(event, "no complaint has been made to the Commissioner")
    if event.outcome is None:
        raise _fail(event, "say what the Commissioner decided (the outcome)")
    if event.comply_by is not None and event.comply_by <= event.on:
        raise _fail(event, "the date for compliance must be after the decision notice")
    walk.open_complaint = None
    walk.decision = event
    walk.closed_on = event.on
    walk.status = Status.closed
    _decide(walk, event)


def _on_tribunal_appeal(walk: _Walk, event: TimelineEvent) -> None:
    """FOIA s.57(1): either side may appeal against a decision notice to the First-tier
    Tribunal (General Regulatory Chamber); a late appeal is the Tribunal's to admit (its
    procedure rules, r.5(3)(a)), so one is recorded whatever its date."""
    if walk.regime is not Regime.foia:
        raise _fail(event, "under FOISA an appeal against the Commissioner's decision goes to "
                           "the Court of Session, on a point of law (s.56)")
    _refuse_second_appeal(walk, event)


def _on_court_of_session_appeal(walk: _Walk, event: TimelineEvent) -> None:
    """FOISA s.56: an appeal on a point of law against the Commissioner's decision, to the
    Court of Session."""
    if walk.regime is not Regime.foisa:
        raise _fail(event, "under FOIA an appeal against a decision notice goes to the "
                           "First-tier Tribunal (s.57)")
    _refuse_second_appeal(walk, event)


def _on_tribunal_decision(walk: _Walk, event: TimelineEvent) -> None:
    """FOIA s.58: the First-tier Tribunal's decision on an appeal under s.57 (allowing it, with
    a notice substituted, or dismissing it); FOISA s.56: the Court of Session's decision. It
    is the request's latest decision: the outcome recorded (how the information stands after
    it) becomes the request's, as a review's and a decision notice's do before it. No clock
    is built on it: see docs/lifecycle.md on a further appeal."""
    if walk.appeal is None:
        raise _fail(event, "no appeal against the Commissioner's decision has been recorded")
    if walk.appeal_decided is not None:
        raise _fail(event, f"the appeal was decided on {walk.appeal_decided.isoformat()}")
    if event.outcome is None:
        raise _fail(event, "say what the decision leaves standing: how the information stands "
                           "after it (the outcome)")
    walk.appeal_decided = event.on
    _decide(walk, event)


def _refuse_second_appeal(walk: _Walk, event: TimelineEvent) -> None:
    """FOIA s.57, FOISA s.56: an appeal lies against a decision notice, and only once."""
    if walk.decision is None:
        raise _fail(event, "there is no decision of the Commissioner to appeal against")
    if walk.appeal is not None:
        raise _fail(event, f"an appeal was already made on {walk.appeal.on.isoformat()}")
    walk.appeal = event


def _review_due(walk: _Walk, requested_on: dt.date) -> dt.date:
    """FOISA s.21(1), the FOIA s.45 Code: the review is due 20 working days after it is asked for."""
    return add_working_days(requested_on, walk.settings.review_days, walk.regime).due


# What a later decision does to the outcome that stood before it, by the decision's outcome:
# how the information stands after it, in the response's own terms. Upheld, not upheld or
# settled informally leaves it as it was (a disclosure that follows is recorded as a response).
# A decision notice counts only when it records steps ordered: a complaint upheld is often
# upheld only for a procedural breach (a late s.17 notice, s.10) with the exemption upheld and
# nothing to disclose, so "upheld" alone says nothing about the information.
_WITHHELD = frozenset({ResponseOutcome.refused, ResponseOutcome.ncnd, ResponseOutcome.not_held})
# Keyed by kind: "upheld" is the refusal's for a review, the requester's for a decision notice.
_GIVES: Mapping[EventKind, Mapping[str, ResponseOutcome]] = MappingProxyType({
    # FOIA s.45 Code of Practice (2018) part 5, FOISA s.21(4)(b): the review substitutes its
    # own decision for the one reviewed.
    EventKind.internal_review_outcome: {ReviewOutcome.overturned: ResponseOutcome.provided,
                                        ReviewOutcome.partly_overturned:
                                            ResponseOutcome.part_provided},
    # FOIA s.50(4), FOISA s.49(5): the decision notice specifies the steps the authority must
    # take; only with steps recorded (``steps_ordered``) is it taken to order disclosure.
    EventKind.ico_decision: {CommissionerOutcome.upheld: ResponseOutcome.provided,
                             CommissionerOutcome.partly_upheld: ResponseOutcome.part_provided},
})


def outcome_after(standing: str | None, kind: EventKind, decided: str,
                  steps_ordered: str | None = None) -> str | None:
    """The request's outcome after a review or decision notice (``kind``) decided ``decided``,
    where ``standing`` stood before: overturning a refusal gives the information, partly
    overturning it gives part, upholding it leaves it; a decision notice changes it only when
    it ordered steps (``steps_ordered``, FOIA s.50(4)); a decision on a request never answered
    (the silence complained of) leaves it unanswered until the response comes."""
    if kind is EventKind.ico_decision and not steps_ordered:
        return standing
    if kind is EventKind.tribunal_decision:
        return decided  # recorded in the response's terms: what stands after it
    gives = _GIVES.get(kind, {}).get(decided)
    if standing is None or gives is None:
        return standing
    if gives is ResponseOutcome.provided:
        return gives.value
    return gives.value if standing in _WITHHELD else standing


def standing_outcome(events: Iterable[TimelineEvent]) -> str | None:
    """The outcome that stands after ``events`` (any kinds; only the response and the
    decisions on it count), as derive's walk finds it, for callers that load only those."""
    standing: str | None = None
    withdrawn: str | None = None  # what stood before a withdrawal, for a replacement
    for event in ordered(events):
        if event.kind is EventKind.response_withdrawn:
            withdrawn, standing = standing, None
            continue
        if event.kind is EventKind.response_replaced and event.outcome is None:
            standing = standing if standing is not None else withdrawn
            continue
        if event.outcome is None:
            continue
        if event.kind in (EventKind.response, EventKind.response_replaced):
            standing = event.outcome
        elif event.kind in _GIVES or event.kind is EventKind.tribunal_decision:
            standing = outcome_after(standing, event.kind, event.outcome, event.steps_ordered)
    return standing


def _decide(walk: _Walk, event: TimelineEvent) -> None:
    """A review or decision notice: the outcome becomes what it leaves standing, its sections
    cited replacing the earlier ones (none once everything is given)."""
    assert event.outcome is not None
    walk.outcome = outcome_after(walk.outcome, event.kind, event.outcome, event.steps_ordered)
    if event.exemptions:
        walk.exemptions = event.exemptions
    elif walk.outcome == ResponseOutcome.provided:
        walk.exemptions = ()
    walk.decisions.append(Decision(event.kind, event.on, event.outcome, walk.outcome,
                                   event.exemptions, event.steps_ordered))


def _on_delivery_failed(walk: _Walk, event: TimelineEvent) -> None:
    """FOIA s.10(1), FOISA s.10(1)(a), EIR reg.5(2) count from receipt: a request returned
    undelivered before anything else happened to it was never received, so it is not sent and
    its clock has not started. Any later failure (a chaser's) changes nothing."""
    if walk.only_sent:
        walk.sent_on = walk.received_on = walk.clock_start = None
        walk.clock_start_reason = ""
        walk.pauses = []
        walk.status = Status.not_sent


def _on_response_withdrawn(walk: _Walk, event: TimelineEvent) -> None:
    """No Act provides for it; practice: an authority sometimes takes back a response it sent
    (on advice from the national referral unit, or because the figures were wrong). Nothing
    then stands: the outcome is none and the request waits for the authority again, though
    the response's date, and whether it came on time, stay as they were (FOIA s.10(1) was met
    or missed when it came)."""
    if not walk.responded:
        raise _fail(event, "there is no response to withdraw yet")
    if walk.answer_withdrawn_on is not None:
        raise _fail(event, f"the response was already withdrawn on "
                           f"{walk.answer_withdrawn_on.isoformat()}, and nothing has come since")
    walk.answer_withdrawn_on = event.on
    walk.withdrawn_outcome, walk.withdrawn_exemptions = walk.outcome, walk.exemptions
    walk.outcome, walk.exemptions = None, ()
    if walk.status in (Status.answered, Status.reviewed):
        walk.status = Status.awaiting_response


def _on_response_replaced(walk: _Walk, event: TimelineEvent) -> None:
    """No Act provides for it; practice: the authority sends corrected figures in place of its
    response (or of one it withdrew). An answer stands again: the replacement's outcome if it
    gives one, else the one that stood before."""
    if not walk.responded:
        raise _fail(event, "there is no response to replace yet; record the response instead")
    if walk.answer_withdrawn_on is not None:
        walk.outcome, walk.exemptions = walk.withdrawn_outcome, walk.withdrawn_exemptions
        walk.answer_withdrawn_on = None
        if walk.status is Status.awaiting_response:
            walk.status = Status.answered
    if event.outcome is not None:
        # Not a decision of its own (Decision: a response, a review, a decision notice): the
        # same answer, corrected.
        walk.outcome, walk.exemptions = event.outcome, event.exemptions


_Handler = Callable[[_Walk, TimelineEvent], None]

# What each kind of event does to the request; the handler's docstring gives the law behind it.
HANDLERS: Mapping[EventKind, _Handler] = MappingProxyType({
    EventKind.sent: _on_sent,
    EventKind.acknowledged: _on_nothing,
    EventKind.clarification_requested: _on_clarification_requested,
    EventKind.clarification_sent: _on_clarification_sent,
    EventKind.fees_notice: _on_fees_notice,
    EventKind.fee_paid: _on_fee_paid,
    EventKind.extension: _on_extension,
    EventKind.response: _on_response,
    EventKind.withdrawn: _on_withdrawn,
    EventKind.internal_review_requested: _on_review_requested,
    EventKind.internal_review_outcome: _on_review_outcome,
    EventKind.ico_complaint: _on_complaint,
    EventKind.ico_decision: _on_decision,
    EventKind.chaser_sent: _on_chaser,
    EventKind.reply_received: _on_reply,
    EventKind.note: _on_nothing,
    EventKind.delivery_failed: _on_delivery_failed,
    EventKind.tribunal_appeal: _on_tribunal_appeal,
    EventKind.tribunal_decision: _on_tribunal_decision,
    EventKind.court_of_session_appeal: _on_court_of_session_appeal,
    EventKind.response_withdrawn: _on_response_withdrawn,
    EventKind.response_replaced: _on_response_replaced,
})

# A decision notice may order disclosure: the response that follows is still recorded.
# So may an appeal against it (FOIA s.57, FOISA s.56).
_AFTER_DECISION = frozenset({EventKind.chaser_sent, EventKind.response, EventKind.reply_received,
                             EventKind.tribunal_appeal, EventKind.court_of_session_appeal,
                             EventKind.tribunal_decision})


def _refuse_out_of_place(walk: _Walk, event: TimelineEvent) -> None:
    """Refuse any event but the sending before it is sent, after withdrawal, or once closed."""
    if walk.sent_on is None:
        raise _fail(event, "the request has not been sent by then; record when it was sent first")
    if walk.withdrawn_on is not None:
        raise _fail(event, f"the request was withdrawn on {walk.withdrawn_on.isoformat()}")
    if walk.closed_on is not None and event.kind not in _AFTER_DECISION:
        raise _fail(event, f"the Commissioner decided on {walk.closed_on.isoformat()}; it is closed")


def _step(walk: _Walk, event: TimelineEvent) -> None:
    if event.kind not in (EventKind.note, EventKind.sent):
        _refuse_out_of_place(walk, event)
    HANDLERS[event.kind](walk, event)
    if event.kind is not EventKind.note:
        walk.only_sent = event.kind is EventKind.sent


def _walk(events: Sequence[TimelineEvent], regime: Regime = Regime.foia,
          settings: ClockSettings | None = None) -> _Walk:
    walk = _Walk(regime=regime, settings=settings or ClockSettings())
    for event in ordered(events):
        _step(walk, event)
    return walk


def check(events: Sequence[TimelineEvent], new: TimelineEvent, today: dt.date,
          regime: Regime = Regime.foia) -> None:
    """Refuse ``new`` if, placed among ``events`` by its date, the timeline stops making sense.

    :raises TimelineError: saying why.
    """
    _refuse_future(new, today)
    _refuse_misplaced_fields(new)
    _refuse_wrong_outcome(new)
    if new.kind is EventKind.sent and any(e.kind is EventKind.sent for e in events) and not any(
            e.kind is EventKind.delivery_failed for e in events):  # returned: may go again
        sent = next(e for e in events if e.kind is EventKind.sent)
        raise _fail(new, f"the request was already sent on {sent.on.isoformat()}")
    # Walking the whole timeline also catches a back-dated event that breaks what follows it.
    _walk([*events, new], regime)


def _refuse_future(new: TimelineEvent, today: dt.date) -> None:
    if new.on > today:
        raise _fail(new, f"the date is in the future (today is {today.isoformat()})")
    if new.received_on is not None and new.received_on > today:
        raise _fail(new, "the date of receipt is in the future")


# A replacement's outcome is a response's: kept out of OUTCOMES so the form's outcome list
# does not show the response's choices twice.
_OUTCOME_CHOICES: Mapping[EventKind, type[enum.StrEnum]] = MappingProxyType(
    {**OUTCOMES, EventKind.response_replaced: ResponseOutcome})


def _refuse_wrong_outcome(new: TimelineEvent) -> None:
    """An outcome must be one this kind of event can have (_refuse_misplaced_fields has
    already refused one on a kind that has none)."""
    if new.outcome is None:
        return
    allowed = _OUTCOME_CHOICES[new.kind]
    if new.outcome not in {member.value for member in allowed}:
        choices = ", ".join(member.value for member in allowed)
        raise _fail(new, f"{new.outcome!r} is not an outcome of this event; choose {choices}")


def _given(new: TimelineEvent) -> dict[str, bool]:
    """Which of the fields of EVENT_FIELDS the event carries."""
    return {"outcome": new.outcome is not None, "exemptions": bool(new.exemptions),
            "due_on": new.due_on is not None, "received_on": new.received_on is not None,
            "case_reference": bool(new.case_reference), "steps_ordered": bool(new.steps_ordered),
            "comply_by": new.comply_by is not None}


def _refuse_misplaced_fields(new: TimelineEvent) -> None:
    """Each field beside the date, time and note belongs to the kinds EVENT_FIELDS gives it."""
    for name, given in _given(new).items():
        if given and name not in EVENT_FIELDS[new.kind]:
            kinds = [f"{'an' if kind.label[0] in 'AEIOU' else 'a'} {kind.label.lower()}"
                     for kind in kinds_taking(name)]
            phrase = " or ".join([", ".join(kinds[:-1]), kinds[-1]] if len(kinds) > 1 else kinds)
            raise _fail(new, f"this kind of event has no {_FIELD_NOUNS[name]} (only {phrase})")


def check_removal(events: Sequence[TimelineEvent], removed: TimelineEvent,
                  regime: Regime = Regime.foia) -> None:
    """Refuse to remove an event that later events depend on. :raises TimelineError:"""
    remaining = [event for event in events if event != removed]
    try:
        _walk(remaining, regime)
    except TimelineError as error:
        raise TimelineError(f"cannot remove it: without it, {error}") from None


def _response_deadline(walk: _Walk, regime: Regime, settings: ClockSettings) -> Deadline | None:
    if walk.clock_start is None:
        return None
    if walk.open_clarification is not None and not walk.responded:
        return Deadline(
            "Response", None,
            [f"On hold since {walk.open_clarification.isoformat()}: the authority asked for "
             "clarification (s.1(3)). The 20 working days start again when it is sent."],
        )
    if walk.open_fee is not None and not walk.responded:
        return Deadline(
            "Response", None,
            [f"On hold since {walk.open_fee.isoformat()}: a fees notice is unpaid. Working days "
             "until the fee is paid are not counted (s.10(2))."],
        )
    count = add_working_days(walk.clock_start, settings.response_days, regime, walk.pauses)
    start_words = {
        "received": "the date of receipt",
        "clarification received": "receipt of the clarification",
    }[walk.clock_start_reason]
    lines = [f"From {start_words}, {walk.clock_start.isoformat()}, under the {regime.act}."]
    if walk.clock_start_reason == "received" and walk.received_on == walk.sent_on:
        lines.append("The date of receipt is taken to be the day it was sent.")
    lines += explain_count(count, "Statutory due date")
    deadline = Deadline("Response", count.due, lines, count=count, flags=list(walk.flags))
    if walk.extension_to is not None:
        if not regime.has_public_interest_extension:
            deadline.flags.append(
                f"The authority gave itself until {walk.extension_to.isoformat()}, but the "
                f"{regime.act} has no public interest extension: the statutory date stands."
            )
        elif walk.extension_on is not None and walk.extension_on > count.due:
            deadline.flags.append(
                f"The extension was given on {walk.extension_on.isoformat()}, after the statutory "
                f"date {count.due.isoformat()}: the authority had to say so within the 20 "
                "working days (s.17), so the request is late from the statutory date."
            )
        elif walk.extension_to > count.due:
            guidance = add_working_days(count.due, settings.extension_guidance_days, regime)
            deadline.due = walk.extension_to
            weighed = (f", weighing {', '.join(walk.extension_exemptions)} (s.17(2))"
                       if walk.extension_exemptions else "")
            deadline.lines.append(
                f"Extended to {walk.extension_to.isoformat()} for the public interest test "
                f"(s.10(3)){weighed}, on "
                f"{walk.extension_on.isoformat() if walk.extension_on else '?'}."
            )
            if walk.extension_to > guidance.due:
                deadline.flags.append(
                    f"The extension runs past {guidance.due.isoformat()}, the "
                    f"{settings.extension_guidance_days} further working days the ICO's guidance "
                    "allows."
                )
    return deadline


def derive(
    events: Sequence[TimelineEvent],
    regime: Regime,
    today: dt.date,
    settings: ClockSettings | None = None,
) -> RequestState:
    """Status, outcome, deadlines and lateness of a request on ``today``."""
    settings = settings or ClockSettings()
    walk = _walk(events, regime, settings)
    state = RequestState(
        status=walk.status,
        outcome=walk.outcome,
        exemptions=walk.exemptions,
        first_outcome=walk.responded[0].outcome if walk.responded else None,
        outcome_from=walk.decisions[-1].kind if walk.decisions else None,
        decisions=tuple(walk.decisions),
        sent_on=walk.sent_on,
        received_on=walk.received_on,
        last_chased_on=walk.last_chased,
        reply_to_read_on=unread_reply_on(events),
    )
    if walk.responded:
        state.first_response_on = walk.responded[0].on
        state.last_response_on = walk.responded[-1].on
    # The response deadline as it stood when the first response came (or stands now).
    before_response = walk
    if walk.responded:
        cutoff = walk.responded[0]
        before_response = _walk([e for e in ordered(events) if e.sort_key() < cutoff.sort_key()],
                                regime, settings)
    state.response_deadline = _response_deadline(before_response, regime, settings)
    deadline = state.response_deadline
    if walk.answer_withdrawn_on is not None and deadline is not None:
        state.response_withdrawn_on = walk.answer_withdrawn_on
        words = (f"The authority withdrew its response on {walk.answer_withdrawn_on.isoformat()}"
                 ": no answer stands until it sends another (a withdrawal is practice, not "
                 "provided for by the Act, so the date above is still the one the response "
                 "was due by).")
        deadline.lines.append(words)
        deadline.flags.append(words)
    if deadline is not None and deadline.due is not None:
        _response_lateness(state, deadline.due, walk, before_response, today, settings)
    if walk.open_review is not None or walk.review_done:
        _review_deadline(state, events, walk, today, settings)
    # Once with the Commissioner (FOIA allows a complaint without a review) or decided, a
    # review is no longer the next step: no window to ask for one.
    with_commissioner = walk.open_complaint is not None or walk.closed_on is not None
    if walk.responded and walk.open_review is None and not walk.review_done \
            and not with_commissioner:
        state.review_window = _review_window(walk.responded[-1], regime, settings)
    elif (regime is Regime.foisa and not walk.responded and walk.open_review is None
          and not walk.review_done and deadline is not None and deadline.due is not None
          and today > deadline.due and walk.withdrawn_on is None):
        # FOISA s.20(5): with no response, the 40 working days run from the date it was due.
        state.review_window = _review_window_from(deadline.due, regime, settings,
                                                  "the date the response was due")
    if regime is Regime.foisa:
        state.commissioner_window = _commissioner_window(walk)
    else:
        state.commissioner_window = _ico_window(walk)
    state.appeal_window = _appeal_window(walk)
    state.compliance_deadline = _compliance_deadline(walk)
    _record_later_steps(state, walk)
    return state


def _record_later_steps(state: RequestState, walk: _Walk) -> None:
    """The review, complaint, decision and appeal as recorded, for the tracker's columns."""
    state.review_requested_on = walk.review_requested_on
    state.review_outcome = walk.review_outcome
    if walk.complaint is not None:
        state.complaint_on = walk.complaint.on
        state.complaint_reference = walk.complaint.case_reference
    if walk.decision is not None:
        state.decision_on = walk.decision.on
        state.decision_outcome = walk.decision.outcome
    if walk.appeal is not None:
        state.appeal_on = walk.appeal.on


# The ICO asks for a complaint within six weeks of the final response (its guidance on making
# an FOI complaint); FOIA s.50(2)(b) lets it decline one made after undue delay.
ICO_COMPLAINT_WEEKS = 6
# The Tribunal Procedure (First-tier Tribunal) (General Regulatory Chamber) Rules 2009,
# r.22(1)(b): a notice of appeal within 28 days of the date the decision notice was sent.
TRIBUNAL_APPEAL_DAYS = 28
# Rules of the Court of Session 1994, r.41.20(1)(b): a statutory appeal within 42 days of the
# decision's intimation, FOISA s.56 setting no period of its own.
COURT_OF_SESSION_APPEAL_DAYS = 42
# The time ICO decision notices give to take the steps they order (FOIA s.50(4)); s.50(6)
# keeps it from ending before the 28 days for an appeal do.
ICO_COMPLIANCE_DAYS = 35


def _ico_window(walk: _Walk) -> Deadline | None:
    """FOIA s.50(1)-(2): complain to the ICO once the internal review (the authority's
    complaints procedure, s.50(2)(a)) has answered, within the six weeks its guidance asks."""
    if walk.open_complaint is not None or walk.closed_on is not None:
        return None
    if not walk.review_done or walk.review_decided_on is None:
        return None
    start = walk.review_decided_on
    due = start + dt.timedelta(weeks=ICO_COMPLAINT_WEEKS)
    return Deadline("Complain to the ICO by", due, [
        f"Six weeks from the final response, the internal review's notice of "
        f"{start.isoformat()}: {due.isoformat()}.",
        "Source: the ICO's guidance on making a freedom of information complaint (within six "
        "weeks of the final response); it may refuse a complaint made after undue delay "
        "(FOIA s.50(2)(b)).",
    ])


def _appeal_window(walk: _Walk) -> Deadline | None:
    """FOIA s.57 and the GRC rules r.22(1)(b): 28 days; FOISA s.56 and the Rules of the Court
    of Session r.41.20(1)(b): 42 days; both from the decision, in calendar days."""
    decision = walk.decision
    if decision is None or walk.appeal is not None:
        return None
    if walk.regime is Regime.foisa:
        due = decision.on + dt.timedelta(days=COURT_OF_SESSION_APPEAL_DAYS)
        return Deadline("Appeal to the Court of Session by", due, [
            f"42 days from the Commissioner's decision of {decision.on.isoformat()}: "
            f"{due.isoformat()}.",
            "Source: FOISA s.56 (an appeal on a point of law only) and the Rules of the Court "
            "of Session, rule 41.20(1)(b) (42 days from the decision's intimation). The day "
            "of the decision is taken as the day it was intimated.",
        ])
    due = decision.on + dt.timedelta(days=TRIBUNAL_APPEAL_DAYS)
    return Deadline("Appeal to the First-tier Tribunal by", due, [
        f"28 days from the decision notice of {decision.on.isoformat()}: {due.isoformat()}.",
        "Source: FOIA s.57(1) and the Tribunal Procedure (First-tier Tribunal) (General "
        "Regulatory Chamber) Rules 2009, rule 22(1)(b) (28 days from the date the notice was "
        "sent). The date of the notice is taken as the day it was sent; the Tribunal may "
        "admit a late appeal (rule 5(3)(a)).",
    ])


def _compliance_deadline(walk: _Walk) -> Deadline | None:
    """FOIA s.50(4), FOISA s.49(6)(b): the time a decision notice gives the authority to take
    the steps it orders; FOIA's default is the 35 calendar days ICO notices give, and only
    when steps were recorded: a notice ordering no steps gives nothing to comply with."""
    decision = walk.decision
    if decision is None:
        return None
    ordered_steps = bool(decision.steps_ordered) and decision.outcome in (
        CommissionerOutcome.upheld, CommissionerOutcome.partly_upheld)
    if decision.comply_by is None and not (ordered_steps and walk.regime is Regime.foia):
        return None
    section = "FOISA s.49(6)(b)" if walk.regime is Regime.foisa else "FOIA s.50(4)"
    if decision.comply_by is not None:
        due = decision.comply_by
        lines = [f"The date the decision of {decision.on.isoformat()} gives ({section}): "
                 f"{due.isoformat()}."]
    else:
        due = decision.on + dt.timedelta(days=ICO_COMPLIANCE_DAYS)
        lines = [f"35 calendar days from the decision notice of {decision.on.isoformat()}, "
                 f"the time ICO decision notices give ({section}): {due.isoformat()}.",
                 "Not before the 28 days for an appeal end (FOIA s.50(6)); record the "
                 "notice's own date if it gives another."]
    if decision.steps_ordered:
        lines.append(f"Steps ordered: {decision.steps_ordered}")
    deadline = Deadline("Authority to comply by", due, lines)
    if walk.appeal is not None:
        deadline.flags.append(
            f"An appeal was made on {walk.appeal.on.isoformat()}: steps it affects need not be "
            "taken until it is decided (FOIA s.50(6)).")
    return deadline


# The requester's own deadlines are shown on the chase list this many working days ahead.
REMINDER_WORKING_DAYS = 10


@dataclass(frozen=True)
class Reminder:
    """One of the requester's own deadlines coming up: what, by when, and the days left."""

    name: str
    due: dt.date
    days_left: int  # calendar days, as people count down to a date
    working_days_left: int
    source: str = ""  # where the date comes from: the deadline's "Source:" line


    @property
    def text(self) -> str:
        what = _REMINDER_WORDS.get(self.name, self.name.lower())
        days = "1 day" if self.days_left == 1 else f"{self.days_left} days"
        return "Last day " + what if self.days_left == 0 else f"{days} left {what}"


# "Ask for an internal review by" -> "3 days left to ask for an internal review".
_REMINDER_WORDS = {
    "Ask for an internal review by": "to ask for an internal review",
    "Complain to the ICO by": "to complain to the ICO",
    "Apply to the Scottish Information Commissioner by":
        "to apply to the Scottish Information Commissioner",
    "Appeal to the First-tier Tribunal by": "to appeal to the First-tier Tribunal",
    "Appeal to the Court of Session by": "to appeal to the Court of Session",
}


def reminders(state: RequestState, regime: Regime, today: dt.date,
              within: int = REMINDER_WORKING_DAYS) -> list[Reminder]:
    """The requester's own deadlines falling from ``today`` to ``within`` working days ahead,
    soonest first: a review to ask for (FOISA s.20(5), the FOIA s.45 Code), the Commissioner
    (FOISA s.47(4), the ICO's six weeks), an appeal (FOIA s.57, FOISA s.56)."""
    if state.status is Status.withdrawn:
        return []
    found = []
    for deadline in state.own_deadlines():
        assert deadline.due is not None  # own_deadlines keeps dated ones
        if deadline.due < today:
            continue
        working = working_days_between(today, deadline.due, regime)
        if working <= within:
            found.append(Reminder(deadline.name, deadline.due, (deadline.due - today).days,
                                  working, source_of(deadline)))
    return sorted(found, key=lambda reminder: reminder.due)


def source_of(deadline: Deadline) -> str:
    """The law or guidance a deadline's date comes from: its working's "Source:" line."""
    return next((line.removeprefix("Source: ") for line in deadline.lines
                 if line.startswith("Source: ")), "")


def _commissioner_window(walk: _Walk) -> Deadline | None:
    """FOISA s.47(4)(a): apply to the Scottish Information Commissioner within six months of
    the review's notice or, with none, of the date by which it was due (s.21(1))."""
    if walk.open_complaint is not None or walk.closed_on is not None:
        return None
    if walk.review_done and walk.review_decided_on is not None:
        start, why = walk.review_decided_on, "the review's notice"
    elif walk.open_review is not None:
        start, why = _review_due(walk, walk.open_review), "the date the review was due"
    else:
        return None
    due = months_after(start, 6)
    return Deadline("Apply to the Scottish Information Commissioner by", due,
                    [f"Six months from {why}, {start.isoformat()} (FOISA s.47(4)): "
                     f"{due.isoformat()}.",
                     "Source: FOISA s.47(4)(a) (six months after receiving the review's "
                     "notice) and s.47(4)(b) (after the time s.21(1) allows for the review "
                     "expires, when none came)."])


def months_after(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months later, or the month's last day if it has none."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


# Events that say what a reply was: after one of them, an earlier "reply received" is classified.
CLASSIFYING = frozenset({
    EventKind.acknowledged, EventKind.clarification_requested, EventKind.fees_notice,
    EventKind.extension, EventKind.response, EventKind.internal_review_outcome,
    EventKind.ico_decision, EventKind.withdrawn,
    EventKind.response_withdrawn, EventKind.response_replaced, EventKind.tribunal_decision,
})


def unread_reply_on(events: Iterable[TimelineEvent]) -> dt.date | None:
    """The date of a reply filed from the mailbox that no later event has classified, in the
    order events were entered on each day (a reply is classified by what is recorded after it)."""
    waiting: dt.date | None = None
    for event in sorted(events, key=lambda e: (e.on, e.seq)):
        if event.kind is EventKind.reply_received:
            waiting = waiting or event.on
        elif event.kind in CLASSIFYING:
            waiting = None
    return waiting


def is_classified(events: Iterable[TimelineEvent], filed_as: int) -> bool:
    """Whether the reply filed as the event numbered ``filed_as`` (its "reply received") has been
    classified: an event saying what a reply was is recorded after it, in the order
    unread_reply_on reads them. False when that event is not among ``events`` (removed)."""
    seen = False
    for event in sorted(events, key=lambda e: (e.on, e.seq)):
        if event.seq == filed_as:
            seen = True
        elif seen and event.kind in CLASSIFYING:
            return True
    return False


def _response_lateness(state: RequestState, due: dt.date, walk: _Walk, before_response: _Walk,
                       today: dt.date, settings: ClockSettings) -> None:
    """Whether the first response came on time, or how late the request is still owed."""
    regime = walk.regime
    if state.first_response_on is not None:
        late = working_days_between(due, state.first_response_on, regime)
        state.answered_on_time = late == 0
        state.answered_days_late = late
    elif walk.withdrawn_on is None and walk.closed_on is None:
        # Still owed, even while a complaint about the silence is with the Commissioner.
        late = working_days_between(due, today, regime)
        state.working_days_late = late
        very = add_working_days(
            before_response.clock_start or due, settings.very_overdue_days, regime,
            before_response.pauses,
        ).due
        if late > 0:
            state.lateness = Lateness.very_overdue if today > very and today > due \
                else Lateness.overdue
        elif working_days_between(today, due, regime) <= settings.due_soon_days:
            state.lateness = Lateness.due_soon


def _review_deadline(state: RequestState, events: Sequence[TimelineEvent], walk: _Walk,
                     today: dt.date, settings: ClockSettings) -> None:
    """FOISA s.21(1), the FOIA s.45 Code: the review's due date, and lateness while it is open."""
    review_start = _last(events, EventKind.internal_review_requested)
    if review_start is None:
        return
    regime = walk.regime
    count = add_working_days(review_start.on, settings.review_days, regime)
    longest = add_working_days(review_start.on, settings.review_max_days, regime)
    statute = "FOISA s.21(1)" if regime is Regime.foisa else "the s.45 Code of Practice"
    lines = explain_count(count, "Internal review due")
    if regime is Regime.foia:
        lines.append(
            f"In complex cases the Code allows up to {settings.review_max_days} working "
            f"days: {longest.due.isoformat()}."
        )
    state.review_deadline = Deadline(f"Internal review ({statute})", count.due, lines,
                                     count=count)
    if walk.open_review is not None and today > count.due:
        state.lateness = Lateness.review_overdue
        state.working_days_late = working_days_between(count.due, today, regime)


def _review_window(last: TimelineEvent, regime: Regime, settings: ClockSettings) -> Deadline:
    """The date by which to ask for an internal review of the last response (FOISA s.20(5),
    the FOIA s.45 Code: 40 working days)."""
    return _review_window_from(last.on, regime, settings)


def _review_window_from(start: dt.date, regime: Regime, settings: ClockSettings,
                        why: str = "") -> Deadline:
    count = add_working_days(start, settings.review_window_days, regime)
    lines = explain_count(count, "Ask for an internal review by")
    if why:
        lines.insert(0, f"From {why}, {start.isoformat()} (FOISA s.20(5)).")
    # Like the s.10 date, each window says where its number comes from.
    lines.append(
        "Source: FOISA s.20(5) (a requirement for review within 40 working days)."
        if regime is Regime.foisa else
        "Source: the s.45 Code of Practice (2018), part 5: an authority need not accept a "
        "request for review made more than 40 working days after its response.")
    return Deadline("Ask for an internal review by", count.due, lines, count=count)


def _last(events: Sequence[TimelineEvent], kind: EventKind) -> TimelineEvent | None:
    found = [event for event in ordered(events) if event.kind is kind]
    return found[-1] if found else None


# What a researcher most likely records next, by where the request is: the answer to what is
# open. Once the authority has answered (or the request is closed or withdrawn) nothing in
# particular is owed, so a note: the one kind that changes nothing if saved unchanged in a
# hurry, where a second "response" would replace the outcome and a review is a choice to make,
# not a default.
_NEXT_BY_STATUS = MappingProxyType({
    Status.not_sent: EventKind.sent,
    Status.awaiting_response: EventKind.response,
    Status.awaiting_clarification: EventKind.clarification_sent,
    Status.awaiting_fee: EventKind.fee_paid,
    Status.answered: EventKind.note,
    Status.awaiting_review: EventKind.internal_review_outcome,
    Status.reviewed: EventKind.note,
    Status.with_commissioner: EventKind.ico_decision,
    Status.closed: EventKind.note,
    Status.withdrawn: EventKind.note,
})

# Events of our own side, or none at all: after only these, the authority has not been heard from.
_NOT_FROM_THE_AUTHORITY = frozenset({EventKind.sent, EventKind.chaser_sent, EventKind.note})


def likely_next(events: Sequence[TimelineEvent], status: Status) -> EventKind:
    """The kind of event most likely recorded next on a request with ``events`` and ``status``
    (derived from them): the add-event form's default. A request awaiting its response that
    the authority has not been heard from yet most likely hears back with an acknowledgement
    first (most authorities send one); once it has, the response."""
    if status is Status.awaiting_response and all(
            event.kind in _NOT_FROM_THE_AUTHORITY for event in events):
        return EventKind.acknowledged
    return _NEXT_BY_STATUS[status]


def with_seq(events: Sequence[TimelineEvent]) -> list[TimelineEvent]:
    """Number events in the order given, for callers that have no ids."""
    return [replace(event, seq=index) for index, event in enumerate(events)]
