"""The aggregate as CSV, JSON or a text table."""

from __future__ import annotations

import csv
import json
from typing import Any, TextIO

from foitrack.domain.csv_safety import protect
from foitrack.domain.phrasing import number, percent

# Scripts rely on the first ten columns in this order; later ones may be added.
CSV_COLUMNS = (
    "measure", "period", "dimension", "category", "total", "lower_bound", "upper_bound",
    "share_where_recorded", "authorities_with_figure", "authorities_asked",
    "level", "exact", "suppressed", "not_recorded", "not_held", "withheld", "not_provided",
    "no_reply", "recorded_total",
)


def row_dict(row: Any) -> dict[str, Any]:
    cell = row.cell
    share = row.share_where_recorded
    return {
        "measure": cell.measure,
        "period": cell.period,
        "dimension": cell.dimension or "",
        "category": cell.category or "",
        "total": row.total,
        "lower_bound": row.lower_bound,
        "upper_bound": row.upper_bound,
        "share_where_recorded": "" if share is None else round(share, 6),
        "authorities_with_figure": row.with_figure,
        "authorities_asked": row.asked,
        "level": cell.level,
        **{kind: count for kind, count in row.counts.items()},
        "no_reply": row.no_reply,
        "recorded_total": "" if row.denominator is None else row.denominator,
    }


def change_dict(change: Any) -> dict[str, Any]:
    return {
        "measure": change.measure, "dimension": change.dimension or "",
        "category": change.category or "", "level": change.level,
        "from_period": change.from_period, "to_period": change.to_period,
        "from_total": change.from_total, "to_total": change.to_total, "change": change.change,
        "change_ratio": None if change.change_ratio is None else round(change.change_ratio, 6),
        "panel_size": change.panel_size, "panel_from": change.panel_from,
        "panel_to": change.panel_to, "panel_change": change.panel_change,
        "panel_ratio": None if change.panel_ratio is None else round(change.panel_ratio, 6),
    }


def authority_dict(row: Any) -> dict[str, Any]:
    return {
        "authority": row.code or row.slug, "name": row.name, "measure": row.cell.measure,
        "period": row.cell.period, "dimension": row.cell.dimension or "",
        "category": row.cell.category or "", "kind": row.kind, "value": row.value,
        "lower": row.lower, "upper": row.upper, "rank": row.rank, "ranked": row.ranked,
        "caveat": row.caveat or "",
    }


def write_csv(result: Any, out: TextIO) -> None:
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    # Category and group labels are typed by people ("=Instagram" is a label like another).
    writer.writerows({key: protect(value) for key, value in row_dict(row).items()}
                     for row in result.rows)


def write_json(result: Any, out: TextIO) -> None:
    json.dump({
        "campaign": result.campaign_slug,
        "authorities": result.subset or "all",
        "checked_only": result.checked_only,
        "authorities_asked": result.asked,
        "rows": [row_dict(row) for row in result.rows],
        "changes": [change_dict(change) for change in result.changes],
        "by_authority": [authority_dict(row) for row in result.authorities],
    }, out, indent=2, ensure_ascii=False)
    out.write("\n")


def write_table(result: Any, out: TextIO) -> None:
    header = ("MEASURE", "PERIOD", "CATEGORY", "TOTAL", "BOUNDS", "SHARE", "COVERAGE")
    lines = [header]
    for row in result.rows:
        cell = row.cell
        what = "total" if cell.level == "total" else f"{cell.dimension}: {cell.category}"
        bounds = "" if row.lower_bound == row.upper_bound else \
            f"{number(row.lower_bound)}-{number(row.upper_bound)}"
        share = "" if row.share_where_recorded is None else percent(row.share_where_recorded, 1)
        lines.append((cell.measure, cell.period, what, number(row.total), bounds, share,
                      row.coverage))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        out.write("  ".join(value.ljust(widths[i]) for i, value in enumerate(line)).rstrip() + "\n")
    who = result.subset or "all authorities"
    out.write(f"({who}; {result.asked} asked{'; checked figures only' if result.checked_only else ''})\n")


WRITERS = {"csv": write_csv, "json": write_json, "table": write_table}
