"""The cells around a sheet's or Word table's cell, shown beside its proposal where a PDF shows
an image of the page: the value with its row and column labels in sight."""

from __future__ import annotations

from typing import Any

from foitrack.domain.extraction.cells import Document

REACH = 2  # rows and columns either side


def neighbourhoods(document: Document) -> dict[str, dict[str, Any]]:
    """Each table cell's neighbourhood by its location text ("Sheet1!C5"), for tables that are
    not a PDF's: ``rows`` the texts, the first row and column (the labels) always among them,
    and ``row``/``column`` where the cell itself is in them."""
    found: dict[str, dict[str, Any]] = {}
    for table in document.tables:
        if table.kind == "pdf":
            continue
        for r, line in enumerate(table.rows):
            for c, _ in enumerate(line):
                rows = sorted({0, *range(max(0, r - REACH), min(len(table.rows), r + REACH + 1))})
                columns = sorted({0, *range(max(0, c - REACH), min(len(line), c + REACH + 1))})
                found[table.location(r, c).text] = {
                    "rows": [[table.rows[i][j] for j in columns] for i in rows],
                    "row": rows.index(r), "column": columns.index(c)}
    return found
