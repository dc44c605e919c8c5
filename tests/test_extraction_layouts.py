"""Every layout of the reply corpus (issue 19), read end to end: ruled and unruled PDF tables,
transposed tables, several tables in a letter, merged headers, Word tables, XLSX with notes
above, CSV and figures in sentences. Every proposal is right and almost every cell is found;
each proposal says where it was written, in the file's own terms."""

from __future__ import annotations

import hashlib
import io
import random

import pytest

from foitrack.domain.extraction import EXTRACTOR, EXTRACTOR_VERSION, extract
from foitrack.domain.extraction.matching import Value, read_value
from foitrack.domain.extraction.pdf import NO_TEXT
from tests.fixtures.reply_corpus import LAYOUTS, corpus_design, make, scanned_pdf

DESIGN = corpus_design()


def _truth(reply):
    truth = {}
    for cell in reply.truth:
        value = read_value(cell.value, DESIGN.suppression_threshold)
        assert isinstance(value, Value)
        truth[(cell.measure, cell.period, "platform" if cell.category else None,
               cell.category)] = value.figure
    return truth


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_each_layout_is_read_right(layout):
    rng = random.Random(layout)
    found = cells = 0
    for number in range(10):
        reply = make(layout, rng, number)
        truth = _truth(reply)
        result = extract(reply.filename, reply.data, DESIGN, authority="KENT")
        assert not result.problems
        for proposal in result.proposals:
            assert truth.get(proposal.key) == proposal.parsed, (reply.filename, proposal)
        found += len(result.proposals)
        cells += len(truth)
    assert found / cells >= (0.7 if layout.startswith("sentences") else 0.95)


def _one(layout: str, seed: int = 3):
    reply = make(layout, random.Random(seed), 1)
    return reply, extract(reply.filename, reply.data, DESIGN, authority="KENT")


def test_a_proposal_keeps_the_file_its_hash_the_extractor_and_the_value_as_written():
    reply, result = _one("pdf ruled")
    proposal = result.proposals[0]
    assert proposal.file == reply.filename and proposal.authority == "KENT"
    assert proposal.sha256 == hashlib.sha256(reply.data).hexdigest()
    assert (proposal.extractor, proposal.extractor_version) == (EXTRACTOR, EXTRACTOR_VERSION)
    written = {(c.measure, c.period, c.category): c.value for c in reply.truth}
    assert all(written[(p.measure, p.period, p.category)] == p.value for p in result.proposals)
    assert 0 < proposal.confidence <= 1


@pytest.mark.parametrize("layout", ["pdf ruled", "pdf unruled"])
def test_a_pdf_cell_has_its_page_table_row_column_and_box(layout):
    _, result = _one(layout)
    proposal = result.proposals[0]
    assert proposal.location.text.startswith("page 1, table 1, row ")
    assert proposal.location.page == 1
    x0, top, x1, bottom = proposal.location.bbox
    assert 0 <= x0 < x1 <= 595 and 0 <= top < bottom <= 842


def test_a_word_cell_is_named_by_table_row_and_column_and_a_sentence_by_its_paragraph():
    _, result = _one("word tables")
    assert result.proposals[0].location.text.startswith("table 1, row ")
    _, result = _one("sentences word")
    assert all(", sentence " in p.location.text and p.location.text.startswith("paragraph ")
               for p in result.proposals)


def test_a_spreadsheet_cell_is_named_sheet_and_cell_below_the_notes():
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Data"
    sheet["A1"] = "Kent Police - response to FOI 123 about offences in 2017/18 and 2018/19"
    sheet["A2"] = "Figures under 5 are suppressed."
    for row in (["Offences", "2017/18", "2018/19"], ["Instagram", 4, 7], ["Snapchat", "<5", 9],
                ["Total", 11, 20]):
        sheet.append(row)
    sheet.insert_rows(3)  # a blank row between the notes and the table
    out = io.BytesIO()
    book.save(out)
    result = extract("reply.xlsx", out.getvalue(), DESIGN)
    where = {(p.period, p.category): p.location.text for p in result.proposals}
    assert where[("2017-18", "Instagram")] == "Data!B5"
    assert where[("2018-19", None)] == "Data!C7"
    assert len(result.proposals) == 6


def test_an_xls_that_is_really_xlsx_is_read_and_an_old_one_is_named():
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in (["Offences", "2018/19"], ["Instagram", 4]):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    assert len(extract("reply.xls", out.getvalue(), DESIGN).proposals) == 1
    old = extract("old.xls", b"\xd0\xcf\x11\xe0 binary", DESIGN)
    assert old.problems == ["old.xls is an old Excel (.xls) file; save it as .xlsx to read it"]


def test_merged_header_cells_label_every_column_they_span_in_word():
    import docx

    document = docx.Document()
    document.add_paragraph("Offences by platform")
    table = document.add_table(rows=3, cols=5)
    for c, text in enumerate(["", "2017/18", "", "2018/19", ""]):
        table.cell(0, c).text = text
    table.cell(0, 1).merge(table.cell(0, 2))
    table.cell(0, 3).merge(table.cell(0, 4))
    for r, row in enumerate([["Measure", "Instagram", "Snapchat", "Instagram", "Snapchat"],
                             ["Offences", "1", "2", "3", "not recorded"]], start=1):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    out = io.BytesIO()
    document.save(out)
    result = extract("reply.docx", out.getvalue(), DESIGN)
    got = {(p.period, p.category, p.value) for p in result.proposals}
    assert got == {("2017-18", "Instagram", "1"), ("2017-18", "Snapchat", "2"),
                   ("2018-19", "Instagram", "3"), ("2018-19", "Snapchat", "not recorded")}


def test_a_scanned_pdf_says_it_has_no_text_layer_and_proposes_nothing():
    result = extract("scan.pdf", scanned_pdf(), DESIGN)
    assert result.proposals == []
    assert result.problems == [f"scan.pdf {NO_TEXT}"]
    assert NO_TEXT == "has no text layer (scanned?)"


@pytest.mark.parametrize(("name", "data"), [("reply.pdf", b"%PDF-1.4 broken"),
                                            ("reply.docx", b"not a zip"),
                                            ("reply.xlsx", b"not a zip"),
                                            ("reply.odt", b"whatever")])
def test_a_file_that_cannot_be_read_is_named_with_the_reason(name, data):
    result = extract(name, data, DESIGN)
    assert result.proposals == [] and result.problems[0].startswith(name + " ")


def test_a_box_around_a_line_of_the_letter_is_text_not_a_table():
    from tests.fixtures.reply_corpus import PdfPage, pdf_bytes

    page = PdfPage()
    # One row of two boxed cells, as a letterhead draws them.
    for x0, top, x1, bottom in ((60, 60, 535, 60), (60, 90, 535, 90), (60, 60, 60, 90),
                                (300, 60, 300, 90), (535, 60, 535, 90)):
        page.line(x0, top, x1, bottom)
    page.text(64, 66, "We recorded 122 offences in 2018/19.", 9)
    page.text(304, 66, "Our reference 4471", 9)
    result = extract("reply.pdf", pdf_bytes([page]), DESIGN)
    assert [(p.period, p.category, p.value) for p in result.proposals] == [("2018-19", None, "122")]
