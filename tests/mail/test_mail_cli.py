"""The mail commands, run as cron and scripts run them, against a real SMTP server."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

import pytest
from click.testing import CliRunner

from foitrack.cli import main
from foitrack.services import requests
from foitrack.services.design import create_from_file
from tests.factories import EXAMPLE_DESIGN, TEST_ACTOR, load_forces


@pytest.fixture
def mail_runner(app, session, cli_env, smtp_server):
    server, port = smtp_server
    load_forces(session)
    create_from_file(session, TEST_ACTOR, EXAMPLE_DESIGN.replace(
        'authorities = "england-wales"', 'authorities = ["kent", "sussex"]'))
    session.commit()
    env = {**cli_env, "FOITRACK_SMTP_HOST": "127.0.0.1", "FOITRACK_SMTP_PORT": str(port),
           "FOITRACK_SMTP_STARTTLS": "0", "FOITRACK_MAIL_FROM": "research@charity.example",
           "FOITRACK_MAIL_THROTTLE_SECONDS": "0"}
    return CliRunner(env=env), server


def run(runner, *args, input=None):
    return runner.invoke(main, list(args), input=input, catch_exceptions=False)


def test_mail_send_asks_then_sends_once(mail_runner):
    runner, server = mail_runner
    declined = run(runner, "mail", "send", "grooming-2019", input="n\n")
    assert "to Kent Police <" in declined.stdout and "Nothing was sent." in declined.stdout
    assert server.messages == []
    sent = run(runner, "mail", "send", "grooming-2019", "--yes")
    assert sent.stdout.strip().endswith("Done: 2 sent.")
    again = run(runner, "mail", "send", "grooming-2019", "--yes")
    assert "Nothing to send." in again.stdout
    assert len(server.messages) == 2


def test_chase_lists_then_sends(mail_runner, session, app):
    runner, server = mail_runner
    for slug in ("kent", "sussex"):
        requests.add_event(session, TEST_ACTOR, requests.get_request(session, "grooming-2019", slug),
                           "sent", dt.date(2019, 5, 1), today=dt.date(2019, 5, 1))
    session.commit()
    listed = run(runner, "chase")
    assert "2 chasers would be sent; run with --send to send them." in listed.stdout
    assert server.messages == []
    sent = run(runner, "chase", "--send")
    assert sent.stdout.strip().endswith("Chasers: 2 sent.")
    assert all(m["Subject"].startswith("Overdue:") for m in server.messages)
    assert "0 chasers would be sent" in run(runner, "chase").stdout


def test_mail_import_files_and_reports(mail_runner, tmp_path):
    runner, _ = mail_runner
    message = EmailMessage()
    message["From"], message["Subject"] = "someone@nowhere.example", "Hello"
    message["Message-ID"] = "<cli-1@nowhere.example>"
    message.set_content("Not about any request.")
    path = tmp_path / "reply.eml"
    path.write_bytes(bytes(message))
    result = run(runner, "mail", "import", str(path))
    assert result.stdout.strip() == ("Imported: 0 filed against requests, 1 waiting in the triage "
                                     "inbox, 0 already imported.")
    again = run(runner, "mail", "import", str(path))
    assert "1 already imported" in again.stdout
