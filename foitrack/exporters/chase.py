"""The chase list as CSV, JSON or a text table."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import Any, TextIO

from foitrack.domain.csv_safety import protect

COLUMNS = (
    "authority", "code", "campaign", "due", "working_days_late", "lateness", "last_chased",
    "reference", "status",
)


def chase_row(row: Any) -> dict[str, Any]:
    return {
        "authority": row.authority_name,
        "code": row.authority_code,
        "campaign": row.campaign_slug,
        "due": row.due.isoformat() if row.due else "",
        "working_days_late": row.working_days_late,
        "lateness": row.lateness.value,
        "last_chased": row.last_chased.isoformat() if row.last_chased else "",
        "reference": row.reference,
        "status": row.status.value,
    }


def write_csv(rows: Iterable[Any], out: TextIO) -> None:
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({k: protect(v) for k, v in chase_row(row).items()} for row in rows)


def write_json(rows: Iterable[Any], out: TextIO) -> None:
    json.dump([chase_row(row) for row in rows], out, indent=2, ensure_ascii=False)
    out.write("\n")


def write_table(rows: Iterable[Any], out: TextIO) -> None:
    flat = [chase_row(row) for row in rows]
    shown = ("authority", "campaign", "due", "working_days_late", "lateness", "last_chased")
    headers = {"working_days_late": "DAYS LATE"}
    widths = {c: max([len(headers.get(c, c)), *(len(str(r[c])) for r in flat)]) for c in shown}
    out.write("  ".join(headers.get(c, c).upper().ljust(widths[c]) for c in shown).rstrip() + "\n")
    for row in flat:
        out.write("  ".join(str(row[c]).ljust(widths[c]) for c in shown).rstrip() + "\n")
    out.write(f"({len(flat)} late {'request' if len(flat) == 1 else 'requests'})\n")


WRITERS = {"csv": write_csv, "json": write_json, "table": write_table}
