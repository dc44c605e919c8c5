"""Accounts: hashing, signing in, roles and the last admin."""

from __future__ import annotations

import pytest
from argon2 import extract_parameters
from sqlalchemy import select

from foitrack.errors import Conflict, Invalid
from foitrack.models import AuditEntry, Role
from foitrack.services import users
from tests.factories import PASSWORD, TEST_ACTOR, make_user


def test_passwords_are_hashed_with_argon2id(session):
    user = make_user(session)
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_real_password_hashes_are_memory_hard(cheap_password_hashing):
    """The suite hashes cheaply (see conftest); the app's own hasher keeps argon2's real cost."""
    real = cheap_password_hashing
    assert real is not None, "conftest no longer finds services.users._hasher to swap for the tests"
    parameters = extract_parameters(real.hash(PASSWORD))
    assert parameters.memory_cost >= 64 * 1024 and parameters.time_cost >= 3


def test_sign_in_is_case_insensitive_on_email_and_strict_on_password(session):
    make_user(session, email="Ana.Researcher@Example.org")
    assert users.authenticate(session, "ana.researcher@example.org", PASSWORD) is not None
    assert users.authenticate(session, " ANA.RESEARCHER@EXAMPLE.ORG ", PASSWORD) is not None
    assert users.authenticate(session, "ana.researcher@example.org", PASSWORD + "x") is None
    assert users.authenticate(session, "nobody@example.org", PASSWORD) is None


def test_a_deactivated_user_cannot_sign_in(session):
    admin = make_user(session, role="admin")
    user = make_user(session)
    users.update_user(session, TEST_ACTOR, user, active=False)
    session.commit()
    assert users.authenticate(session, user.email, PASSWORD) is None
    assert users.authenticate(session, admin.email, PASSWORD) is not None


def test_sign_in_records_the_time(session):
    user = make_user(session)
    assert user.last_sign_in_at is None
    users.authenticate(session, user.email, PASSWORD)
    assert user.last_sign_in_at is not None


def test_the_same_email_twice_is_a_conflict(session):
    make_user(session, email="sam@example.org")
    with pytest.raises(Conflict, match="already an account for sam@example.org"):
        users.create_user(
            session, TEST_ACTOR, email="SAM@example.org", name="Sam", role="viewer", password=PASSWORD
        )


def test_bad_account_details_name_every_field(session):
    with pytest.raises(Invalid) as caught:
        users.create_user(session, TEST_ACTOR, email="sam", name="", role="boss", password="short")
    fields = sorted(problem.field for problem in caught.value.problems)
    assert fields == ["email", "name", "password", "role"]
    assert "admin, researcher" not in str(caught.value)  # roles listed in order, viewer first
    assert "choose viewer, researcher, admin" in str(caught.value)


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(session):
    admin = make_user(session, role="admin")
    with pytest.raises(Conflict, match="last active admin"):
        users.update_user(session, TEST_ACTOR, admin, role="viewer")
    session.rollback()
    with pytest.raises(Conflict, match="last active admin"):
        users.update_user(session, TEST_ACTOR, admin, active=False)
    session.rollback()
    second = make_user(session, role="admin")
    users.update_user(session, TEST_ACTOR, admin, role="viewer")
    session.commit()
    assert admin.role is Role.viewer and second.role is Role.admin


def test_the_audit_trail_never_holds_a_password_hash(session):
    user = make_user(session)
    users.change_password(session, TEST_ACTOR, user, PASSWORD, "another long passphrase")
    session.commit()
    entries = session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "user")).all()
    assert [entry.action for entry in entries] == ["create", "change_password"]
    for entry in entries:
        assert "argon2" not in str(entry.before) + str(entry.after)
    assert users.authenticate(session, user.email, "another long passphrase") is not None


def test_changing_a_password_needs_the_current_one(session):
    user = make_user(session)
    with pytest.raises(Invalid, match="current_password: is not your current password"):
        users.change_password(session, TEST_ACTOR, user, "wrong guess here", "another long passphrase")
