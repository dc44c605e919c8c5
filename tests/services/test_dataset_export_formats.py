"""The one place a dataset format name picks its exporter (services.datasets.write_export),
shared by the download page and the API, and the names exports are saved under."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import pytest
from openpyxl import load_workbook

from foitrack.exporters.dataset import Column, Dataset, Table
from foitrack.services.datasets import CSV_TABLES, EXPORT_FORMATS, export_filename, write_export

DAY = dt.date(2026, 12, 3)


def _dataset() -> Dataset:
    rows = [{"authority_code": "E23000016", "value": 12}]
    columns = (Column("authority_code", "string", "The authority's ONS code."),
               Column("value", "integer", "The figure."))
    return Dataset(slug="knives", title="Knife crime", methods=["One paragraph."], created=DAY,
                   licenses=[], sources=[],
                   tables=[Table("figures", "Figures", "Every figure.", columns,
                                 lambda: iter(rows))])


def _written(fmt: str) -> bytes:
    out = io.BytesIO()
    write_export(_dataset(), fmt, out, "figures")
    return out.getvalue()


def test_every_format_has_a_media_type_and_a_name():
    assert set(EXPORT_FORMATS) == {"csv", "xlsx", "json", "zip"}
    assert CSV_TABLES == ("figures", "aggregate", "tracker", "coverage", "changes",
                          "reference_figures")
    assert [export_filename("knives", fmt, "tracker", DAY) for fmt in EXPORT_FORMATS] == [
        "knives-tracker-2026-12-03.csv", "knives-2026-12-03.xlsx", "knives-2026-12-03.json",
        "knives-datapackage-2026-12-03.zip"]


def test_csv_is_one_table_with_a_byte_order_mark():
    assert _written("csv").decode("utf-8") == "\ufeffauthority_code,value\r\nE23000016,12\r\n"


def test_json_xlsx_and_zip_hold_the_dataset():
    assert json.loads(_written("json"))["campaign"] == "knives"
    assert "Figures" in load_workbook(io.BytesIO(_written("xlsx"))).sheetnames
    names = zipfile.ZipFile(io.BytesIO(_written("zip"))).namelist()
    assert "knives/datapackage.json" in names and all(n.startswith("knives/") for n in names)


def test_an_unknown_format_is_refused():
    with pytest.raises(KeyError):
        write_export(_dataset(), "ods", io.BytesIO())
