"""A series' table and its revisions as CSV, JSON or a text table (`foitrack series ...`)."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from typing import Any, TextIO

from foitrack.domain.csv_safety import protect
from foitrack.domain.phrasing import number
from foitrack.domain.series_table import Revision, SeriesChange, SeriesTable

NATIONAL_NAME = "All authorities with a figure"
COVERAGE_NAME = "Authorities with a figure"
REVISION_COLUMNS = ("authority_code", "authority", "measure", "period", "period_start",
                    "period_end", "earlier_campaign", "earlier_value", "later_campaign",
                    "later_value")


def _cell_text(table: SeriesTable, row: Any, period: Any) -> str:
    cell = row.cell(period)
    return "" if cell is None else cell.text


def write_csv(table: SeriesTable, out: TextIO) -> None:
    """authority_code, authority, then one column per period (by its label, in time order);
    then the national total over the authorities with an exact figure and, last, how many
    authorities those are (the total's coverage: 104 from 2 of 3 is not 104 from 3)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["authority_code", "authority", *(protect(p.label) for p in table.periods)])
    for row in table.rows:
        writer.writerow([protect(row.authority.code or ""), protect(row.authority.name),
                         *(protect(_cell_text(table, row, p)) for p in table.periods)])
    writer.writerow(["", NATIONAL_NAME, *(str(point.total) for point in table.national)])
    writer.writerow(["", COVERAGE_NAME, *(str(point.authorities) for point in table.national)])


def change_dict(change: SeriesChange) -> dict[str, Any]:
    return {"from_period": change.from_period.label, "to_period": change.to_period.label,
            "panel_size": change.panel_size, "panel_from": change.panel_from,
            "panel_to": change.panel_to, "change": change.change,
            "ratio": None if change.ratio is None else round(change.ratio, 4),
            "comparable": change.comparable}


def revision_dict(revision: Revision) -> dict[str, Any]:
    return {"authority_code": revision.authority.code, "authority": revision.authority.name,
            "authority_slug": revision.authority.slug, "measure": revision.measure,
            "period": revision.period_label, "period_start": revision.start.isoformat(),
            "period_end": revision.end.isoformat(), "earlier_campaign": revision.earlier.slug,
            "earlier_value": revision.earlier_text, "later_campaign": revision.later.slug,
            "later_value": revision.later_text, "text": revision.sentence,
            "used": revision.used}


def table_dict(table: SeriesTable) -> dict[str, Any]:
    return {
        "series": table.slug, "name": table.name,
        "measure": {"key": table.measure, "label": table.measure_label},
        "campaigns": [{"slug": c.slug, "title": c.title} for c in table.campaigns],
        "periods": [{"label": p.label, "start": p.start.isoformat(), "end": p.end.isoformat(),
                     "campaign": p.campaign, "asked_by": list(p.asked_by)}
                    for p in table.periods],
        "authorities": [
            {"code": row.authority.code, "slug": row.authority.slug, "name": row.authority.name,
             "values": {p.label: (None if (cell := row.cell(p)) is None else
                                  {"kind": cell.kind, "value": cell.value, "text": cell.text,
                                   "campaign": cell.campaign, "revised": cell.revised})
                        for p in table.periods}}
            for row in table.rows],
        "national": [{"period": point.period.label, "total": point.total,
                      "authorities": point.authorities, "asked": point.asked}
                     for point in table.national],
        "changes": [change_dict(change) for change in table.changes],
        "revisions": [revision_dict(revision) for revision in table.revisions],
    }


def write_json(table: SeriesTable, out: TextIO) -> None:
    json.dump(table_dict(table), out, indent=2, ensure_ascii=False)
    out.write("\n")


def change_line(change: SeriesChange) -> str:
    """"2017/18 to 2018/19, the 38 authorities with figures for both: 3,217 to 4,373 (+1,156,
    x1.36)"."""
    if not change.panel_size:
        return (f"{change.from_period.label} to {change.to_period.label}: no authority gave "
                "exact figures for both")
    ratio = "" if change.ratio is None else f", x{change.ratio:.2f}"
    note = "" if change.comparable else " (periods of different lengths: not comparable)"
    return (f"{change.from_period.label} to {change.to_period.label}, the {change.panel_size} "
            f"with exact figures for both: {number(change.panel_from)} to "
            f"{number(change.panel_to)} ({change.change:+,}{ratio}){note}")


def write_table(table: SeriesTable, out: TextIO) -> None:
    """The table for reading in a terminal: authorities, the national line, where each
    period's figures come from, the changes and the revisions."""
    out.write(f"{table.name} ({table.slug}): {table.measure_label}\n\n")
    header = ["Authority", *(p.label for p in table.periods)]
    lines = [[row.authority.name, *(_cell_text(table, row, p) for p in table.periods)]
             for row in table.rows]
    national = [NATIONAL_NAME, *(number(point.total) for point in table.national)]
    widths = [max(len(line[i]) for line in (header, *lines, national)) for i in range(len(header))]

    def emit(line: list[str]) -> None:
        out.write("  ".join(text.ljust(w) if i == 0 else text.rjust(w)
                            for i, (text, w) in enumerate(zip(line, widths, strict=True)))
                  .rstrip() + "\n")

    emit(header)
    for line in lines:
        emit(line)
    emit(national)
    out.write("\n")
    for point in table.national:
        period = point.period
        others = [slug for slug in period.asked_by if slug != period.campaign]
        out.write(f"{period.label}: {number(point.total)} from {point.authorities} of "
                  f"{point.asked} asked; figures from {period.campaign}"
                  + (f" (also asked by {', '.join(others)})" if others else "") + "\n")
    if table.changes:
        out.write("\nChanges on matched panels:\n")
        for change in table.changes:
            out.write(f"  {change_line(change)}\n")
    if table.revisions:
        out.write("\nRevisions:\n")
        for revision in table.revisions:
            out.write(f"  {revision_line(revision)}\n")
    if table.later_refusals:
        out.write("\nLater refused or not recorded (the earlier figure stands; not revisions):\n")
        for refusal in table.later_refusals:
            out.write(f"  {refusal.authority.name}, {refusal.period_label}, {refusal.measure}: "
                      f"{refusal.sentence}.\n")


def revision_line(revision: Revision) -> str:
    return (f"{revision.authority.name}, {revision.period_label}, {revision.measure}: "
            f"{revision.sentence}. {revision.used}.")


def revisions_csv(revisions: list[Revision], out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REVISION_COLUMNS)
    for revision in revisions:
        row = revision_dict(revision)
        writer.writerow([protect(str(row[column] or "")) for column in REVISION_COLUMNS])


def revisions_json(revisions: list[Revision], out: TextIO) -> None:
    json.dump([revision_dict(r) for r in revisions], out, indent=2, ensure_ascii=False)
    out.write("\n")


def revisions_table(revisions: list[Revision], out: TextIO) -> None:
    if not revisions:
        out.write("No revisions: no authority answered a period differently when asked again.\n")
    for revision in revisions:
        out.write(revision_line(revision) + "\n")


WRITERS: dict[str, Callable[[SeriesTable, TextIO], None]] = {
    "csv": write_csv, "json": write_json, "table": write_table}
REVISION_WRITERS: dict[str, Callable[[list[Revision], TextIO], None]] = {
    "csv": revisions_csv, "json": revisions_json, "table": revisions_table}
