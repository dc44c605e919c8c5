"""Replies once a narrowed follow-up is out (issue 17, point 2): a letter quoting the first
request's token, thread or reference may answer the follow-up, a new request (FOIA s.1(1))
with its own clock (s.10(1)). The reply address names one request and always wins."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime

import pytest

from foitrack.domain.reply_addresses import reply_address
from foitrack.services import follow_ups, inbound, mail, requests
from foitrack.services.campaigns import create_campaign
from foitrack.storage import FileStore
from tests.factories import TEST_ACTOR, load_forces

TODAY = dt.date(2019, 6, 1)
KEY = "a secret key for the tests"
REPLY_TO = "Research <research@charity.example>"


@pytest.fixture
def chain(session):
    """West Mercia asked on 1 May 2019, refused on cost (s.12) on 10 May, sent a narrowed
    follow-up on 13 May."""
    load_forces(session)
    found = create_campaign(session, TEST_ACTOR, title="Grooming 2019", request_text="Dear x",
                            authority_keys=["west-mercia"])
    first = requests.get_request(session, found.slug, "west-mercia")
    requests.add_event(session, TEST_ACTOR, first, "sent", dt.date(2019, 5, 1), today=TODAY)
    requests.add_event(session, TEST_ACTOR, first, "response", dt.date(2019, 5, 10),
                       today=TODAY, outcome="refused", exemptions="s.12")
    follow_up = follow_ups.open_follow_up(session, TEST_ACTOR, first, "Only 2018/19.",
                                          dt.date(2019, 5, 13), today=TODAY)
    session.commit()
    return first, follow_up


def reply(subject, to="research@charity.example"):
    message = EmailMessage()
    message["From"] = "FOI Team <information@westmercia.pnn.police.uk>"
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(dt.datetime(2019, 5, 20, 9, 30, tzinfo=dt.UTC))
    message["Message-ID"] = f"<{abs(hash((subject, to)))}@police.example>"
    message.set_content("Please find attached our response.")
    return message


def file(session, tmp_path, message):
    report = inbound.import_file(session, TEST_ACTOR, FileStore(tmp_path / "files"), "r.eml",
                                 bytes(message), TODAY, reply_key=KEY)
    session.commit()
    return report


def kinds(request):
    return [e.kind.value for e in request.events]


def test_a_reply_quoting_the_first_requests_token_goes_to_the_open_follow_up(
        session, chain, tmp_path):
    """FOIA s.1(1), s.10(1): the first request is answered; the follow-up awaits its answer,
    so the letter is the follow-up's."""
    first, follow_up = chain
    report = file(session, tmp_path, reply(f"RE: FOI [{mail.token_for(first)}]"))
    assert len(report.filed) == 1 and report.triage == []
    assert kinds(follow_up) == ["sent", "reply_received"]
    assert "reply_received" not in kinds(first)


def test_the_first_requests_reply_address_still_wins(session, chain, tmp_path):
    """The reply address names the request exactly (issue 17, point 5): never redirected."""
    first, follow_up = chain
    to = reply_address(REPLY_TO, first.id, "west-mercia", KEY)
    file(session, tmp_path, reply(f"RE: FOI [{mail.token_for(first)}]", to=to))
    assert "reply_received" in kinds(first)
    assert kinds(follow_up) == ["sent"]


def test_with_the_first_and_the_follow_up_both_awaiting_the_reply_goes_to_triage(
        session, chain, tmp_path):
    """FOIA s.1(1): with the first request's answer withdrawn, both await one; a letter quoting
    the first's token could be either's, so a person decides."""
    first, follow_up = chain
    requests.add_event(session, TEST_ACTOR, first, "response_withdrawn", dt.date(2019, 5, 15),
                       today=TODAY)
    session.commit()
    report = file(session, tmp_path, reply(f"RE: FOI [{mail.token_for(first)}]"))
    assert report.filed == [] and len(report.triage) == 1
    assert kinds(follow_up) == ["sent"]


def test_once_the_follow_up_is_answered_a_letter_quoting_the_first_goes_to_the_first(
        session, chain, tmp_path):
    """Nothing awaits an answer: the letter is filed where it points, as before follow-ups."""
    first, follow_up = chain
    requests.add_event(session, TEST_ACTOR, follow_up, "response", dt.date(2019, 5, 17),
                       today=TODAY, outcome="provided")
    session.commit()
    file(session, tmp_path, reply(f"RE: FOI [{mail.token_for(first)}]"))
    assert "reply_received" in kinds(first)
