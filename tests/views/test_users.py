"""User admin pages."""

from __future__ import annotations

import pytest

from foitrack.models import Role
from foitrack.services import users
from tests.factories import make_user
from tests.pages import csrf_token, sign_in


@pytest.fixture
def admin(client, session):
    user = make_user(session, role="admin", email="admin@example.org")
    sign_in(client, user.email)
    return user


def test_admin_adds_a_user_who_can_then_sign_in(app, client, admin, session):
    response = client.post("/users/new", data={
        "csrf_token": csrf_token(client, "/users/new"), "email": "Rita@Example.org",
        "name": "Rita", "role": "researcher", "password": "a long enough pass",
        "confirm": "a long enough pass",
    })
    assert response.status_code == 302
    assert "Account created for rita@example.org (researcher)." in client.get("/users/").get_data(
        as_text=True
    )
    assert sign_in(app.test_client(), "rita@example.org", "a long enough pass").status_code == 302


def test_adding_a_user_with_a_taken_email_shows_the_error(client, admin):
    response = client.post("/users/new", data={
        "csrf_token": csrf_token(client, "/users/new"), "email": "admin@example.org",
        "name": "Again", "role": "viewer", "password": "a long enough pass",
        "confirm": "a long enough pass",
    })
    assert response.status_code == 400
    assert "there is already an account for admin@example.org" in response.get_data(as_text=True)


def test_short_passwords_are_refused_beside_the_field(client, admin):
    response = client.post("/users/new", data={
        "csrf_token": csrf_token(client, "/users/new"), "email": "x@example.org",
        "name": "X", "role": "viewer", "password": "short", "confirm": "short",
    })
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert '<a href="#password">Password: must be at least 10 characters</a>' in page


def test_changing_a_role_is_recorded(client, admin, session):
    other = make_user(session, role="viewer")
    response = client.post(f"/users/{other.id}/edit", data={
        "csrf_token": csrf_token(client, "/users/"), "name": other.name, "role": "researcher",
        "active": "y",
    })
    assert response.status_code == 302
    session.expire_all()
    assert users.get_user(session, other.id).role is Role.researcher
    page = client.get(f"/users/{other.id}/edit").get_data(as_text=True)
    history = page.split("<h2>History</h2>", 1)[1]
    assert "<td>admin@example.org</td><td>update</td>" in history
    assert "<dt>Role</dt><dd>viewer</dd>" in history and "<dt>Role</dt><dd>researcher</dd>" in history


def test_the_last_admin_cannot_demote_themselves(client, admin, session):
    response = client.post(f"/users/{admin.id}/edit", data={
        "csrf_token": csrf_token(client, "/users/"), "name": admin.name, "role": "viewer",
        "active": "y",
    })
    assert response.status_code == 400
    assert "last active admin" in response.get_data(as_text=True)
    session.expire_all()
    assert users.get_user(session, admin.id).role is Role.admin


def test_a_deactivated_user_is_signed_out_on_their_next_request(app, client, admin, session):
    other = make_user(session, role="viewer")
    theirs = app.test_client()
    sign_in(theirs, other.email)
    assert theirs.get("/authorities/").status_code == 200
    response = client.post(f"/users/{other.id}/edit", data={
        "csrf_token": csrf_token(client, "/users/"), "name": other.name, "role": "viewer",
    })
    assert response.status_code == 302
    assert theirs.get("/authorities/").status_code == 302


def test_admin_sets_someone_elses_password(app, client, admin, session):
    other = make_user(session, role="viewer")
    response = client.post(f"/users/{other.id}/password", data={
        "csrf_token": csrf_token(client, "/users/"), "password": "brand new passphrase",
        "confirm": "brand new passphrase",
    })
    assert response.status_code == 302
    assert sign_in(app.test_client(), other.email, "brand new passphrase").status_code == 302


def test_a_new_password_signs_the_user_out_of_every_other_browser(app, client, admin, session):
    other = make_user(session, role="viewer")
    stolen = app.test_client()
    response = stolen.post("/auth/sign-in", data={
        "email": other.email, "password": "correct horse battery staple", "remember": "y",
        "csrf_token": csrf_token(stolen),
    })
    assert response.status_code == 302
    assert stolen.get("/authorities/").status_code == 200
    client.post(f"/users/{other.id}/password", data={
        "csrf_token": csrf_token(client, "/users/"), "password": "brand new passphrase",
        "confirm": "brand new passphrase",
    })
    # Neither the session cookie nor the remember-me cookie lets the old browser back in.
    assert stolen.get("/authorities/").status_code == 302
