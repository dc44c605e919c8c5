"""The add-event form (issue 16, point 7): each field only some kinds of event take says which,
from the one list the server checks against, and the kind chosen at first is the event most
likely recorded next, never "Request sent" on a request already sent."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest

from foitrack.domain.clock import Regime
from foitrack.domain.timeline import (
    EVENT_FIELDS,
    OUTCOMES,
    EventKind,
    Status,
    TimelineError,
    TimelineEvent,
    check,
    derive,
    kinds_requiring,
    kinds_taking,
    likely_next,
)
from foitrack.services import requests
from foitrack.web.forms.campaigns import EventForm
from tests.factories import TEST_ACTOR, design_for, make_campaign, make_user
from tests.pages import csrf_token, sign_in

TODAY = dt.date(2019, 6, 4)
PAGE = "/campaigns/grooming-2019/requests/kent"
D = dt.date.fromisoformat
# A value for each field some kinds take, as the timeline holds it.
VALUES = {"outcome": {"outcome": "upheld"}, "exemptions": {"exemptions": ("s.12",)},
          "due_on": {"due_on": D("2019-05-30")}, "received_on": {"received_on": D("2019-05-02")}}


@pytest.fixture
def researcher(app, client, session):
    app.config["TODAY"] = TODAY
    make_campaign(session, design_for(["kent", "surrey"]))
    user = make_user(session, role="researcher")
    sign_in(client, user.email)
    return user


def record(session, *events: tuple[str, str, dict]) -> None:
    """Kent's events: (kind, date, other fields)."""
    request = requests.get_request(session, "grooming-2019", "kent")
    for kind, on, fields in events:
        requests.add_event(session, TEST_ACTOR, request, kind, D(on), today=TODAY, **fields)
    session.commit()


def selected(client) -> list[str]:
    """The kinds the add-event form starts at: one, unless the page is wrong."""
    return kinds_selected(client.get(PAGE).get_data(as_text=True))


def kinds_selected(page: str) -> list[str]:
    form = page.split('id="kind"', 1)[1].split("</select>", 1)[0]
    return [value for tag, value in re.findall(r'(<option[^>]*value="([a-z_]+)"[^>]*>)', form)
            if " selected" in tag]


# ---- the fields each kind takes: one list -----------------------------------------------------


def test_the_form_offers_exactly_the_fields_some_kinds_take():
    assert set(EventForm.BY_KIND) == {name for fields in EVENT_FIELDS.values() for name in fields}


def test_the_kinds_with_an_outcome_are_those_with_outcomes_to_choose():
    assert set(kinds_requiring("outcome")) == set(OUTCOMES)
    # A replacement may say what it now gives (a response's outcome); without one, what stood.
    assert set(kinds_taking("outcome")) == {*OUTCOMES, EventKind.response_replaced}


@pytest.mark.parametrize("kind", list(EventKind))
def test_the_checks_refuse_every_field_a_kind_does_not_take(kind):
    sent = TimelineEvent(EventKind.sent, D("2019-05-01"))
    for name, value in VALUES.items():
        if name in EVENT_FIELDS[kind]:
            continue
        with pytest.raises(TimelineError, match="this kind of event has no "):
            check([sent], TimelineEvent(kind, D("2019-05-10"), **value), TODAY)


# Each kind that requires a field, the events before it that let it happen, and its field's value.
REQUIRED = {
    EventKind.extension: ([], {"due_on": D("2019-06-20")}),
    EventKind.response: ([], {"outcome": "provided"}),
    EventKind.internal_review_outcome: (
        [TimelineEvent(EventKind.response, D("2019-05-05"), 1, outcome="refused"),
         TimelineEvent(EventKind.internal_review_requested, D("2019-05-06"), 2)],
        {"outcome": "upheld"}),
    EventKind.ico_decision: (
        [TimelineEvent(EventKind.ico_complaint, D("2019-05-06"), 1)], {"outcome": "upheld"}),
    EventKind.tribunal_decision: (
        [TimelineEvent(EventKind.ico_complaint, D("2019-05-06"), 1),
         TimelineEvent(EventKind.ico_decision, D("2019-05-07"), 2, outcome="not_upheld"),
         TimelineEvent(EventKind.tribunal_appeal, D("2019-05-08"), 3)],
        {"outcome": "refused"}),
}


def test_the_kinds_that_require_a_field_are_those_listed():
    assert {kind for kind in EventKind if any(EVENT_FIELDS[kind].values())} == set(REQUIRED)


@pytest.mark.parametrize("kind", list(REQUIRED))
def test_the_checks_refuse_a_kind_without_the_field_it_requires(kind):
    before, fields = REQUIRED[kind]
    events = [TimelineEvent(EventKind.sent, D("2019-05-01")), *before]
    assert set(fields) == {name for name, required in EVENT_FIELDS[kind].items() if required}
    check(events, TimelineEvent(kind, D("2019-05-10"), 9, **fields), TODAY)
    with pytest.raises(TimelineError, match="say what|give the date"):
        check(events, TimelineEvent(kind, D("2019-05-10"), 9), TODAY)


