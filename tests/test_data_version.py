"""Data versions go up when, and only when, an audited change commits, in the scope it touches."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from foitrack.models import Authority
from foitrack.services import audit, campaigns, data_version, requests
from tests.factories import TEST_ACTOR, design_for, enter_figures, make_campaign


def other_session(app):
    return app.extensions["foitrack.db"].sessionmaker()


def number(session, scope: str) -> int:
    return dict((s, n) for s, n, _ in data_version.of_scopes(session, [scope]))[scope]


def two_campaigns(session):
    first = make_campaign(session, design_for(["west-mercia", "avon-and-somerset"], slug="first"))
    second = make_campaign(session, design_for(["west-mercia", "avon-and-somerset"], slug="second"))
    return first, second


def test_an_audited_change_raises_the_version_when_it_commits(app, session):
    scope = data_version.campaign_scope(1)
    before = data_version.of_scopes(session, [scope])
    audit.record(session, TEST_ACTOR, "campaign", 1, "update", {"title": "a"}, {"title": "b"})
    session.flush()
    reader = other_session(app)
    try:
        assert data_version.of_scopes(reader, [scope]) == before  # not before the commit
        session.commit()
        reader.rollback()  # a new transaction, as the next page load has
        after = data_version.of_scopes(reader, [scope])
    finally:
        reader.close()
    assert number(session, scope) == dict((s, n) for s, n, _ in before)[scope] + 1
    assert after != before


def test_a_change_to_one_campaign_leaves_another_campaigns_version(session):
    first, second = two_campaigns(session)
    untouched = data_version.of_campaigns(session, [second.id])
    changed = data_version.of_campaigns(session, [first.id])
    request = requests.get_request(session, "first", "west-mercia")
    requests.add_event(session, TEST_ACTOR, request, "sent", dt.date(2019, 4, 1),
                       today=dt.date(2019, 4, 2))
    session.commit()
    assert data_version.of_campaigns(session, [second.id]) == untouched
    assert data_version.of_campaigns(session, [first.id]) != changed


def test_figures_and_events_are_traced_to_their_campaign(session):
    first, second = two_campaigns(session)
    before_first = number(session, data_version.campaign_scope(first.id))
    before_second = number(session, data_version.campaign_scope(second.id))
    before_all = number(session, data_version.ALL)
    enter_figures(session, first, ("west-mercia", "2018-19", "", "", "122"))
    assert number(session, data_version.campaign_scope(first.id)) == before_first + 1
    assert number(session, data_version.campaign_scope(second.id)) == before_second
    assert number(session, data_version.ALL) == before_all


def test_a_request_deleted_in_the_transaction_is_still_traced_to_its_campaign(session):
    first, second = two_campaigns(session)
    before_all = number(session, data_version.ALL)
    before_first = number(session, data_version.campaign_scope(first.id))
    campaigns.remove_request(session, TEST_ACTOR, requests.get_request(session, "first",
                                                                       "west-mercia"))
    session.commit()
    assert number(session, data_version.campaign_scope(first.id)) == before_first + 1
    assert number(session, data_version.ALL) == before_all


def test_an_entity_nobody_can_place_changes_every_scope(session):
    first, _ = two_campaigns(session)
    page = data_version.of_campaigns(session, [first.id])
    audit.record(session, TEST_ACTOR, "figure", 999_999, "delete", {"value": "3"}, None)
    audit.record(session, TEST_ACTOR, "something new", 1, "update", {}, {})
    session.commit()
    assert data_version.of_campaigns(session, [first.id]) != page  # through "all"


def test_an_authority_changes_the_registry_not_the_campaigns(session):
    first, _ = two_campaigns(session)
    campaign = number(session, data_version.campaign_scope(first.id))
    registry = number(session, data_version.REGISTRY)
    authority = session.scalars(select(Authority).where(Authority.slug == "west-mercia")).one()
    audit.record(session, TEST_ACTOR, "authority", authority.id, "update", {}, {})
    session.commit()
    assert number(session, data_version.REGISTRY) == registry + 1
    assert number(session, data_version.campaign_scope(first.id)) == campaign


def test_a_sign_in_changes_accounts_only(session):
    first, _ = two_campaigns(session)
    page = data_version.of_campaigns(session, [first.id])
    accounts = number(session, data_version.ACCOUNTS)
    audit.record(session, TEST_ACTOR, "user", 1, "sign_in", None, {})
    session.commit()
    assert number(session, data_version.ACCOUNTS) == accounts + 1
    assert data_version.of_campaigns(session, [first.id]) == page


def test_a_batch_of_audit_entries_raises_it_too(session):
    scope = data_version.campaign_scope(7)
    before = number(session, scope)
    audit.record_many(session, TEST_ACTOR, "figure", "create", [(1, {"value": "3"})],
                      campaign_id=7)
    session.commit()
    assert number(session, scope) == before + 1


def test_a_commit_without_an_audited_change_leaves_it(session):
    audit.record(session, TEST_ACTOR, "campaign", 1, "update", {}, {})
    session.commit()
    before = data_version.current(session)
    session.commit()
    assert data_version.current(session) == before


def test_a_rolled_back_change_does_not_show_as_committed(session):
    before = data_version.current(session)
    audit.record(session, TEST_ACTOR, "campaign", 1, "update", {}, {})
    session.flush()
    session.rollback()
    assert data_version.current(session) == before


def test_a_rolled_back_change_raises_no_version_on_the_sessions_next_commit(session):
    """A refused upload is rolled back, then the same request's page keeps a derived value and
    commits: the versions must not go up for the change that never happened."""
    first, second = two_campaigns(session)
    session.commit()
    before = number(session, data_version.campaign_scope(first.id))
    everyone = number(session, data_version.ALL)
    request = requests.get_request(session, "first", "west-mercia")
    requests.add_event(session, TEST_ACTOR, request, "sent", dt.date(2019, 4, 1),
                       today=dt.date(2019, 4, 2))
    audit.record(session, TEST_ACTOR, "authority", None, "update", {"a": 1}, {"a": 2})
    session.rollback()
    session.commit()  # nothing of its own: the rolled-back marks must not be bumped now
    assert number(session, data_version.campaign_scope(first.id)) == before
    assert number(session, data_version.ALL) == everyone
