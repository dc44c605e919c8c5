"""The text of a reply's attachment, so the sections a letter cites can be proposed.

PDF, how most forces send their letters, is read with pdfplumber and Word (.docx) with
python-docx (both MIT, both kept up). OpenDocument (.odt) is XML inside a zip, read here with
zipfile and defusedxml (already a dependency for uploaded spreadsheets; it refuses
entity-expansion bombs): the one kept-up ODF library, odfdo, would be a dependency for a format
forces seldom send. CSV and plain text are decoded.

The parsers are imported inside the functions that use them, so a `foitrack` command that reads
no attachment does not pay for loading them. A file that cannot be read (broken, encrypted with
a password, too big) gives '': a person reads it, and the body of the message is still read.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import PurePath
from typing import TYPE_CHECKING

from defusedxml import ElementTree

if TYPE_CHECKING:
    from docx.table import Table, _Cell
    from docx.text.paragraph import Paragraph

# More than any letter: a part larger than this when unzipped is a zip bomb, not a reply.
MAX_UNZIPPED = 20 * 2**20
# The largest attachment kept at all (services.inbound.MAX_ATTACHMENT_BYTES).
MAX_PDF_BYTES = 25 * 2**20
# The sections a reply relies on are cited in its letter, the first pages; what follows is an
# annex of data. pdfplumber takes about a third of a second for a full page of text, and the
# request's page reads its replies each time it is shown, so pages past these are not read.
MAX_PDF_PAGES = 20
# What a damaged or odd zip gives when read: a bad header or CRC, corrupt deflate data, a
# compression method or encryption zipfile does not support, a truncated member.
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError, OSError)
_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
READABLE = (".pdf", ".docx", ".odt", ".csv", ".txt")


def attachment_text(filename: str, data: bytes) -> str:
    """The attachment's text, paragraphs (or pages) separated by blank lines; '' when it cannot
    be read."""
    suffix = PurePath(filename).suffix.lower()
    if suffix == ".pdf":
        return _pdf(data)
    if suffix == ".docx":
        return _docx(data)
    if suffix == ".odt":
        return _odt(data)
    if suffix in (".csv", ".txt"):
        return data.decode("utf-8-sig", "replace")
    return ""


def _pdf(data: bytes) -> str:
    if len(data) > MAX_PDF_BYTES:
        return ""
    import pdfplumber
    from pdfminer.psexceptions import PSException
    from pdfplumber.utils.exceptions import MalformedPDFException, PdfminerException

    try:
        # An empty password opens the many letters encrypted only against editing; one that
        # needs a password to be read raises, as a broken file does.
        with pdfplumber.open(io.BytesIO(data), pages=list(range(1, MAX_PDF_PAGES + 1))) as pdf:
            pages = [page.extract_text() for page in pdf.pages]
    # pdfplumber wraps what pdfminer raises while opening and laying out pages in
    # PdfminerException; the rest are what a damaged page's objects give when read.
    except (PdfminerException, MalformedPDFException, PSException, ValueError, KeyError,
            TypeError, IndexError, RecursionError):
        return ""
    return "\n\n".join(page for page in pages if page.strip())


def _docx(data: bytes) -> str:
    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError

    try:
        _check_unzipped(data)  # python-docx reads every part into memory
        document = Document(io.BytesIO(data))
    # A part that is not well-formed XML raises lxml's XMLSyntaxError, a SyntaxError (caught as
    # that, since lxml has no type stubs); a zip that is no Word file, PackageNotFoundError or
    # KeyError (a part missing) or ValueError (the main part of another type).
    except (*_ZIP_ERRORS, PackageNotFoundError, KeyError, ValueError, SyntaxError):
        return ""
    return "\n\n".join(block for block in _blocks(document.iter_inner_content()) if block.strip())


def _blocks(content: Iterator[Paragraph | Table]) -> Iterator[str]:
    """Paragraphs, and each table row's cells tab-separated on a line, in the document's order
    (a letter may set out what it withholds, and under which section, as a table)."""
    from docx.text.paragraph import Paragraph

    for block in content:
        if isinstance(block, Paragraph):
            yield block.text
            continue
        for row in block.rows:
            # A merged cell is listed once for each column it spans.
            cells: list[_Cell] = []
            for cell in row.cells:
                if not cells or cell._tc is not cells[-1]._tc:
                    cells.append(cell)
            yield "\t".join(" ".join(_blocks(cell.iter_inner_content())) for cell in cells)


def _check_unzipped(data: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        if sum(info.file_size for info in archive.infolist()) > MAX_UNZIPPED:
            raise ValueError(f"larger than {MAX_UNZIPPED} bytes unzipped")


def _odt(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo("content.xml")
            if info.file_size > MAX_UNZIPPED:
                return ""
            root = ElementTree.fromstring(archive.read(info))
    # defusedxml's refusals (entities, DTDs) are ValueErrors.
    except (*_ZIP_ERRORS, KeyError, ValueError, ElementTree.ParseError):
        return ""
    lines = []
    for element in root.iter():
        if element.tag in (f"{_TEXT}p", f"{_TEXT}h"):
            line = "".join(element.itertext())
            if line.strip():
                lines.append(line)
    return "\n\n".join(lines)