def test_a_field_on_a_kind_that_does_not_take_it_is_refused_through_the_page(client, researcher, session):
    record(session, ("sent", "2019-05-01", {}))
    response = client.post(f"{PAGE}/events", data={
        "csrf_token": csrf_token(client, PAGE), "kind": "acknowledged", "occurred_on": "2019-05-02",
        "due_on": "2019-06-01"})
    assert response.status_code == 400
    assert "has no new due date (only an extension for the public interest test)" in \
        html.unescape(response.get_data(as_text=True))


def test_each_field_some_kinds_take_says_which_without_javascript(client, researcher):
    page = html.unescape(client.get(PAGE).get_data(as_text=True))
    for name in EventForm.BY_KIND:
        takes = " ".join(kinds_taking(name))
        needs = " ".join(kinds_requiring(name))
        group = re.search(rf'<div class="event-field" data-kinds="{takes}" '
                          rf'data-required-kinds="{needs}">\s*<div class="form-group[^"]*">\s*'
                          rf'(<label class="label" for="{name}"|<fieldset [^>]*>\s*<legend)', page)
        assert group, name
    assert ("Only for: Response received; Internal review outcome; Commissioner's decision; "
            "Response replaced with corrected figures; Decision on the appeal (required, except "
            "for: response replaced with corrected figures).") in page
    assert "For a refusal, e.g. s.12 or s.30, s.40(2), or the exemption a public interest " \
           "extension weighs (FOIA s.17(2)). Only for: Extension for the public interest test; " \
           "Response received; Internal review outcome; Decision on the appeal." in page
    assert "Only for: Extension for the public interest test (required)." in page
    assert "If the authority received it on a later day. Only for: Request sent." in page


def test_the_page_loads_the_script_that_shows_only_the_chosen_kinds_fields(client, researcher):
    page = client.get(PAGE).get_data(as_text=True)
    assert "data-event-form" in page
    assert '<script src="/static/event-form.js"></script>' in page
    script = client.get("/static/event-form.js").get_data(as_text=True)
    # Hidden fields are hidden, disabled (not sent) and not required.
    assert "group.hidden = !takes" in script and "input.disabled = !takes" in script
    assert "input.required = needs" in script


# ---- the kind chosen at first -----------------------------------------------------------------


REPLIES = {
    "not sent": ([], "sent"),
    "sent, nothing heard": ([("sent", "2019-05-01", {})], "acknowledged"),
    "sent and chased, nothing heard": ([("sent", "2019-04-01", {}),
                                        ("chaser_sent", "2019-05-20", {})], "acknowledged"),
    "acknowledged": ([("sent", "2019-05-01", {}), ("acknowledged", "2019-05-02", {})], "response"),
    "extended": ([("sent", "2019-05-01", {}),
                  ("extension", "2019-05-20", {"due_on": D("2019-06-20")})], "response"),
    "clarification asked for": ([("sent", "2019-05-01", {}),
                                 ("clarification_requested", "2019-05-03", {})],
                                "clarification_sent"),
    "fees notice": ([("sent", "2019-05-01", {}), ("fees_notice", "2019-05-03", {})], "fee_paid"),
    "answered": ([("sent", "2019-05-01", {}), ("response", "2019-05-20", {"outcome": "refused"})],
                 "note"),
    "review asked for": ([("sent", "2019-05-01", {}),
                          ("response", "2019-05-20", {"outcome": "refused"}),
                          ("internal_review_requested", "2019-05-21", {})],
                         "internal_review_outcome"),
    "with the Commissioner": ([("sent", "2019-04-01", {}), ("ico_complaint", "2019-05-21", {})],
                              "ico_decision"),
    "withdrawn": ([("sent", "2019-05-01", {}), ("withdrawn", "2019-05-02", {})], "note"),
}


@pytest.mark.parametrize(("events", "expected"), REPLIES.values(), ids=REPLIES.keys())
def test_the_form_starts_at_the_event_most_likely_next(client, researcher, session, events, expected):
    record(session, *events)
    assert selected(client) == [expected]


def test_a_sent_request_never_starts_at_request_sent(client, researcher, session):
    record(session, ("sent", "2019-05-01", {}), ("response", "2019-05-20", {"outcome": "provided"}))
    chosen = selected(client)
    assert len(chosen) == 1 and chosen != ["sent"]


def test_a_refused_event_keeps_the_kind_chosen(client, researcher, session):
    record(session, ("sent", "2019-05-01", {}))
    response = client.post(f"{PAGE}/events", data={
        "csrf_token": csrf_token(client, PAGE), "kind": "response", "occurred_on": "2019-05-20"})
    assert response.status_code == 400
    assert kinds_selected(response.get_data(as_text=True)) == ["response"]


@pytest.mark.parametrize("status", list(Status))
def test_every_status_has_a_likely_next_event_that_can_follow(status):
    # The default is always one a researcher can save: never "Request sent" once sent.
    kind = likely_next([TimelineEvent(EventKind.sent, D("2019-05-01"))], status)
    assert isinstance(kind, EventKind)
    assert (kind is EventKind.sent) == (status is Status.not_sent)


def test_the_likely_next_of_a_derived_state():
    events = [TimelineEvent(EventKind.sent, D("2019-05-01"), seq=0),
              TimelineEvent(EventKind.acknowledged, D("2019-05-02"), seq=1)]
    state = derive(events, Regime.foia, TODAY)
    assert likely_next(events, state.status) is EventKind.response
