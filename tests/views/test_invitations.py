"""Inviting users: an admin adds a user without a password, the user is emailed a one-time link
(single use, expiring, replaced by a newer one) where they choose their own; the password rule
on every form that sets one; the header's link to your own account."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
import socket
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from foitrack.db import utcnow
from foitrack.errors import Conflict
from foitrack.models import AuditEntry, Invitation
from foitrack.services import audit, invitations, users
from tests.factories import PASSWORD, TEST_ACTOR, make_user
from tests.pages import csrf_token, sign_in

NEW_PASSWORD = "lantern orchard velvet compass"
LINK = re.compile(r"http://localhost(/auth/invite\?token=[A-Za-z0-9_-]+)")


@pytest.fixture
def admin(client, session):
    user = make_user(session, role="admin", email="admin@example.org")
    sign_in(client, user.email)
    return user


def add_user(client, email: str = "rita@example.org", **fields):
    """Posts the new-user form as an admin fills it in: no password, so an invitation."""
    return client.post("/users/new", data={
        "csrf_token": csrf_token(client, "/users/new"), "email": email, "name": "Rita",
        "role": "researcher", "password": "", "confirm": "", **fields})


def outbox_emails(app, to: str) -> list[EmailMessage]:
    """The messages written to the outbox folder (no mail server set) for ``to``, oldest first."""
    folder = Path(app.config["OUTBOX_PATH"])
    found = [message_from_bytes(path.read_bytes(), policy=policy.default)
             for path in sorted(folder.glob("*.eml"))] if folder.exists() else []
    return [message for message in found if message["To"] == to]


def link_in(message: EmailMessage) -> str:
    """The invitation's link in an email, as a path the test client can open."""
    match = LINK.search(message.get_body(("plain",)).get_content())
    assert match, "no invitation link in the email"
    return match.group(1)


def latest_link(app, to: str = "rita@example.org") -> str:
    return link_in(outbox_emails(app, to)[-1])


