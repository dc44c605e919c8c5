"""The invitations migration: accounts may wait for their password, and going back down leaves
those accounts closed to every password."""

from __future__ import annotations

import pytest
from sqlalchemy import exc, inspect, text

from foitrack import migrate
from foitrack.db import make_engine

pytestmark = pytest.mark.postgres

BEFORE = "f26a7c1d9e0b"
INVITATIONS = "31144f08291d"


def _user(connection, email: str, password_hash: str | None, role: str = "viewer") -> int:
    return connection.execute(
        text('INSERT INTO "user" (email, name, role, password_hash, session_token, active, '
             "created_at) VALUES (:email, 'X', :role, :hash, 'token', :active, CURRENT_TIMESTAMP) "
             "RETURNING id"),
        {"email": email, "role": role, "hash": password_hash, "active": True}).scalar_one()


def test_an_account_may_wait_for_its_password_and_going_down_closes_it(scratch):
    engine = make_engine(scratch.new_url())
    try:
        migrate.upgrade(engine, BEFORE)
        with engine.begin() as connection:
            kept = _user(connection, "kept@example.org", "$argon2id$kept")
        migrate.upgrade(engine, INVITATIONS)
        with engine.begin() as connection:
            waiting = _user(connection, "waiting@example.org", None)
            connection.execute(text(
                "INSERT INTO invitation (user_id, token_hash, created_at, created_by, expires_at) "
                "VALUES (:user, :hash, CURRENT_TIMESTAMP, 'admin@example.org', CURRENT_TIMESTAMP)"),
                {"user": waiting, "hash": "a" * 64})
        # The user table, rebuilt on SQLite to let the column be empty, still refuses a role
        # that is none.
        with pytest.raises(exc.IntegrityError), engine.begin() as connection:
            _user(connection, "odd@example.org", None, role="emperor")
        migrate.downgrade(engine, BEFORE)
        assert "invitation" not in inspect(engine).get_table_names()
        with engine.connect() as connection:
            hashes = dict(connection.execute(text('SELECT id, password_hash FROM "user"')).all())
        assert hashes == {kept: "$argon2id$kept", waiting: "!"}
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()
