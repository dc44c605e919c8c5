"""Population estimates as CSV, JSON or an aligned text table (`authorities population list`)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any, TextIO

from foitrack.domain.csv_safety import protect
from foitrack.domain.phrasing import number
from foitrack.exporters.text_table import write_aligned

# The first five are the columns `authorities population import` reads, so a listed file
# imports back (the extra columns aside).
CSV_COLUMNS = ("authority", "year", "population", "base", "source", "name", "slug", "origin")
TABLE_COLUMNS = ("authority", "name", "base", "year", "population", "origin")


def write_csv(rows: Iterable[Any], out: TextIO) -> None:
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        values = asdict(row)
        writer.writerow({column: protect(values[column]) for column in CSV_COLUMNS})


def write_json(rows: Iterable[Any], out: TextIO) -> None:
    json.dump([{column: asdict(row)[column] for column in CSV_COLUMNS} for row in rows], out,
              ensure_ascii=False, indent=2)
    out.write("\n")


def write_table(rows: Iterable[Any], out: TextIO) -> None:
    lines = [tuple(column.upper() for column in TABLE_COLUMNS)]
    for row in rows:
        lines.append((row.authority, row.name, row.base, str(row.year), number(row.population),
                      row.origin))
    write_aligned(lines, out)
    count = len(lines) - 1
    out.write(f"({count} {'estimate' if count == 1 else 'estimates'})\n")


WRITERS = {"csv": write_csv, "json": write_json, "table": write_table}
