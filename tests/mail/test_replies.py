"""Replies, built with the email package, filed against their requests or held for triage."""

from __future__ import annotations

import datetime as dt
import mailbox
from email.message import EmailMessage
from email.utils import format_datetime

import pytest
from sqlalchemy import select

from foitrack.domain.timeline import Status
from foitrack.errors import Invalid
from foitrack.models import Attachment, InboundMessage, OutgoingMessage
from foitrack.services import inbound, mail, requests
from foitrack.services.campaigns import create_campaign
from foitrack.storage import FileStore
from tests.factories import TEST_ACTOR, load_forces

TODAY = dt.date(2019, 6, 1)


@pytest.fixture
def campaign(session):
    load_forces(session)
    found = create_campaign(session, TEST_ACTOR, title="Grooming 2019", request_text="Dear x",
                            authority_keys=["west-mercia", "kent"])
    for slug in ("west-mercia", "kent"):
        requests.add_event(session, TEST_ACTOR, requests.get_request(session, found.slug, slug),
                           "sent", dt.date(2019, 5, 1), today=TODAY)
    session.commit()
    return found


@pytest.fixture
def store(tmp_path):
    return FileStore(tmp_path / "files")


def reply(subject, sender="FOI Team <information@westmercia.pnn.police.uk>", body="Please find "
          "attached our response.", **headers):
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "research@charity.example"
    message["Subject"] = subject
    message["Date"] = format_datetime(dt.datetime(2019, 5, 20, 9, 30, tzinfo=dt.UTC))
    message["Message-ID"] = headers.pop("message_id", f"<{abs(hash(subject))}@police.example>")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def file(session, store, message):
    return inbound.import_file(session, TEST_ACTOR, store, "reply.eml", bytes(message), TODAY)


def test_a_plain_reply_quoting_the_token_is_filed(session, campaign, store):
    mercia = requests.get_request(session, campaign.slug, "west-mercia")
    report = file(session, store, reply(f"RE: FOI request [{mail.token_for(mercia)}]"))
    session.commit()
    assert report.filed == [f"RE: FOI request [{mail.token_for(mercia)}]: filed against West "
                            "Mercia Police (token)"]
    event = mercia.events[-1]
    assert (event.kind.value, event.occurred_on) == ("reply_received", dt.date(2019, 5, 20))
    assert requests.state_of(mercia, TODAY).status is Status.awaiting_response  # to classify


def test_the_same_message_twice_is_kept_once(session, campaign, store):
    mercia = requests.get_request(session, campaign.slug, "west-mercia")
    message = reply(f"Response [{mail.token_for(mercia)}]")
    file(session, store, message)
    again = file(session, store, message)
    assert again.duplicates == 1
    assert len(session.scalars(select(InboundMessage)).all()) == 1


def test_html_only_non_ascii_and_threaded(session, campaign, store):
    kent = requests.get_request(session, campaign.slug, "kent")
    sent = OutgoingMessage(request=kent, kind="request", to_address="foi@kent.example",
                           subject="FOI", body="x", message_id="<ours-1@charity.example>",
                           created_by="tests")
    session.add(sent)
    session.commit()
    message = EmailMessage()
    message["From"] = "Zoë Ó Súilleabháin <zoe@elsewhere.example>"
    message["Subject"] = "Réponse à votre demande – données"
    message["In-Reply-To"] = "<ours-1@charity.example>"
    message["Message-ID"] = "<html-1@elsewhere.example>"
    message.set_content("<html><body><p>Our answer:</p><p>122 offences&nbsp;recorded.</p>"
                        "<script>alert(1)</script></body></html>", subtype="html")
    report = file(session, store, message)
    stored = session.scalars(select(InboundMessage)).one()
    assert report.filed and stored.matched_by == "thread" and stored.request_id == kent.id
    assert stored.from_name == "Zoë Ó Súilleabháin"
    assert stored.subject == "Réponse à votre demande – données"
    assert "122 offences recorded." in stored.body_text and "alert" not in stored.body_text


