"""The dashboard: what needs doing today, worked out from the requests' timelines."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import event

from foitrack.models import Figure, Request
from foitrack.services import dashboard
from foitrack.services import requests as request_service
from foitrack.services.campaigns import create_campaign
from foitrack.services.design import apply_design, parse_design
from foitrack.services.figures import Entry, save_figures
from tests.factories import TEST_ACTOR, load_forces, make_user

TODAY = dt.date(2024, 6, 3)


def _campaign(session, owner, slug="c", keys=("west-mercia", "kent", "surrey", "sussex")):
    campaign = create_campaign(session, TEST_ACTOR, title=slug.upper(), slug=slug, subject=None,
                               request_text="Please tell me.", set_slug=None,
                               authority_keys=list(keys), owner=owner)
    session.flush()
    return campaign


def _by_slug(session, campaign):
    return {r.authority.slug: r for r in request_service.campaign_requests(session, campaign)}


def test_lists_overdue_due_soon_and_replies_to_classify(session):
    load_forces(session)
    me = make_user(session)
    campaign = _campaign(session, me)
    requests = _by_slug(session, campaign)
    # Three sent long ago are late: a reply filed but not yet classified does not stop the
    # clock. Sussex was sent so recently that it falls due within the week.
    for slug in ("west-mercia", "kent", "surrey"):
        request_service.add_event(session, TEST_ACTOR, requests[slug], "sent", dt.date(2024, 4, 1),
                                  today=TODAY)
    request_service.add_event(session, TEST_ACTOR, requests["sussex"], "sent", dt.date(2024, 5, 7),
                              today=TODAY)
    request_service.add_event(session, TEST_ACTOR, requests["surrey"], "reply_received",
                              dt.date(2024, 4, 20), today=TODAY)
    request_service.add_event(session, TEST_ACTOR, requests["kent"], "reply_received",
                              dt.date(2024, 4, 22), today=TODAY)
    request_service.add_event(session, TEST_ACTOR, requests["kent"], "acknowledged",
                              dt.date(2024, 4, 23), today=TODAY)
    session.commit()

    board = dashboard.build(session, me, TODAY)

    assert [link.authority_slug for link in board.overdue] == ["kent", "surrey", "west-mercia"]
    assert all("working days late" in link.detail for link in board.overdue)
    assert [link.authority_slug for link in board.due_soon] == ["sussex"]
    # Kent's reply was classified by the acknowledgement that followed; Surrey's was not.
    assert [(link.authority_slug, link.on) for link in board.to_classify] == [
        ("surrey", dt.date(2024, 4, 20))]
    assert [link.authority_slug for link in board.recent_replies] == ["kent", "surrey"]
    card, = board.campaigns
    assert card.mine and card.progress.sent == 4 and card.progress.overdue == 3


def test_figures_to_check_are_those_someone_else_entered(session):
    load_forces(session)
    me, colleague = make_user(session), make_user(session)
    campaign = _campaign(session, colleague, keys=("west-mercia", "kent"))
    spec = parse_design({"measures": [{"key": "offences", "label": "Offences"}],
                         "periods": [{"key": "2023", "label": "2023", "start": dt.date(2023, 1, 1),
                                      "end": dt.date(2023, 12, 31)}]}, [])
    apply_design(session, TEST_ACTOR, campaign, spec)
    requests = _by_slug(session, campaign)
    for slug, user in (("west-mercia", colleague), ("kent", me)):
        save_figures(session, TEST_ACTOR, requests[slug],
                     [Entry("offences", "2023", None, None, "12")], user=user)
    session.commit()

    board = dashboard.build(session, me, TODAY)
    assert [(link.authority_slug, link.detail) for link in board.to_check] == [
        ("west-mercia", "1 figure")]
    # The colleague's own figures are not theirs to check; mine are.
    assert [link.authority_slug for link in dashboard.build(session, colleague, TODAY).to_check] == [
        "kent"]
    # Someone who entered neither has both to check.
    assert [(link.authority_slug, link.detail) for link in dashboard.build(
        session, make_user(session), TODAY).to_check] == [
        ("kent", "1 figure"), ("west-mercia", "1 figure")]
    # Once checked, nothing is left to do.
    for figure in session.query(Figure):
        figure.checked_by = "someone"
    session.commit()
    assert dashboard.build(session, me, TODAY).to_check == []
    assert not dashboard.build(session, me, TODAY).campaigns[0].mine


def test_closed_campaigns_and_an_empty_start(session):
    me = make_user(session)
    board = dashboard.build(session, me, TODAY)
    assert board.campaigns == [] and board.nothing_to_do


def work_from(rows):
    """The board's ``work``: each campaign's part worked out from these rows."""
    return lambda campaigns: {c.id: dashboard.campaign_work(c, rows[c.id]) for c in campaigns}


def test_the_board_is_built_from_the_rows_it_is_given(session):
    """Given each campaign's rows (as the web keeps them), the board derives no request: it
    loads none, and shows what the rows say."""
    load_forces(session)
    me = make_user(session)
    campaign = _campaign(session, me, keys=("west-mercia", "kent"))
    requests = _by_slug(session, campaign)
    request_service.add_event(session, TEST_ACTOR, requests["kent"], "sent", dt.date(2024, 4, 1),
                              today=TODAY)
    request_service.add_event(session, TEST_ACTOR, requests["kent"], "reply_received",
                              dt.date(2024, 4, 20), today=TODAY)
    session.commit()
    rows = request_service.request_rows(session, [campaign.id], TODAY)
    kent = next(row for row in rows[campaign.id] if row.authority_slug == "kent")
    assert kent.unclassified_reply_on == dt.date(2024, 4, 20)
    session.expunge_all()

    loaded = []

    def load(target, context):
        loaded.append(target)

    event.listen(Request, "load", load)
    try:
        board = dashboard.build(session, me, TODAY, work=work_from(rows))
    finally:
        event.remove(Request, "load", load)
    assert loaded == []
    assert [(link.authority_slug, link.on) for link in board.overdue] == [
        ("kent", dt.date(2024, 4, 29))]
    assert [(link.authority_slug, link.on) for link in board.to_classify] == [
        ("kent", dt.date(2024, 4, 20))]
    assert board.campaigns[0].progress.overdue == 1
    # What the board shows comes from the rows it is given, not from the database.
    stale = {campaign.id: [row for row in rows[campaign.id] if row.authority_slug != "kent"]}
    assert dashboard.build(session, me, TODAY, work=work_from(stale)).overdue == []


def test_a_removed_classification_leaves_the_reply_to_classify(session):
    load_forces(session)
    me = make_user(session)
    campaign = _campaign(session, me, keys=("kent",))
    kent = _by_slug(session, campaign)["kent"]
    request_service.add_event(session, TEST_ACTOR, kent, "sent", dt.date(2024, 4, 1), today=TODAY)
    request_service.add_event(session, TEST_ACTOR, kent, "reply_received", dt.date(2024, 4, 20),
                              today=TODAY)
    acknowledged = request_service.add_event(session, TEST_ACTOR, kent, "acknowledged",
                                             dt.date(2024, 4, 21), today=TODAY)
    session.commit()
    assert dashboard.build(session, me, TODAY).to_classify == []
    request_service.remove_event(session, TEST_ACTOR, kent, acknowledged.id)
    session.commit()
    assert [link.on for link in dashboard.build(session, me, TODAY).to_classify] == [
        dt.date(2024, 4, 20)]
