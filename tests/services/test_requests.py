"""Requests through the service: events, bulk actions, exemptions and the chase list."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from foitrack.domain.timeline import Lateness, Status
from foitrack.errors import Invalid, NotFound
from foitrack.models import AuditEntry, Event
from foitrack.services import campaigns, requests
from tests.factories import TEST_ACTOR, load_forces

D = dt.date.fromisoformat


@pytest.fixture
def campaign(session):
    load_forces(session)
    found = campaigns.create_campaign(session, TEST_ACTOR, title="Grooming 2019",
                                      request_text="Dear {{ authority.name }}",
                                      set_slug="england-wales")
    other = campaigns.create_campaign(session, TEST_ACTOR, title="Scotland 2019",
                                      request_text="Dear {{ authority.name }}",
                                      authority_keys=["scotland"])
    session.commit()
    del other
    return found


def add(session, slug, kind, on, today="2019-12-31", **kw):
    request = requests.get_request(session, "grooming-2019", slug)
    event = requests.add_event(session, TEST_ACTOR, request, kind, D(on), today=D(today), **kw)
    session.commit()
    return event


@pytest.mark.parametrize(
    ("text", "cited"),
    [
        ("12", ("s.12",)),
        ("s12, s.40(2)", ("s.12", "s.40(2)")),
        ("section 31(1)(a) and s 30 ; S.30", ("s.31(1)(a)", "s.30")),
        (["s.23(5)", "24(2)"], ("s.23(5)", "s.24(2)")),
    ],
)
def test_exemptions_are_read_forgivingly_and_written_one_way(text, cited):
    assert requests.parse_exemptions(text) == cited


@pytest.mark.parametrize(("text", "message"), [
    ("s.99", "s.99 is not a refusal ground or exemption of the Freedom of Information Act 2000"),
    ("because", "'because' is not a section, e.g. s.12 or s.40(2)"),
])
def test_bad_exemptions_name_the_field(text, message):
    with pytest.raises(Invalid) as caught:
        requests.parse_exemptions(text)
    assert caught.value.for_field("exemptions") == [message]


def test_foisa_sections_are_checked_against_foisa():
    from foitrack.domain.clock import Regime

    assert requests.parse_exemptions("s.38(1)(b)", Regime.foisa) == ("s.38(1)(b)",)
    with pytest.raises(Invalid, match="Freedom of Information \\(Scotland\\) Act 2002"):
        requests.parse_exemptions("s.43", Regime.foisa)


def test_a_refusal_under_s12_is_recorded_with_its_audit_entry(session, campaign):
    add(session, "west-mercia", "sent", "2019-05-01")
    event = add(session, "west-mercia", "response", "2019-05-20", outcome="refused",
                exemptions="s.12", note="Over the cost limit")
    entry = session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == "event", AuditEntry.entity_id == str(event.id))).one()
    assert entry.after["kind"] == "response" and entry.after["exemptions"] == ["s.12"]
    state = requests.state_of(requests.get_request(session, "grooming-2019", "west-mercia"), D("2019-06-01"))
    assert (state.status, state.outcome, state.exemptions) == (Status.answered, "refused", ("s.12",))


@pytest.mark.parametrize(
    ("kind", "on", "kw", "field", "message"),
    [
        ("response", "2019-05-20", {"outcome": "provided"}, "occurred_on", "has not been sent"),
        ("replied", "2019-05-20", {}, "kind", "'replied' is not a kind of event"),
        ("sent", "2020-01-05", {}, "occurred_on", "the date is in the future"),
    ],
)
def test_refused_events_name_the_field_and_write_nothing(session, campaign, kind, on, kw, field, message):
    with pytest.raises(Invalid) as caught:
        add(session, "kent", kind, on, **kw)
    assert any(message in text for text in caught.value.for_field(field)), caught.value
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Event)) == 0


def test_a_response_needs_its_outcome(session, campaign):
    add(session, "kent", "sent", "2019-05-01")
    with pytest.raises(Invalid) as caught:
        add(session, "kent", "response", "2019-05-02")
    assert caught.value.for_field("outcome")[0].startswith("is required for this event; choose provided")


def test_bulk_sent_is_all_or_nothing(session, campaign):
    add(session, "kent", "sent", "2019-05-01")
    every = requests.campaign_requests(session, campaign)
    with pytest.raises(Invalid) as caught:
        requests.bulk_add_event(session, TEST_ACTOR, every, "sent", D("2019-05-08"), today=D("2019-05-08"))
    assert [p.message for p in caught.value.problems] == [
        "Kent Police: Request sent on 2019-05-08: the request was already sent on 2019-05-01"
    ]
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Event)) == 1
    rest = [r for r in every if r.authority.slug != "kent"]
    events = requests.bulk_add_event(session, TEST_ACTOR, rest, "sent", D("2019-05-08"),
                                     today=D("2019-05-08"))
    session.commit()
    assert len(events) == 42


def test_the_chase_list_on_the_day_it_is_read(session, campaign):
    add(session, "kent", "sent", "2019-05-01")  # due Fri 2019-05-31 (6 and 27 May skipped)
    add(session, "surrey", "sent", "2019-05-01")
    add(session, "surrey", "response", "2019-05-20", outcome="provided")
    add(session, "sussex", "sent", "2019-05-01")
    add(session, "sussex", "chaser_sent", "2019-06-03")
    add(session, "gwent", "sent", "2019-05-20")  # due 2019-06-18
    assert requests.chase_list(session, D("2019-05-31")) == []
    rows = requests.chase_list(session, D("2019-06-04"))  # Mon 3 and Tue 4 June late
    assert [(r.authority_slug, r.working_days_late, r.lateness) for r in rows] == [
        ("kent", 2, Lateness.overdue), ("sussex", 2, Lateness.overdue),
    ]
    assert rows[0].due == D("2019-05-31")
    assert rows[1].last_chased == D("2019-06-03")
    soon = requests.chase_list(session, D("2019-06-14"), include_due_soon=True)
    assert ("gwent", Lateness.due_soon) in [(r.authority_slug, r.lateness) for r in soon]
    # 40 working days after 1 May 2019 is 28 June: from the 1st of July they are very overdue.
    late = requests.chase_list(session, D("2019-07-01"))
    assert {r.authority_slug: r.lateness for r in late}["kent"] is Lateness.very_overdue


def test_the_chase_list_leaves_out_closed_campaigns(session, campaign):
    add(session, "kent", "sent", "2019-05-01")
    campaigns.update_campaign(session, TEST_ACTOR, campaign, {"status": "closed"})
    session.commit()
    assert requests.chase_list(session, D("2019-07-01")) == []
    assert len(requests.chase_list(session, D("2019-07-01"), campaign_slug="grooming-2019")) == 1


def test_progress_counts_by_status_and_on_time(session, campaign):
    add(session, "kent", "sent", "2019-05-01")
    add(session, "kent", "response", "2019-05-20", outcome="provided")
    add(session, "surrey", "sent", "2019-05-01")
    add(session, "surrey", "response", "2019-06-10", outcome="refused", exemptions="s.12")
    add(session, "sussex", "sent", "2019-05-01")
    progress = requests.campaign_progress(session, [campaign], D("2019-06-12"))[campaign.id]
    assert (progress.total, progress.sent, progress.answered, progress.answered_on_time) == (43, 3, 2, 1)
    assert progress.overdue == 1 and progress.refused == 1 and progress.on_time_share == 0.5
    assert progress.by_status[Status.not_sent] == 40


def test_police_scotland_runs_on_the_scottish_clock(session, campaign):
    request = requests.get_request(session, "scotland-2019", "scotland")
    requests.add_event(session, TEST_ACTOR, request, "sent", D("2019-04-08"), today=D("2019-05-01"))
    state = requests.state_of(request, D("2019-05-01"))
    assert state.response_deadline.due == D("2019-05-08")  # Easter Monday counts in Scotland
    assert "Freedom of Information (Scotland) Act 2002" in state.response_deadline.lines[0]


def test_a_mistaken_event_is_removed_but_kept_on_the_record(session, campaign):
    sent = add(session, "kent", "sent", "2019-05-01")
    wrong = add(session, "kent", "response", "2019-05-20", outcome="not_held")
    request = requests.get_request(session, "grooming-2019", "kent")
    with pytest.raises(Invalid, match="cannot remove it: without it"):
        requests.remove_event(session, TEST_ACTOR, request, sent.id)
    requests.remove_event(session, TEST_ACTOR, request, wrong.id)
    session.commit()
    state = requests.state_of(request, D("2019-05-21"))
    assert state.status is Status.awaiting_response and state.outcome is None
    assert [e.removed_by for e in request.events] == [None, "tests"]
    assert session.scalar(select(func.count()).select_from(Event)) == 2
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "remove")).one()
    assert entry.before["outcome"] == "not_held"
    add(session, "kent", "response", "2019-05-20", outcome="provided")
    assert requests.state_of(request, D("2019-05-21")).outcome == "provided"


def test_an_admin_restores_a_removed_event_unless_the_timeline_moved_on(session, campaign):
    add(session, "kent", "sent", "2019-05-01")
    wrong = add(session, "kent", "response", "2019-05-20", outcome="not_held")
    request = requests.get_request(session, "grooming-2019", "kent")
    requests.remove_event(session, TEST_ACTOR, request, wrong.id)
    requests.restore_event(session, TEST_ACTOR, request, wrong.id, D("2019-05-21"))
    session.commit()
    assert requests.state_of(request, D("2019-05-21")).outcome == "not_held"
    assert session.scalars(select(AuditEntry).where(AuditEntry.action == "restore")).one()
    with pytest.raises(NotFound):
        requests.restore_event(session, TEST_ACTOR, request, wrong.id, D("2019-05-21"))
    # Removed again, and the withdrawal recorded since leaves no room for the response.
    requests.remove_event(session, TEST_ACTOR, request, wrong.id)
    add(session, "kent", "withdrawn", "2019-05-10")
    with pytest.raises(Invalid, match="cannot restore it"):
        requests.restore_event(session, TEST_ACTOR, request, wrong.id, D("2019-05-21"))


def test_an_event_is_checked_against_the_timeline_as_it_is_when_added(app, session, campaign):
    add(session, "kent", "sent", "2019-05-01")
    kent = requests.get_request(session, "grooming-2019", "kent")  # read, with their events
    essex = requests.get_request(session, "grooming-2019", "essex")
    shown = list(kent.events)  # as a page would hold them (the session keeps only those held)
    with app.extensions["foitrack.db"].session() as other:  # a colleague, meanwhile
        theirs = requests.get_request(other, "grooming-2019", "kent")
        requests.remove_event(other, TEST_ACTOR, theirs, theirs.events[0].id)
        requests.add_event(other, TEST_ACTOR, requests.get_request(other, "grooming-2019", "essex"),
                           "sent", D("2019-05-01"), today=D("2019-12-31"))
        other.commit()
    # Kent's sending was removed meanwhile: an acknowledgement has nothing to acknowledge.
    with pytest.raises(Invalid, match="sent"):
        requests.add_event(session, TEST_ACTOR, kent, "acknowledged", D("2019-05-02"),
                           today=D("2019-12-31"))
    with pytest.raises(Invalid, match="sent"):  # and Essex was sent meanwhile: not twice
        requests.add_event(session, TEST_ACTOR, essex, "sent", D("2019-05-01"),
                           today=D("2019-12-31"))
    assert shown[0].removed_at is not None
