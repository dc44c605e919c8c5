"""Spreadsheets (XLSX with openpyxl, CSV) as tables: each sheet split into blocks at blank
rows, so notes above a table and several tables on one sheet are read apart.

Merged ranges are filled with the merged text (a header over two columns labels both) and marked
as merged, so a value is read once. Numbers are written as a person sees them: 12.0 is "12".
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from foitrack.domain.extraction.cells import Document, Table, normalise

MAX_ROWS = 5_000  # more than any reply's table; a sheet of a million rows is not a reply
MAX_COLUMNS = 200


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()[:10]
    return normalise(str(value))


def _blocks(grid: list[list[str]], merged: set[tuple[int, int]], name: str,
            first_number: int) -> list[Table]:
    """The grid cut at blank rows into tables; each keeps the text above it as its caption."""
    tables: list[Table] = []
    start: int | None = None
    caption = ""
    for index in range(len(grid) + 1):
        blank = index == len(grid) or not any(grid[index])
        if not blank and start is None:
            start = index
        if blank and start is not None:
            width = max((i + 1 for row in grid[start:index] for i, t in enumerate(row) if t),
                        default=0)
            rows = [row[:width] + [""] * (width - len(row[:width])) for row in grid[start:index]]
            tables.append(Table(
                rows, "sheet", name, first_number + len(tables), row_offset=start,
                merged={(r - start, c) for r, c in merged if start <= r < index},
                caption=caption))
            caption = " ".join(t for row in rows for t in row if t)[-500:]
            start = None
    return tables


def read_xlsx(data: bytes) -> Document:
    from openpyxl import load_workbook  # imported here: only a spreadsheet needs it

    try:
        # Not read-only: merged ranges are only known to a full load.
        book = load_workbook(io.BytesIO(data), data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a broken file
        return Document(problem=f"cannot be read as a spreadsheet ({type(error).__name__})")
    document = Document()
    for sheet in book.worksheets:
        rows = min(sheet.max_row, MAX_ROWS)
        columns = min(sheet.max_column, MAX_COLUMNS)
        grid = [[cell_text(sheet.cell(r + 1, c + 1).value) for c in range(columns)]
                for r in range(rows)]
        merged: set[tuple[int, int]] = set()
        for span in sheet.merged_cells.ranges:
            top, left = span.min_row - 1, span.min_col - 1
            if top >= rows or left >= columns:
                continue
            for r in range(top, min(span.max_row, rows)):
                for c in range(left, min(span.max_col, columns)):
                    if (r, c) != (top, left):
                        grid[r][c] = grid[top][left]
                        merged.add((r, c))
        document.tables += _blocks(grid, merged, sheet.title, len(document.tables) + 1)
    return document


def read_csv(data: bytes) -> Document:
    text = data.decode("utf-8-sig", "replace")
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    grid = [[normalise(value) for value in row[:MAX_COLUMNS]]
            for _, row in zip(range(MAX_ROWS), csv.reader(io.StringIO(text), dialect), strict=False)]
    return Document(tables=_blocks(grid, set(), "", 1))
