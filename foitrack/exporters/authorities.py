"""The authority list as CSV, JSON or an aligned text table."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import Any, TextIO

from foitrack.domain.csv_safety import protect

# Scripts rely on these first six columns in this order; later columns may be added.
CSV_COLUMNS = (
    "code",
    "name",
    "short_name",
    "region",
    "country",
    "kind",
    "slug",
    "foi_email",
    "website",
    "former_names",
    "active",
    "sets",
)
TABLE_COLUMNS = ("slug", "code", "name", "region", "kind")


def authority_row(authority: Any) -> dict[str, Any]:
    """An authority as plain values, in CSV column order."""
    return {
        "code": authority.code or "",
        "name": authority.name,
        "short_name": authority.short_name,
        "region": authority.region or "",
        "country": authority.country or "",
        "kind": authority.kind,
        "slug": authority.slug,
        "foi_email": authority.foi_email or "",
        "website": authority.website or "",
        "former_names": list(authority.former_names or []),
        "active": bool(authority.active),
        "sets": [member_of.slug for member_of in authority.sets],
    }


def write_csv(rows: Iterable[dict[str, Any]], out: TextIO) -> None:
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        flat = dict(row)
        flat["former_names"] = " | ".join(row["former_names"])
        flat["sets"] = " | ".join(row["sets"])
        flat["active"] = "yes" if row["active"] else "no"
        writer.writerow({key: protect(value) for key, value in flat.items()})


def write_json(rows: Iterable[dict[str, Any]], out: TextIO) -> None:
    json.dump(list(rows), out, ensure_ascii=False, indent=2)
    out.write("\n")


def write_table(rows: Iterable[dict[str, Any]], out: TextIO) -> None:
    rows = list(rows)
    widths = {
        column: max([len(column), *(len(str(row[column])) for row in rows)])
        for column in TABLE_COLUMNS
    }
    out.write("  ".join(column.upper().ljust(widths[column]) for column in TABLE_COLUMNS).rstrip())
    out.write("\n")
    for row in rows:
        out.write("  ".join(str(row[c]).ljust(widths[c]) for c in TABLE_COLUMNS).rstrip() + "\n")
    out.write(f"({len(rows)} {'authority' if len(rows) == 1 else 'authorities'})\n")


WRITERS = {"csv": write_csv, "json": write_json, "table": write_table}