def test_attachments_are_kept_by_their_hash_and_checked_against_the_allowed_types(
        session, campaign, store):
    mercia = requests.get_request(session, campaign.slug, "west-mercia")
    message = reply(f"Response [{mail.token_for(mercia)}]")
    message.add_attachment(b"PK\x03\x04 spreadsheet", maintype="application",
                           subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                           filename="figures.xlsx")
    message.add_attachment(b"%PDF-1.4 letter", maintype="application", subtype="pdf",
                           filename="../../letter.pdf")
    message.add_attachment(b"MZ program", maintype="application", subtype="octet-stream",
                           filename="setup.exe")
    message.add_attachment(b"PK archive", maintype="application", subtype="zip",
                           filename="tables.zip")
    file(session, store, message)
    found = {a.filename: a for a in session.scalars(select(Attachment))}
    assert set(found) == {"figures.xlsx", "letter.pdf", "setup.exe", "tables.zip"}
    assert store.read(found["letter.pdf"].stored_file.sha256) == b"%PDF-1.4 letter"
    assert found["setup.exe"].stored_file is None and "not an allowed type" in found["setup.exe"].refused
    assert found["tables.zip"].flagged and found["tables.zip"].stored_file is not None


def test_a_forwarded_reply_keeps_the_inner_attachments(session, campaign, store):
    inner = reply("Our response")
    inner.add_attachment(b"%PDF-1.4 answer", maintype="application", subtype="pdf",
                         filename="answer.pdf")
    outer = reply("Fwd: Our response", sender="Colleague <someone@charity.example>")
    outer.add_attachment(inner)
    file(session, store, outer)
    names = [a.filename for a in session.scalars(select(Attachment))]
    assert "answer.pdf" in names


def test_a_reply_from_the_forces_domain_is_filed_when_only_one_request_is_open(session, campaign,
                                                                              store):
    file(session, store, reply("Your request", sender="Disclosure <other@westmercia.pnn.police.uk>"))
    stored = session.scalars(select(InboundMessage)).one()
    assert stored.matched_by == "sender" and stored.request.authority.slug == "west-mercia"


def test_a_bounce_is_noted_not_taken_for_a_reply(session, campaign, store):
    kent = requests.get_request(session, campaign.slug, "kent")
    bounce = EmailMessage()
    bounce["From"] = "Mail Delivery System <MAILER-DAEMON@mx.example>"
    bounce["Subject"] = f"Undelivered Mail Returned to Sender [{mail.token_for(kent)}]"
    bounce["Message-ID"] = "<bounce-1@mx.example>"
    bounce.set_content("The mail system could not deliver your message.")
    file(session, store, bounce)
    stored = session.scalars(select(InboundMessage)).one()
    assert stored.is_bounce and stored.event.kind.value == "note"
    assert stored.event.note.startswith("Delivery failed: ")


def test_unmatched_messages_wait_in_triage_until_assigned(session, campaign, store):
    report = file(session, store, reply("Question", sender="someone@nowhere.example"))
    assert report.triage == ["Question"]
    waiting = inbound.triage(session)
    assert len(waiting) == 1
    kent = requests.get_request(session, campaign.slug, "kent")
    inbound.assign(session, TEST_ACTOR, waiting[0].id, kent, TODAY)
    session.commit()
    assert inbound.triage(session) == []
    assert kent.events[-1].kind.value == "reply_received"


def test_an_mbox_with_several_messages(session, campaign, store, tmp_path):
    mercia = requests.get_request(session, campaign.slug, "west-mercia")
    box = mailbox.mbox(tmp_path / "replies.mbox")
    box.add(reply(f"One [{mail.token_for(mercia)}]"))
    box.add(reply("Two", sender="x@nowhere.example"))
    box.flush()
    report = inbound.import_file(session, TEST_ACTOR, store, "replies.mbox",
                                 (tmp_path / "replies.mbox").read_bytes(), TODAY)
    assert (len(report.filed), len(report.triage)) == (1, 1)


@pytest.mark.parametrize("data", [b"", b"   "])
def test_an_empty_file_is_refused(session, campaign, store, data):
    with pytest.raises(Invalid, match="the file is empty"):
        inbound.import_file(session, TEST_ACTOR, store, "x.eml", data, TODAY)
