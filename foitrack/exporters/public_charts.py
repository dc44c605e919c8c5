"""The public portal's charts and tile map, drawn from a published release's frozen content only.

A release never changes once published, so its pictures must not either: nothing here reads the
database or the live figures. The frozen tables (aggregate, changes, figures, authorities,
requests, measures, periods, categories: ``services.publishing.freeze``) are read back into the
plain values the app's own charts take (``charts.Outline``, ``domain.aggregate_rows.Aggregate``),
so that a release's charts are drawn by the same code, in the same house style, as the
aggregate page and the fact sheets; and into the readings of the same tile map.

Each chart is shown as an SVG inside the page itself (a ``data:`` image, which the site's
Content-Security-Policy allows), so that a page for a release that is not public yet (a
partner's link) needs no image address of its own, and no image route has to repeat the page's
checks. A page draws its images on its first view (the caller keeps them: a release never
changes), in a process apart (``chart_images.draw_apart``): vl-convert holds the interpreter lock
for a whole drawing, and a visitor's first look at a release must not stall every other request.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from foitrack.domain import tilemap
from foitrack.domain.aggregate_rows import Aggregate, AggregateRow, AuthorityRow, Cell, ChangeRow
from foitrack.domain.design import DesignPeriod
from foitrack.domain.tilemap import Place, Reading, TileMap
from foitrack.exporters import chart_images, charts

# The figure kinds an aggregate row counts (its ``counts``), as the frozen table names them.
KINDS = ("exact", "suppressed", "not_recorded", "not_held", "withheld", "not_provided")
# What a force with no figure in the map's cell answered, as its frozen request says.
NO_FIGURE = {"refused": "refused", "ncnd": "neither confirm nor deny", "not_held": "not held"}


@dataclass(frozen=True)
class Picture:
    """A chart as the portal shows it: its words, and its drawings as ``data:`` URIs (the
    full one, and the one drawn for a phone's column)."""

    chart: charts.Chart
    src: str
    narrow: str


@dataclass(frozen=True)
class ForceMap:
    """The tile map of one figure in a release, with what it shows in words."""

    map: TileMap
    caption: str


def _rows(content: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    """A frozen table's rows as dicts (as ``publishing.table_rows``, which a service holds)."""
    for table in content.get("tables", []):
        if table["name"] == name:
            columns = [column[0] for column in table["columns"]]
            return [dict(zip(columns, row, strict=True)) for row in table["rows"]]
    return []


@cache
def _registry() -> dict[str, dict[str, str]]:
    """The police force registry by code: short names for the bars, kinds for the wording."""
    with tilemap.REGISTRY_FILE.open(encoding="utf-8", newline="") as handle:
        return {row["code"]: row for row in csv.DictReader(handle) if row["code"]}


def outline(content: Mapping[str, Any]) -> charts.Outline:
    """The release's design as the charts need it, from its frozen measures, periods and
    categories. Its authorities are "forces" when every one is a police force in the registry
    (as ``charts.outline`` decides from the live authorities' kinds)."""
    registry = _registry()
    codes = [row["code"] for row in _rows(content, "authorities")]
    police = bool(codes) and all(registry.get(code, {}).get("kind") in charts.POLICE_KINDS
                                 for code in codes)
    periods = sorted((DesignPeriod(row["period"], row["label"], _date(row["start"]),
                                   _date(row["end"]))
                      for row in _rows(content, "periods") if row["kind"] == "period"),
                     key=lambda p: (p.start, p.end))
    dimensions: dict[str, tuple[str, list[str]]] = {}
    for row in _rows(content, "categories"):
        if row["level"] == "category":
            dimensions.setdefault(row["dimension"], (row["dimension_label"] or row["dimension"],
                                                     []))[1].append(row["category"])
    campaign = content["campaign"]
    return charts.Outline(
        slug=campaign["slug"], title=campaign["title"],
        bodies="forces" if police else "authorities",
        measures=tuple(charts.MeasureInfo(row["measure"], row["label"],
                                          row["unit"] or row["label"])
                       for row in _rows(content, "measures")),
        periods=tuple(periods),
        dimensions=tuple(charts.DimensionInfo(key, label, tuple(categories))
                         for key, (label, categories) in dimensions.items()),
    )


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def aggregate(content: Mapping[str, Any]) -> Aggregate:
    """The frozen aggregate, its changes and each authority's figures, as the charts read an
    aggregate. An authority's slug here is its code, the key the frozen tables use."""
    labels = {row["period"]: row["label"] for row in _rows(content, "periods")}
    categories = {(row["dimension"], row["category"], row["level"]): row
                  for row in _rows(content, "categories")}
    rows = []
    for row in _rows(content, "aggregate"):
        counts = {kind: int(row.get(kind) or 0) for kind in KINDS}
        category = categories.get((row["dimension"], row["category"], row["level"]), {})
        years = str(row.get("population_years") or "")
        rows.append(AggregateRow(
            cell=_cell(row), period_label=labels.get(row["period"], row["period"]),
            category_label=category.get("label") or row["category"] or None,
            total=row["total"], lower_bound=row["lower_bound"], upper_bound=row["upper_bound"],
            counts=counts, usable=row["authorities_with_figure"], answered=sum(counts.values()),
            asked=row["authorities_asked"],
            denominator=row["recorded_total"] if row.get("recorded_total") not in ("", None)
            else None,
            is_not_recorded=bool(category.get("not_recorded")),
            rate=row.get("rate"), rate_per=row.get("rate_per") or 0,
            rate_base=row.get("rate_base") or "", population=row.get("population"),
            rate_total=row.get("rate_total"), rate_authorities=row.get("rate_authorities") or 0,
            population_years=tuple(int(y) for y in years.split(" | ") if y),
            population_nearest=bool(row.get("population_nearest")),
            rate_lower=row.get("rate_lower"), rate_upper=row.get("rate_upper"),
            not_replied=row.get("no_reply"), refusing=row.get("refused") or 0))
    changes = [ChangeRow(row["measure"], row["dimension"] or None, row["category"] or None,
                         row["level"], row["from_period"], row["to_period"], row["from_total"],
                         row["to_total"], row["panel_size"], row["panel_from"], row["panel_to"])
               for row in _rows(content, "changes")]
    asked = max((row.asked for row in rows), default=len(_rows(content, "authorities")))
    return Aggregate(content["campaign"]["slug"], asked, rows, changes, _authority_rows(content),
                     checked_only=bool(content.get("checked_only")))


def _cell(row: Mapping[str, Any]) -> Cell:
    level = row.get("level") or ("category" if row["dimension"] else "total")
    return Cell(row["measure"], row["period"], row["dimension"] or None,
                row["category"] or None, level)


def _authority_rows(content: Mapping[str, Any]) -> list[AuthorityRow]:
    """Each frozen figure the aggregate counted (not one from a withdrawn response), with its
    rate and rank by rate where the release froze them (content format 3 on)."""
    registry = _registry()
    rates = {(row["authority_code"], row["measure"], row["period"], row["dimension"],
              row["category"], row["level"]): row for row in _rows(content, "rates")}
    found = []
    for number, row in enumerate(_rows(content, "figures"), start=1):
        if row.get("withdrawn"):
            continue
        code = row["authority_code"]
        cell = _cell(row)
        rate = rates.get((code, cell.measure, cell.period, cell.dimension or "",
                          cell.category or "", cell.level), {})
        found.append(AuthorityRow(
            slug=code, name=row["authority"],
            short_name=registry.get(code, {}).get("short_name") or row["authority"],
            code=code, cell=cell, kind=row["kind"], value=row["value"],
            lower=row["lower"], upper=row["upper"], rank=None, ranked=None,
            caveat=row.get("caveat") or None, figure_id=number,
            population=rate.get("population"), population_year=rate.get("population_year"),
            population_nearest=bool(rate.get("population_nearest")), rate=rate.get("rate"),
            rate_rank=rate.get("rate_rank"), rate_ranked=rate.get("rate_ranked"),
            rate_note=rate.get("rate_note") or None))
    return found


# ---- the charts --------------------------------------------------------------------------

def release_charts(content: Mapping[str, Any]) -> list[charts.Chart]:
    """The aggregate page's charts, over the release's frozen numbers: with each force's rate
    and rank by rate where the release froze them (from content format 3), the chart of rates
    by force too."""
    return charts.catalogue(outline(content), aggregate(content))


def authority_charts(content: Mapping[str, Any], code: str) -> list[charts.Chart]:
    """A fact sheet's charts for the authority with ``code``: its figure in each period beside
    the total, one chart per measure it gave an exact figure for."""
    named = next((row["name"] for row in _rows(content, "authorities") if row["code"] == code),
                 None)
    if named is None:
        return []
    return charts.fact_sheet_catalogue(outline(content), aggregate(content), code, named)


def pictures(found: Sequence[charts.Chart],
             draw: Callable[[dict[str, Any], str], bytes] = chart_images.draw_apart
             ) -> list[Picture]:
    """Each chart drawn as SVG, full and for a phone, ready to sit in the page (``draw``: in a
    process apart unless given)."""
    return [Picture(chart, _data_uri(draw(chart.spec, "svg")),
                    _data_uri(draw(charts.narrow(chart.spec), "svg"))) for chart in found]


def _data_uri(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


# ---- the tile map ------------------------------------------------------------------------

def force_map(content: Mapping[str, Any], links: Mapping[str, str]) -> ForceMap | None:
    """The first measure's total in the latest period, force by force, as a tile map; each
    tile links to the force's page (``links``: code -> address). None when the release has
    no figure to show."""
    design = outline(content)
    if not design.measures or not design.periods:
        return None
    result = aggregate(content)
    measure = design.measures[0]
    period = next((p for p in reversed(design.periods)
                   if any(r.cell.measure == measure.key and r.cell.period == p.key
                          and r.cell.level == "total" for r in result.authorities)), None)
    if period is None:
        return None
    found = tilemap.readings(result.authorities, measure.key, period.key)
    requests = {row["authority_code"]: row for row in _rows(content, "requests")}
    entries = [(Place(row["code"], row["name"], links.get(row["code"])),
                found.get(row["code"]) or _no_figure(requests.get(row["code"])))
               for row in _rows(content, "authorities")]
    drawn = tilemap.figure_map(entries)
    if not drawn.any_asked:
        return None
    return ForceMap(drawn, f"{measure.label}, total: {period.label}")


def _no_figure(request: Mapping[str, Any] | None) -> Reading:
    """Why a force has no figure in the cell, as its request stood when the release was made:
    a refusal must not look like a wait for a reply."""
    if request is None:
        return Reading("none", "no figure")
    outcome = request.get("outcome") or ""
    if outcome in NO_FIGURE:
        sections = f" ({request['exemptions']})" if request.get("exemptions") else ""
        return Reading(outcome, f"no figure: {NO_FIGURE[outcome]}{sections}")
    if not request.get("responded_on"):
        return Reading("awaiting", "no reply when the release was made")
    return Reading("none", "no figure")
