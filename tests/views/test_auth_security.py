"""Probes from the security review (issue 23): where sign-in sends you, whether sign-out ends the
session on the server, CSRF secrets across sign-in, API tokens across deactivation, and the
failed sign-in limit under attempts that arrive at once."""

from __future__ import annotations

import threading
from urllib.parse import quote, unquote, urljoin, urlsplit

import pytest
from sqlalchemy import select

from foitrack.models import AuditEntry
from foitrack.services import api_tokens
from tests.factories import PASSWORD, TEST_ACTOR, make_user
from tests.pages import csrf_token, sign_in

# ---- 1. the page after sign-in is on this site ----------------------------------------------

HOSTILE_NEXT = [
    "////evil.example/x",  # Werkzeug answered Location: //evil.example/x
    "///evil.example",
    "//evil.example",
    "https://evil.example/",
    "http:evil.example",
    "https:/evil.example",
    "javascript:alert(1)",
    "/\\evil.example",
    "\\\\evil.example",
    "/%2F%2Fevil.example",
    "/%2f/evil.example",
    "/%252F%252Fevil.example",
    "/%5Cevil.example",
    "/%5C%5Cevil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/%09/evil.example",
    "/%0d%0aSet-Cookie:%20x=1",
    " //evil.example",
    "/.//evil.example",
    "/a/../..//evil.example",
    "/\u200b/evil.example",
    "evil.example",
    "",
]


def _stays_on_site(location: str) -> bool:
    """Whether a browser following ``location`` from the sign-in page stays on localhost, also
    when something on the way percent-decodes it (once or twice)."""
    for seen in (location, unquote(location), unquote(unquote(location))):
        cleaned = "".join(char for char in seen if char not in "\t\r\n").replace("\\", "/")
        if urlsplit(urljoin("http://localhost/auth/sign-in", cleaned)).netloc != "localhost":
            return False
        if cleaned.startswith("//"):
            return False
    return True


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_sign_in_never_sends_you_off_site(client, session, target):
    make_user(session, email="ana@example.org")
    form = {"email": "ana@example.org", "password": PASSWORD, "csrf_token": csrf_token(client)}
    response = client.post(f"/auth/sign-in?next={quote(target, safe='')}", data=form)
    assert response.status_code == 302
    assert response.location == "/"
    # Once signed in, the sign-in page redirects at once: the same rule.
    again = client.get(f"/auth/sign-in?next={quote(target, safe='')}")
    assert again.status_code == 302
    assert again.location == "/"
    assert _stays_on_site(again.location)


@pytest.mark.parametrize("target", ["/authorities/sets", "/campaigns/x?tab=requests&page=2",
                                    "/campaigns/caf%C3%A9", "/authorities/#top"])
def test_sign_in_keeps_a_page_on_this_site(client, session, target):
    make_user(session, email="ana@example.org")
    form = {"email": "ana@example.org", "password": PASSWORD, "csrf_token": csrf_token(client)}
    response = client.post(f"/auth/sign-in?next={quote(target, safe='')}", data=form)
    assert response.location == target
    assert _stays_on_site(response.location)


# ---- 11. sign-out ends the session on the server -------------------------------------------

def _signed_in(client) -> bool:
    return client.get("/authorities/").status_code == 200


def _copy(app, client, *names):
    """A new browser holding a copy of some of ``client``'s cookies, as a thief would."""
    thief = app.test_client()
    for name in names:
        cookie = client.get_cookie(name)
        assert cookie is not None, name
        thief.set_cookie(name, cookie.value)
    return thief


