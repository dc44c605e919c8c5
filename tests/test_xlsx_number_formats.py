"""The XLSX shows counts with thousands separators and shares as percentages (issue 16, point
9), storing the same numbers as before; the CSV is unchanged."""

from __future__ import annotations

import io

import openpyxl

from foitrack.exporters.dataset import Column, Dataset, Table, write_csv, write_xlsx

COLUMNS = (Column("measure", "string", "the measure's key"),
           Column("total", "integer", "the total"),
           Column("share_where_recorded", "number", "share of the recorded total (0 to 1)"),
           Column("rate", "number", "per 100,000 residents"),
           Column("population_year", "integer", "the mid-year of the population estimate"),
           Column("line", "integer", "the release line"))
ROWS = [{"measure": "offences", "total": 1480, "share_where_recorded": 0.123, "rate": 2.5,
         "population_year": 2019, "line": 1},
        {"measure": "offences", "total": None, "share_where_recorded": None, "rate": None,
         "population_year": None, "line": 2}]


def _table() -> Table:
    return Table("aggregate", "Aggregate", "totals", COLUMNS, lambda: iter(ROWS))


def test_counts_and_shares_have_number_formats():
    out = io.BytesIO()
    write_xlsx(Dataset("grooming-2019", "Grooming", [], [_table()]), out)
    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue()))["Aggregate"]
    header = [cell.value for cell in sheet[1]]
    assert header == [c.name for c in COLUMNS]  # the column names do not change
    row = {name: cell for name, cell in zip(header, sheet[2], strict=True)}
    assert row["total"].value == 1480 and row["total"].number_format == "#,##0"
    assert row["share_where_recorded"].value == 0.123  # a fraction, shown as 12.3%
    assert row["share_where_recorded"].number_format == "0.0%"
    assert row["population_year"].number_format == "General"  # not "2,019"
    assert row["line"].number_format == "General"
    assert row["rate"].value == 2.5
    assert [cell.value for cell in sheet[3]][1:] == [None, None, None, None, 2]


def test_the_csv_is_unchanged():
    out = io.StringIO()
    write_csv(_table(), out, for_spreadsheets=False)
    assert out.getvalue().splitlines() == [
        "measure,total,share_where_recorded,rate,population_year,line",
        "offences,1480,0.123,2.5,2019,1",
        "offences,,,,,2",
    ]
