"""Passwords that are easy to guess, and look-alike email addresses, are refused wherever an
account is made or a password set (issue 23, point 17): the service, `foitrack users create`,
the password page, and the admin's pages."""

from __future__ import annotations

import pytest

from foitrack.cli import main
from foitrack.errors import Invalid
from foitrack.services import users
from tests.factories import PASSWORD, TEST_ACTOR, make_user
from tests.pages import csrf_token, sign_in

WEAK = {
    "aaaaaaaaaa": 'Repeats like "aaa" are easy to guess.',
    "password12": "This is a very common password.",
    "qwertyuiop": "This is a top-100 common password.",
    "zxcvbnmasdf": "This is similar to a commonly used password.",
    "ana@example.org": "must not contain your email address",
    "ANA@EXAMPLE.ORG 2024": "must not contain your email address",
    "ana.smith is my password": "must not contain 'ana.smith', the first part of your email",
}
# The addresses of WEAK's passwords that name one.
EMAIL = "ana.smith@example.org"

LOOK_ALIKES = [
    "ana@p\u0430ypal.example",  # Cyrillic "а" in a Latin name
    "\u0430na@example.org",  # and in the part before the @
    "ana@\u0440\u0430\u0443\u0440al.example",  # mostly Cyrillic, one Latin letter
    "ana@paypa\u03b9.example",  # Greek iota
]


def _problems(password: str, email: str = EMAIL, name: str = "Ana Smith") -> str:
    return " ".join(problem.message for problem in
                    users.check_password(password, email=email, name=name))


@pytest.mark.parametrize("password", list(WEAK))
def test_guessable_passwords_are_refused_saying_why(password):
    email = "ana@example.org" if "ana@" in password.lower() else EMAIL
    problems = _problems(password, email=email)
    assert WEAK[password] in problems
    if "email" not in WEAK[password]:
        assert problems.startswith("is too easy to guess")


def test_the_persons_name_counts_as_easy_to_guess():
    assert _problems("rosalind franklin", email="rf@example.org", name="Rosalind Franklin")
    assert not _problems("rosalind franklin", email="rf@example.org", name="Ana Smith")


@pytest.mark.parametrize("password", [PASSWORD, "brand new passphrase", "Vlt7-kQ2x-9wPz"])
def test_passphrases_and_random_passwords_are_accepted(password):
    assert _problems(password) == ""


def test_a_very_long_password_is_checked_without_error():
    assert _problems("tangerine velvet orbit " * 40) == ""  # zxcvbn itself stops at 72
    assert _problems("a" * 1000).startswith("is too easy to guess")


@pytest.mark.parametrize("email", LOOK_ALIKES)
def test_look_alike_addresses_are_refused_for_accounts(session, email):
    with pytest.raises(Invalid) as error:
        users.create_user(session, TEST_ACTOR, email=email, name="Ana", role="viewer",
                          password=PASSWORD)
    assert error.value.problems[0].field == "email"
    assert "letters, which can make one address look like another" in str(error.value)
    assert users.list_users(session) == []


@pytest.mark.parametrize("email", ["ana@m\u00fcnchen.example", "ana@\u03b5\u03bb\u03bb\u03b7\u03bd"
                                   "\u03b9\u03ba\u03ac.example", "ana@\u65e5\u672c\u3072\u3089"
                                   "\u304c\u306a\u30ab\u30bf.example", "\u00e9lodie@example.org"])
def test_addresses_in_one_script_are_accepted(session, email):
    user = users.create_user(session, TEST_ACTOR, email=email, name="Ana", role="viewer",
                             password=PASSWORD)
    assert user.email == email


# ---- every place that sets a password or an address --------------------------------------

def test_the_cli_refuses_a_guessable_password(runner, session):
    result = runner.invoke(main, ["users", "create", "ana@example.org", "--password-stdin"],
                           input="password12\n", catch_exceptions=False)
    assert result.exit_code == 1
    assert "password: is too easy to guess" in result.output
    assert "This is a very common password." in result.output
    assert "nothing was changed" in result.output
    assert users.list_users(session) == []


def test_the_cli_refuses_a_look_alike_address(runner, session):
    result = runner.invoke(main, ["users", "create", "ana@p\u0430ypal.example", "--password-stdin"],
                           input=PASSWORD + "\n", catch_exceptions=False)
    assert result.exit_code == 1
    assert "email: 'p\u0430ypal' mixes Cyrillic and Latin letters" in result.output
    assert users.list_users(session) == []


def test_the_password_page_refuses_a_guessable_password(client, session):
    make_user(session, email="ana@example.org")
    sign_in(client, "ana@example.org")
    response = client.post("/auth/password", data={
        "csrf_token": csrf_token(client, "/auth/password"), "current_password": PASSWORD,
        "password": "ana@example.org", "confirm": "ana@example.org"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert '<a href="#password">New password: must not contain your email address</a>' in page
    session.expire_all()
    assert users.authenticate(session, "ana@example.org", PASSWORD) is not None  # unchanged


def test_the_admin_cannot_create_an_account_with_a_guessable_password_or_look_alike_address(
        client, session):
    make_user(session, role="admin", email="admin@example.org")
    sign_in(client, "admin@example.org")
    response = client.post("/users/new", data={
        "csrf_token": csrf_token(client, "/users/new"), "email": "rita@p\u0430ypal.example",
        "name": "Rita", "role": "viewer", "password": "aaaaaaaaaa", "confirm": "aaaaaaaaaa"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "mixes Cyrillic and Latin letters" in page
    assert "Repeats like &#34;aaa&#34; are easy to guess." in page
    assert [user.email for user in users.list_users(session)] == ["admin@example.org"]


def test_the_admin_cannot_set_a_guessable_password(client, session):
    make_user(session, role="admin", email="admin@example.org")
    rita = make_user(session, email="rita@example.org")
    sign_in(client, "admin@example.org")
    response = client.post(f"/users/{rita.id}/password", data={
        "csrf_token": csrf_token(client, "/users/"), "password": "password12",
        "confirm": "password12"})
    assert response.status_code == 400
    assert "This is a very common password." in response.get_data(as_text=True)
    session.expire_all()
    assert users.authenticate(session, "rita@example.org", PASSWORD) is not None
