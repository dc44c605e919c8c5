"""The response template: an XLSX an authority fills in, one cell per measure x period x category.

Plain data in, a workbook out (no database). The layout is fixed so that a filled template can
be read back cell by cell; a hidden sheet carries the campaign, the authority and the layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from foitrack.domain.csv_safety import keep_as_text

SHEET = "Figures"
META_SHEET = "foitrack"
LAYOUT = "foitrack-response-template-1"
HEADER_ROW = 12
COLUMNS = ("Measure", "Period", "Breakdown", "Category", "Figure", "Note from the authority",
           "measure key", "period key", "dimension key")
VALUE_COLUMN = "E"
NOTE_COLUMN = "F"
INSTRUCTIONS = (
    "Please give one figure in each yellow cell of column E.",
    "Write a whole number (0 if there were none). If a number is withheld or not known, write one "
    "of: <5 (or another threshold), 1-4, not recorded, not held, withheld s.NN (the exemption), "
    "not provided.",
    "Column F is for any note on a figure (for example 'based on a keyword search').",
    "Please do not move, add or delete rows or columns: the figures are read back cell by cell.",
)


@dataclass(frozen=True)
class TemplateRow:
    measure_key: str
    measure_label: str
    period_key: str
    period_label: str
    dimension_key: str | None
    dimension_label: str | None
    category: str | None  # None: the total


@dataclass(frozen=True)
class TemplateInfo:
    campaign_slug: str
    campaign_title: str
    authority_slug: str
    authority_name: str
    reference: str | None
    rows: Sequence[TemplateRow]


# Excel cannot check a pattern, so this accepts whole numbers and the coded values' shapes;
# foitrack checks each value properly when the file comes back.
_ALLOWED = (
    'OR(AND(ISNUMBER({c}),{c}>=0,{c}=INT({c})),LEFT({c},1)="<",ISNUMBER(SEARCH("-",{c})),'
    '{c}="*",LOWER({c})="not recorded",LOWER({c})="not held",LOWER({c})="not provided",'
    'LEFT(LOWER({c}),8)="withheld")'
)


def _text_at(sheet: Any, where: str, value: str) -> None:
    sheet[where] = value
    keep_as_text(sheet[where])


def write_template(info: TemplateInfo, out: BinaryIO) -> None:
    """Write the response template for one authority to ``out``."""
    book = Workbook()
    sheet = book.active
    assert isinstance(sheet, Worksheet)  # a new workbook opens on one ordinary worksheet
    sheet.title = SHEET
    bold = Font(bold=True)
    # Every text cell is kept as text (keep_as_text): the title, the authority's name, the
    # reference and the labels are typed by people, and this file goes to the authority.
    _text_at(sheet, "A1", f"Freedom of Information request: {info.campaign_title}")
    sheet["A1"].font = Font(bold=True, size=14)
    _text_at(sheet, "A2", "Authority")
    _text_at(sheet, "B2", info.authority_name)
    _text_at(sheet, "A3", "Your reference")
    _text_at(sheet, "B3", info.reference or "")
    sheet["A2"].font = sheet["A3"].font = bold
    for offset, line in enumerate(INSTRUCTIONS):
        cell = keep_as_text(sheet.cell(row=5 + offset, column=1, value=line))
        cell.alignment = Alignment(wrap_text=False)
    for index, title in enumerate(COLUMNS, start=1):
        cell = keep_as_text(sheet.cell(row=HEADER_ROW, column=index, value=title))
        cell.font = bold
    fill = PatternFill("solid", fgColor="FFF2CC")
    first = HEADER_ROW + 1
    for offset, row in enumerate(info.rows):
        number = first + offset
        values = (row.measure_label, row.period_label, row.dimension_label or "",
                  row.category or "Total", None, None, row.measure_key, row.period_key,
                  row.dimension_key or "")
        for index, value in enumerate(values, start=1):
            keep_as_text(sheet.cell(row=number, column=index, value=value))
        for column in (VALUE_COLUMN, NOTE_COLUMN):
            cell = sheet[f"{column}{number}"]
            cell.fill = fill
            cell.protection = Protection(locked=False)
    last = first + len(info.rows) - 1
    if info.rows:
        check = DataValidation(
            type="custom", formula1=_ALLOWED.format(c=f"{VALUE_COLUMN}{first}"), allow_blank=True,
            showErrorMessage=True, errorTitle="Not a figure",
            error="Write a whole number, or <5, 1-4, not recorded, not held, withheld s.NN or "
                  "not provided.",
        )
        check.add(f"{VALUE_COLUMN}{first}:{VALUE_COLUMN}{last}")
        sheet.add_data_validation(check)
    for column, width in zip("ABCDEFGHI", (48, 14, 22, 22, 12, 40, 14, 12, 14), strict=True):
        sheet.column_dimensions[column].width = width
    for column in "GHI":  # the keys foitrack reads back; hidden from the authority
        sheet.column_dimensions[column].hidden = True
    sheet.freeze_panes = f"A{first}"
    # Protected without a password: a guard against moving rows by accident, not a lock.
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False

    meta = book.create_sheet(META_SHEET)
    facts: tuple[tuple[str, str | int], ...] = (
        ("layout", LAYOUT), ("campaign", info.campaign_slug), ("authority", info.authority_slug),
        ("header_row", HEADER_ROW), ("rows", len(info.rows)),
    )
    for number, (key, fact) in enumerate(facts, start=1):
        keep_as_text(meta.cell(row=number, column=1, value=key))
        keep_as_text(meta.cell(row=number, column=2, value=fact))
    meta.sheet_state = "hidden"
    book.save(out)
