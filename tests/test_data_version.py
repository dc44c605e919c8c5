"""The data version goes up when, and only when, an audited change commits."""

from __future__ import annotations

from foitrack.services import audit, data_version
from tests.factories import TEST_ACTOR


def other_session(app):
    return app.extensions["foitrack.db"].sessionmaker()


def test_an_audited_change_raises_the_version_when_it_commits(app, session):
    before = data_version.current(session)
    audit.record(session, TEST_ACTOR, "campaign", 1, "update", {"title": "a"}, {"title": "b"})
    session.flush()
    reader = other_session(app)
    try:
        assert data_version.current(reader) == before  # not before the commit
        session.commit()
        reader.rollback()  # a new transaction, as the next page load has
        after = data_version.current(reader)
    finally:
        reader.close()
    assert after[0] == before[0] + 1 and after[1] != before[1]


def test_a_batch_of_audit_entries_raises_it_too(session):
    before = data_version.current(session)
    audit.record_many(session, TEST_ACTOR, "figure", "create", [(1, {"value": "3"})])
    session.commit()
    assert data_version.current(session)[0] == before[0] + 1


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
