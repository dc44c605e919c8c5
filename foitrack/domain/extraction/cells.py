"""The value types every reader produces: a table as a grid of text with each cell's location,
and the document's running text as passages.

A location is written the way a person looks for it again: ``Sheet1!C5`` in a spreadsheet,
``table 2, row 3, column 4`` in a Word file, ``page 2, table 1, row 3, column 4`` in a PDF (with
the cell's box in PDF points, top-left origin as pdfplumber gives it, for a crop).
"""

from __future__ import annotations

from dataclasses import dataclass, field

BBox = tuple[float, float, float, float]  # x0, top, x1, bottom in points


def column_letters(index: int) -> str:
    """0 -> "A", 25 -> "Z", 26 -> "AA": a spreadsheet's column name."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


@dataclass(frozen=True)
class Location:
    text: str  # "Sheet1!C5", "table 2, row 3, column 4", "page 2, table 1, row 3, column 4"
    page: int | None = None  # PDF pages, from 1
    bbox: BBox | None = None


@dataclass
class Table:
    """A grid of cell texts, rows of equal length.

    ``merged`` holds the (row, column) of cells that continue a merged cell to their left or
    above: the grid repeats the merged text there, which is what a header spanning two columns
    means; a value is read only from the cell where it is written.
    ``kind`` says how locations are written: "sheet", "word" or "pdf".
    """

    rows: list[list[str]]
    kind: str
    name: str = ""  # the sheet's name; "" for a CSV file
    number: int = 1  # the table's number in the document (on its page, for a PDF)
    page: int | None = None
    row_offset: int = 0  # a sheet block's first row, from 0
    boxes: dict[tuple[int, int], BBox] = field(default_factory=dict)
    merged: set[tuple[int, int]] = field(default_factory=set)
    caption: str = ""  # the text just before the table: its title says what it counts

    def location(self, row: int, column: int) -> Location:
        if self.kind == "sheet":
            cell = f"{column_letters(column)}{self.row_offset + row + 1}"
            return Location(f"{self.name}!{cell}" if self.name else cell)
        where = f"table {self.number}, row {row + 1}, column {column + 1}"
        if self.kind == "pdf":
            return Location(f"page {self.page}, {where}", self.page, self.boxes.get((row, column)))
        return Location(where)


@dataclass(frozen=True)
class Passage:
    """A paragraph of running text and where it is."""

    text: str
    location: Location


@dataclass
class Document:
    tables: list[Table] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    problem: str | None = None  # why nothing could be read ("has no text layer (scanned?)")


def normalise(text: str) -> str:
    """A cell's text as one line, its spaces collapsed."""
    return " ".join(str(text).replace("\u00a0", " ").split())
