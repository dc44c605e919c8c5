"""`foitrack right-of-reply` (issue 20, point 5): a preview by default, a send with --yes through
the real mail server, and --status; bad input named, nothing sent."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from foitrack.cli import main
from foitrack.domain.clock import today_in_uk
from foitrack.models import OutgoingMessage, RightOfReply
from foitrack.services import requests
from foitrack.services import right_of_reply as ror
from foitrack.services.figures import Entry, save_figures
from tests.factories import TEST_ACTOR
from tests.right_of_reply.conftest import SLUG


@pytest.fixture
def mail_runner(answered, cli_env, smtp_server):
    server, port = smtp_server
    env = {**cli_env, "FOITRACK_SMTP_HOST": "127.0.0.1", "FOITRACK_SMTP_PORT": str(port),
           "FOITRACK_SMTP_STARTTLS": "0", "FOITRACK_MAIL_FROM": "research@charity.example",
           "FOITRACK_MAIL_THROTTLE_SECONDS": "0"}
    return CliRunner(env=env), server


def run(runner, *args):
    return runner.invoke(main, ["right-of-reply", *args], catch_exceptions=False)


def _answer_by() -> dt.date:
    return today_in_uk() + dt.timedelta(days=10)


def test_without_yes_each_message_is_printed_and_nothing_sent(mail_runner, session, answered):
    runner, server = mail_runner
    day = _answer_by()
    result = run(runner, SLUG, "--answer-by", day.isoformat())
    assert result.exit_code == 0, result.output
    for draft in ror.drafts(session, answered, requests.campaign_requests(session, answered),
                            day, today_in_uk()):
        assert f"Subject: {draft.subject}\n\n{draft.body}" in result.stdout
    assert result.stdout.strip().endswith("2 messages would be sent; run with --yes to send them.")
    assert server.messages == [] and session.scalars(select(OutgoingMessage)).all() == []


def test_with_yes_the_chosen_forces_are_sent_once(mail_runner, session):
    runner, server = mail_runner
    day = _answer_by().isoformat()
    result = run(runner, SLUG, "--answer-by", day, "--authorities", "kent", "--yes")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith("done: 1 sent.")
    assert [m["To"] for m in server.messages] == ["freedomofinformation@kent.police.uk"]
    again = run(runner, SLUG, "--answer-by", day, "--authorities", "kent", "--yes")
    assert "not sent: Kent Police: these figures and lines were sent already" in again.stdout
    assert "done: 0 sent; not sent: Kent Police" in again.stdout and len(server.messages) == 1
    assert len(session.scalars(select(RightOfReply)).all()) == 1


@pytest.mark.parametrize("args, words", [
    (["--answer-by", "2019-01-01"],
     "Invalid value for --answer-by: 1 January 2019 is not in the future"),
    (["--answer-by", "2027-02-30"], "Invalid value for '--answer-by'"),
    ([], "give --answer-by"),
])
def test_a_bad_day_is_refused_naming_it_and_nothing_is_sent(mail_runner, session, args, words):
    runner, server = mail_runner
    result = run(runner, SLUG, *args, "--yes")
    assert result.exit_code != 0 and words in result.output
    assert server.messages == [] and session.scalars(select(OutgoingMessage)).all() == []


def test_status_shows_each_force_and_what_changed_since(mail_runner, session):
    runner, server = mail_runner
    run(runner, SLUG, "--answer-by", _answer_by().isoformat(), "--yes")
    save_figures(session, TEST_ACTOR, requests.get_request(session, SLUG, "kent"),
                 [Entry("offences", "2018-19", None, None, "85")])
    session.commit()
    result = run(runner, SLUG, "--status")
    assert result.exit_code == 0, result.output
    day = _answer_by()
    assert f"Kent Police: sent, awaiting, answer by {day.day} {day:%B %Y}\n" \
           "  changed since: Offences of sexual communication with a child recorded, " \
           "2018/19: 80 → 85\n" in result.stdout
    assert "Sussex" not in result.stdout
    assert result.stdout.strip().endswith(
        "2 of 2 forces with figures sent, 0 replied, 0 overdue, 2 awaiting, "
        "1 with figures changed since.")
