"""A campaign's dataset as CSV, XLSX, JSON or a Frictionless Data Package.

Tables come in as described columns and row iterables (no database, no Flask), and are written
as they arrive, so memory stays flat however many figures there are (XLSX in openpyxl's
write-only mode). Each table may name its primary key and foreign keys, which the data package
declares so that a validator checks them and a reader can join the tables.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font

from foitrack.domain.csv_safety import FORMULA_FIRST, keep_as_text, looks_like_formula, protect


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # Table Schema types: string, integer, number, boolean, date
    description: str
    width: int = 14


@dataclass(frozen=True)
class ForeignKey:
    """Columns of one table whose values are a key of another table."""

    fields: tuple[str, ...]
    resource: str
    reference: tuple[str, ...]


@dataclass
class Table:
    name: str
    title: str
    description: str
    columns: tuple[Column, ...]
    rows: Callable[[], Iterable[dict[str, Any]]]  # called once per writer: a fresh iterator
    # Optional, for large tables: the same rows as CSV text cells in column order (None as ""),
    # which the CSV writers pass straight to csv.writer.
    text_rows: Callable[[], Iterable[Sequence[str]]] | None = None
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    in_json: bool = True  # False for a table the JSON document already carries another way


@dataclass
class Dataset:
    slug: str
    title: str
    methods: list[str]
    tables: list[Table] = field(default_factory=list)
    created: dt.date | None = None
    # Data Package "licenses" and "sources": {"name", "path", "title"} and {"title", ...}.
    licenses: list[dict[str, str]] = field(default_factory=list)
    sources: list[dict[str, str]] = field(default_factory=list)

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _csv_rows(table: Table, for_spreadsheets: bool) -> Iterator[Sequence[str]]:
    """A table's rows as CSV cells; for spreadsheets, text that looks like a formula made safe."""
    if table.text_rows is None:
        for values in table.rows():
            yield [protect(_text(values.get(c.name))) if c.type == "string" and for_spreadsheets
                   else _text(values.get(c.name)) for c in table.columns]
        return
    if not for_spreadsheets:
        yield from table.text_rows()
        return
    strings = [i for i, c in enumerate(table.columns) if c.type == "string"]
    for row in table.text_rows():
        if any(row[i][:1] in FORMULA_FIRST for i in strings):
            yield [protect(cell) if i in strings else cell for i, cell in enumerate(row)]
        else:
            yield row


def write_csv(table: Table, out: TextIO, for_spreadsheets: bool = True) -> None:
    """One table as CSV. For spreadsheets: a byte order mark so Excel reads UTF-8, and text
    that looks like a formula made safe; for data packages, the values exactly."""
    if for_spreadsheets:
        out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.name for c in table.columns])
    writer.writerows(_csv_rows(table, for_spreadsheets))


def csv_pieces(header: Sequence[str], rows: Iterable[Sequence[Any]], prefix: str = "",
               piece: int = 64 * 1024) -> Iterator[str]:
    """CSV text (``prefix``, the header, the rows) in pieces of about ``piece`` characters, so
    a streamed download never holds the whole file."""
    buffer = io.StringIO()
    buffer.write(prefix)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
        if buffer.tell() > piece:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def iter_csv(table: Table) -> Iterator[str]:
    """CSV text in chunks, for a streamed download."""
    return csv_pieces([c.name for c in table.columns], _csv_rows(table, for_spreadsheets=True),
                      prefix="\ufeff")


def iter_json(dataset: Dataset) -> Iterator[str]:
    """Everything as one JSON document, in pieces: table by table, row by row."""
    yield "{\n"
    yield f'  "campaign": {json.dumps(dataset.slug)},\n'
    yield f'  "title": {json.dumps(dataset.title, ensure_ascii=False)},\n'
    yield f'  "methods": {json.dumps(dataset.methods, ensure_ascii=False)},\n'
    if dataset.licenses:
        yield f'  "licenses": {json.dumps(dataset.licenses, ensure_ascii=False)},\n'
    tables = [table for table in dataset.tables if table.in_json]
    for index, table in enumerate(tables):
        yield f"  {json.dumps(table.name)}: ["
        first = True
        for row in table.rows():
            item = {c.name: _json_value(row.get(c.name)) for c in table.columns}
            yield ("\n    " if first else ",\n    ") + json.dumps(item, ensure_ascii=False)
            first = False
        yield "\n  ]" if not first else "]"
        yield ",\n" if index < len(tables) - 1 else "\n"
    yield "}\n"


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def write_json(dataset: Dataset, out: TextIO) -> None:
    for piece in iter_json(dataset):
        out.write(piece)


