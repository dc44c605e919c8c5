"""What a commit changed is told after it commits (data_version.on_commit): the campaigns, once,
and never for a rollback or a savepoint: what the warm-up of heavy pages listens to."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from foitrack.services import audit, data_version
from tests.factories import TEST_ACTOR, design_for, make_campaign

pytestmark = pytest.mark.postgres


@pytest.fixture
def told(app) -> Iterator[list[set[int]]]:
    """What the app's sessions tell after each commit, in order."""
    heard: list[set[int]] = []
    maker = app.extensions["foitrack.db"].sessionmaker
    data_version.on_commit(maker, heard.append)
    yield heard
    data_version.on_commit(maker, None)


def change(session, campaign_id: int) -> None:
    audit.record(session, TEST_ACTOR, "campaign", campaign_id, "update", {"title": "a"},
                 {"title": "b"})


@pytest.fixture
def two(session):
    first = make_campaign(session, design_for(["west-mercia"], slug="first"))
    second = make_campaign(session, design_for(["west-mercia"], slug="second"))
    session.commit()
    return first.id, second.id


def test_a_commit_tells_the_campaigns_it_changed_once(session, two, told):
    first, second = two
    change(session, first)
    change(session, second)
    assert told == []  # not before the commit
    session.commit()
    assert told == [{first, second}]
    session.commit()  # nothing changed since
    assert told == [{first, second}]


def test_a_rollback_tells_nothing(session, two, told):
    first, _ = two
    change(session, first)
    session.flush()
    session.rollback()
    assert told == []


def test_a_savepoint_is_told_with_its_transaction_not_before(session, two, told):
    first, second = two
    with session.begin_nested():
        change(session, first)
    assert told == []  # released, not committed
    change(session, second)
    session.commit()
    assert told == [{first, second}]


def test_a_change_outside_every_campaign_tells_nothing(session, told):
    audit.record(session, TEST_ACTOR, "user", 1, "update", {"name": "a"}, {"name": "b"})
    session.commit()
    assert told == []


def test_a_failing_listener_leaves_the_commit_done(app, session, two):
    first, _ = two
    maker = app.extensions["foitrack.db"].sessionmaker

    def fail(_ids: set[int]) -> None:
        raise RuntimeError("the broker is down")

    data_version.on_commit(maker, fail)
    try:
        before = data_version.of_campaigns(session, [first])
        change(session, first)
        session.commit()  # no error here
    finally:
        data_version.on_commit(maker, None)
    assert data_version.of_campaigns(session, [first]) != before
