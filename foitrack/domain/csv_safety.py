"""Text a spreadsheet would run as a formula, and how every export keeps it text.

One rule for every CSV and XLSX foitrack writes and reads back: a cell whose text starts with
one of FORMULA_STARTS ('=HYPERLINK(...)' typed as an authority's name, a caveat, a category
label) must reach a spreadsheet as text, never as a live formula. In CSV an apostrophe goes in
front (``protect``) and the importers take it off again (``unprotect``); in XLSX the cell is
typed as a string and quote-prefixed (``keep_as_text``), so the text itself is unchanged.
"""

from __future__ import annotations

from typing import Any, TypeVar

# Characters a spreadsheet reads as the start of a formula. Each is one character, so a
# cell's first character decides (FORMULA_FIRST, for loops over millions of cells).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_FIRST = frozenset(FORMULA_STARTS)

_Cell = TypeVar("_Cell")


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet would read ``text`` as the start of a formula."""
    return text[:1] in FORMULA_FIRST


def protect(cell: Any) -> Any:
    """Stop a spreadsheet running a CSV cell as a formula ('=HYPERLINK(...)' in an imported
    name); anything but text that looks like a formula comes back as it was. The importers
    take the apostrophe off again (``unprotect``)."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def unprotect(cell: str) -> str:
    """Undo the apostrophe an export puts before a cell that looks like a formula."""
    if cell.startswith("'") and cell[1:2] and cell[1:2] in FORMULA_STARTS:
        return cell[1:]
    return cell


def keep_as_text(cell: _Cell) -> _Cell:
    """An XLSX cell holding text made text whatever the text says; returns the cell.

    openpyxl stores any string starting "=" as a formula, so the type is set to string after
    the value: the file then holds the text exactly, as a string, never a formula. Text a
    spreadsheet would read as a formula also gets the "quote prefix" style, which Excel gives
    a cell typed as '=...: shown as written, and still text if someone edits it. The text is
    not changed (no apostrophe, unlike CSV), so a template read back matches its labels.
    """
    # Any cell object with openpyxl's value, data_type and quotePrefix (Cell, WriteOnlyCell);
    # typed loosely so that this module needs no openpyxl.
    target: Any = cell
    if isinstance(target.value, str):
        target.data_type = "s"
        if target.value.startswith(FORMULA_STARTS):
            target.quotePrefix = True
    return cell
