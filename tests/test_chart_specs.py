"""Every chart spec foitrack writes is valid Vega-Lite.

The charts are built without altair's own validation (it took most of the time of building
them), so this is where a spec that Vega-Lite would reject is caught."""

from __future__ import annotations

import datetime as dt

import altair as alt
import jsonschema
import pytest

from foitrack.domain.series_table import (
    Answer,
    AskedPeriod,
    AuthorityInfo,
    SeriesCampaign,
    build_table,
)
from foitrack.exporters import charts, series_charts
from foitrack.services import aggregate
from foitrack.services.campaigns import authority_kinds
from tests.factories import load_forces, make_fixture_campaign

ROOT = alt.vegalite.v6.schema.core.Root


def every_campaign_chart(session, name):
    campaign = make_fixture_campaign(session, name)
    design = charts.outline(campaign, authority_kinds(session, campaign))
    national = aggregate.build(session, campaign)
    found = list(charts.catalogue(design, national))
    for measure in design.measures:
        sheet = charts.authority_against_total(design, national, "west-mercia",
                                               "West Mercia Police", measure)
        if sheet is not None:
            found.append(sheet)
    return found


@pytest.mark.parametrize("name", ["grooming-2019", "lockdown-2020"])
def test_every_campaign_chart_is_valid_vega_lite(session, name):
    load_forces(session)
    found = every_campaign_chart(session, name)
    assert len(found) >= 3
    for chart in found:
        ROOT.validate(chart.spec)


def test_every_series_chart_is_valid_vega_lite():
    y18, y19 = (dt.date(2018, 4, 1), dt.date(2019, 3, 31)), (dt.date(2019, 4, 1), dt.date(2020, 3, 31))
    table = build_table(
        slug="grooming", name="Online grooming", measure="offences",
        measure_label="Offences recorded", measures=[("offences", "Offences recorded")],
        campaigns=[SeriesCampaign(1, "g-2020", "Grooming, 2018/19 and 2019/20", 0)],
        asked_periods=[AskedPeriod(1, "a", "2018/19", *y18), AskedPeriod(1, "b", "2019/20", *y19)],
        authorities=[AuthorityInfo(1, "kent", "E23000032", "Kent Police", "Kent"),
                     AuthorityInfo(2, "west-mercia", "E23000016", "West Mercia Police",
                                   "West Mercia")],
        asked=[(1, 1), (1, 2)],
        answers=[Answer(1, a, "offences", *span, "exact", value, None, None, None)
                 for a, span, value in ((1, y18, 40), (1, y19, 44), (2, y18, 75), (2, y19, 90))])
    found = series_charts.catalogue(table)
    assert len(found) >= 2
    for chart in found:
        ROOT.validate(chart.spec)


def test_the_check_catches_a_spec_vega_lite_would_reject(session):
    load_forces(session)
    chart = every_campaign_chart(session, "grooming-2019")[0]
    broken = {**chart.spec, "vconcat": [{"mark": "not a mark"}]}
    with pytest.raises(jsonschema.ValidationError):
        ROOT.validate(broken)
