"""Charts of a series (issue 18): the national series with the number of authorities behind
each point and the like-for-like changes, and small multiples of each authority's figures.

Built as the campaign charts are (foitrack.exporters.charts): a Vega-Lite spec from Altair with
its data inline, kept apart from rendering (``charts.render``), so a test can check that a
chart plots exactly the series table's numbers. Nothing here knows about Flask or the database.
"""

from __future__ import annotations

from typing import Any

import altair as alt

from foitrack.domain.phrasing import number
from foitrack.domain.series_table import SeriesChange, SeriesTable
from foitrack.exporters.charts import BLUE, FONT, GREY, WIDTH, Chart

# Small multiples: one panel per authority, this many a row, each this big.
MULTIPLES_PER_ROW = 6
MULTIPLE_WIDTH, MULTIPLE_HEIGHT = 110, 70


def national_series(table: SeriesTable) -> Chart | None:
    """The national total in each period (exact figures only), each point labelled with how
    many authorities gave one; the subtitle gives the changes on matched panels."""
    points = [p for p in table.national if p.authorities]
    if not points:
        return None
    data = [{"period": p.period.label, "total": p.total, "authorities": p.authorities,
             "asked": p.asked, "campaign": p.period.campaign} for p in points]
    order = [p.period.label for p in points]
    subtitle = [
        "Each point adds the exact figures given; under it, how many authorities gave one. "
        "Figures for a period asked again are the latest campaign's."]
    subtitle += [_change_text(change) for change in table.changes]
    base = alt.Chart(alt.Data(values=data)).encode(
        x=alt.X("period:N", sort=order, title=None, axis=alt.Axis(labelAngle=0, labelLimit=200)),
        y=alt.Y("total:Q", title=_capitalise(_lower_first(table.measure_label)),
                axis=alt.Axis(format=",d"), scale=alt.Scale(zero=True)),
    )
    layers = [
        base.mark_line(color=BLUE, strokeWidth=2.5),
        base.mark_point(color=BLUE, filled=True, size=60),
        base.mark_text(dy=-10, baseline="bottom", fontSize=13, fontWeight="bold").encode(
            text=alt.Text("total:Q", format=",d")),
        base.mark_text(dy=10, baseline="top", fontSize=11, color=GREY).encode(
            text="coverage:N").transform_calculate(
            coverage="datum.authorities + ' of ' + datum.asked"),
    ]
    chart = alt.layer(*layers).properties(width=min(WIDTH, 140 * len(points) + 80), height=300)
    alt_text = (f"Line chart of {_lower_first(table.measure_label)} across the series "
                f"{table.name}: " + "; ".join(
                    f"{number(p.total)} in {p.period.label} (from {p.authorities} of "
                    f"{p.asked} authorities asked)" for p in points) + ".")
    return _finish(table, f"national-total-{table.measure}",
                   f"{table.measure_label}: {table.name}", subtitle, alt_text, data, chart)


def small_multiples(table: SeriesTable) -> Chart | None:
    """Each authority's exact figures over the periods, a small panel each, own scales."""
    data = [{"authority": row.authority.short_name or row.authority.name,
             "period": period.label, "value": cell.value}
            for row in table.rows for period in table.periods
            if (cell := row.cell(period)) is not None and cell.kind == "exact"]
    if not data:
        return None
    order = [p.label for p in table.periods]
    names = [str(name) for name in dict.fromkeys(d["authority"] for d in data)]
    subtitle = [f"{order[0]} (left) to {order[-1]} (right), exact figures only: a gap is a "
                "period with no exact figure. Each panel has its own scale, to show its shape; "
                "compare sizes in the table."]
    panel = alt.Chart().encode(
        x=alt.X("period:N", sort=order, title=None,
                axis=alt.Axis(labels=False, ticks=False, domain=False, grid=False)),
        y=alt.Y("value:Q", title=None, axis=alt.Axis(format=",d", tickCount=3)),
    )
    layered = alt.layer(panel.mark_line(color=BLUE), panel.mark_point(color=BLUE, filled=True,
                                                                       size=20),
                        data=alt.Data(values=data)).properties(
        width=MULTIPLE_WIDTH, height=MULTIPLE_HEIGHT)
    chart = layered.facet(
        facet=alt.Facet("authority:N", sort=names, title=None,
                        header=alt.Header(labelFontSize=11, labelLimit=MULTIPLE_WIDTH)),
        columns=MULTIPLES_PER_ROW,
    ).resolve_scale(y="independent")
    alt_text = (f"Small multiples of {_lower_first(table.measure_label)} for each of "
                f"{len(names)} authorities, {order[0]} to {order[-1]}.")
    return _finish(table, f"by-authority-{table.measure}",
                   f"{table.measure_label} by authority: {table.name}", subtitle, alt_text, data,
                   chart)


def catalogue(table: SeriesTable) -> list[Chart]:
    """The series page's charts, in page order."""
    return [chart for chart in (national_series(table), small_multiples(table))
            if chart is not None]


def _change_text(change: SeriesChange) -> str:
    if not change.panel_size:
        return (f"{change.from_period.label} to {change.to_period.label}: no authority gave "
                "exact figures for both.")
    share = ("" if change.ratio is None
             else f" ({(change.ratio - 1) * 100:+.0f}%)")
    caution = "" if change.comparable else " Periods of different lengths: not comparable."
    who = "authority" if change.panel_size == 1 else "authorities"
    return (f"{change.from_period.label} to {change.to_period.label}, the {change.panel_size} "
            f"{who} with figures for both: {number(change.panel_from)} to "
            f"{number(change.panel_to)}{share}.{caution}")


def _finish(table: SeriesTable, name: str, title: str, subtitle: list[str], alt_text: str,
            data: list[dict[str, Any]], chart: Any) -> Chart:
    """Title, notes and the credit line round the chart, in the campaign charts' style."""
    whole = (
        alt.vconcat(chart, _credit(table), spacing=12)
        .properties(title=alt.Title(title, subtitle=subtitle, anchor="start", fontSize=16,
                                    subtitleFontSize=12, subtitleColor="#333", offset=14))
        .configure(font=FONT, background="white", padding=16)
        .configure_view(stroke=None)
        .configure_axis(labelFontSize=12, titleFontSize=12, titleFontWeight="normal", grid=True,
                        gridColor="#e6e6e6")
    )
    # Not validated against the Vega-Lite schema here: that took 80% of building a chart (a
    # second for a series page); the specs come from this module alone, and the tests
    # validate every one of them (tests/test_chart_specs.py).
    return Chart(name, title, tuple(subtitle), alt_text, tuple(data),
                 whole.to_dict(validate=False))


def _credit(table: SeriesTable) -> Any:
    campaigns = ", ".join(c.title for c in table.campaigns)
    return alt.Chart(alt.Data(values=[{}])).mark_text(
        text=f"Source: FOI responses to {campaigns}", align="left", baseline="top",
        fontSize=11, color=GREY, x=0, y=0, limit=WIDTH,
    ).properties(height=14, width=WIDTH)


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:1].isupper() and not text[1:2].isupper() else text
