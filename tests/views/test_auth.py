"""Signing in and out, CSRF, and where sign-in sends you."""

from __future__ import annotations

import re

from tests.factories import PASSWORD, make_user
from tests.pages import csrf_token, sign_in


def test_sign_in_page_has_labelled_fields(client):
    page = client.get("/auth/sign-in").get_data(as_text=True)
    assert '<label class="label" for="email">Email address</label>' in page
    assert '<label class="label" for="password">Password</label>' in page


def test_signing_in_and_out(client, session):
    make_user(session, email="ana@example.org")
    response = sign_in(client, "ana@example.org")
    assert response.status_code == 302
    page = client.get("/authorities/").get_data(as_text=True)
    assert "Signed in as ana@example.org." in page
    assert "ana@example.org" in page
    response = client.post("/auth/sign-out", data={"csrf_token": csrf_token(client, "/authorities/")})
    assert response.status_code == 302
    assert client.get("/authorities/").status_code == 302


def test_sign_ins_and_failed_attempts_are_in_the_audit_trail(client, session):
    from foitrack.services.audit import history

    user = make_user(session, email="ana@example.org")
    sign_in(client, "ana@example.org", "wrong password!")
    sign_in(client, "ana@example.org")
    assert [entry.action for entry in history(session, "user", user.id)] == [
        "sign_in", "sign_in_failed", "create",
    ]


def test_a_wrong_password_shows_the_error_summary(client, session):
    make_user(session, email="ana@example.org")
    response = sign_in(client, "ana@example.org", PASSWORD + "!")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'class="error-summary"' in page
    assert "The email address or password is not right." in page
    assert client.get("/authorities/").status_code == 302


def test_empty_fields_are_named_beside_the_field_and_in_the_summary(client):
    response = client.post("/auth/sign-in", data={"csrf_token": csrf_token(client)})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert '<a href="#email">Email address: This field is required.</a>' in page
    assert 'id="email-error"' in page and 'aria-invalid="true"' in page


