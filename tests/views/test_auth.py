"""Signing in and out, CSRF, and where sign-in sends you."""

from __future__ import annotations

from tests.conftest import PASSWORD, csrf_token, sign_in
from tests.factories import make_user


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
