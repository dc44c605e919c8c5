"""Charts: what each chart plots is what the aggregate computed, and rendering needs no network.

The campaigns are the acceptance fixtures (tests/fixtures), put in through the services."""

from __future__ import annotations

import datetime as dt
import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from foitrack.exporters import charts
from foitrack.services import aggregate
from foitrack.services.campaigns import authority_kinds
from foitrack.services.design import create_from_file
from foitrack.services.figures import import_csv
from tests.factories import TEST_ACTOR, load_forces, make_campaign

FIXTURES = Path(__file__).parent / "fixtures"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def fixture_campaign(session, name, keep=lambda line: True):
    """A campaign from tests/fixtures with the figures lines ``keep`` accepts."""
    campaign = create_from_file(session, TEST_ACTOR, (FIXTURES / f"{name}.toml").read_text())
    lines = (FIXTURES / f"{name}.csv").read_text().splitlines()
    kept = [lines[0], *(line for line in lines[1:] if keep(line))]
    import_csv(session, TEST_ACTOR, campaign, io.BytesIO("\n".join(kept).encode()))
    session.commit()
    return campaign


@pytest.fixture
def grooming(session):
    load_forces(session)
    return fixture_campaign(session, "grooming-2019")


@pytest.fixture
def design(session, grooming):
    return charts.outline(grooming, authority_kinds(session, grooming))


@pytest.fixture
def national(session, grooming):
    return aggregate.build(session, grooming)


def offences(design):
    return design.measure("offences")


def inline_data(spec):
    """Every list of rows written into a Vega-Lite spec, at any depth."""
    if isinstance(spec, dict):
        if isinstance(spec.get("values"), list):
            yield spec["values"]
        for key, value in spec.items():
            if key == "datasets":
                yield from value.values()
            else:
                yield from inline_data(value)
    elif isinstance(spec, list):
        for item in spec:
            yield from inline_data(item)


def dataset(chart):
    """The chart's rows, as found in its spec: what is drawn, not what the builder says it drew."""
    found = [rows for rows in inline_data(chart.spec) if rows == list(chart.rows)]
    assert found, "the chart's rows are not in its spec"
    return found[0]


def test_the_national_total_plots_3217_then_4373(design, national):
    chart = charts.national_total(design, national, offences(design))
    assert [(r["period"], r["total"]) for r in dataset(chart)] == [("2017/18", 3217),
                                                                 ("2018/19", 4373)]
    assert chart.subtitle[0] == "Figures from 43 of the 43 forces asked in each period."
    assert "3,217 in 2017/18" in chart.alt and "4,373 in 2018/19" in chart.alt


def test_periods_are_plotted_in_time_order_by_their_labels(design, national):
    spec = charts.national_total(design, national, offences(design)).spec
    bars = spec["vconcat"][0]["layer"][0]
    assert bars["encoding"]["x"]["sort"] == ["2017/18", "2018/19"]


def test_every_chart_carries_the_source_line(design, national):
    found = charts.catalogue(design, national)
    assert [c.name for c in found] == ["national-total-offences", "force-change-offences",
                                       "force-rates-offences",
                                       "shares-offences-platform", "shares-offences-age"]
    credit = "Source: FOI responses to Sexual communication with a child, 2017/18 and 2018/19"
    for chart in found:
        assert chart.spec["vconcat"][-1]["mark"]["text"] == credit
        assert chart.spec["title"]["text"] == chart.title


def test_a_suppressed_total_draws_a_range_not_a_bigger_bar(session):
    load_forces(session)
    campaign = fixture_campaign(session, "grooming-2019", lambda line: not line.startswith(
        "E23000013,offences,2017-18,,,"))  # Cleveland's 2017/18 total, 94, taken out ...
    cleveland = "E23000013,offences,2017-18,,,<5,,Response letter"
    import_csv(session, TEST_ACTOR, campaign, io.BytesIO(  # ... and given as "<5" instead
        f"authority,measure,period,dimension,category,value,caveat,source\n{cleveland}\n".encode()))
    session.commit()
    design = charts.outline(campaign, authority_kinds(session, campaign))
    chart = charts.national_total(design, aggregate.build(session, campaign), offences(design))
    first = dataset(chart)[0]
    assert (first["total"], first["lower"], first["upper"]) == (3217 - 94, 3217 - 94, 3217 - 94 + 4)
    layers = chart.spec["vconcat"][0]["layer"]
    assert [layer["mark"]["type"] for layer in layers] == ["bar", "text", "rule"]
    assert layers[2]["encoding"]["y"]["field"] == "lower" and layers[2]["encoding"]["y2"]["field"] == "upper"
    assert "Thin lines: the range that suppressed small figures could add." in chart.subtitle


