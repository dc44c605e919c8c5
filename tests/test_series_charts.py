"""The series charts (foitrack.exporters.series_charts) plot exactly the series table's numbers."""

from __future__ import annotations

import datetime as dt

from foitrack.domain.series_table import (
    Answer,
    AskedPeriod,
    AuthorityInfo,
    SeriesCampaign,
    build_table,
)
from foitrack.exporters import charts, series_charts

Y18 = (dt.date(2018, 4, 1), dt.date(2019, 3, 31))
Y19 = (dt.date(2019, 4, 1), dt.date(2020, 3, 31))
CAMPAIGN = SeriesCampaign(1, "g-2020", "Grooming, 2018/19 and 2019/20", 0)
FORCES = [AuthorityInfo(1, "kent", "E23000032", "Kent Police", "Kent"),
          AuthorityInfo(2, "west-mercia", "E23000016", "West Mercia Police", "West Mercia")]


def _table():
    def answer(authority, span, kind, value):
        return Answer(1, authority, "offences", *span, kind, value, None, None, None)

    return build_table(
        slug="grooming", name="Online grooming", measure="offences",
        measure_label="Offences recorded", measures=[("offences", "Offences recorded")],
        campaigns=[CAMPAIGN],
        asked_periods=[AskedPeriod(1, "a", "2018/19", *Y18), AskedPeriod(1, "b", "2019/20", *Y19)],
        authorities=FORCES, asked=[(1, 1), (1, 2)],
        answers=[answer(1, Y18, "exact", 40), answer(1, Y19, "not_recorded", None),
                 answer(2, Y18, "exact", 75), answer(2, Y19, "exact", 90)])


def test_the_national_line_plots_the_totals_with_their_coverage():
    chart = series_charts.national_series(_table())
    assert chart is not None and chart.name == "national-total-offences"
    assert chart.rows == (
        {"period": "2018/19", "total": 115, "authorities": 2, "asked": 2, "campaign": "g-2020"},
        {"period": "2019/20", "total": 90, "authorities": 1, "asked": 2, "campaign": "g-2020"})
    assert chart.subtitle[1] == ("2018/19 to 2019/20, the 1 authority with figures for both: "
                                 "75 to 90 (+20%).")
    assert charts.render(chart.spec, "svg").startswith(b"<svg")


def test_the_small_multiples_plot_only_exact_figures():
    chart = series_charts.small_multiples(_table())
    assert chart is not None
    assert chart.rows == ({"authority": "Kent", "period": "2018/19", "value": 40},
                          {"authority": "West Mercia", "period": "2018/19", "value": 75},
                          {"authority": "West Mercia", "period": "2019/20", "value": 90})
    assert charts.render(chart.spec, "png").startswith(b"\x89PNG")
