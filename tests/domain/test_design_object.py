"""The read-only design object: its order, lookups, labels and groups, and that the grid, the
response template and the aggregate, which all read it, agree on the order of cells."""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from foitrack.domain.design import (
    CampaignDesign,
    DesignCategory,
    DesignPeriod,
    comparable,
)
from foitrack.errors import Problem
from foitrack.services import aggregate, templates
from foitrack.services.data_design import parse_design
from tests.factories import make_campaign

PACKAGE = Path(__file__).resolve().parents[2] / "foitrack"

# Two measures, two periods out of time order and a group of them, two breakdowns (the second
# with its "not recorded" listed among its categories) and a group listed out of order.
DESIGN = '''
slug = "design-object"
title = "The design object"
authorities = ["E23000016", "E23000033"]
request_text = """Dear {{ authority.name }}, ..."""
[[measures]]
key = "offences"
label = "Offences recorded"
[[measures]]
key = "arrests"
label = "Arrests made"
unit = "arrests"
[[periods]]
key = "2019-20"
label = "2019/20"
start = 2019-04-01
end = 2020-03-31
[[periods]]
key = "2018-19"
label = "2018/19"
start = 2018-04-01
end = 2019-03-31
[[period_groups]]
key = "both"
label = "The two years"
periods = ["2018-19", "2019-20"]
[[dimensions]]
key = "platform"
label = "Communication method"
categories = ["Instagram", "Facebook", "Other"]
[[dimensions]]
key = "age"
label = "Age of victim"
categories = ["Under 13", "Not known", "13 to 15"]
not_recorded = "Not known"
overlapping = true
unit = "victims"
[[groups]]
key = "meta"
label = "Meta's apps"
dimension = "platform"
categories = ["Facebook", "Instagram"]
'''

FIGURES = (
    b"authority,measure,period,dimension,category,value,caveat,source\n"
    b"sussex,offences,2018-19,,,10,,t\n"
    b"sussex,offences,2019-20,,,12,,t\n"
    b"sussex,offences,2018-19,platform,Instagram,4,,t\n"
    b"sussex,offences,2019-20,platform,Facebook,3,,t\n"
    b"sussex,offences,2018-19,platform,Not recorded,2,,t\n"
    b"sussex,arrests,2019-20,age,13 to 15,5,,t\n"
    b"sussex,arrests,2018-19,age,Not known,1,,t\n"
    b"west-mercia,offences,2018-19,,,7,,t\n"
    b"west-mercia,offences,2019-20,platform,Other,1,,t\n"
    b"west-mercia,arrests,2018-19,,,3,,t\n"
)


def spec_design() -> CampaignDesign:
    import tomllib

    problems: list[Problem] = []
    design = parse_design(tomllib.loads(DESIGN), problems)
    assert problems == []
    return CampaignDesign.from_spec(design)


def shape(design: CampaignDesign) -> list[tuple[str | None, ...]]:
    """The cells by keys and labels, ids left out: what two builds of one design share."""
    return [(*cell.key, cell.label) for cell in design.cells()]


def test_cells_come_measure_by_period_total_first_then_each_breakdown():
    design = spec_design()
    keys = [cell.key for cell in design.cells()]
    per_period = [None, "Instagram", "Facebook", "Other", "Not recorded",
                  "Under 13", "13 to 15", "Not known"]
    assert keys == [(measure, period, dimension, category)
                    for measure in ("offences", "arrests") for period in ("2019-20", "2018-19")
                    for dimension, category in zip(
                        [None, *["platform"] * 4, *["age"] * 3], per_period, strict=True)]
    assert design.cell_count() == len(keys) == 32


def test_not_recorded_is_last_and_marked():
    age = spec_design().breakdown("age")
    assert age.labels == ("Under 13", "13 to 15", "Not known")
    assert age.not_recorded == DesignCategory("Not known", True, dimension="age")
    assert (age.overlapping, age.unit) == (True, "victims")


def test_lookups_by_key_and_label():
    design = spec_design()
    assert design.measure("arrests").unit == "arrests"
    assert design.measure("offences").unit == "offences"  # from the label's first word
    assert design.period("2018-19").start == dt.date(2018, 4, 1)
    assert design.category("platform", "Facebook").label == "Facebook"
    assert design.period_group("both").periods == ("2018-19", "2019-20")
    assert design.has_measure("offences") and not design.has_measure("nope")
    assert design.has_period("2019-20") and not design.has_period("both")
    assert design.has_breakdown("age") and not design.has_breakdown("platform ")
    for lookup, args in ((design.measure, ("nope",)), (design.period, ("both",)),
                         (design.breakdown, ("nope",)), (design.category, ("platform", "facebook")),
                         (design.group, ("nope",)), (design.period_group, ("2018-19",))):
        with pytest.raises(KeyError):
            lookup(*args)


