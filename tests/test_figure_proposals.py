"""Stored figure proposals (issue 19): made from a request's stored attachments, listed with
what accepting would do, accepted (edited or not) through the grid's save, or rejected."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime

import pytest
from sqlalchemy import select

from foitrack.errors import Invalid
from foitrack.models import (
    Attachment,
    AuditEntry,
    Figure,
    FigureProposal,
    InboundMessage,
    ProposalState,
    Request,
    StoredFile,
)
from foitrack.services import inbound, mail, proposals, requests
from foitrack.services.requests import get_request
from foitrack.storage import FileStore
from tests.factories import TEST_ACTOR, enter_figures, make_campaign
from tests.test_extraction_cli import DESIGN, reply_pdf

TODAY = dt.date(2019, 6, 1)


def attach(session, store: FileStore, request: Request, data: bytes, name: str = "reply.pdf",
           key: str = "<1@example.org>") -> StoredFile:
    raw = StoredFile(sha256=store.put(b"raw " + key.encode()), filename="message.eml",
                     content_type="message/rfc822", size=10, created_by="test")
    kept = StoredFile(sha256=store.put(data), filename=name, content_type="application/pdf",
                      size=len(data), created_by="test")
    message = InboundMessage(message_key=key, request=request, from_address="foi@example.org",
                             subject="Your request", body_text="", raw_file=raw, received_by="test")
    message.attachments.append(Attachment(filename=name, content_type="application/pdf",
                                          size=len(data), stored_file=kept))
    session.add(message)
    session.flush()
    return kept


@pytest.fixture
def store(app) -> FileStore:
    return FileStore(app.config["STORAGE_PATH"])


@pytest.fixture
def request_(session, store) -> Request:
    campaign = make_campaign(session, DESIGN)
    request = get_request(session, campaign.slug, "E23000016")
    attach(session, store, request, reply_pdf())
    session.commit()
    return request


def by_category(rows):
    return {row.category: row for row in rows}


def test_proposals_are_stored_with_where_they_were_written(session, store, request_):
    proposals.make(session, store, request_)
    session.commit()
    rows = session.scalars(select(FigureProposal)).all()
    assert {(r.category, r.value, r.parsed_kind) for r in rows} == {
        ("Instagram", "12*", "exact"), ("Messenger", "<5", "suppressed"),
        ("Not recorded", "not recorded", "not_recorded"), (None, "40", "exact")}
    total = by_category(rows)[None]
    assert total.location == "page 1, table 1, row 5, column 2" and total.page == 1
    assert total.bbox is not None and len(total.bbox) == 4
    assert total.filename == "reply.pdf" and total.stored_file.filename == "reply.pdf"
    assert total.extractor == "foitrack.extraction" and 0 < total.confidence <= 1
    assert total.state is ProposalState.PENDING
    assert by_category(rows)["Instagram"].caveat == "footnote *"
    assert {r.status for r in proposals.review(session, request_)} == {"new"}


def test_making_again_replaces_pending_and_keeps_decided(session, store, request_):
    proposals.make(session, store, request_)
    rows = by_category(proposals.pending(session, request_))
    proposals.reject(session, TEST_ACTOR, request_, [rows["Messenger"].id])
    proposals.make(session, store, request_)
    session.commit()
    everything = session.scalars(select(FigureProposal)).all()
    assert len(everything) == 4  # three pending made afresh, the rejected one kept, not re-proposed
    rejected = [r for r in everything if r.state is ProposalState.REJECTED]
    assert [r.category for r in rejected] == ["Messenger"] and rejected[0].decided_by == "tests"
    assert rejected[0].decided_at is not None
    assert proposals.pending_count(session, request_) == 3


def test_accepting_saves_figures_through_the_grid_with_an_edit(session, store, request_):
    proposals.make(session, store, request_)
    rows = by_category(proposals.pending(session, request_))
    report = proposals.accept(session, TEST_ACTOR, request_,
                              [rows["Instagram"].id, rows[None].id], {rows[None].id: "41"})
    session.commit()
    assert report.created == 2
    figures = {f.category.label if f.category else None: f for f in session.scalars(select(Figure))}
    assert figures["Instagram"].value == 12 and figures["Instagram"].caveat == "footnote *"
    assert figures[None].value == 41
    assert figures[None].source == "reply.pdf, page 1, table 1, row 5, column 2"
    assert figures[None].source_file is not None and figures[None].source_file.filename == "reply.pdf"
    assert session.scalar(select(AuditEntry).where(AuditEntry.entity_type == "figure",
                                                   AuditEntry.action == "create")) is not None
    assert {r.category for r in proposals.pending(session, request_)} == {"Messenger", "Not recorded"}
    accepted = session.get(FigureProposal, rows["Instagram"].id)
    assert accepted is not None and accepted.state is ProposalState.ACCEPTED


def test_a_bad_edited_value_names_the_cell_and_changes_nothing(session, store, request_):
    proposals.make(session, store, request_)
    session.commit()
    rows = by_category(proposals.pending(session, request_))
    with pytest.raises(Invalid) as raised:
        proposals.accept(session, TEST_ACTOR, request_, [rows["Instagram"].id, rows[None].id],
                         {rows[None].id: "forty"})
    assert "reply.pdf, page 1, table 1, row 5, column 2: 'forty'" in str(raised.value)
    assert raised.value.problems[0].field == f"value-{rows[None].id}"
    session.rollback()
    assert session.scalars(select(Figure)).all() == []
    assert proposals.pending_count(session, request_) == 4


def test_a_checked_figure_changes_only_when_confirmed(session, store, request_):
    enter_figures(session, request_.campaign, ("E23000016", "2018-19", "", "", "39"))
    figure = session.scalars(select(Figure)).one()
    figure.checked_by = "checker@example.org"
    session.commit()
    proposals.make(session, store, request_)
    session.commit()
    reviewed = {r.row.category: r for r in proposals.review(session, request_)}
    assert reviewed[None].status == "conflict" and reviewed[None].old == "39"
    assert reviewed[None].checked_by == "checker@example.org"
    total = reviewed[None].row.id
    with pytest.raises(Invalid, match="would change 39 to 40, a figure checked by checker@example.org"):
        proposals.accept(session, TEST_ACTOR, request_, [total])
    session.rollback()
    assert session.scalars(select(Figure)).one().value == 39
    proposals.accept(session, TEST_ACTOR, request_, [total], confirm_conflicts=True)
    session.commit()
    figure = session.scalars(select(Figure)).one()
    assert figure.value == 40 and figure.checked_by is None


def test_a_changed_unchecked_figure_is_shown_as_a_change(session, store, request_):
    enter_figures(session, request_.campaign, ("E23000016", "2018-19", "", "", "39"))
    proposals.make(session, store, request_)
    reviewed = {r.row.category: r for r in proposals.review(session, request_)}
    assert (reviewed[None].status, reviewed[None].old) == ("changed", "39")


def test_choosing_nothing_or_a_decided_proposal_is_refused(session, store, request_):
    proposals.make(session, store, request_)
    with pytest.raises(Invalid, match="Choose at least one"):
        proposals.reject(session, TEST_ACTOR, request_, [])
    first = proposals.pending(session, request_)[0].id
    proposals.reject(session, TEST_ACTOR, request_, [first])
    with pytest.raises(Invalid, match="no longer waiting"):
        proposals.accept(session, TEST_ACTOR, request_, [first])


def reply_message(request: Request, attachment: tuple[str, bytes]) -> bytes:
    """A reply to ``request`` by email with one attachment, as the import reads it."""
    message = EmailMessage()
    message["From"] = "foi@westmercia.police.uk"
    message["To"] = "research@charity.example"
    message["Subject"] = f"Your request [{mail.token_for(request)}]"
    message["Date"] = format_datetime(dt.datetime(2019, 5, 20, 9, 30, tzinfo=dt.UTC))
    message["Message-ID"] = f"<reply-{abs(hash(attachment))}@police.example>"
    message.set_content("Please find our response attached.")
    message.add_attachment(attachment[1], maintype="application", subtype="octet-stream",
                           filename=attachment[0])
    return bytes(message)


def file_reply(session, store, request: Request, attachment: tuple[str, bytes]):
    report = inbound.import_file(session, TEST_ACTOR, store, "reply.eml",
                                 reply_message(request, attachment), TODAY)
    assert len(report.filed) == 1
    session.commit()


@pytest.fixture
def sent(session) -> Request:
    campaign = make_campaign(session, DESIGN)
    request = get_request(session, campaign.slug, "E23000016")
    requests.add_event(session, TEST_ACTOR, request, "sent", dt.date(2019, 5, 1), today=TODAY)
    session.commit()
    return request


def test_a_filed_reply_has_its_attachments_proposed(session, store, sent):
    file_reply(session, store, sent, ("reply.pdf", reply_pdf()))
    assert proposals.pending_count(session, sent) == 4
    assert session.scalars(select(Figure)).all() == []  # proposed, never saved


def test_a_failing_extraction_files_the_reply_and_records_nothing(session, store, sent,
                                                                  monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("reader fault")
    monkeypatch.setattr(proposals, "extract", broken)
    file_reply(session, store, sent, ("reply.pdf", reply_pdf()))
    assert proposals.pending_count(session, sent) == 0
    assert len(inbound.filed_messages(session, sent.id)) == 1
    assert "figures could not be proposed" in caplog.text


def test_an_unreadable_pdf_files_the_reply_and_proposes_nothing(session, store, sent):
    file_reply(session, store, sent, ("reply.pdf", b"%PDF-1.4 not really"))
    assert proposals.pending_count(session, sent) == 0
    assert len(inbound.filed_messages(session, sent.id)) == 1


def test_a_sheet_proposal_keeps_the_cells_around_it(session, store):
    campaign = make_campaign(session, DESIGN)
    request = get_request(session, campaign.slug, "E23000016")
    attach(session, store, request, b"Offences,2018/19\nInstagram,4\nSnapchat,3\nTotal,9\n",
           name="reply.csv")
    proposals.make(session, store, request)
    session.commit()
    rows = by_category(proposals.pending(session, request))
    assert rows["Instagram"].location == "B2" and rows["Instagram"].page is None
    assert rows["Instagram"].neighbourhood == {
        "rows": [["Offences", "2018/19"], ["Instagram", "4"], ["Snapchat", "3"], ["Total", "9"]],
        "row": 1, "column": 1}
    assert rows[None].neighbourhood is not None and rows[None].neighbourhood["rows"][0] == [
        "Offences", "2018/19"]  # the header row kept in sight
