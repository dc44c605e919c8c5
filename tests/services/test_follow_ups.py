"""Narrowed follow-up requests (issue 17, point 2), through the services: a follow-up is a new
request with its own clock, linked to the first; the campaign counts each authority once, from
the request the researcher marks as its figures' source; the methods note names the forces
that answered a narrowed question."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from foitrack.errors import Conflict, Invalid
from foitrack.models import Request
from foitrack.services import aggregate, follow_ups, requests
from foitrack.services.methods import methods_note
from tests.factories import TEST_ACTOR, design_for, enter_figures, make_campaign

D = dt.date.fromisoformat
TODAY = D("2019-07-31")
FORCES = ["kent", "surrey", "sussex", "essex"]
NARROWED = "How many offences did you record in 2018/19? No breakdown is needed."


@pytest.fixture
def campaign(session):
    """Four forces asked on 1 April 2019; Kent, Surrey and Sussex refused on cost (s.12) on
    25 April, Essex answered. Kent's figure is entered (from whichever reply is marked)."""
    found = make_campaign(session, design_for(FORCES))
    for slug in FORCES:
        add(session, slug, "sent", "2019-04-01")
    for slug in ("kent", "surrey", "sussex"):
        add(session, slug, "response", "2019-04-25", outcome="refused", exemptions="s.12")
    add(session, "essex", "response", "2019-04-25", outcome="provided")
    session.commit()
    return found


def add(session, slug, kind, on, request=None, **kw):
    request = request or requests.get_request(session, "grooming-2019", slug)
    return requests.add_event(session, TEST_ACTOR, request, kind, D(on), today=TODAY, **kw)


def narrow(session, slug, on="2019-05-01", follows=None):
    first = follows or requests.get_request(session, "grooming-2019", slug)
    found = follow_ups.open_follow_up(session, TEST_ACTOR, first, NARROWED, D(on), today=TODAY)
    session.commit()
    return found


def answer(session, follow_up, on="2019-05-20", outcome="provided"):
    add(session, "", "response", on, request=follow_up, outcome=outcome)
    session.commit()


def test_a_follow_up_is_a_new_request_with_its_own_clock(session, campaign):
    """FOIA s.1(1) and s.10(1): the narrowed question is a new request, due on the 20th working
    day after its own receipt: sent Wednesday 1 May 2019, skipping the bank holidays of 6 and
    27 May (s.10(6)), it is due on Friday 31 May; the first request's date stays 1 May (sent on
    1 April, past Good Friday and Easter Monday)."""
    kent = narrow(session, "kent")
    state = requests.state_of(kent, TODAY)
    assert state.response_deadline is not None and state.response_deadline.due == D("2019-05-31")
    first = requests.get_request(session, "grooming-2019", "kent")
    assert requests.state_of(first, TODAY).response_deadline.due == D("2019-05-01")
    assert (kent.follow_up_number, kent.follow_up_of_id, kent.question) == (1, first.id, NARROWED)
    assert [e.kind.value for e in kent.events] == ["sent"]


def test_a_follow_up_of_a_follow_up_links_to_the_first_request(session, campaign):
    """FOIA s.1(1): each narrowing is another new request; all link to the first, numbered."""
    one = narrow(session, "kent")
    answer(session, one, outcome="refused")
    two = narrow(session, "kent", on="2019-06-03", follows=one)
    first = requests.get_request(session, "grooming-2019", "kent")
    assert (two.follow_up_number, two.follow_up_of_id) == (2, first.id)
    assert [f.follow_up_number for f in first.follow_ups] == [1, 2]


