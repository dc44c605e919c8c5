"""The aggregate as CSV, JSON or a text table."""

from __future__ import annotations

import csv
import json
from typing import Any, TextIO

from foitrack.domain.csv_safety import protect
from foitrack.domain.phrasing import number, per_words, percent
from foitrack.exporters.text_table import write_aligned

# Scripts rely on the first ten columns in this order; later ones may be added.
CSV_COLUMNS = (
    "measure", "period", "dimension", "category", "total", "lower_bound", "upper_bound",
    "share_where_recorded", "authorities_with_figure", "authorities_asked",
    "level", "exact", "suppressed", "not_recorded", "not_held", "withheld", "not_provided",
    "no_reply", "recorded_total",
    # Rates (issue 18): per ``rate_per`` of the measure's ``rate_base``, over the
    # ``rate_authorities`` that gave a usable figure and have a population; empty where the
    # measure is not rated, for period groups, and where no such authority exists.
    "population", "rate", "population_year", "population_years", "population_nearest",
    "rate_per", "rate_base", "rate_authorities", "rate_total", "rate_lower", "rate_upper",
    # Of those with no figure, the ones that refused (no_reply counts only the silent ones).
    "refused",
)
# The by-authority rows: `aggregate --by-authority` and the JSON's "by_authority".
AUTHORITY_CSV_COLUMNS = (
    "authority", "name", "measure", "period", "dimension", "category", "kind", "value", "lower",
    "upper", "rank", "ranked", "caveat", "population", "population_year", "population_nearest",
    "rate", "rate_rank", "rate_ranked", "rate_note",
)
RATE_PLACES = 1  # rates are published to one decimal place ("9.5 per 100,000 people")


def published_rate(rate: float | None) -> float | None:
    """A rate as exports give it: to one decimal place."""
    return None if rate is None else round(rate, RATE_PLACES)


def _flag(flag: bool, given: bool) -> bool | None:
    """A yes/no that only means something when ``given`` (None otherwise: an empty cell)."""
    return flag if given else None


def _cell(value: Any) -> Any:
    """A value as a CSV cell: true/false for a yes/no (as Table Schema reads them), and a
    spreadsheet formula made text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return protect(value)


def main_year(row: Any) -> int | None:
    """The one mid-year a row's population is of; of several (some authority fell back on its
    nearest year), the period's own if used, else the earliest."""
    years = row.population_years
    if not years:
        return None
    own = [year for year in years if year not in row.nearest_years]
    return (own or list(years))[0]


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
        "population": row.population,
        "rate": published_rate(row.rate),
        "population_year": main_year(row),
        "population_years": " | ".join(map(str, row.population_years)) or None,
        "population_nearest": _flag(row.population_nearest, row.population is not None),
        "rate_per": row.rate_per or None,
        "rate_base": row.rate_base or None,
        "rate_authorities": row.rate_authorities if row.rate_per else None,
        "rate_total": row.rate_total,
        "rate_lower": published_rate(row.rate_lower),
        "rate_upper": published_rate(row.rate_upper),
        "refused": row.refused,
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
        "population": row.population, "population_year": row.population_year,
        "population_nearest": _flag(row.population_nearest, row.population is not None),
        "rate": published_rate(row.rate), "rate_rank": row.rate_rank,
        "rate_ranked": row.rate_ranked, "rate_note": row.rate_note,
    }


def write_csv(result: Any, out: TextIO) -> None:
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    # Category and group labels are typed by people ("=Instagram" is a label like another).
    writer.writerows({key: _cell(value) for key, value in row_dict(row).items()}
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


def _what(cell: Any) -> str:
    """A cell as a table names it: "total", or "platform: Instagram"."""
    return "total" if cell.level == "total" else f"{cell.dimension}: {cell.category}"


def write_table(result: Any, out: TextIO) -> None:
    header = ("MEASURE", "PERIOD", "CATEGORY", "TOTAL", "BOUNDS", "SHARE", "COVERAGE", "RATE")
    lines = [header]
    pers: set[tuple[int, str]] = set()
    nearest = False
    for row in result.rows:
        cell = row.cell
        what = _what(cell)
        bounds = "" if row.lower_bound == row.upper_bound else \
            f"{number(row.lower_bound)}-{number(row.upper_bound)}"
        share = "" if row.share_where_recorded is None else percent(row.share_where_recorded, 1)
        rate = ""
        if row.rate is not None:
            rate = f"{row.rate:,.{RATE_PLACES}f}" + ("*" if row.population_nearest else "")
            pers.add((row.rate_per, row.rate_base))
            nearest = nearest or row.population_nearest
        lines.append((cell.measure, cell.period, what, number(row.total), bounds, share,
                      row.coverage, rate))
    write_aligned(lines, out)
    who = result.subset or "all authorities"
    out.write(f"({who}; {result.asked} asked{'; checked figures only' if result.checked_only else ''})\n")
    if pers:
        out.write(f"(rate: {' or '.join(per_words(per, base) for per, base in sorted(pers))}, over "
                  "the authorities with a figure and a population"
                  + ("; * a population estimate of another year than the period's" if nearest
                     else "") + ")\n")


def authority_rows_csv(result: Any, out: TextIO) -> None:
    """The by-authority rows (`aggregate --by-authority --format csv`)."""
    writer = csv.DictWriter(out, fieldnames=AUTHORITY_CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({key: _cell(value) for key, value in authority_dict(row).items()}
                     for row in result.authorities)


def authority_rows_json(result: Any, out: TextIO) -> None:
    json.dump({
        "campaign": result.campaign_slug,
        "authorities": result.subset or "all",
        "checked_only": result.checked_only,
        "by_authority": [authority_dict(row) for row in result.authorities],
    }, out, indent=2, ensure_ascii=False)
    out.write("\n")


def authority_rows_table(result: Any, out: TextIO) -> None:
    header = ("AUTHORITY", "MEASURE", "PERIOD", "CATEGORY", "VALUE", "RANK", "POPULATION",
              "YEAR", "RATE", "RATE RANK", "NOTE")
    lines = [header]
    for row in result.authorities:
        cell = row.cell
        what = _what(cell)
        value = (number(row.value) if row.value is not None
                 else f"{row.lower}-{row.upper}" if row.kind == "suppressed" else row.kind)
        lines.append((
            row.name, cell.measure, cell.period, what, value,
            "" if row.rank is None else f"{row.rank} of {row.ranked}",
            "" if row.population is None else number(row.population),
            "" if row.population_year is None
            else f"{row.population_year}{'*' if row.population_nearest else ''}",
            "" if row.rate is None else f"{row.rate:,.{RATE_PLACES}f}",
            "" if row.rate_rank is None else f"{row.rate_rank} of {row.rate_ranked}",
            row.rate_note or "",
        ))
    write_aligned(lines, out)
    nearest = any(row.population_nearest for row in result.authorities)
    out.write(f"({result.subset or 'all authorities'}; {len(result.authorities)} figures"
              f"{'; checked figures only' if result.checked_only else ''}"
              f"{'; * the nearest year with an estimate' if nearest else ''})\n")


WRITERS = {"csv": write_csv, "json": write_json, "table": write_table}
AUTHORITY_WRITERS = {"csv": authority_rows_csv, "json": authority_rows_json,
                     "table": authority_rows_table}