def choose_password(client, link: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    return client.post(link, data={"csrf_token": csrf_token(client, link), "password": password,
                                   "confirm": password if confirm is None else confirm})


def invited_user(session, email: str = "rita@example.org"):
    return users.find_by_email(session, email)


# ---- 1. inviting instead of typing a password -------------------------------------------------

def test_a_user_added_without_a_password_is_emailed_a_link_to_choose_one(app, client, admin,
                                                                         session):
    response = add_user(client)
    assert response.status_code == 302
    page = client.get("/users/").get_data(as_text=True)
    assert "Account created for rita@example.org (researcher)." in page
    assert "No mail server is set, so the invitation to rita@example.org was written to the " \
           "outbox folder" in page
    assert "invited, no password yet" in page
    [email] = outbox_emails(app, "rita@example.org")
    assert email["Subject"] == "Your foitrack account: choose your password"
    assert "admin@example.org has made you a foitrack account" in email.get_content()
    assert invited_user(session).password_hash is None
    assert link_in(email)


def test_an_invited_user_cannot_sign_in_before_choosing_a_password(app, client, admin, session):
    add_user(client)
    for attempt in ("", PASSWORD, "!"):
        assert sign_in(app.test_client(), "rita@example.org", attempt).status_code != 302
    reasons = [entry.after for entry in audit.history(session, "user", invited_user(session).id)
               if entry.action == "sign_in_refused"]
    assert reasons and reasons[0] == {"reason": "no password chosen yet (invited)"}


def test_the_link_sets_the_password_and_signs_the_user_in(app, client, admin):
    add_user(client)
    link = latest_link(app)
    theirs = app.test_client()
    page = theirs.get(link).get_data(as_text=True)
    assert "Choose your password" in page and "rita@example.org" in page
    response = choose_password(theirs, link)
    assert response.status_code == 302 and response.location == "/"
    assert "Your account: rita@example.org" in theirs.get("/").get_data(as_text=True)
    assert sign_in(app.test_client(), "rita@example.org", NEW_PASSWORD).status_code == 302


def test_only_the_token_s_hash_is_kept(app, client, admin, session):
    add_user(client)
    token = latest_link(app).split("token=", 1)[1]
    stored = session.scalars(select(Invitation)).one()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert len(token) >= 43  # 256 random bits
    everything = repr([(entry.before, entry.after) for entry in session.scalars(select(AuditEntry))])
    assert token not in everything and token not in repr(vars(stored))


def test_a_link_works_once(app, client, admin):
    add_user(client)
    link = latest_link(app)
    assert choose_password(app.test_client(), link).status_code == 302
    again = app.test_client()
    response = again.get(link)
    assert response.status_code == 410
    page = response.get_data(as_text=True)
    assert "This invitation link cannot be used" in page
    assert "This invitation has been used already" in page
    # A second form opened before the first was sent is refused too.
    late = again.post(link, data={"csrf_token": csrf_token(again), "password": "another good "
                                  "passphrase here", "confirm": "another good passphrase here"})
    assert late.status_code == 410
    assert sign_in(app.test_client(), "rita@example.org", NEW_PASSWORD).status_code == 302


def test_accepting_twice_through_the_service_sets_the_password_once(app, client, admin, session):
    add_user(client)
    token = latest_link(app).split("token=", 1)[1]
    invitations.accept(session, token, NEW_PASSWORD, utcnow())
    session.commit()
    with pytest.raises(Conflict, match="used already"):
        invitations.accept(session, token, "a different long passphrase", utcnow())


def test_an_expired_link_is_refused_saying_when_it_expired(app, client, session):
    user = users.create_user(session, TEST_ACTOR, email="late@example.org", name="Late",
                             role="viewer", password=None)
    sent = utcnow() - dt.timedelta(days=8)
    invitation, token = invitations.invite(session, TEST_ACTOR, user, now=sent, days=7)
    session.commit()
    response = client.get(f"/auth/invite?token={token}")
    assert response.status_code == 410
    expired = invitation.expires_at
    assert f"This invitation expired on {expired.day} {expired:%B %Y}" in response.get_data(
        as_text=True)
    assert choose_password(client, f"/auth/invite?token={token}").status_code == 410


def test_the_lifetime_is_a_setting(app, client, admin, session):
    app.config["INVITATION_DAYS"] = 2
    add_user(client)
    invitation = session.scalars(select(Invitation)).one()
    assert invitation.expires_at - invitation.created_at == dt.timedelta(days=2)
    assert "works until" in client.get(f"/users/{invitation.user_id}/edit").get_data(as_text=True)


def test_a_made_up_or_missing_token_is_refused_plainly(client):
    response = client.get("/auth/invite?token=not-a-real-one")
    assert response.status_code == 404
    assert "This link is not a foitrack invitation" in response.get_data(as_text=True)
    assert client.get("/auth/invite").status_code == 400


def test_the_link_s_page_is_neither_cached_nor_referred(app, client, admin):
    add_user(client)
    response = app.test_client().get(latest_link(app))
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"


def test_a_refused_password_leaves_the_link_working(app, client, admin):
    add_user(client)
    link = latest_link(app)
    theirs = app.test_client()
    response = choose_password(theirs, link, "short")
    assert response.status_code == 400
    assert "Password: must be at least 10 characters" in response.get_data(as_text=True)
    assert choose_password(theirs, link, NEW_PASSWORD, "not the same").status_code == 400
    assert choose_password(theirs, link).status_code == 302


# ---- re-sending, and what stops a link working -------------------------------------------------

def test_a_new_invitation_stops_the_earlier_link(app, client, admin, session):
    add_user(client)
    first = latest_link(app)
    user = invited_user(session)
    page = client.get(f"/users/{user.id}/edit").get_data(as_text=True)
    assert "Send a new invitation" in page and "has not chosen a password yet" in page
    response = client.post(f"/users/{user.id}/invite",
                           data={"csrf_token": csrf_token(client, f"/users/{user.id}/edit")})
    assert response.status_code == 302
    assert "New invitation made." in client.get(response.location).get_data(as_text=True)
    second = latest_link(app)
    assert second != first and len(outbox_emails(app, "rita@example.org")) == 2
    old = app.test_client().get(first)
    assert old.status_code == 410
    assert "A newer invitation was sent after this one" in old.get_data(as_text=True)
    assert choose_password(app.test_client(), second).status_code == 302


def test_setting_the_password_by_hand_stops_the_link(app, client, admin, session):
    add_user(client)
    link = latest_link(app)
    user = invited_user(session)
    client.post(f"/users/{user.id}/password", data={
        "csrf_token": csrf_token(client, "/users/"), "password": "brand new passphrase",
        "confirm": "brand new passphrase"})
    response = app.test_client().get(link)
    assert response.status_code == 410
    assert "password has been set since this link was sent" in response.get_data(as_text=True)


def test_a_deactivated_user_s_link_is_refused(app, client, admin, session):
    add_user(client)
    link = latest_link(app)
    user = invited_user(session)
    client.post(f"/users/{user.id}/edit", data={
        "csrf_token": csrf_token(client, "/users/"), "name": user.name, "role": "researcher"})
    response = app.test_client().get(link)
    assert response.status_code == 410
    assert "This account has been deactivated" in response.get_data(as_text=True)


def test_no_invitation_for_someone_who_has_a_password(app, client, admin, session):
    other = make_user(session, role="viewer")
    assert "Send a new invitation" not in client.get(f"/users/{other.id}/edit").get_data(
        as_text=True)
    response = client.post(f"/users/{other.id}/invite",
                           data={"csrf_token": csrf_token(client, "/users/")})
    assert response.status_code == 302
    assert (f"No invitation sent: {other.email} has a password already"
            in client.get(response.location).get_data(as_text=True))
    assert outbox_emails(app, other.email) == []


def test_only_admins_invite(app, session):
    researcher = make_user(session, role="researcher")
    invited = users.create_user(session, TEST_ACTOR, email="x@example.org", name="X",
                                role="viewer", password=None)
    session.commit()
    theirs = app.test_client()
    sign_in(theirs, researcher.email)
    response = theirs.post(f"/users/{invited.id}/invite",
                           data={"csrf_token": csrf_token(theirs, "/authorities/")})
    assert response.status_code == 403


def test_the_invitation_and_the_password_set_are_in_the_audit_trail(app, client, admin, session):
    add_user(client)
    user = invited_user(session)
    choose_password(app.test_client(), latest_link(app))
    session.expire_all()
    entries = audit.history(session, "user", user.id)
    assert [(entry.actor, entry.action) for entry in entries] == [
        ("rita@example.org", "change_password"), ("rita@example.org", "accept_invitation"),
        ("admin@example.org", "invite"), ("admin@example.org", "create")]
    assert entries[2].after is not None and entries[2].after["to"] == "rita@example.org"
    history = client.get(f"/users/{user.id}/edit").get_data(as_text=True).split(
        "<h2>History</h2>", 1)[1]
    assert "<td>admin@example.org</td><td>invite</td>" in history
    assert "<td>rita@example.org</td><td>accept_invitation</td>" in history


def test_an_admin_may_still_set_the_password_when_adding_a_user(app, client, admin, session):
    response = add_user(client, password="a long enough pass", confirm="a long enough pass")
    assert response.status_code == 302
    assert outbox_emails(app, "rita@example.org") == []
    assert session.scalars(select(Invitation)).all() == []
    assert sign_in(app.test_client(), "rita@example.org", "a long enough pass").status_code == 302


def test_a_password_typed_once_is_refused(client, admin, session):
    response = add_user(client, password="a long enough pass")
    assert response.status_code == 400
    assert "must match the password" in response.get_data(as_text=True)
    assert invited_user(session) is None


# ---- a real mail server -----------------------------------------------------------------------

class Recorder:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(app):
    """A real SMTP server on localhost (aiosmtpd), set as the app's mail server."""
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=_free_port())
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, SMTP_STARTTLS=False,
                      MAIL_FROM="foitrack@charity.example")
    try:
        yield recorder
    finally:
        controller.stop()


