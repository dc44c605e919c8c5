"""Charts of a campaign's aggregate for pages and the press: Vega-Lite specs built with Altair
from the aggregate's numbers, and rendered to SVG or PNG by vl-convert without a browser or Node.

Building (a ``Chart``: its data rows and spec) is kept apart from rendering, so a test can check
that what a chart plots is exactly what the aggregate computed. Nothing here knows about Flask
or the database: ``outline`` reads a campaign's design once, and the rest works on plain values.
"""

from __future__ import annotations

import copy
import dataclasses
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import altair as alt

from foitrack.domain.aggregate_rows import Aggregate, AggregateRow, AuthorityRow
from foitrack.domain.design import CampaignDesign, DesignPeriod, comparable
from foitrack.domain.phrasing import join_names, number, per_words, rate_number
from foitrack.exporters import chart_images

FORMATS = chart_images.FORMATS

# Okabe and Ito's palette (2008), chosen to stay distinguishable with any common colour-vision
# deficiency; the first two are the strongest pair.
BLUE, ORANGE, SKY, GREEN, YELLOW, VERMILLION, PURPLE = (
    "#0072B2", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#D55E00", "#CC79A7")
PALETTE = [BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY, YELLOW, "#000000"]
GREY = "#6b6b6b"

# The plotting area: with axis labels and margins the image stays under the ~1,170px of text
# column a 1280px page leaves, and a newspaper can still scale it down to a column.
WIDTH = 640
# Fonts installed with the operating system, never fetched: vl-convert draws PNG text with the
# first one it finds, and a browser shows the SVG with its own.
FONT = "Liberation Sans, Arial, Helvetica, sans-serif"
# "+12" and "-3" on a change axis, but "0" rather than d3's "+0".
SIGNED_LABEL = "datum.value > 0 ? '+' + format(datum.value, ',d') : format(datum.value, ',d')"
BAR_STEP = 18  # pixels per bar in the horizontal bar charts
# A phone's drawing of a chart (``narrow``): a plotting area and label room small enough that
# the whole image is about as wide as a 390px screen's text column, so that shown there it is
# barely scaled and its 11-12px text stays that size.
NARROW_WIDTH = 180
NARROW_PADDING = 6
NARROW_LABEL_LIMIT = 105
NARROW_CREDIT_CHARACTERS = 42
NARROW_TITLE_CHARACTERS = 30
NARROW_COLUMNS = 2  # small multiples, or a key's entries, per row


# A period as the charts see it is the design's own.
PeriodInfo = DesignPeriod


@dataclass(frozen=True)
class MeasureInfo:
    key: str
    label: str
    unit: str


@dataclass(frozen=True)
class DimensionInfo:
    key: str
    label: str
    categories: tuple[str, ...]  # in the design's order


@dataclass(frozen=True)
class Outline:
    """What the charts need to know about a campaign's design, read once from the models."""

    slug: str
    title: str
    bodies: str  # "forces", or "authorities" for a mixed campaign
    measures: tuple[MeasureInfo, ...]
    periods: tuple[PeriodInfo, ...]  # in time order; period groups are not points in time
    dimensions: tuple[DimensionInfo, ...]

    @property
    def credit(self) -> str:
        return f"Source: FOI responses to {self.title}"

    def measure(self, key: str) -> MeasureInfo | None:
        return next((m for m in self.measures if m.key == key), None)


@dataclass(frozen=True)
class Chart:
    name: str  # unique within a page, and the last part of the chart's URL
    title: str
    subtitle: tuple[str, ...]  # coverage: who gave the figures plotted
    alt: str  # the chart's finding in words, for screen readers and search
    rows: tuple[dict[str, Any], ...]  # exactly the data plotted
    spec: dict[str, Any]  # Vega-Lite, with ``rows`` inline


POLICE_KINDS = {"territorial-police", "special-police"}


def outline(campaign: Any, authority_kinds: set[str],
            design: CampaignDesign | None = None) -> Outline:
    """The design of ``campaign`` (a model) as the charts need it; ``authority_kinds`` (from
    ``services.campaigns.authority_kinds``) says whether to call them forces, as the release
    lines do. ``design``: the campaign's design when the caller has read it already."""
    design = design if design is not None else CampaignDesign.of(campaign)
    return Outline(
        slug=campaign.slug, title=campaign.title,
        bodies="forces" if authority_kinds <= POLICE_KINDS else "authorities",
        measures=tuple(MeasureInfo(m.key, m.label, m.unit or m.label) for m in design.measures),
        periods=design.periods_in_time,
        dimensions=tuple(DimensionInfo(b.key, b.label, b.labels) for b in design.breakdowns),
    )


# ---- the charts ----------------------------------------------------------------------------

def national_total(design: Outline, result: Aggregate, measure: MeasureInfo) -> Chart | None:
    """The total of ``measure`` in each period, with the range suppressed figures could add."""
    rows = [row for period in design.periods
            if (row := _row(result, measure.key, period.key)) is not None]
    if not rows:
        return None
    data = [{"period": r.period_label, "total": r.total, "lower": r.lower_bound,
             "upper": r.upper_bound, "with_figure": r.with_figure, "asked": r.asked} for r in rows]
    order = [r.period_label for r in rows]
    subtitle = [_coverage_by_period(rows, design.bodies)]
    if len({r.with_figure for r in rows}) > 1:
        subtitle.append("Different numbers of forces gave figures in each period, so the totals "
                        "are not a like-for-like comparison." if design.bodies == "forces" else
                        "Different numbers of authorities gave figures in each period, so the "
                        "totals are not a like-for-like comparison.")
    subtitle += _length_note([p for p in design.periods if any(r.cell.period == p.key for r in rows)])
    has_range = any(r.lower_bound != r.upper_bound for r in rows)
    if has_range:
        subtitle.append("Thin lines: the range that suppressed small figures could add.")
    _note_selection(subtitle, result)
    base = alt.Chart(alt.Data(values=data)).encode(
        x=alt.X("period:N", sort=order, title=None, axis=alt.Axis(labelAngle=0, labelLimit=200)),
    )
    layers = [
        base.mark_bar(color=BLUE).encode(
            y=alt.Y("total:Q", title=_capitalise(measure.unit), axis=alt.Axis(format=",d"))),
        base.mark_text(dy=-6, baseline="bottom", fontSize=13, fontWeight="bold").encode(
            y="total:Q", text=alt.Text("total:Q", format=",d")),
    ]
    if has_range:
        layers.append(base.mark_rule(color=GREY, strokeWidth=1.5).encode(y="lower:Q", y2="upper:Q"))
    title = f"{measure.label}{_area(result)}"
    chart = alt.layer(*layers).properties(width=min(WIDTH, 160 * len(rows) + 80), height=320)
    alt_text = (f"Bar chart of {_lower_first(measure.label)}{_area(result)}, by period: "
                + "; ".join(f"{number(r.total)} in {r.period_label} (figures from {r.coverage})"
                            for r in rows) + ".")
    return _finish(design, f"national-total-{measure.key}", title, subtitle, alt_text, data, chart)


def force_change(design: Outline, result: Aggregate, measure: MeasureInfo) -> Chart | None:
    """Each authority's change between the last two comparable periods, largest rise first.

    Only authorities with exact figures for both periods are drawn: a change against a gap
    would be a change in reporting, not in what was recorded.
    """
    pair = last_comparable_pair(design.periods)
    if pair is None:
        return None
    before, after = pair
    data = _authority_changes(result, measure, before, after)
    if not data:
        return None
    bodies = design.bodies
    shown = len(data)
    subtitle = [f"The {shown} of {result.asked} {bodies} asked that gave exact figures for both "
                f"{before.label} and {after.label}; "
                + ("no others are left out." if shown == result.asked
                   else f"the other {result.asked - shown} are left out.")]
    _note_selection(subtitle, result)
    chart = _change_bars(data, f"Change in {measure.unit}, {before.label} to {after.label}")
    title = f"Change in {_lower_first(measure.label)}, {before.label} to {after.label}, by force" \
        if bodies == "forces" else \
        f"Change in {_lower_first(measure.label)}, {before.label} to {after.label}, by authority"
    return _finish(design, f"force-change-{measure.key}", title, subtitle,
                   _change_alt_text(data, bodies, measure, before, after), data, chart)


def force_rates(design: Outline, result: Aggregate, measure: MeasureInfo) -> Chart | None:
    """Each authority's rate per 100,000 people (or the measure's own base) in the latest
    period with rates, highest first, with the rate across the authorities that gave a figure
    drawn as a line: the count's chart says more about size, this one about risk.

    Authorities whose rate is not ranked (an area of fewer than 100,000 residents, as the City
    of London's) are named in the subtitle, not drawn: one case moves their rate too far.
    """
    found = _latest_rates(design, result, measure)
    if found is None:
        return None
    period, everyone, rows = found
    ranked = sorted((r for r in rows if r.rate_rank), key=lambda r: (r.rate_rank or 0, r.name))
    if not ranked or everyone.rate is None:
        return None
    per = per_words(everyone.rate_per, everyone.rate_base or "population")
    names = [r.short_name or r.name for r in ranked]
    data: list[dict[str, Any]] = [
        {"authority": r.short_name or r.name, "rate": round(r.rate or 0, 1),
             "value": r.value, "population": r.population, "rank": r.rate_rank} for r in ranked]
    bodies = design.bodies
    subtitle = [f"Rates {per}: the {len(ranked)} {bodies} ranked by rate, of the "
                f"{result.asked} asked; the line is the rate across the {everyone.rate_authorities}"
                f" {bodies} that gave a figure, {rate_number(everyone.rate)}."]
    left_out = sorted(r.name for r in rows if not r.rate_rank)
    if left_out:
        notes = {r.rate_note for r in rows if not r.rate_rank and r.rate_note}
        subtitle.append(f"Not ranked: {join_names(left_out)}"
                        + (f" ({'; '.join(sorted(notes))})" if notes else "") + ".")
    years = sorted({year for year in everyone.population_years})
    subtitle.append("Population: mid-year estimates for "
                    + join_names([f"mid-{y}" for y in years])
                    + (", the nearest year where the period's own had none" if
                       everyone.population_nearest else "") + ".")
    _note_selection(subtitle, result)
    base = alt.Chart(alt.Data(values=data)).encode(
        y=alt.Y("authority:N", sort=names, title=None, axis=alt.Axis(labelLimit=220)))
    bars = base.mark_bar(color=BLUE).encode(
        x=alt.X("rate:Q", title=f"{_capitalise(measure.unit)} {per}, {period.label}",
                axis=alt.Axis(orient="top", format=",.1f")))
    labels = base.mark_text(align="left", dx=4, fontSize=11).encode(
        x="rate:Q", text=alt.Text("rate:Q", format=",.1f"))
    line = alt.Chart(alt.Data(values=[{"rate": round(everyone.rate, 1)}])).mark_rule(
        color=ORANGE, strokeWidth=2, strokeDash=[4, 3]).encode(x="rate:Q")
    chart = alt.layer(bars, labels, line).properties(width=WIDTH, height=BAR_STEP * len(data))
    title = (f"{measure.label} {per}, {period.label}, by "
             f"{'force' if bodies == 'forces' else 'authority'}{_area(result)}")
    alt_text = (f"Bar chart of each of {len(ranked)} {bodies}' {_lower_first(measure.label)} "
                f"{per} in {period.label}, highest first. Highest: {data[0]['authority']} "
                f"({rate_number(data[0]['rate'])}); lowest: {data[-1]['authority']} "
                f"({rate_number(data[-1]['rate'])}); across the {bodies} that gave a figure: "
                f"{rate_number(everyone.rate)}.")
    return _finish(design, f"force-rates-{measure.key}", title, subtitle, alt_text, data, chart)


def _latest_rates(design: Outline, result: Aggregate, measure: MeasureInfo
                  ) -> tuple[PeriodInfo, AggregateRow, list[AuthorityRow]] | None:
    """The latest period whose total has a rate, that total, and the authorities' exact
    totals with a rate in it."""
    for period in reversed(design.periods):
        everyone = _row(result, measure.key, period.key)
        if everyone is None or everyone.rate is None:
            continue
        rows = [r for r in result.authorities
                if r.cell.level == "total" and r.cell.measure == measure.key
                and r.cell.period == period.key and r.kind == "exact" and r.rate is not None]
        if rows:
            return period, everyone, rows
    return None


def _authority_changes(result: Aggregate, measure: MeasureInfo, before: PeriodInfo,
                       after: PeriodInfo) -> list[dict[str, Any]]:
    """The change of each authority with exact totals in both periods, largest rise first."""
    values: dict[str, dict[str, Any]] = {}
    for row in result.authorities:
        if row.cell.level != "total" or row.cell.measure != measure.key or row.kind != "exact":
            continue
        if row.cell.period in (before.key, after.key):
            values.setdefault(row.slug, {"name": row.short_name or row.name})[row.cell.period] = \
                row.value
    both = [(v["name"], v[before.key], v[after.key]) for v in values.values()
            if before.key in v and after.key in v]
    return [{"authority": name, "from": old, "to": new, "change": new - old,
             "direction": "Rise" if new > old else "Fall" if new < old else "No change"}
            for name, old, new in sorted(both, key=lambda t: (-(t[2] - t[1]), t[0]))]


def _change_bars(data: list[dict[str, Any]], axis_title: str) -> Any:
    """A bar per authority, coloured by the change's direction, its label beyond its end."""
    colours = {"Rise": VERMILLION, "Fall": BLUE, "No change": GREY}
    # The key lists only what is drawn; each direction keeps its colour from chart to chart.
    directions = [d for d in colours if any(row["direction"] == d for row in data)]
    base = alt.Chart(alt.Data(values=data)).encode(
        y=alt.Y("authority:N", sort=[d["authority"] for d in data], title=None,
                axis=alt.Axis(labelLimit=220)),
    )
    bars = base.mark_bar().encode(
        x=alt.X("change:Q", title=axis_title,
                axis=alt.Axis(orient="top", tickCount=10, tickMinStep=1, labelExpr=SIGNED_LABEL)),
        color=alt.Color("direction:N", scale=alt.Scale(domain=directions,
                                                        range=[colours[d] for d in directions]),
                        legend=alt.Legend(title=None, orient="top", offset=4)),
    )
    # Each label sits beyond the end of its bar: right of a rise, left of a fall.
    sides: tuple[tuple[Literal["left", "right"], int, str], ...] = (
        ("left", 4, "datum.change >= 0"), ("right", -4, "datum.change < 0"))
    rise_labels, fall_labels = (
        base.mark_text(align=align, dx=dx, fontSize=11).encode(
            x=alt.X("change:Q"), text="label:N",
        ).transform_filter(test).transform_calculate(label=SIGNED_LABEL.replace("value", "change"))
        for align, dx, test in sides
    )
    return alt.layer(bars, rise_labels, fall_labels).properties(width=WIDTH,
                                                                height=BAR_STEP * len(data))


def _change_alt_text(data: list[dict[str, Any]], bodies: str, measure: MeasureInfo,
                     before: PeriodInfo, after: PeriodInfo) -> str:
    shown = len(data)
    rises = sum(1 for d in data if d["change"] > 0)
    falls = sum(1 for d in data if d["change"] < 0)
    return (f"Bar chart of each of {shown} {bodies}' change in {_lower_first(measure.label)} "
            f"from {before.label} to {after.label}: {rises} rose, {falls} fell"
            + (f", {shown - rises - falls} did not change" if shown - rises - falls else "")
            + f". Largest rise: {data[0]['authority']} ({data[0]['change']:+,})"
            + (f"; largest fall: {data[-1]['authority']} ({data[-1]['change']:+,})."
               if data[-1]["change"] < 0 else "."))


def shares(design: Outline, result: Aggregate, measure: MeasureInfo,
           dimension: DimensionInfo) -> Chart | None:
    """Each category's share of the cases where the detail was recorded, period by period.

    Category groups are left out: they overlap the categories and would be counted twice.
    """
    by_period = _shares_by_period(design, result, measure, dimension)
    if not by_period:
        return None
    data = [{"category": r.category_label or r.cell.category or "", "period": label,
             "share": r.share_where_recorded, "total": r.total, "denominator": r.denominator}
            for label, rows in by_period.items() for r in rows]
    periods = list(by_period)
    categories = [c for c in dimension.categories if any(d["category"] == c for d in data)]
    recorded = _lower_first(dimension.label)
    subtitle = [
        f"{label}: {number(rows[0].denominator or 0)} {measure.unit} where the {recorded} was "
        f"recorded, {_coverage_of(rows, design.bodies)}" for label, rows in by_period.items()
    ]
    subtitle.append("Shares leave out the cases in which the detail was not recorded.")
    _note_selection(subtitle, result)
    chart = _share_bars(data, categories, periods,
                        f"Share of {measure.unit} where the {recorded} was recorded")
    alt_text = (f"Bar chart of {_lower_first(measure.label)} by {recorded}, as shares of the "
                "cases where it was recorded. " + " ".join(
                    f"{label}: " + ", ".join(f"{r.category_label} {r.share_where_recorded:.1%}"
                                             for r in rows) + "."
                    for label, rows in by_period.items()))
    title = f"{measure.label}, by {recorded}{_area(result)}"
    return _finish(design, f"shares-{measure.key}-{dimension.key}", title, subtitle, alt_text,
                   data, chart)


def _shares_by_period(design: Outline, result: Aggregate, measure: MeasureInfo,
                      dimension: DimensionInfo) -> dict[str, list[AggregateRow]]:
    """Period label: the dimension's category rows that have a share, for periods with any."""
    by_period: dict[str, list[AggregateRow]] = {}
    for period in design.periods:
        rows = [r for r in result.rows if r.cell.level == "category"
                and (r.cell.measure, r.cell.period, r.cell.dimension) == (measure.key, period.key,
                                                                           dimension.key)
                and r.share_where_recorded is not None]
        if rows:
            by_period[period.label] = rows
    return by_period


def _share_bars(data: list[dict[str, Any]], categories: list[str], periods: list[str],
                axis_title: str) -> Any:
    """A bar per category and period, each labelled with its share."""
    base = alt.Chart(alt.Data(values=data)).encode(
        y=alt.Y("category:N", sort=categories, title=None, axis=alt.Axis(labelLimit=220)),
        yOffset=alt.YOffset("period:N", sort=periods),
    )
    bars = base.mark_bar().encode(
        x=alt.X("share:Q", title=axis_title, axis=alt.Axis(format="%", orient="top")),
        color=alt.Color("period:N", sort=periods, scale=alt.Scale(domain=periods,
                                                                   range=PALETTE[:len(periods)]),
                        # One period is named in the subtitle: a one-entry key says nothing.
                        legend=alt.Legend(title=None, orient="top", offset=4)
                        if len(periods) > 1 else None),
    )
    labels = base.mark_text(align="left", dx=4, fontSize=11).encode(
        x="share:Q", text=alt.Text("share:Q", format=".1%"))
    return alt.layer(bars, labels).properties(
        width=WIDTH, height=alt.Step(BAR_STEP) if len(periods) == 1 else BAR_STEP * len(data))


def authority_against_total(design: Outline, national: Aggregate, authority_slug: str,
                            authority_name: str, measure: MeasureInfo) -> Chart | None:
    """For a fact sheet: one authority's figure in each period beside the national total,
    each on its own scale (one force's bars would vanish beside the total's)."""
    everyone = f"All {design.bodies} that gave a figure"
    data, gaps, shares_of_total = _against_total(design, national, authority_slug,
                                                 authority_name, everyone, measure)
    if not any(d["series"] == authority_name for d in data):
        return None
    periods = list(dict.fromkeys(d["period"] for d in data))
    subtitle = []
    if shares_of_total:
        subtitle.append(f"{authority_name}'s share of the total of all {design.bodies} that gave "
                        f"a figure: {', '.join(shares_of_total)}.")
    rates = _rates_beside_total(design, national, authority_slug, measure)
    if rates:
        subtitle.append(f"{authority_name}'s rate {rates}.")
    if gaps:
        subtitle.append(f"No exact figure from {authority_name} for {', '.join(gaps)}.")
    subtitle += _length_note([p for p in design.periods if p.label in periods])
    subtitle.append("Each panel has its own scale.")
    chart = _side_by_side(data, periods, [authority_name, everyone], measure)
    alt_text = (f"Two bar charts of {_lower_first(measure.label)}: {authority_name}, "
                + ", ".join(f"{d['value']:,} in {d['period']}" for d in data
                            if d["series"] == authority_name)
                + f"; all {design.bodies} that gave a figure, "
                + ", ".join(f"{d['value']:,} in {d['period']}" for d in data
                            if d["series"] == everyone) + ".")
    title = f"{authority_name}: {_lower_first(measure.label)}"
    return _finish(design, measure.key, title, subtitle, alt_text, data, chart)


def _against_total(design: Outline, national: Aggregate, authority_slug: str,
                   authority_name: str, everyone: str, measure: MeasureInfo
                   ) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    """The plotted values, period by period: the authority's exact figure (or a gap, saying
    why) and the total; and the authority's share of each total, in words."""
    mine = {r.cell.period: r for r in national.for_authority(authority_slug)
            if r.cell.level == "total" and r.cell.measure == measure.key}
    data: list[dict[str, Any]] = []
    gaps: list[str] = []
    shares_of_total: list[str] = []
    for period in design.periods:
        total = _row(national, measure.key, period.key)
        if total is None:
            continue
        own = mine.get(period.key)
        if own is not None and own.kind == "exact" and own.value is not None:
            data.append({"series": authority_name, "period": period.label, "value": own.value})
            if total.total:
                shares_of_total.append(f"{own.value / total.total:.1%} in {period.label}")
        else:
            gaps.append(f"{period.label} ({own.kind.replace('_', ' ')})" if own is not None
                        else period.label)
        data.append({"series": everyone, "period": period.label, "value": total.total})
    return data, gaps, shares_of_total


def _rates_beside_total(design: Outline, national: Aggregate, authority_slug: str,
                        measure: MeasureInfo) -> str:
    """'per 100,000 people: 5.7 in 2017/18 and 9.5 in 2018/19 (all forces that gave a figure:
    5.6 and 7.4)', the periods in which both have a rate; '' for none."""
    mine = {r.cell.period: r for r in national.for_authority(authority_slug)
            if r.cell.level == "total" and r.cell.measure == measure.key and r.rate is not None}
    pairs = [(period, mine[period.key], total) for period in design.periods
             if period.key in mine and (total := _row(national, measure.key, period.key))
             is not None and total.rate is not None]
    if not pairs:
        return ""
    per = per_words(pairs[0][2].rate_per, pairs[0][2].rate_base or "population")
    own = join_names([f"{rate_number(r.rate or 0)} in {p.label}" for p, r, _ in pairs])
    everyone = join_names([rate_number(t.rate or 0) for _, _, t in pairs])
    return f"{per}: {own} (all {design.bodies} that gave a figure: {everyone})"


def _side_by_side(data: list[dict[str, Any]], periods: list[str], series: list[str],
                  measure: MeasureInfo) -> Any:
    """One bar panel per series (the authority, then everyone), each with its own scale."""
    panel = alt.Chart().encode(
        x=alt.X("period:N", sort=periods, title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("value:Q", title=_capitalise(measure.unit), axis=alt.Axis(format=",d")),
    )
    layered = alt.layer(
        panel.mark_bar().encode(color=alt.Color(
            "series:N", scale=alt.Scale(domain=series, range=[ORANGE, BLUE]),
            legend=None)),
        panel.mark_text(dy=-6, baseline="bottom", fontSize=13, fontWeight="bold").encode(
            text=alt.Text("value:Q", format=",d")),
    ).properties(width=min(300, 110 * len(periods) + 40), height=260)
    return alt.FacetChart(
        data=alt.Data(values=data), spec=layered,
        facet=alt.Facet("series:N", sort=series, title=None,
                        header=alt.Header(labelFontSize=13, labelFontWeight="bold",
                                          labelAnchor="start")),
    ).resolve_scale(y="independent")


def catalogue(design: Outline, result: Aggregate) -> list[Chart]:
    """Every chart the aggregate page offers, in page order; charts without data are left out."""
    found: list[Chart | None] = []
    for measure in design.measures:
        found.append(national_total(design, result, measure))
        found.append(force_change(design, result, measure))
        found.append(force_rates(design, result, measure))
        found += [shares(design, result, measure, d) for d in design.dimensions]
    return [chart for chart in found if chart is not None]


def fact_sheet_catalogue(design: Outline, national: Aggregate, authority_slug: str,
                         authority_name: str) -> list[Chart]:
    """The fact sheet's charts: one per measure the authority gave an exact figure for."""
    found = [authority_against_total(design, national, authority_slug, authority_name, m)
             for m in design.measures]
    return [chart for chart in found if chart is not None]


def last_comparable_pair(periods: Sequence[PeriodInfo]) -> tuple[PeriodInfo, PeriodInfo] | None:
    """The latest period with an earlier one of the same length, and that earlier one."""
    for i in range(len(periods) - 1, 0, -1):
        for j in range(i - 1, -1, -1):
            if comparable(periods[j], periods[i]):
                return periods[j], periods[i]
    return None


# ---- a phone's drawing -----------------------------------------------------------------------

def narrow(spec: dict[str, Any]) -> dict[str, Any]:
    """The same chart drawn for a phone's column: every plotting area and label no wider than
    NARROW_WIDTH and NARROW_LABEL_LIMIT, side-by-side panels stacked, the credit line wrapped,
    and the title and notes left to the page (its caption says them in text, which wraps).

    Only the page's picture uses it: the downloads keep the full drawing, titles and all.
    """
    drawn = copy.deepcopy(spec)
    drawn.pop("title", None)
    if isinstance(drawn.get("config"), dict):
        drawn["config"]["padding"] = NARROW_PADDING  # the page's column has its own margin
    _narrow_parts(drawn)
    return drawn


def for_phone(chart: Chart) -> Chart:
    """``chart`` with its spec drawn ``narrow``."""
    return dataclasses.replace(chart, spec=narrow(chart.spec))


def _narrow_parts(part: Any) -> None:
    if isinstance(part, list):
        for item in part:
            _narrow_parts(item)
        return
    if not isinstance(part, dict):
        return
    if isinstance(part.get("width"), int | float) and part["width"] > NARROW_WIDTH:
        part["width"] = NARROW_WIDTH
    if isinstance(part.get("labelLimit"), int | float) and part["labelLimit"] > NARROW_LABEL_LIMIT:
        part["labelLimit"] = NARROW_LABEL_LIMIT
    if part.get("labelAngle") == 0:
        # Period names under narrow bars would run into each other: slant them.
        part["labelAngle"] = -35
        part["labelAlign"] = "right"
    if "field" in part and isinstance(part.get("title"), str) \
            and len(part["title"]) > NARROW_TITLE_CHARACTERS:
        # An axis title wider than the plot would widen the image: two lines instead.
        part["title"] = textwrap.wrap(part["title"], NARROW_TITLE_CHARACTERS)
    if isinstance(part.get("legend"), dict):
        part["legend"]["columns"] = NARROW_COLUMNS  # four periods in a row overrun a phone
    if "facet" in part and "spec" in part:
        # Two panels side by side: one above the other. Small multiples: fewer to a row.
        part["columns"] = min(part.get("columns", 1), NARROW_COLUMNS)
    mark = part.get("mark")
    if isinstance(mark, dict) and isinstance(mark.get("text"), str) \
            and mark["text"].startswith("Source:"):
        lines = textwrap.wrap(mark["text"], NARROW_CREDIT_CHARACTERS)
        mark["text"] = lines
        mark.pop("limit", None)
        part["height"] = 14 * len(lines)
    for value in part.values():
        _narrow_parts(value)


# ---- rendering -----------------------------------------------------------------------------

def render(spec: dict[str, Any], image_format: str) -> bytes:
    """The chart as SVG (UTF-8) or PNG at twice the size, for print, drawn in this process
    (``chart_images.draw``; a thread that must not hold up the requests draws apart).

    :raises ValueError: for a format other than svg or png.
    """
    return chart_images.draw(spec, image_format)


# ---- shared parts ----------------------------------------------------------------------------

def _finish(design: Outline, name: str, title: str, subtitle: list[str], alt_text: str,
            data: list[dict[str, Any]], chart: Any) -> Chart:
    """Title, coverage and the credit line round the chart, in the house style."""
    credit = alt.Chart(alt.Data(values=[{}])).mark_text(
        text=design.credit, align="left", baseline="top", fontSize=11, color=GREY, x=0, y=0,
    ).properties(height=14, width=WIDTH)
    whole = (
        alt.vconcat(chart, credit, spacing=12)
        .properties(title=alt.Title(title, subtitle=subtitle, anchor="start", fontSize=16,
                                    subtitleFontSize=12, subtitleColor="#333", offset=14))
        .configure(font=FONT, background="white", padding=16)
        .configure_view(stroke=None)
        .configure_axis(labelFontSize=12, titleFontSize=12, titleFontWeight="normal", grid=True,
                        gridColor="#e6e6e6")
        .configure_legend(labelFontSize=12)
    )
    # Not validated against the Vega-Lite schema here: that took 80% of building a chart (a
    # second for a series page); the specs come from this module alone, and the tests
    # validate every one of them (tests/test_chart_specs.py).
    return Chart(name, title, tuple(subtitle), alt_text, tuple(data),
                 whole.to_dict(validate=False))


def _row(result: Aggregate, measure: str, period: str) -> AggregateRow | None:
    try:
        return result.row(measure, period)
    except KeyError:
        return None


def _coverage_by_period(rows: Sequence[AggregateRow], bodies: str) -> str:
    if len({(r.with_figure, r.asked) for r in rows}) == 1:
        return (f"Figures from {rows[0].with_figure} of the {rows[0].asked} {bodies} asked"
                + (" in each period." if len(rows) > 1 else "."))
    return f"Figures from {bodies} asked: " + "; ".join(
        f"{r.with_figure} of {r.asked} in {r.period_label}" for r in rows) + "."


def _coverage_of(rows: Sequence[AggregateRow], bodies: str) -> str:
    """Who gave a breakdown: categories can differ, when a figure was suppressed or withheld."""
    counts = sorted({r.with_figure for r in rows})
    asked = rows[0].asked
    if len(counts) == 1:
        return f"figures from {counts[0]} of the {asked} {bodies} asked."
    return (f"figures from between {counts[0]} and {counts[-1]} of the {asked} {bodies} asked, "
            "depending on the category.")


def _length_note(periods: Sequence[PeriodInfo]) -> list[str]:
    """A warning when a bar stands for a shorter time than the others (a quarter among years)."""
    if not periods:
        return []
    longest = max(periods, key=lambda p: p.end - p.start)
    shorter = [p.label for p in periods if not comparable(p, longest)]
    if not shorter:
        return []
    return [f"{join_names(shorter)} {'covers' if len(shorter) == 1 else 'cover'} a shorter time "
            f"than {longest.label}: {'its total is' if len(shorter) == 1 else 'their totals are'} "
            "not comparable with the others."]


def _note_selection(subtitle: list[str], result: Aggregate) -> None:
    if result.checked_only:
        subtitle.append("Checked figures only.")


def _area(result: Aggregate) -> str:
    """The chart title's suffix naming a subset of authorities; nothing for all of them."""
    return f": {result.subset}" if result.subset else ""


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _lower_first(text: str) -> str:
    # "Offences ..." reads as a sentence's object; an acronym ("FOI ...") keeps its capitals.
    return text[:1].lower() + text[1:] if text[:1].isupper() and not text[1:2].isupper() else text