def test_two_requests_cannot_share_a_follow_up_number(session, campaign):
    """No Act: the database keeps one request per campaign, authority and follow-up number."""
    kent = narrow(session, "kent")
    session.add(Request(campaign_id=kent.campaign_id, authority_id=kent.authority_id,
                        follow_up_number=1, follow_up_of_id=kent.follow_up_of_id))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_a_follow_up_before_any_reply_is_refused_and_nothing_changes(session):
    """FOIA s.10(1): before the authority replies the request is still running on its clock;
    a narrowed follow-up comes after the response (typically a s.12 refusal)."""
    make_campaign(session, design_for(["kent"]))
    add(session, "kent", "sent", "2019-04-01")
    session.commit()
    before = session.scalar(select(func.count()).select_from(Request))
    with pytest.raises(Invalid) as raised:
        narrow(session, "kent")
    session.rollback()
    problem, = raised.value.problems
    assert problem.field == "follows"
    assert "no reply yet" in problem.message
    assert session.scalar(select(func.count()).select_from(Request)) == before


@pytest.mark.parametrize(("on", "why"), [("2019-04-20", "before the reply"),
                                         ("2019-08-01", "in the future")])
def test_a_follow_up_dated_before_its_reply_or_in_the_future_is_refused(session, campaign, on,
                                                                        why):
    """FOIA s.10(1): the clock runs from receipt, which cannot precede the reply it answers
    or lie in the future; the sending date is named, and nothing is recorded."""
    with pytest.raises(Invalid) as raised:
        narrow(session, "kent", on=on)
    session.rollback()
    problem, = raised.value.problems
    assert problem.field == "sent_on" and why in problem.message
    assert requests.get_request(session, "grooming-2019", "kent").follow_ups == []


def test_the_counts_follow_the_request_marked_as_the_source(session, campaign):
    """FOIA s.17: a refusal notice is a reply; once the researcher marks Kent's answered
    follow-up as the source of its figures, the cost refusal it superseded is not counted
    as a refusal, and Kent is still asked (and counted) once."""
    enter_figures(session, campaign, ("kent", "2018-19", "", "", 50))
    kent = narrow(session, "kent")
    answer(session, kent)
    row = aggregate.build(session, campaign).row("offences", "2018-19")
    assert (row.asked, row.with_figure, row.refused) == (4, 1, 3)  # not marked yet
    follow_ups.use_as_source(session, TEST_ACTOR, kent, TODAY)
    session.commit()
    row = aggregate.build(session, campaign).row("offences", "2018-19")
    assert (row.asked, row.with_figure, row.refused, row.no_reply) == (4, 1, 2, 0)
    progress = requests.campaign_progress(session, [campaign], TODAY)[campaign.id]
    assert (progress.total, progress.refused, progress.answered) == (4, 2, 4)
    first = requests.get_request(session, "grooming-2019", "kent")
    assert follow_ups.source_of(first) is kent and first.figures_from_id == kent.id


def test_marking_the_first_request_again_restores_its_refusal(session, campaign):
    """FOIA s.17: the mark is the researcher's, and can be taken back."""
    enter_figures(session, campaign, ("essex", "2018-19", "", "", 50))
    kent = narrow(session, "kent")
    answer(session, kent)
    follow_ups.use_as_source(session, TEST_ACTOR, kent, TODAY)
    follow_ups.use_as_source(session, TEST_ACTOR,
                             requests.get_request(session, "grooming-2019", "kent"), TODAY)
    session.commit()
    assert aggregate.build(session, campaign).row("offences", "2018-19").refused == 3


def test_a_follow_up_with_no_reply_cannot_be_the_source(session, campaign):
    """FOIA s.1(1)(b): figures come from information communicated; none has been yet."""
    kent = narrow(session, "kent")
    with pytest.raises(Conflict, match="no reply yet"):
        follow_ups.use_as_source(session, TEST_ACTOR, kent, TODAY)


def test_the_list_rows_show_a_follow_up_on_its_own_clock_and_chase_it(session, campaign):
    """FOIA s.10(1): a follow-up not answered by its own date is late and chased on its own;
    the first request, refused, is not."""
    kent = narrow(session, "kent")
    rows = requests.request_rows(session, [campaign.id], TODAY)[campaign.id]
    kents = [r for r in rows if r.authority_slug == "kent"]
    assert [(r.follow_up_number, r.counts) for r in kents] == [(0, True), (1, False)]
    assert kents[1].first_request_id == kents[0].request_id
    assert kents[1].state.response_deadline.due == D("2019-05-31")
    late = requests.chase_list(session, TODAY)
    assert [(r.authority_slug, r.follow_up_number, r.request_id) for r in late] == [
        ("kent", 1, kent.id)]
    assert len(requests.counted_states(rows)) == 4


