"""Issue 17 point 6, leftovers: a reply is read once, when filed, and its reading (with the text
of its attachments) kept, so the pages showing its proposal read only what is stored; a reply
already classified proposes nothing."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

import pytest

from foitrack.domain.reply_reading import READER_VERSION
from foitrack.models import InboundMessage, ReplyReading
from foitrack.services import inbound, reply_reading, requests
from tests.domain.test_document_text import LINES, pdf_document
from tests.domain.test_reply_reading import S12
from tests.factories import TEST_ACTOR
from tests.services import test_reply_reading as filed
from tests.services.test_reply_reading import TODAY, file_reply

# The fixtures of the reading's own tests: a campaign to three forces, sent, and a file store.
campaign, store = filed.campaign, filed.store


def _no_reading(store):
    def refuse(sha256):
        raise AssertionError(f"the file {sha256} was read again")
    return refuse


def test_a_reply_is_read_when_filed_and_its_attachment_text_kept(session, campaign, store,
                                                                monkeypatch):
    message = file_reply(session, store, campaign, "kent", "Please find our response attached.",
                         ("response.pdf", pdf_document(LINES)))
    session.commit()
    kept = session.get(ReplyReading, message.id)
    assert kept is not None and kept.reader_version == READER_VERSION
    assert "appropriate limit" in kept.text  # the PDF's text, extracted once
    assert kept.reading["exemptions"] == ["s.12"]
    # Showing it reads the stored reading, not the file (nor the in-memory cache).
    reply_reading._READ.clear()
    monkeypatch.setattr(store, "read", _no_reading(store))
    session.expire_all()
    again = session.get(InboundMessage, message.id)
    proposal = reply_reading.propose(again, store)
    assert proposal is not None and proposal.reading.exemptions == ("s.12",)


def test_a_reply_filed_before_readings_were_kept_is_read_once_then_kept(session, campaign, store,
                                                                       monkeypatch):
    message = file_reply(session, store, campaign, "kent", "Please find our response attached.",
                         ("response.pdf", pdf_document(LINES)))
    session.delete(session.get(ReplyReading, message.id))
    session.commit()
    session.expire_all()
    message = session.get(InboundMessage, message.id)
    assert message.reading is None
    reply_reading._READ.clear()
    first = reply_reading.propose(message, store)  # the lazy backfill
    session.commit()
    assert session.get(ReplyReading, message.id) is not None
    monkeypatch.setattr(store, "read", _no_reading(store))
    reply_reading._READ.clear()
    session.expire_all()
    second = reply_reading.propose(session.get(InboundMessage, message.id), store)
    assert first is not None and second is not None
    assert first.reading == second.reading


def test_a_reading_by_older_rules_is_read_again_from_its_kept_text(session, campaign, store,
                                                                   monkeypatch):
    message = file_reply(session, store, campaign, "kent", "Please find our response attached.",
                         ("response.pdf", pdf_document(LINES)))
    kept = session.get(ReplyReading, message.id)
    kept.reader_version, kept.reading = READER_VERSION - 1, {"stale": True}
    session.commit()
    reply_reading._READ.clear()
    monkeypatch.setattr(store, "read", _no_reading(store))
    proposal = reply_reading.propose(message, store)
    assert proposal is not None and proposal.reading.exemptions == ("s.12",)
    session.commit()
    session.expire_all()
    assert session.get(ReplyReading, message.id).reader_version == READER_VERSION


def test_a_reply_filed_by_hand_from_triage_is_read_then(session, campaign, store):
    message = EmailMessage()
    message["From"] = "someone@elsewhere.example"
    message["Subject"] = "Your request"
    message["Message-ID"] = "<unmatched@elsewhere.example>"
    message.set_content(S12.format(force="Kent Police"))
    inbound.import_file(session, TEST_ACTOR, store, "r.eml", bytes(message), TODAY)
    waiting = inbound.triage(session)[0]
    session.delete(session.get(ReplyReading, waiting.id))  # imported before readings were kept
    session.commit()
    session.expire_all()
    inbound.assign(session, TEST_ACTOR, waiting.id,
                   requests.get_request(session, campaign.slug, "kent"), TODAY, store)
    session.commit()
    assert session.get(ReplyReading, waiting.id).reading["kind"] == "response"


@pytest.mark.parametrize("kind, outcome", [("response", "refused"), ("acknowledged", None)])
def test_a_classified_reply_proposes_nothing(session, campaign, store, kind, outcome):
    """A reply is classified once an event saying what it was follows its "reply received"
    (domain.timeline.CLASSIFYING, as for chasing): its proposal has been taken up or overruled."""
    message = file_reply(session, store, campaign, "kent", S12.format(force="Kent Police"))
    assert reply_reading.propose(message, store) is not None
    request = requests.get_request(session, campaign.slug, "kent")
    requests.add_event(session, TEST_ACTOR, request, kind, dt.date(2019, 5, 20), today=TODAY,
                       outcome=outcome, exemptions=("s.12",) if outcome else ())
    session.commit()
    session.expire_all()
    assert reply_reading.propose(session.get(InboundMessage, message.id), store) is None


def test_a_note_after_the_reply_leaves_its_proposal(session, campaign, store):
    message = file_reply(session, store, campaign, "kent", S12.format(force="Kent Police"))
    request = requests.get_request(session, campaign.slug, "kent")
    requests.add_event(session, TEST_ACTOR, request, "note", dt.date(2019, 5, 21), today=TODAY,
                       note="Read it; to discuss")
    session.commit()
    session.expire_all()
    assert reply_reading.propose(session.get(InboundMessage, message.id), store) is not None


def test_two_pages_keeping_the_same_reading_at_once_both_answer(app, session, campaign, store):
    """Two people open a request page showing a reply read before readings were kept: both
    read it, the first commit keeps it, the second's (refused: the reading is there) is dropped
    instead of failing the page (foitrack.web.context.keep_what_showing_read)."""
    from foitrack.web.context import db_session, keep_what_showing_read

    message = file_reply(session, store, campaign, "kent", "We do not hold this information.")
    session.delete(session.get(ReplyReading, message.id))
    session.commit()
    with app.test_request_context():
        page_session = db_session()
        shown = page_session.get(InboundMessage, message.id)
        assert shown.reading is None
        reply_reading.propose(shown, store)  # this page read it...
        session.expire_all()  # ...and so did another, which kept it first
        reply_reading.propose(session.get(InboundMessage, message.id), store)
        session.commit()
        keep_what_showing_read()  # refused for the same reading: dropped, no error
        assert not page_session.new and not page_session.dirty
    session.expire_all()
    assert session.get(ReplyReading, message.id) is not None
