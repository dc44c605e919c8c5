"""A chart's phone drawing (charts.narrow): valid Vega-Lite, and drawn about as wide as a phone's
column, so that shown there its text is not shrunk to a few pixels (issue 16, point 11)."""

from __future__ import annotations

import re

import altair as alt
import pytest

from foitrack.exporters import charts
from tests.factories import load_forces
from tests.test_chart_specs import every_campaign_chart

PHONE_COLUMN = 358  # a 390px screen less the page's 1rem margins
LABEL_SIZE = 11  # the smallest text in a chart


def drawn_width(spec) -> float:
    svg = charts.render(spec, "svg").decode()
    return float(re.search(r'<svg[^>]* width="([\d.]+)"', svg).group(1))


@pytest.mark.parametrize("name", ["grooming-2019", "lockdown-2020"])
def test_every_chart_drawn_for_a_phone_keeps_its_text_readable(session, name):
    load_forces(session)
    for chart in every_campaign_chart(session, name):
        narrow = charts.narrow(chart.spec)
        alt.vegalite.v6.schema.core.Root.validate(narrow)
        full, phone = drawn_width(chart.spec), drawn_width(narrow)
        # The full drawing shrunk to the column: its 11px text would be under 6px.
        assert LABEL_SIZE * PHONE_COLUMN / full < 6, chart.name
        # The phone's drawing is shrunk by at most a tenth: 11px text stays 10px or more.
        assert LABEL_SIZE * min(1, PHONE_COLUMN / phone) >= 10, (chart.name, phone)
        assert chart.spec != narrow and "title" in chart.spec  # the download is untouched


def test_the_phone_drawing_leaves_the_title_to_the_page_and_wraps_the_credit(session):
    load_forces(session)
    chart = every_campaign_chart(session, "grooming-2019")[0]
    narrow = charts.narrow(chart.spec)
    assert "title" not in narrow
    svg = charts.render(narrow, "svg").decode()
    assert "Source: FOI responses to" in svg
    assert chart.title not in svg


def test_the_series_charts_drawn_for_a_phone_are_valid_and_narrow(monkeypatch):
    from foitrack.exporters import series_charts
    from tests import test_chart_specs

    found: list = []
    monkeypatch.setattr(series_charts, "catalogue",
                        lambda table, real=series_charts.catalogue: found.extend(real(table))
                        or found)
    test_chart_specs.test_every_series_chart_is_valid_vega_lite()
    assert found
    for chart in found:
        narrow = charts.narrow(chart.spec)
        alt.vegalite.v6.schema.core.Root.validate(narrow)
        assert LABEL_SIZE * min(1, PHONE_COLUMN / drawn_width(narrow)) >= 10, chart.name