def test_each_forces_change_adds_up_to_the_national_change(design, national):
    chart = charts.force_change(design, national, offences(design))
    rows = dataset(chart)
    assert len(rows) == 43
    change = national.change("offences", "2017-18", "2018-19")
    assert sum(r["change"] for r in rows) == change.panel_change == 1156
    west_mercia = next(r for r in rows if r["authority"] == "West Mercia")
    assert (west_mercia["from"], west_mercia["to"], west_mercia["change"]) == (73, 122, 49)
    assert [r["change"] for r in rows] == sorted((r["change"] for r in rows), reverse=True)
    assert "no others are left out" in chart.subtitle[0]


def test_a_force_without_both_years_is_left_out_of_the_changes_and_says_so(session):
    load_forces(session)
    missing = {"E23000013", "E23000008", "E23000007"}  # Cleveland, Durham and Northumbria
    campaign = fixture_campaign(session, "grooming-2019", lambda line: not (
        line.split(",")[0] in missing and line.split(",")[2] == "2017-18" and line.split(",")[3] == ""))
    result = aggregate.build(session, campaign)
    design = charts.outline(campaign, authority_kinds(session, campaign))
    chart = charts.force_change(design, result, design.measure("offences"))
    names = {r["authority"] for r in chart.rows}
    assert len(names) == 40 and not names & {"Cleveland", "Durham", "Northumbria"}
    assert chart.subtitle[0] == ("The 40 of 43 forces asked that gave exact figures for both "
                                 "2017/18 and 2018/19; the other 3 are left out.")
    change = result.change("offences", "2017-18", "2018-19")
    assert sum(r["change"] for r in chart.rows) == change.panel_change
    total = charts.national_total(design, result, design.measure("offences"))
    assert "Figures from forces asked: 40 of 43 in 2017/18; 43 of 43 in 2018/19." in total.subtitle
    assert any("not a like-for-like comparison" in line for line in total.subtitle)


def test_shares_are_the_aggregates_shares_where_recorded(design, national):
    platform = next(d for d in design.dimensions if d.key == "platform")
    chart = charts.shares(design, national, offences(design), platform)
    rows = dataset(chart)
    for row in rows:
        period = {"2017/18": "2017-18", "2018/19": "2018-19"}[row["period"]]
        expected = national.row("offences", period, row["category"], "platform")
        assert row["share"] == expected.share_where_recorded
        assert (row["total"], row["denominator"]) == (expected.total, expected.denominator)
    for period in ("2017/18", "2018/19"):
        assert sum(r["share"] for r in rows if r["period"] == period) == pytest.approx(1)
    # Not recorded is not a share; groups overlap the categories, so they are not drawn.
    assert {r["category"] for r in rows} == {"Instagram", "Facebook", "Messenger", "WhatsApp",
                                             "Snapchat", "Other"}
    assert chart.subtitle[1] == ("2018/19: 2,900 offences where the communication method was "
                                 "recorded, figures from 33 of the 43 forces asked.")


def test_victim_age_shares_only_for_the_year_it_was_asked(design, national):
    age = next(d for d in design.dimensions if d.key == "age")
    chart = charts.shares(design, national, offences(design), age)
    assert {r["period"] for r in chart.rows} == {"2018/19"}
    under_12 = sum(r["total"] for r in chart.rows if r["category"] in ("0-5", "6-8", "9-11"))
    assert (under_12, chart.rows[0]["denominator"]) == (510, 2500)


def test_a_subset_is_named_in_the_title(session, grooming, design):
    ids, label = aggregate.subset_ids(session, "E23000031,E23000033,E23000032")
    result = aggregate.build(session, grooming, ids, subset=label)
    chart = charts.national_total(design, result, offences(design))
    assert chart.title.endswith(f": {label}")
    assert chart.subtitle[0] == "Figures from 3 of the 3 forces asked in each period."


def test_the_fact_sheet_chart_puts_the_force_beside_the_total(design, national):
    chart = charts.authority_against_total(design, national, "west-mercia", "West Mercia Police",
                                           offences(design))
    assert [(r["series"], r["period"], r["value"]) for r in dataset(chart)] == [
        ("West Mercia Police", "2017/18", 73), ("All forces that gave a figure", "2017/18", 3217),
        ("West Mercia Police", "2018/19", 122), ("All forces that gave a figure", "2018/19", 4373)]
    assert "2.3% in 2017/18, 2.8% in 2018/19" in chart.subtitle[0]


