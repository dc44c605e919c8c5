"""Consistency findings as CSV, JSON or an aligned text table."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import Any, TextIO

from foitrack.domain.csv_safety import protect

# Scripts rely on these seven columns in this order; more may be added at the end.
CSV_COLUMNS = ("authority", "measure", "period", "dimension", "category", "check", "detail",
               "explanation")


def finding_row(finding: Any) -> dict[str, Any]:
    """A finding as plain values: the authority by its code (its slug when it has none)."""
    return {
        "authority": finding.authority_code or finding.authority,
        "measure": finding.measure,
        "period": finding.period,
        "dimension": finding.dimension or "",
        "category": finding.category or "",
        "check": finding.check,
        "detail": finding.detail,
        "explanation": finding.explanation or "",
    }


def write_csv(findings: Iterable[Any], out: TextIO) -> None:
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({k: protect(v) for k, v in finding_row(f).items()} for f in findings)


def write_json(findings: Iterable[Any], out: TextIO) -> None:
    json.dump([{**finding_row(f), "authority_slug": f.authority, "authority_name": f.authority_name,
                "key": f.key, "open": f.is_open, "explained_by": f.explained_by,
                "explained_at": f.explained_at.isoformat() if f.explained_at else None}
               for f in findings], out, ensure_ascii=False, indent=2)
    out.write("\n")


def write_table(findings: Iterable[Any], out: TextIO) -> None:
    found = list(findings)
    shown = ("authority", "cell", "check", "status", "detail")
    rows = [{"authority": f.authority_name, "cell": f.cell, "check": f.check,
             "status": "open" if f.is_open else "explained", "detail": f.detail} for f in found]
    widths = {c: max([len(c), *(len(r[c]) for r in rows)]) for c in shown}
    out.write("  ".join(c.upper().ljust(widths[c]) for c in shown).rstrip() + "\n")
    for row in rows:
        out.write("  ".join(row[c].ljust(widths[c]) for c in shown).rstrip() + "\n")
    still = sum(1 for f in found if f.is_open)
    out.write(f"({len(found)} {'finding' if len(found) == 1 else 'findings'}, {still} open)\n")


WRITERS = {"csv": write_csv, "json": write_json, "table": write_table}
