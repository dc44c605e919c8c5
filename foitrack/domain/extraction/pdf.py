"""PDF replies with a text layer, read with pdfplumber (MIT): ruled tables, tables without
lines, and the running text between them.

Ruled tables come from pdfplumber's line finder. Tables without lines are found from the words:
words are grouped into lines by their vertical position, a line into segments where the gap
between words is wider than a space, and consecutive lines of two or more segments make a table.
Its columns are the bands the segments occupy; a header line above them with fewer segments (a
period over two categories) labels every band below its nearest segment, as a merged cell would.
A PDF with no characters at all is a scan: it is said plainly, and nothing is guessed.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

from foitrack.domain.extraction.cells import BBox, Document, Location, Passage, Table, normalise
from foitrack.domain.extraction.matching import FOOTNOTE, looks_like_value

MAX_PAGES = 50
NO_TEXT = "has no text layer (scanned?)"
LINE_TOLERANCE = 3.0  # words whose tops differ by less are on one line (points)
COLUMN_GAP = 9.0  # a gap wider than this between words separates two cells (a space is ~3)


@dataclass
class _Segment:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float

    @property
    def centre(self) -> float:
        return (self.x0 + self.x1) / 2


@dataclass
class _Line:
    words: list[dict[str, Any]]
    segments: list[_Segment]
    top: float
    bottom: float

    @property
    def text(self) -> str:
        return " ".join(w["text"] for w in self.words)


def read_pdf(data: bytes) -> Document:
    import pdfplumber  # imported here: only a PDF needs it

    document = Document()
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            any_text = False
            for number, page in enumerate(pdf.pages[:MAX_PAGES], start=1):
                if page.chars:
                    any_text = True
                    _read_page(page, number, document)
    except Exception as error:  # pdfminer raises many kinds for a broken or encrypted file
        return Document(problem=f"cannot be read as a PDF ({type(error).__name__})")
    if not any_text:
        return Document(problem=NO_TEXT)
    return document


def _inside(word: dict[str, Any], box: BBox) -> bool:
    x = (word["x0"] + word["x1"]) / 2
    y = (word["top"] + word["bottom"]) / 2
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


def _read_page(page: Any, number: int, document: Document) -> None:
    tables: list[tuple[float, Table]] = []  # (top, table) to number them top to bottom
    ruled_boxes: list[BBox] = []
    for found in page.find_tables():
        table = _ruled(found, number)
        if table is not None:
            tables.append((found.bbox[1], table))
            ruled_boxes.append(found.bbox)
    words = [w for w in page.extract_words() if not any(_inside(w, b) for b in ruled_boxes)]
    lines = _lines(words)
    used: set[int] = set()
    for start, end in _blocks(lines):
        tables.append((lines[start].top, _unruled(lines[start:end], number)))
        used.update(range(start, end))
    text_lines = [line for i, line in enumerate(lines) if i not in used]
    tables.sort(key=lambda item: item[0])
    previous = 0.0  # the bottom of the table before: a caption is the text between the two
    for index, (top, table) in enumerate(tables, start=1):
        table.number = index
        above = [line.text for line in text_lines if previous <= line.top and line.bottom <= top]
        table.caption = " ".join(above[-2:])
        document.tables.append(table)
        previous = max((box[3] for box in table.boxes.values()), default=top)
    _passages(text_lines, number, document)


def _ruled(found: Any, page: int) -> Table | None:
    rows: list[list[str]] = []
    boxes: dict[tuple[int, int], BBox] = {}
    merged: set[tuple[int, int]] = set()
    extracted = found.extract()
    for r, (texts, row) in enumerate(zip(extracted, found.rows, strict=False)):
        out: list[str] = []
        for c, text in enumerate(texts):
            box = row.cells[c] if c < len(row.cells) else None
            if text is None and box is None:
                # Covered by a merged cell: the one to the left, else the one above.
                if c > 0:
                    out.append(out[c - 1])
                    boxes[(r, c)] = boxes.get((r, c - 1), (0, 0, 0, 0))
                elif r > 0:
                    out.append(rows[r - 1][c])
                else:
                    out.append("")
                merged.add((r, c))
                continue
            out.append(normalise(text or ""))
            if box is not None:
                boxes[(r, c)] = (box[0], box[1], box[2], box[3])
        rows.append(out)
    if len(rows) < 2 or len(rows[0]) < 2:
        return None  # a box around a letter's text is not a table: its words stay text
    width = max(len(row) for row in rows)
    rows = [row + [""] * (width - len(row)) for row in rows]
    return Table(rows, "pdf", page=page, boxes=boxes, merged=merged)


def _lines(words: list[dict[str, Any]]) -> list[_Line]:
    lines: list[list[dict[str, Any]]] = []
    for word in sorted(words, key=lambda w: (w["top"], w["x0"])):
        if lines and abs(lines[-1][0]["top"] - word["top"]) < LINE_TOLERANCE:
            lines[-1].append(word)
        else:
            lines.append([word])
    result = []
    for line in lines:
        line.sort(key=lambda w: w["x0"])
        segments: list[_Segment] = []
        for word in line:
            if segments and word["x0"] - segments[-1].x1 <= COLUMN_GAP:
                last = segments[-1]
                last.text += " " + word["text"]
                last.x1, last.bottom = word["x1"], max(last.bottom, word["bottom"])
            else:
                segments.append(_Segment(word["text"], word["x0"], word["x1"], word["top"],
                                         word["bottom"]))
        result.append(_Line(line, segments, min(w["top"] for w in line),
                            max(w["bottom"] for w in line)))
    return result


def _blocks(lines: list[_Line]) -> list[tuple[int, int]]:
    """Runs of two or more consecutive lines of several segments each, close together; or one
    line of a label and two or more numbers (the last row of a table, run onto a new page)."""
    blocks = []
    start: int | None = None

    def close(end: int) -> None:
        assert start is not None
        if end - start >= 2 or sum(_number(s.text) for s in lines[start].segments[1:]) >= 2:
            blocks.append((start, end))

    for i in range(len(lines) + 1):
        fits = i < len(lines) and len(lines[i].segments) >= 2
        if fits and start is not None:
            height = lines[i - 1].bottom - lines[i - 1].top
            if lines[i].top - lines[i - 1].bottom > 1.5 * max(height, 6):
                close(i)
                start = i
                continue
        if fits and start is None:
            start = i
        if not fits and start is not None:
            close(i)
            start = None
    return blocks


def _bands(lines: list[_Line]) -> list[tuple[float, float]]:
    spans = sorted((s.x0, s.x1) for line in lines for s in line.segments)
    bands: list[list[float]] = []
    for x0, x1 in spans:
        if bands and x0 <= bands[-1][1]:
            bands[-1][1] = max(bands[-1][1], x1)
        else:
            bands.append([x0, x1])
    return [(b[0], b[1]) for b in bands]


def _unruled(lines: list[_Line], page: int) -> Table:
    # A first line with fewer segments than the next is a header spanning columns: it does not
    # make bands (it would join two), it labels them.
    upper = (lines[0] if len(lines) > 2 and len(lines[0].segments) < len(lines[1].segments)
             and not any(_number(s.text) for s in lines[1].segments) else None)
    body = lines[1:] if upper is not None else lines
    bands = _bands(body)
    rows: list[list[str]] = []
    boxes: dict[tuple[int, int], BBox] = {}
    merged: set[tuple[int, int]] = set()
    if upper is not None:
        row = [""] * len(bands)
        first_of: dict[int, int] = {}
        for b, (x0, x1) in enumerate(bands):
            if b == 0 and upper.segments[0].x0 > x1:
                continue  # the label column has no upper header
            centre = (x0 + x1) / 2
            nearest = min(range(len(upper.segments)),
                          key=lambda s: max(0.0, upper.segments[s].x0 - centre,
                                            centre - upper.segments[s].x1))
            segment = upper.segments[nearest]
            row[b] = segment.text
            if nearest in first_of:
                merged.add((0, b))
            else:
                first_of[nearest] = b
                boxes[(0, b)] = (segment.x0, segment.top, segment.x1, segment.bottom)
        rows.append([normalise(t) for t in row])
    for line in body:
        r = len(rows)
        row = [""] * len(bands)
        for segment in line.segments:
            b = next(i for i, (x0, x1) in enumerate(bands) if x0 <= segment.x0 <= x1)
            row[b] = normalise(f"{row[b]} {segment.text}")
            boxes[(r, b)] = (segment.x0, segment.top, segment.x1, segment.bottom)
        rows.append(row)
    return _join_offset_columns(Table(rows, "pdf", page=page, boxes=boxes, merged=merged))


def _number(text: str) -> bool:
    """A value written with digits or as "<5", "*": "Not recorded" may be a header too."""
    return looks_like_value(text) and bool(re.search(r"\d|^[<*]", FOOTNOTE.sub("", text)))


def _join_offset_columns(table: Table) -> Table:
    """A header written to the left of its column and the numbers to the right make two bands
    that do not overlap: a band of headers with nothing below, then a band of numbers with
    nothing above. Each such pair is one column."""
    rows = table.rows
    heading = next((r for r, row in enumerate(rows) if any(_number(t) for t in row[1:])),
                   len(rows))
    b = 1
    while b + 1 < len(rows[0]) if rows else False:
        header_only = any(row[b] for row in rows[:heading]) and not any(
            row[b] for row in rows[heading:])
        body_only = not (heading and rows[heading - 1][b + 1]) and any(
            row[b + 1] for row in rows[heading:])
        if header_only and body_only:
            for r, row in enumerate(rows):
                if row[b + 1]:
                    row[b] = row[b + 1]
                    if (r, b + 1) in table.boxes:
                        table.boxes[(r, b)] = table.boxes[(r, b + 1)]
                del row[b + 1]
            table.boxes = {(r, c if c <= b else c - 1): box for (r, c), box in table.boxes.items()
                           if c != b + 1 or not rows[r][b]}
            table.merged = {(r, c if c <= b else c - 1) for r, c in table.merged if c != b + 1}
        b += 1
    return table


def _passages(lines: list[_Line], page: int, document: Document) -> None:
    paragraph: list[_Line] = []
    count = 0

    def flush() -> None:
        nonlocal count
        if paragraph:
            count += 1
            box = (min(w["x0"] for line in paragraph for w in line.words), paragraph[0].top,
                   max(w["x1"] for line in paragraph for w in line.words), paragraph[-1].bottom)
            document.passages.append(Passage(
                normalise(" ".join(line.text for line in paragraph)),
                Location(f"page {page}, paragraph {count}", page, box)))
            paragraph.clear()

    for line in lines:
        if paragraph:
            height = paragraph[-1].bottom - paragraph[-1].top
            if line.top - paragraph[-1].bottom > 0.8 * max(height, 6):
                flush()
        paragraph.append(line)
    flush()
