"""The rates chart and the fact sheet chart's rate (issue 18): what they plot is exactly the
aggregate's rates, to one decimal place, and a force too small to rank is named, not drawn."""

from __future__ import annotations

import pytest

from foitrack.exporters import charts
from foitrack.services import aggregate
from foitrack.services.campaigns import authority_kinds
from tests.factories import make_fixture_campaign


@pytest.fixture
def built(session):
    campaign = make_fixture_campaign(session, "grooming-2019")
    return (charts.outline(campaign, authority_kinds(session, campaign)),
            aggregate.build(session, campaign))


def test_the_rates_chart_plots_each_ranked_forces_rate_highest_first(built):
    design, national = built
    chart = charts.force_rates(design, national, design.measure("offences"))
    assert chart is not None and chart.name == "force-rates-offences"
    ranked = sorted((r for r in national.authorities if r.cell.level == "total"
                     and r.cell.period == "2018-19" and r.rate_rank),
                    key=lambda r: (r.rate_rank, r.name))
    assert [(d["authority"], d["rate"], d["rank"]) for d in chart.rows] == [
        (r.short_name, round(r.rate, 1), r.rate_rank) for r in ranked]
    assert len(chart.rows) == 42 and "City of London" not in {d["authority"] for d in chart.rows}
    mercia = next(d for d in chart.rows if d["authority"] == "West Mercia")
    assert (mercia["rate"], mercia["value"], mercia["rank"]) == (9.5, 122, 20)
    assert chart.title == ("Offences of sexual communication with a child recorded per 100,000 "
                           "people, 2018/19, by force")
    assert chart.subtitle[0] == ("Rates per 100,000 people: the 42 forces ranked by rate, of the "
                                 "43 asked; the line is the rate across the 43 forces that gave "
                                 "a figure, 7.4.")
    assert chart.subtitle[1].startswith("Not ranked: City of London Police (resident population "
                                        "under 100,000")
    assert chart.subtitle[2] == "Population: mid-year estimates for mid-2018."
    assert charts.render(chart.spec, "svg").startswith(b"<svg")


def test_the_fact_sheet_chart_gives_the_forces_rate_beside_everyones(built):
    design, national = built
    chart = charts.authority_against_total(design, national, "west-mercia", "West Mercia Police",
                                           design.measure("offences"))
    assert chart is not None
    mine = {r.cell.period: r.rate for r in national.for_authority("west-mercia")
            if r.cell.level == "total"}
    everyone = {p: national.row("offences", p).rate for p in ("2017-18", "2018-19")}
    assert (f"West Mercia Police's rate per 100,000 people: {mine['2017-18']:.1f} in 2017/18 and "
            f"{mine['2018-19']:.1f} in 2018/19 (all forces that gave a figure: "
            f"{everyone['2017-18']:.1f} and {everyone['2018-19']:.1f}).") in chart.subtitle