def test_a_group_keeps_its_breakdowns_order():
    group = spec_design().group("meta")
    assert (group.label, group.dimension, group.categories) == (
        "Meta's apps", "platform", ("Instagram", "Facebook"))


def test_labels_name_a_cell_as_the_grid_does():
    cells = list(spec_design().cells())
    assert cells[0].label == "Offences recorded, 2019/20, total"
    assert cells[1].label == "Offences recorded, 2019/20, Instagram"


def test_periods_in_time_order_and_as_designed():
    design = spec_design()
    assert [p.key for p in design.periods] == ["2019-20", "2018-19"]
    assert [p.key for p in design.periods_in_time] == ["2018-19", "2019-20"]


def test_category_choices_name_breakdown_and_category():
    assert spec_design().category_choices()[:2] == [
        ("platform:Instagram", "Communication method: Instagram"),
        ("platform:Facebook", "Communication method: Facebook")]


def test_the_design_cannot_be_changed():
    design = spec_design()
    with pytest.raises(dataclasses.FrozenInstanceError):
        design.measures = ()  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        design.breakdowns[0].label = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        design._measures["x"] = design.measures[0]  # type: ignore[index]
    assert isinstance(design.measures, tuple) and isinstance(design.breakdowns[0].categories, tuple)


def test_row_order_puts_periods_then_groups_and_totals_first():
    design = spec_design()
    rows = [("offences", "both", "total", None, None),
            ("offences", "2018-19", "group", "platform", "meta"),
            ("offences", "2018-19", "category", "age", "Under 13"),
            ("offences", "2018-19", "category", "platform", "Other"),
            ("offences", "2018-19", "category", "platform", "Instagram"),
            ("offences", "2018-19", "total", None, None),
            ("offences", "2019-20", "total", None, None),
            ("arrests", "2019-20", "total", None, None)]
    assert sorted(rows, key=lambda row: design.row_order(*row)) == [
        rows[6], rows[5], rows[4], rows[3], rows[2], rows[1], rows[0], rows[7]]


def test_comparable_periods_are_of_about_the_same_length():
    year = DesignPeriod("a", "a", dt.date(2018, 4, 1), dt.date(2019, 3, 31))
    leap = DesignPeriod("b", "b", dt.date(2019, 4, 1), dt.date(2020, 3, 31))
    quarter = DesignPeriod("q", "q", dt.date(2019, 4, 1), dt.date(2019, 6, 30))
    assert comparable(year, leap) and not comparable(year, quarter)


def test_the_stored_design_is_the_parsed_one(session):
    campaign = make_campaign(session, DESIGN)
    stored = CampaignDesign.of(campaign)
    assert shape(stored) == shape(spec_design())
    assert all(part.id is not None for part in (*stored.measures, *stored.periods,
                                                *stored.breakdowns, *stored.groups))
    assert stored.category("age", "Not known").id == campaign.dimensions[1].not_recorded.id


def test_grid_template_and_aggregate_agree_on_the_order(session):
    campaign = make_campaign(session, DESIGN, FIGURES)
    design = CampaignDesign.of(campaign)
    cells = [cell.key for cell in design.cells()]
    # The grid's cells, walked from the models as the grid view walks them.
    grid = [(m.key, p.key, d.key if c else None, c.label if c else None)
            for m in campaign.measures for p in campaign.periods
            for d, c in [(None, None), *((d, c) for d in campaign.dimensions
                                        for c in d.categories)]]
    assert grid == cells
    request = campaign.requests[0]
    rows = templates.template_info(campaign, request).rows
    assert [(r.measure_key, r.period_key, r.dimension_key, r.category) for r in rows] == cells
    result = aggregate.build(session, campaign)
    found = [(r.cell.measure, r.cell.period, r.cell.dimension, r.cell.category)
             for r in result.rows if r.cell.level != "group" and r.cell.period != "both"]
    # The aggregate holds the cells with figures, in the cells' order.
    assert found == [cell for cell in cells if cell in set(found)]
    assert len(found) == 9
    assert [r.cell.period for r in result.rows if r.cell.measure == "offences"
            and r.cell.level == "total"] == ["2019-20", "2018-19", "both"]


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_charts_import_no_service():
    assert not {name for name in imports_of(PACKAGE / "exporters" / "charts.py")
                if name.startswith("foitrack.services")}


def test_campaigns_do_not_import_the_campaign_file():
    assert not {name for name in imports_of(PACKAGE / "services" / "campaigns.py")
                if name == "foitrack.services.design"}
    assert not {name for name in imports_of(PACKAGE / "services" / "data_design.py")
                if name in ("foitrack.services.campaigns", "foitrack.services.design")}


def test_the_design_module_is_pure():
    assert {name for name in imports_of(PACKAGE / "domain" / "design.py")
            if name.startswith("foitrack")} == set()