def test_copied_cookies_stop_working_when_the_user_signs_out(app, client, session):
    make_user(session, email="ana@example.org")
    response = client.post("/auth/sign-in", data={
        "email": "ana@example.org", "password": PASSWORD, "remember": "y",
        "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    copies = {"session": _copy(app, client, "session"),
              "remember_token": _copy(app, client, "remember_token"),
              "both": _copy(app, client, "session", "remember_token")}
    assert all(_signed_in(copy) for copy in copies.values())  # the copies work until sign-out
    copies = {"session": _copy(app, client, "session"),
              "remember_token": _copy(app, client, "remember_token"),
              "both": _copy(app, client, "session", "remember_token")}

    client.post("/auth/sign-out", data={"csrf_token": csrf_token(client, "/authorities/")})

    assert not _signed_in(client)
    assert {name: _signed_in(copy) for name, copy in copies.items()} == {
        "session": False, "remember_token": False, "both": False}
    assert sign_in(client, "ana@example.org").status_code == 302  # signing in again works


def test_the_csrf_secret_is_new_after_sign_in(client, session):
    make_user(session, email="ana@example.org")
    before = csrf_token(client)
    response = client.post("/auth/sign-in", data={
        "email": "ana@example.org", "password": PASSWORD, "csrf_token": before})
    assert response.status_code == 302
    after = csrf_token(client, "/authorities/")
    assert after != before
    # A token seen before sign-in (on a shared computer, in a page's source) is refused after.
    refused = client.post("/auth/sign-out", data={"csrf_token": before})
    assert refused.status_code == 400
    assert _signed_in(client)
    assert client.post("/auth/sign-out", data={"csrf_token": after}).status_code == 302


def test_reactivating_an_account_does_not_bring_back_its_api_tokens(client, session):
    admin = make_user(session, role="admin", email="admin@example.org")
    rita = make_user(session, email="rita@example.org")
    _, token = api_tokens.create_token(session, TEST_ACTOR, rita, "scripts")
    session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/campaigns", headers=headers).status_code == 200

    sign_in(client, admin.email)
    for active in ({}, {"active": "y"}):  # deactivate, then reactivate
        response = client.post(f"/users/{rita.id}/edit", data={
            "csrf_token": csrf_token(client, "/users/"), "name": rita.name, "role": "researcher",
            **active})
        assert response.status_code == 302

    session.expire_all()
    assert session.get(type(rita), rita.id).active
    refused = client.get("/api/v1/campaigns", headers=headers)
    assert refused.status_code == 401
    assert api_tokens.tokens_of(session, rita)[0].revoked_at is not None


# ---- 12. the failed sign-in limit holds when attempts arrive at once ------------------------

ATTEMPTS = 12


def test_attempts_at_once_get_no_more_password_checks_than_the_limit(app, session):
    """Each attempt in its own thread with its own browser and database connection, all let go
    together: only the limit's worth are checked (5 by default), the rest are refused with 429."""
    user = make_user(session, email="ana@example.org")
    session.commit()
    clients = [app.test_client() for _ in range(ATTEMPTS)]
    tokens = [csrf_token(client) for client in clients]
    start = threading.Barrier(ATTEMPTS)
    statuses: list[int] = []

    def attempt(client, token):
        start.wait()
        response = client.post("/auth/sign-in", data={
            "email": "ana@example.org", "password": "wrong password!", "csrf_token": token})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=attempt, args=pair) for pair in zip(clients, tokens, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert sorted(statuses) == [400] * 5 + [429] * (ATTEMPTS - 5), f"{statuses.count(400)} checked"
    session.expire_all()
    checked = session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == "user", AuditEntry.entity_id == str(user.id),
        AuditEntry.action == "sign_in_failed")).all()
    assert len(checked) == 5


def test_the_migration_revokes_the_tokens_of_accounts_already_deactivated(scratch):
    import datetime as dt

    from sqlalchemy import text

    from foitrack import migrate
    from foitrack.db import make_engine

    engine = make_engine(scratch.new_url())
    try:
        migrate.upgrade(engine, "66bb68201d6e")
        now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
        with engine.begin() as connection:
            for number, active in ((1, True), (2, False)):
                connection.execute(text(
                    'INSERT INTO "user" (id, email, name, role, password_hash, session_token, '
                    "active, created_at) VALUES (:id, :email, 'X', 'researcher', 'x', 'x', :active, "
                    ":now)"), {"id": number, "email": f"u{number}@example.org", "active": active,
                               "now": now})
                connection.execute(text(
                    "INSERT INTO api_token (user_id, name, token_hash, prefix, created_at) "
                    "VALUES (:id, 'scripts', :hash, 'foit_abcd', :now)"),
                    {"id": number, "hash": f"{number:064d}", "now": now})
        migrate.upgrade(engine, "a23a0c5e55f1")
        with engine.connect() as connection:
            revoked = dict(connection.execute(text(
                "SELECT user_id, revoked_at IS NOT NULL FROM api_token ORDER BY user_id")).all())
        assert revoked == {1: False, 2: True}
        migrate.downgrade(engine, "66bb68201d6e")
    finally:
        engine.dispose()