def test_the_methods_note_names_the_forces_that_answered_a_narrowed_question(session, campaign):
    """FOIA s.12 and s.16 (the s.45 Code, para 6.9): a force refusing on cost should advise
    how to narrow the request; the note says whose figures answer the narrowed question, and
    what it was."""
    for slug in ("kent", "surrey", "sussex"):
        found = narrow(session, slug)
        answer(session, found)
        follow_ups.use_as_source(session, TEST_ACTOR, found, TODAY)
    session.commit()
    note = methods_note(session, campaign, TODAY)
    assert ("3 forces answered a narrowed question after refusing the original on cost (s.12): "
            "Kent Police, Surrey Police and Sussex Police.") in note
    assert f"The narrowed question: \u201c{NARROWED}\u201d" in note
    assert not any(line.startswith("Refused") for line in note)


def test_the_methods_note_leaves_out_a_follow_up_not_marked_as_the_source(session, campaign):
    """FOIA s.17: until marked, the figures (and the refusal) are the first request's."""
    answer(session, narrow(session, "kent"))
    assert not any("narrowed" in line for line in methods_note(session, campaign, TODAY))


def test_the_migration_goes_down_to_one_request_per_authority_and_up_again(scratch):
    """No Act: going down drops the follow-ups (their figures live on the first request, which
    stays) and restores one request per campaign and authority; going up again takes them."""
    from sqlalchemy import text
    from sqlalchemy.orm import sessionmaker

    from foitrack import migrate
    from foitrack.db import make_engine

    engine = make_engine(scratch.new_url())
    try:
        migrate.upgrade(engine)
        with sessionmaker(engine)() as session:
            make_campaign(session, design_for(["kent"]))
            add(session, "kent", "sent", "2019-04-01")
            add(session, "kent", "response", "2019-04-25", outcome="refused", exemptions="s.12")
            session.commit()
            narrow(session, "kent")
        migrate.downgrade(engine, "b28c4d5e6f7a")
        with engine.begin() as connection:
            assert connection.execute(text("SELECT count(*) FROM request")).scalar() == 1
            assert connection.execute(text("SELECT count(*) FROM event")).scalar() == 2
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text("INSERT INTO request (campaign_id, authority_id, created_at) "
                                    "SELECT campaign_id, authority_id, created_at FROM request"))
        migrate.upgrade(engine)
        with engine.begin() as connection:
            assert connection.execute(text(
                "SELECT follow_up_number FROM request")).scalars().all() == [0]
    finally:
        engine.dispose()


def test_the_campaign_still_asked_each_authority_once(session, campaign):
    """FOIA s.1(1): a narrowed follow-up asks Kent again, but the campaign asked four forces:
    its request count, the authorities asked (for the map) and the dashboard's progress."""
    from foitrack.services import campaigns, dashboard

    narrow(session, "kent")
    assert campaigns.request_counts(session, [campaign.id]) == {campaign.id: 4}
    assert len(aggregate.asked_authorities(session, campaign)) == 4
    rows = requests.request_rows(session, [campaign.id], TODAY)[campaign.id]
    assert len(rows) == 5
    assert dashboard.campaign_work(campaign, rows).progress.total == 4


def test_a_late_follow_up_is_chased_on_its_own(session, campaign, tmp_path):
    """FOIA s.10(1): the follow-up, due 31 May 2019, is late; its chaser is its own (the first
    request, refused on 25 April, is answered and not chased)."""
    from foitrack.services import mail

    kent = narrow(session, "kent")
    settings = mail.MailSettings(mail_from="research@charity.example", smtp_host=None,
                                 outbox=tmp_path / "outbox")
    queued, _ = mail.queue_chasers(session, TEST_ACTOR, settings, TODAY)
    assert [message.request_id for message in queued] == [kent.id]
