"""Every layout of the reply corpus filed through the service path, on the test database
(SQLite, or PostgreSQL with FOITRACK_TEST_DATABASE_URL): a reply with the file attached is filed
(proposals.on_filed), the stored proposals keep each value as written and where it was written
(a PDF's page and box, a sheet's or Word table's neighbouring cells), and accepting them all
saves figures with that file and place as their source (issue 19, "tests cover every layout on
SQLite and PostgreSQL")."""

from __future__ import annotations

import hashlib
import random
import re

import pytest
from sqlalchemy import select

from foitrack.domain.extraction import extract
from foitrack.domain.extraction.matching import Value, read_value
from foitrack.models import (
    Attachment,
    Figure,
    FigureProposal,
    InboundMessage,
    ProposalState,
    StoredFile,
)
from foitrack.services import proposals
from foitrack.services.data_design import apply_design
from foitrack.services.requests import get_request
from foitrack.storage import FileStore
from tests.factories import TEST_ACTOR, make_campaign
from tests.fixtures.reply_corpus import LAYOUTS, Reply, corpus_design, corpus_spec, make

CAMPAIGN = '''
slug = "corpus"
title = "The reply corpus's campaign"
authorities = ["E23000016", "E23000033"]
request_text = """Dear {{ authority.name }}, ..."""
[[measures]]
key = "placeholder"
label = "Replaced by the corpus's design"
[[periods]]
key = "2018-19"
label = "2018/19"
start = 2018-04-01
end = 2019-03-31
'''

# Where each kind of file says a cell is, in its own terms.
WHERE = {
    "pdf": r"page \d+, table \d+, row \d+, column \d+",
    "word tables": r"table \d+, row \d+, column \d+",
    "xlsx notes above": r"[^!]+![A-Z]+\d+",
    "csv": r"[A-Z]+\d+",
    "sentences pdf": r"page \d+, paragraph \d+, sentence \d+",
    "sentences word": r"paragraph \d+, sentence \d+",
}
# A layout's replies (each seeded: the same every run), one from each force: a force's letter
# gives a cell once.
FORCES = ["E23000016", "E23000033"]


def figure(written: str):
    value = read_value(written, corpus_design().suppression_threshold)
    assert isinstance(value, Value), written
    return value.figure


def where_pattern(layout: str) -> str:
    return next(p for prefix, p in sorted(WHERE.items(), key=lambda i: -len(i[0]))
                if layout.startswith(prefix))


@pytest.fixture
def store(app) -> FileStore:
    return FileStore(app.config["STORAGE_PATH"])


@pytest.fixture
def requests_(session):
    campaign = make_campaign(session, CAMPAIGN)
    apply_design(session, TEST_ACTOR, campaign, corpus_spec())
    session.commit()
    return [get_request(session, "corpus", code) for code in FORCES]


def file(session, store: FileStore, request, reply: Reply, number: int) -> InboundMessage:
    """``reply`` filed against the request as an email's attachment, then proposed from."""
    raw = StoredFile(sha256=store.put(b"raw %d" % number), filename="message.eml",
                     content_type="message/rfc822", size=5, created_by="test")
    kept = StoredFile(sha256=store.put(reply.data), filename=reply.filename,
                      content_type="application/octet-stream", size=len(reply.data),
                      created_by="test")
    message = InboundMessage(message_key=f"<{number}@corpus>", request=request,
                             from_address="foi@example.org", subject="Your request",
                             body_text="", raw_file=raw, received_by="test")
    message.attachments.append(Attachment(filename=reply.filename, size=len(reply.data),
                                          content_type="application/octet-stream",
                                          stored_file=kept))
    session.add(message)
    session.flush()
    proposals.on_filed(session, store, message)
    session.commit()
    return message


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_each_layout_filed_is_proposed_and_accepted_with_where_it_was_written(
        session, store, requests_, layout):
    design = corpus_design()
    rng = random.Random(f"stored {layout}")
    replies = [make(layout, rng, number) for number in range(1, len(FORCES) + 1)]
    for number, (request, reply) in enumerate(zip(requests_, replies, strict=True), 1):
        file(session, store, request, reply, number)
    session.expire_all()
    stored = session.scalars(select(FigureProposal).order_by(FigureProposal.id)).all()
    found = cells = 0
    for request, reply in zip(requests_, replies, strict=True):
        rows = [r for r in stored if r.request_id == request.id]
        assert {r.sha256 for r in rows} == {hashlib.sha256(reply.data).hexdigest()}
        assert {r.filename for r in rows} == {reply.filename}
        # As the extractor read the file: the same cells, values as written, and places.
        read = extract(reply.filename, reply.data, design, authority=request.authority.code)
        assert sorted((r.measure, r.period, r.category or "", r.value, r.location) for r in rows) == \
            sorted((p.measure, p.period, p.category or "", p.value, p.location.text)
                   for p in read.proposals)
        written = {(c.measure, c.period, c.category): figure(c.value) for c in reply.truth}
        for row in rows:
            # Right: the value as parsed and stored ("1,311" is 1311, "Fewer than 5" is <5).
            assert written[(row.measure, row.period, row.category)] == figure(row.parsed_text), row
            assert row.dimension == ("platform" if row.category else None)
            assert re.fullmatch(where_pattern(layout), row.location), row.location
            assert row.state is ProposalState.PENDING and row.sha256 == row.stored_file.sha256
            if reply.filename.endswith(".pdf"):
                assert row.page is not None and row.bbox is not None and len(row.bbox) == 4
                assert row.location.startswith(f"page {row.page}, ")
            else:
                assert row.page is None and row.bbox is None
            if layout.startswith(("word", "xlsx", "csv")):  # tables: the cells around it
                around = row.neighbourhood
                assert around is not None
                assert around["rows"][around["row"]][around["column"]] == row.value
            else:
                assert row.neighbourhood is None
        found += len(rows)
        cells += len(written)
    assert found >= (0.7 if layout.startswith("sentences") else 0.9) * cells
    if layout == "pdf across pages":
        assert {r.page for r in stored} == {1, 2}

    # Accepting them all saves each as a figure whose source is the file and the place.
    for request in requests_:
        chosen = [r for r in stored if r.request_id == request.id]
        report = proposals.accept(session, TEST_ACTOR, request, [r.id for r in chosen])
        assert report.created == len(chosen)
    session.commit()
    session.expire_all()
    figures = {f.id: f for f in session.scalars(select(Figure))}
    shown = proposals.read_from(session, list(figures))
    for row in session.scalars(select(FigureProposal)):
        assert row.state is ProposalState.ACCEPTED and row.figure_id in figures
        saved = figures[row.figure_id]
        assert saved.figure_value == figure(row.parsed_text)
        assert saved.source_file_id == row.stored_file_id
    assert {f.source for f in figures.values()} == {
        f"{p.filename}, {p.location}" for p in shown.values()}
    assert set(shown) == set(figures)