def test_the_invitation_goes_through_the_mail_server(app, client, admin, smtp):
    add_user(client)
    page = client.get("/users/").get_data(as_text=True)
    assert "An invitation to choose a password was emailed to rita@example.org" in page
    [email] = smtp.messages
    assert email["To"] == "rita@example.org" and email["From"] == "foitrack@charity.example"
    assert outbox_emails(app, "rita@example.org") == []
    assert choose_password(app.test_client(), link_in(email)).status_code == 302


def test_a_mail_server_that_does_not_answer_is_said_and_recorded(app, client, admin, session):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=_free_port(), SMTP_STARTTLS=False)
    add_user(client)
    page = client.get("/users/").get_data(as_text=True)
    assert "The invitation could not be emailed (ConnectionRefusedError" in page
    user = invited_user(session)
    assert [e.action for e in audit.history(session, "user", user.id)][0] == "invitation_not_sent"


def test_the_link_is_on_the_base_url_when_one_is_set(app, client, admin, smtp):
    app.config["BASE_URL"] = "https://foi.example.org"
    add_user(client)
    body = smtp.messages[0].get_body(("plain",)).get_content()
    assert "https://foi.example.org/auth/invite?token=" in body


# ---- 2. the password rule on every form that sets a password ----------------------------------

def test_the_rule_shown_is_the_rule_checked():
    assert f"At least {users.MIN_PASSWORD_LENGTH} characters" in users.PASSWORD_RULE
    short = "x" * (users.MIN_PASSWORD_LENGTH - 1)
    assert [p.message for p in users.check_password(short)] == [
        f"must be at least {users.MIN_PASSWORD_LENGTH} characters"]


def test_every_form_that_sets_a_password_shows_the_rule(app, client, admin, session):
    add_user(client)
    rule = html.escape(users.PASSWORD_RULE, quote=True)
    other = make_user(session, role="viewer")
    for path in ("/users/new", f"/users/{other.id}/password", "/auth/password"):
        assert rule in client.get(path).get_data(as_text=True), path
    invite_page = app.test_client().get(latest_link(app)).get_data(as_text=True)
    assert f'<div class="hint" id="password-hint">{rule}</div>' in invite_page


# ---- 3. the header's link to your own account -------------------------------------------------

def test_the_header_links_to_your_account_page(client, session):
    user = make_user(session, email="ana@example.org")
    sign_in(client, user.email)
    page = client.get("/authorities/").get_data(as_text=True)
    assert '<a href="/auth/password">Your account: ana@example.org</a>' in page
    account = client.get("/auth/password").get_data(as_text=True)
    assert "<h1>Your account</h1>" in account and "<h2>Change your password</h2>" in account
    assert '<a href="/auth/password" aria-current="page">Your account: ana@example.org</a>' \
        in account
