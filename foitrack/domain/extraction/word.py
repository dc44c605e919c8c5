"""Word (.docx) replies with python-docx: tables in document order, merged cells filled, and
the paragraphs between them as running text (a table's caption is the paragraph before it).

python-docx gives a merged cell once per grid position it covers; the positions after the first
(by the same underlying cell) are marked merged so that a value is read once.
"""

from __future__ import annotations

import io

from foitrack.domain.extraction.cells import Document, Location, Passage, Table, normalise


def read_docx(data: bytes) -> Document:
    import docx  # imported here: only a Word file needs it
    from docx.table import Table as DocxTable

    try:
        word = docx.Document(io.BytesIO(data))
    except Exception as error:  # a broken zip or XML raises several kinds
        return Document(problem=f"cannot be read as a Word file ({type(error).__name__})")
    document = Document()
    caption = ""
    paragraph_number = 0
    for block in word.iter_inner_content():
        if isinstance(block, DocxTable):
            rows: list[list[str]] = []
            merged: set[tuple[int, int]] = set()
            # Keyed by the XML element itself (kept alive here), not id(): lxml may reuse ids.
            seen: dict[object, tuple[int, int]] = {}
            for r, row in enumerate(block.rows):
                texts = []
                for c, cell in enumerate(row.cells):
                    texts.append(normalise(cell.text))
                    if cell._tc in seen:
                        merged.add((r, c))
                    else:
                        seen[cell._tc] = (r, c)
                rows.append(texts)
            width = max((len(row) for row in rows), default=0)
            rows = [row + [""] * (width - len(row)) for row in rows]
            document.tables.append(Table(rows, "word", number=len(document.tables) + 1,
                                         merged=merged, caption=caption))
            caption = ""
        else:
            text = normalise(block.text)
            if text:
                paragraph_number += 1
                document.passages.append(Passage(text, Location(f"paragraph {paragraph_number}")))
                caption = text
    return document