def test_no_fact_sheet_chart_for_a_force_without_figures(design, national):
    assert charts.authority_against_total(design, national, "nowhere", "Nowhere Police",
                                          offences(design)) is None


def test_a_quarter_is_not_compared_with_a_year(session):
    load_forces(session)
    campaign = fixture_campaign(session, "lockdown-2020")
    design = charts.outline(campaign, authority_kinds(session, campaign))
    result = aggregate.build(session, campaign)
    change = charts.force_change(design, result, design.measure("offences"))
    assert "2018/19 to 2019/20" in change.title
    total = charts.national_total(design, result, design.measure("offences"))
    assert [r["total"] for r in total.rows] == [3100, 4200, 4600, 1220]
    assert ("April to June 2020 covers a shorter time than 2019/20: its total is not comparable "
            "with the others.") in total.subtitle


def test_last_comparable_pair_skips_a_shorter_latest_period():
    year = [charts.PeriodInfo(f"{y}", f"{y}", dt.date(y, 4, 1), dt.date(y + 1, 3, 31))
            for y in (2017, 2018)]
    quarter = charts.PeriodInfo("q", "q", dt.date(2019, 4, 1), dt.date(2019, 6, 30))
    assert charts.last_comparable_pair([*year, quarter]) == (year[0], year[1])
    assert charts.last_comparable_pair([year[0], quarter]) is None


def test_no_figures_no_charts(session):
    campaign = make_campaign(session, (FIXTURES / "grooming-2019.toml").read_text())
    design = charts.outline(campaign, authority_kinds(session, campaign))
    assert charts.catalogue(design, aggregate.build(session, campaign)) == []


def test_a_campaign_beyond_the_police_speaks_of_authorities(grooming):
    assert charts.outline(grooming, {"territorial-police"}).bodies == "forces"
    assert charts.outline(grooming, {"territorial-police", "local-authority"}).bodies == "authorities"


def test_rendered_svg_is_xml_with_the_period_labels_and_png_is_png(design, national):
    chart = charts.national_total(design, national, offences(design))
    svg = charts.render(chart.spec, "svg").decode()
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    text = " ".join(t for t in root.itertext())
    assert "2017/18" in text and "2018/19" in text and "4,373" in text
    assert charts.render(chart.spec, "png").startswith(PNG_SIGNATURE)


def test_rendering_never_fetches_a_url():
    spec = {"data": {"url": "https://example.org/figures.json"}, "mark": "bar",
            "encoding": {"x": {"field": "a", "type": "nominal"}}}
    with pytest.raises(ValueError, match="not allowed"):
        charts.render(spec, "svg")


def test_an_unknown_format_is_refused(design, national):
    with pytest.raises(ValueError):
        charts.render(charts.national_total(design, national, offences(design)).spec, "gif")


def test_falls_and_no_change_are_drawn_and_said():
    # A hand-made aggregate: the chart module needs no database.
    from foitrack.services.aggregate import Aggregate, AuthorityRow, Cell

    periods = (charts.PeriodInfo("a", "2018/19", dt.date(2018, 4, 1), dt.date(2019, 3, 31)),
               charts.PeriodInfo("b", "2019/20", dt.date(2019, 4, 1), dt.date(2020, 3, 31)))
    design = charts.Outline("x", "Test", "forces", (charts.MeasureInfo("m", "Crimes", "crimes"),),
                            periods, ())
    result = Aggregate("x", 5)
    figures = {"Kent": (10, 30), "Surrey": (40, 12), "Sussex": (20, 20), "Essex": (5, None)}
    for i, (name, values) in enumerate(figures.items()):
        for period, value in zip("ab", values, strict=True):
            result.authorities.append(AuthorityRow(
                name.lower(), f"{name} Police", name, None, Cell("m", period, None, None, "total"),
                "exact" if value is not None else "withheld", value, None, None, None, None, None, i))
    chart = charts.force_change(design, result, design.measures[0])
    assert [(r["authority"], r["change"], r["direction"]) for r in dataset(chart)] == [
        ("Kent", 20, "Rise"), ("Sussex", 0, "No change"), ("Surrey", -28, "Fall")]
    assert chart.subtitle[0].endswith("the other 2 are left out.")  # Essex, and one never answered
    assert chart.alt.endswith("1 rose, 1 fell, 1 did not change. Largest rise: Kent (+20); "
                              "largest fall: Surrey (-28).")