def write_xlsx(dataset: Dataset, out: BinaryIO | str | Path) -> None:
    """A README sheet (the methods note and what each column means), then one sheet a table,
    numbers stored as numbers, header rows frozen, columns sized."""
    book = Workbook(write_only=True)
    readme = book.create_sheet("README")
    readme.column_dimensions["A"].width = 28
    readme.column_dimensions["B"].width = 100
    bold = Font(bold=True)

    wrapped = Alignment(wrap_text=True, vertical="top")

    def cell(sheet: Any, value: Any, font: Font | None = None) -> Any:
        # Text is never a formula here either: the title and the methods note's caveats are
        # typed by people, and openpyxl stores any string starting "=" as a formula.
        return text_cell(sheet, value, font, wrapped)

    readme.append([cell(readme, dataset.title, Font(bold=True, size=14))])
    readme.append([cell(readme, "Campaign", bold), cell(readme, dataset.slug)])
    if dataset.created:
        readme.append([cell(readme, "Exported", bold), cell(readme, dataset.created.isoformat())])
    for licence in dataset.licenses:
        readme.append([cell(readme, "Licence", bold),
                       cell(readme, f"{licence['title']}: {licence['path']}")])
    readme.append([])
    readme.append([cell(readme, "Methods", bold)])
    for line in dataset.methods:
        readme.append([None, cell(readme, line)])
    for table in dataset.tables:
        readme.append([])
        readme.append([cell(readme, f"Sheet '{table.title}'", bold), cell(readme, table.description)])
        for column in table.columns:
            readme.append([cell(readme, column.name),
                           cell(readme, f"{column.description} ({column.type})")])
    for table in dataset.tables:
        sheet = book.create_sheet(table.title[:31])
        for letter, column in zip(_letters(), table.columns, strict=False):
            sheet.column_dimensions[letter].width = column.width
        sheet.freeze_panes = "A2"
        sheet.append([cell(sheet, c.name, bold) for c in table.columns])
        formats = [_number_cell(sheet, spreadsheet_format(c)) for c in table.columns]
        for row in table.rows():
            sheet.append([_xlsx_value(sheet, row.get(c.name), c.type, formatted)
                          for c, formatted in zip(table.columns, formats, strict=True)])
    book.save(out)


# Integer columns that are not counts: a year or a place in a line reads wrong as "2,019".
_NOT_COUNTS = frozenset({"line", "position", "start"})
THOUSANDS = "#,##0"
PERCENT = "0.0%"


def spreadsheet_format(column: Column) -> str | None:
    """How the XLSX shows a column's numbers: counts with thousands separators, shares (kept
    as fractions, 0.123) as percentages ("12.3%"); the value stored, and the CSV and JSON,
    stay as they are."""
    if column.type == "number" and column.name.startswith("share"):
        return PERCENT
    if column.type == "integer" and column.name not in _NOT_COUNTS \
            and not column.name.endswith("year"):
        return THOUSANDS
    return None


def _number_cell(sheet: Any, number_format: str | None) -> Callable[[Any], Any] | None:
    """A maker of number cells shown in ``number_format`` (None: none needed)."""
    if number_format is None:
        return None

    def make(value: Any) -> Any:
        made = WriteOnlyCell(sheet, value=value)
        made.number_format = number_format
        return made
    return make


def _xlsx_value(sheet: Any, value: Any, kind: str,
                formatted: Callable[[Any], Any] | None = None) -> Any:
    if value is None:
        return None
    if kind in ("integer", "number") and not isinstance(value, bool):
        # Stays a number in the sheet, shown in its column's format.
        return formatted(value) if formatted is not None and value != "" else value
    if kind == "date":
        return value
    if kind == "boolean":
        return bool(value)
    text = str(value)
    # Most text goes in as it is (a cell object for each of a million figures would cost);
    # only text a spreadsheet could read as a formula needs the cell made text explicitly.
    return text_cell(sheet, text) if looks_like_formula(text) else text


def text_cell(sheet: Any, value: Any, font: Font | None = None, alignment: Alignment | None = None) -> Any:
    """A write-only sheet's cell, text kept as text (keep_as_text)."""
    made = WriteOnlyCell(sheet, value=value)
    if font is not None:
        made.font = font
    if alignment is not None:
        made.alignment = alignment
    return keep_as_text(made)


def _letters() -> Iterator[str]:
    from openpyxl.utils import get_column_letter

    index = 1
    while True:
        yield get_column_letter(index)
        index += 1


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-") or "dataset"


def table_schema(table: Table) -> dict[str, Any]:
    """A table's Table Schema: its fields, primary key and foreign keys.

    A key's text column keeps "" as a value (the total's empty dimension and category), not as
    a missing one: a primary key must not be missing, and "" is how every table writes "no
    dimension". Elsewhere "" is missing, as the exports have always written it.
    """
    keyed = set(table.primary_key)
    schema: dict[str, Any] = {"fields": [
        {"name": c.name, "type": c.type, "description": c.description,
         **({"missingValues": []} if c.name in keyed and c.type == "string" else {})}
        for c in table.columns
    ]}
    if table.primary_key:
        schema["primaryKey"] = list(table.primary_key)
    if table.foreign_keys:
        schema["foreignKeys"] = [
            {"fields": list(key.fields),
             "reference": {"resource": key.resource, "fields": list(key.reference)}}
            for key in table.foreign_keys
        ]
    return schema


def write_datapackage(dataset: Dataset, folder: Path) -> Path:
    """A Frictionless Data Package: datapackage.json with table schemas (keys included), one CSV
    per table, the methods note as the description, the licence and the sources. Returns the
    path of datapackage.json."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data").mkdir(exist_ok=True)
    resources = []
    for table in dataset.tables:
        path = f"data/{table.name}.csv"
        with (folder / path).open("w", encoding="utf-8", newline="") as handle:
            write_csv(table, handle, for_spreadsheets=False)
        resources.append({
            "name": table.name,
            "path": path,
            "title": table.title,
            "description": table.description,
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "schema": table_schema(table),
        })
    descriptor = {
        "name": _slug(dataset.slug),
        "title": dataset.title,
        "description": "\n".join(dataset.methods),
        "created": (dataset.created or dt.date.today()).isoformat() + "T00:00:00Z",
        **({"licenses": dataset.licenses} if dataset.licenses else {}),
        **({"sources": dataset.sources} if dataset.sources else {}),
        "resources": resources,
    }
    target = folder / "datapackage.json"
    target.write_text(json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return target