def test_a_form_without_its_csrf_token_is_refused(client, session):
    make_user(session, email="ana@example.org")
    response = client.post("/auth/sign-in", data={"email": "ana@example.org", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/authorities/").status_code == 302


def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(client, session):
    make_user(session, email="ana@example.org")
    token = csrf_token(client)
    form = {"email": "ana@example.org", "password": PASSWORD, "csrf_token": token}
    response = client.post("/auth/sign-in?next=/authorities/sets", data=form)
    assert response.location == "/authorities/sets"
    client.post("/auth/sign-out", data={"csrf_token": csrf_token(client, "/authorities/")})
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        form["csrf_token"] = csrf_token(client)
        response = client.post(f"/auth/sign-in?next={target}", data=form)
        assert response.location == "/", target
        client.post("/auth/sign-out", data={"csrf_token": csrf_token(client, "/authorities/")})


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/authorities/west-mercia")
    assert response.status_code == 302
    assert response.location == "/auth/sign-in?next=%2Fauthorities%2Fwest-mercia"


def test_changing_your_password(client, session):
    make_user(session, email="ana@example.org")
    sign_in(client, "ana@example.org")
    token = csrf_token(client, "/auth/password")
    bad = client.post("/auth/password", data={
        "csrf_token": token, "current_password": "wrong one", "password": "a new long passphrase",
        "confirm": "a new long passphrase",
    })
    assert bad.status_code == 400
    assert "is not your current password" in bad.get_data(as_text=True)
    good = client.post("/auth/password", data={
        "csrf_token": token, "current_password": PASSWORD, "password": "a new long passphrase",
        "confirm": "a new long passphrase",
    })
    assert good.status_code == 302
    client.post("/auth/sign-out", data={"csrf_token": csrf_token(client, "/authorities/")})
    assert sign_in(client, "ana@example.org", "a new long passphrase").status_code == 302


def test_pages_carry_security_headers(client):
    response = client.get("/auth/sign-in")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_health_check_reports_the_database(client):
    assert client.get("/healthz").get_json() == {"status": "ok", "database": "ok"}


# ---- failed sign-ins are limited ----------------------------------------------------------

def _fail(client, email, times):
    for _ in range(times):
        assert sign_in(client, email, "wrong password!").status_code == 400


def test_the_sixth_attempt_after_five_failures_is_refused_even_with_the_right_password(client, session):
    make_user(session, email="ana@example.org")
    _fail(client, "ana@example.org", 5)
    response = sign_in(client, "ana@example.org")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 800
    page = response.get_data(as_text=True)
    assert "Too many failed sign-ins" in page and "Try again after" in page
    assert client.get("/authorities/").status_code == 302  # not signed in


def test_other_accounts_are_not_affected_by_one_accounts_failures(client, session):
    make_user(session, email="ana@example.org")
    make_user(session, email="ben@example.org")
    _fail(client, "ana@example.org", 5)
    assert sign_in(client, "ben@example.org").status_code == 302


def test_a_successful_sign_in_clears_the_accounts_failures(client, session):
    make_user(session, email="ana@example.org")
    _fail(client, "ana@example.org", 4)
    assert sign_in(client, "ana@example.org").status_code == 302
    client.post("/auth/sign-out", data={"csrf_token": csrf_token(client, "/authorities/")})
    _fail(client, "ana@example.org", 4)
    assert sign_in(client, "ana@example.org").status_code == 302


def test_the_lock_ends_when_the_window_has_passed(client, session, monkeypatch):
    import datetime as dt

    from foitrack.web.views import auth

    make_user(session, email="ana@example.org")
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    monkeypatch.setattr(auth, "utcnow", lambda: start)
    _fail(client, "ana@example.org", 5)
    monkeypatch.setattr(auth, "utcnow", lambda: start + dt.timedelta(minutes=14, seconds=59))
    response = sign_in(client, "ana@example.org")
    assert response.status_code == 429
    assert "Try again after 09:15 UTC (in 1 minute)" in response.get_data(as_text=True)
    monkeypatch.setattr(auth, "utcnow", lambda: start + dt.timedelta(minutes=15))
    assert sign_in(client, "ana@example.org").status_code == 302


def test_the_window_and_limit_come_from_the_configuration(app, client, session):
    app.config.update(SIGN_IN_MAX_FAILURES=2, SIGN_IN_WINDOW_MINUTES=60)
    make_user(session, email="ana@example.org")
    _fail(client, "ana@example.org", 2)
    response = sign_in(client, "ana@example.org")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 3500


def test_the_refusal_does_not_reveal_whether_the_account_exists(client, session):
    make_user(session, email="ana@example.org")
    pages = []
    for email in ("ana@example.org", "nobody@example.org"):
        _fail(client, email, 5)
        response = sign_in(client, email)
        assert response.status_code == 429
        page = response.get_data(as_text=True).replace(email, "EMAIL")
        page = re.sub(r'(csrf[-_]token"[^>]*(content|value)=")[^"]+', r"\1", page)
        pages.append(re.sub(r"\d\d:\d\d UTC \(in \d+ minutes?\)", "TIME", page))
    assert "TIME" in pages[0]
    assert pages[0] == pages[1]


def test_many_failures_from_one_address_are_refused_for_every_account(app, client, session):
    app.config.update(SIGN_IN_MAX_FAILURES_PER_ADDRESS=6)
    make_user(session, email="ana@example.org")
    for number in range(6):
        assert sign_in(client, f"guess{number}@example.org", "wrong password!").status_code == 400
    assert sign_in(client, "ana@example.org").status_code == 429
    other = app.test_client()
    token = csrf_token(other)
    response = other.post("/auth/sign-in", data={"email": "ana@example.org", "password": PASSWORD,
                                                 "csrf_token": token},
                          environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert response.status_code == 302


# ---- cookie flags ----------------------------------------------------------------------------

def _cookies(response):
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


def _sign_in_remembered(client, base_url):
    page = client.get("/auth/sign-in", base_url=base_url).get_data(as_text=True)
    token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    # Flask-WTF checks the Referer of forms sent over HTTPS, as a browser sends it.
    return client.post("/auth/sign-in", base_url=base_url, headers={"Referer": f"{base_url}/"}, data={
        "email": "ana@example.org", "password": PASSWORD, "remember": "y", "csrf_token": token})


def test_cookies_are_httponly_samesite_and_secure_over_https(client, session):
    make_user(session, email="ana@example.org")
    response = _sign_in_remembered(client, "https://foitrack.example.org")
    assert response.status_code == 302
    cookies = _cookies(response)
    assert set(cookies) >= {"session", "remember_token"}
    for header in cookies.values():
        assert "HttpOnly" in header and "SameSite=Lax" in header and "Secure" in header, header


def test_cookies_are_secure_by_default_even_over_plain_http_to_a_public_name(client, session):
    make_user(session, email="ana@example.org")
    response = _sign_in_remembered(client, "http://foitrack.example.org")
    for header in _cookies(response).values():
        assert "Secure" in header, header


def test_plain_http_on_localhost_is_not_secure_unless_configured(app, client, session):
    make_user(session, email="ana@example.org")
    response = _sign_in_remembered(client, "http://localhost")
    assert response.status_code == 302
    for header in _cookies(response).values():
        assert "Secure" not in header and "HttpOnly" in header, header
    client.post("/auth/sign-out", data={"csrf_token": csrf_token(client, "/authorities/")})
    app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
    response = _sign_in_remembered(client, "http://localhost")
    for header in _cookies(response).values():
        assert "Secure" in header, header


def test_secure_cookies_off_is_respected_everywhere(app, client, session):
    app.config.update(SECURE_COOKIES=False)
    make_user(session, email="ana@example.org")
    response = _sign_in_remembered(client, "http://foitrack.example.org")
    for header in _cookies(response).values():
        assert "Secure" not in header, header
