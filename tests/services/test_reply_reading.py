"""Issue 17 point 6: a filed reply's proposal (its body and its Word attachment read), and a
campaign's replies citing a section in the same paragraph grouped together."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime

import pytest

from foitrack.models import InboundMessage
from foitrack.services import inbound, mail, reply_reading, requests
from foitrack.services.campaigns import create_campaign
from foitrack.storage import FileStore
from tests.domain.test_document_text import LINES, pdf_document, word_document
from tests.domain.test_reply_reading import S12
from tests.factories import TEST_ACTOR, load_forces

TODAY = dt.date(2019, 6, 1)
FORCES = {"west-mercia": "West Mercia Police", "kent": "Kent Police", "essex": "Essex Police"}


@pytest.fixture
def campaign(session):
    load_forces(session)
    found = create_campaign(session, TEST_ACTOR, title="Grooming 2019", request_text="Dear x",
                            authority_keys=list(FORCES))
    for slug in FORCES:
        requests.add_event(session, TEST_ACTOR, requests.get_request(session, found.slug, slug),
                           "sent", dt.date(2019, 5, 1), today=TODAY)
    session.commit()
    return found


@pytest.fixture
def store(tmp_path):
    return FileStore(tmp_path / "files")


def file_reply(session, store, campaign, slug, body, attachment=None):
    request = requests.get_request(session, campaign.slug, slug)
    message = EmailMessage()
    message["From"] = "foi@police.example"
    message["To"] = "research@charity.example"
    message["Subject"] = f"Your request [{mail.token_for(request)}]"
    message["Date"] = format_datetime(dt.datetime(2019, 5, 20, 9, 30, tzinfo=dt.UTC))
    message["Message-ID"] = f"<{slug}-{abs(hash(body))}@police.example>"
    message.set_content(body)
    if attachment is not None:
        message.add_attachment(attachment[1], maintype="application", subtype="octet-stream",
                               filename=attachment[0])
    report = inbound.import_file(session, TEST_ACTOR, store, "reply.eml", bytes(message), TODAY)
    assert len(report.filed) == 1
    session.flush()
    return inbound.filed_messages(session, request.id)[-1]


def test_a_filed_reply_proposes_its_event_with_the_sentence(session, campaign, store):
    message = file_reply(session, store, campaign, "kent", S12.format(force="Kent Police"))
    proposal = reply_reading.propose(message, store, {message.event_id: dt.date(2019, 5, 20)})
    assert proposal is not None
    assert proposal.summary == "Response received, refused, s.12"
    assert proposal.form["kind"] == "response"
    assert proposal.form["outcome"] == "refused"
    assert proposal.form["exemptions"] == "s.12"
    assert proposal.form["occurred_on"] == "2019-05-20"
    assert "would exceed the appropriate limit" in proposal.form["note"]


def test_the_attachment_is_read_when_the_body_says_nothing(session, campaign, store):
    docx = word_document("Kent Police can neither confirm nor deny that it holds the "
                         "information, by virtue of section 30(3).")
    message = file_reply(session, store, campaign, "kent", "Please see the attached letter.",
                         ("response.docx", docx))
    proposal = reply_reading.propose(message, store)
    assert proposal is not None
    assert (proposal.form["outcome"], proposal.form["exemptions"]) == ("ncnd", "s.30(3)")
    # Read at import and kept: the file store is not needed to show it again.
    assert reply_reading.propose(message, None) == proposal


def test_a_pdf_letter_is_read_when_the_body_says_nothing(session, campaign, store):
    pdf = pdf_document(["Dear Requester,", *LINES], ["Yours sincerely"])
    message = file_reply(session, store, campaign, "kent", "Please find our response attached.",
                         ("Response 2019-0123.pdf", pdf))
    proposal = reply_reading.propose(message, store)
    assert proposal is not None
    assert proposal.summary == "Response received, refused, s.12"
    assert (proposal.form["outcome"], proposal.form["exemptions"]) == ("refused", "s.12")


def test_a_campaigns_replies_in_the_same_words_are_grouped(session, campaign, store):
    for slug, name in FORCES.items():
        if slug != "essex":
            file_reply(session, store, campaign, slug, "Dear Requester,\n\n"
                       + S12.format(force=name) + "\n\nYours sincerely")
    file_reply(session, store, campaign, "essex", "We hold no information on this.")
    groups = reply_reading.shared_paragraphs(session, campaign, store)
    assert [(g.summary, g.members) for g in groups] == [
        ("2 forces sent the same s.12 paragraph", ("Kent Police", "West Mercia Police"))]
    assert session.query(InboundMessage).count() == 3


def test_an_attachment_is_read_once_however_often_the_page_shows_it(session, campaign, store,
                                                                    monkeypatch):
    """A stored file never changes: its text is read once, not on every visit to the page."""
    message = file_reply(session, store, campaign, "kent", "Please find our response attached.",
                         ("response.pdf", pdf_document(LINES)))
    reads: list[str] = []
    real = store.read
    monkeypatch.setattr(store, "read", lambda sha: reads.append(sha) or real(sha))
    first = reply_reading.propose(message, store)
    second = reply_reading.propose(message, store)
    assert first is not None and second is not None
    assert first.reading.exemptions == second.reading.exemptions == ("s.12",)
    assert len(reads) <= 1


def test_the_campaigns_comparison_does_not_read_pdf_letters(session, campaign, store,
                                                             monkeypatch):
    """The checks page compares a whole campaign inside a web request: PDFs (about 0.3 s a
    page) are left to each request's page."""
    file_reply(session, store, campaign, "kent", "Please find our response attached.",
               ("response.pdf", pdf_document(LINES)))
    reads: list[str] = []
    real = store.read
    monkeypatch.setattr(store, "read", lambda sha: reads.append(sha) or real(sha))
    reply_reading._READ.clear()
    reply_reading.shared_paragraphs(session, campaign, store)
    assert reads == []
