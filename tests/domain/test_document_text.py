"""An attachment's text: PDF (pdfplumber) and Word (python-docx) letters, built here rather than
copied in, and damaged or locked files giving no text rather than an error."""

from __future__ import annotations

import io
import zipfile

import pytest
from docx import Document

from foitrack.domain import document_text
from foitrack.domain.document_text import attachment_text
from foitrack.domain.reply_reading import read_reply

REFUSAL = ("Kent Police estimates that the cost of complying with your request would exceed the "
           "appropriate limit, so it is refused under section 12 of the Act.")
# The refusal as a letter sets it, over two lines.
LINES = ["Kent Police estimates that the cost of complying with your request would",
         "exceed the appropriate limit, so it is refused under section 12 of the Act."]


def pdf_document(*pages: list[str], encrypt: bool = False) -> bytes:
    """A minimal PDF, each page its lines of text in the standard Helvetica font (which every
    reader has, so the file embeds none). ``encrypt``: locked with a user password no reader
    knows (the standard security handler, revision 2), as a file sent by mistake may be."""
    count = len(pages)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
                   b" ".join(b"%d 0 R" % (4 + 2 * i) for i in range(count)), count),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    for i, lines in enumerate(pages):
        shown = b" ".join(b"(%s) Tj 0 -14 Td" % line.replace("\\", "\\\\").replace("(", "\\(")
                          .replace(")", "\\)").encode("latin-1") for line in lines)
        stream = b"BT /F1 10 Tf 50 750 Td " + shown + b" ET"
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                       b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (5 + 2 * i))
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    trailer = b"/Size %d /Root 1 0 R" % (len(objects) + 1)
    if encrypt:
        objects.append(b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P -4 >>"
                       % (b"ab" * 32, b"cd" * 32))
        trailer = b"/Size %d /Root 1 0 R /Encrypt %d 0 R /ID [<%s> <%s>]" % (
            len(objects) + 1, len(objects), b"01" * 16, b"01" * 16)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< %s >>\nstartxref\n%d\n%%%%EOF\n" % (trailer, xref)
    return bytes(out)


def word_document(*paragraphs: str, table: list[list[str]] | None = None) -> bytes:
    """A .docx as Word writes it (python-docx's own template), the table after the paragraphs."""
    document = Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    if table is not None:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for row, values in zip(grid.rows, table, strict=True):
            for cell, value in zip(row.cells, values, strict=True):
                cell.text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_a_pdf_letters_text_is_read_page_by_page():
    pdf = pdf_document(["Dear Requester,", *LINES], ["Yours sincerely", "Disclosure Unit"])
    text = attachment_text("Response 2019-123.PDF", pdf)
    assert "refused under section 12 of the Act." in text
    assert text.index("Dear Requester") < text.index("section 12") < text.index("Disclosure")
    assert read_reply(text).exemptions == ("s.12",)


def test_only_the_first_pages_of_a_long_pdf_are_read(monkeypatch):
    monkeypatch.setattr(document_text, "MAX_PDF_PAGES", 2)
    pdf = pdf_document(["page one"], ["page two"], ["page three"])
    assert attachment_text("annex.pdf", pdf).split() == ["page", "one", "page", "two"]


def test_a_pdf_too_big_to_keep_is_not_read(monkeypatch):
    pdf = pdf_document([REFUSAL])
    monkeypatch.setattr(document_text, "MAX_PDF_BYTES", len(pdf) - 1)
    assert attachment_text("reply.pdf", pdf) == ""


@pytest.mark.parametrize("data", [
    b"", b"%PDF-1.4", b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 9 0 R >>\nendobj\n%%EOF",
    b"not a pdf at all" * 100, pdf_document([REFUSAL])[:200], pdf_document([REFUSAL], encrypt=True),
], ids=["empty", "header", "dangling", "text", "truncated", "encrypted"])
def test_a_broken_or_locked_pdf_gives_no_text(data):
    assert attachment_text("reply.pdf", data) == ""


def test_a_word_letters_paragraphs_and_table_cells_are_read():
    docx = word_document("Dear Requester,", REFUSAL, "",
                         table=[["Question", "Exemption"], ["1. Names of officers", "s.40(2)"]])
    assert attachment_text("reply.docx", docx).split("\n\n") == [
        "Dear Requester,", REFUSAL, "Question\tExemption", "1. Names of officers\ts.40(2)"]


def test_a_merged_cell_is_read_once():
    document = Document()
    grid = document.add_table(rows=1, cols=3)
    grid.cell(0, 0).merge(grid.cell(0, 1)).text = "Exempt under section 30"
    grid.cell(0, 2).text = "in full"
    out = io.BytesIO()
    document.save(out)
    assert attachment_text("reply.docx", out.getvalue()) == "Exempt under section 30\tin full"


def test_a_broken_or_oversized_word_file_gives_no_text(monkeypatch):
    docx = word_document(REFUSAL)
    assert attachment_text("reply.docx", b"not a zip") == ""
    assert attachment_text("reply.docx", docx[: len(docx) // 2]) == ""
    # A zip that is not a Word document (an OpenDocument file renamed).
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("content.xml", "<x/>")
    assert attachment_text("reply.docx", out.getvalue()) == ""
    monkeypatch.setattr(document_text, "MAX_UNZIPPED", 1000)
    assert attachment_text("reply.docx", docx) == ""


def test_an_opendocument_text_and_plain_text_are_read():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("content.xml", (
            '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
            ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:text>'
            "<text:h>Decision</text:h><text:p>No information is held.</text:p></office:text>"
            "</office:body></office:document-content>"))
    assert attachment_text("reply.odt", out.getvalue()) == "Decision\n\nNo information is held."
    assert attachment_text("reply.odt", b"PK\x03\x04 broken") == ""
    assert attachment_text("figures.csv", "\ufeffforce,count\nKent,3\n".encode()) == "force,count\nKent,3\n"
    assert attachment_text("photo.jpg", b"\xff\xd8") == ""


def test_a_word_file_whose_xml_is_broken_gives_no_text():
    docx = io.BytesIO(word_document(REFUSAL))
    out = io.BytesIO()
    with zipfile.ZipFile(docx) as source, zipfile.ZipFile(out, "w") as archive:
        for info in source.infolist():
            data = source.read(info)
            archive.writestr(info, data[:-20] if info.filename == "word/document.xml" else data)
    assert attachment_text("reply.docx", out.getvalue()) == ""
