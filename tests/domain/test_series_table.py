"""The series table's pure rules (foitrack.domain.series_table), without a database: names made
from a campaign's, the latest answer, "not provided" as no answer, periods of equal labels."""

from __future__ import annotations

import datetime as dt

import pytest

from foitrack.domain.series_table import (
    Answer,
    AskedPeriod,
    AuthorityInfo,
    SeriesCampaign,
    build_table,
    campaign_label,
    series_name_base,
    series_slug_base,
)

Y18 = (dt.date(2018, 4, 1), dt.date(2019, 3, 31))
Y19 = (dt.date(2019, 4, 1), dt.date(2020, 3, 31))
FIRST, SECOND = SeriesCampaign(1, "g-2019", "G 2019", 0), SeriesCampaign(2, "g-2020", "G 2020", 1)
MERCIA = AuthorityInfo(7, "west-mercia", "E23000016", "West Mercia Police", "West Mercia")


@pytest.mark.parametrize(("slug", "base"), [
    ("grooming-2019", "grooming"), ("grooming-2018-19", "grooming"),
    ("grooming-2019-2020", "grooming"), ("2019", "2019"), ("grooming", "grooming"),
    ("lockdown-2020-q1", "lockdown-2020-q1"),
])
def test_a_series_slug_is_the_campaign_s_without_its_trailing_year(slug, base):
    assert series_slug_base(slug) == base


@pytest.mark.parametrize(("title", "base"), [
    ("Sexual communication with a child, 2017/18 and 2018/19", "Sexual communication with a child"),
    ("Online grooming 2020", "Online grooming"), ("Online grooming (2021/22)", "Online grooming"),
    ("2019", "2019"), ("Stop and search", "Stop and search"),
])
def test_a_series_name_is_the_campaign_title_without_its_trailing_years(title, base):
    assert series_name_base(title) == base


def test_a_campaign_is_named_by_its_year():
    assert campaign_label("grooming-2019", "x") == "the 2019 campaign"
    assert campaign_label("grooming", "Grooming, 2018/19 and 2019/20") == "the 2019 campaign"
    assert campaign_label("grooming", "Grooming") == "the campaign grooming"


def _answer(campaign: SeriesCampaign, span, kind: str, value: int | None = None) -> Answer:
    return Answer(campaign.id, MERCIA.id, "offences", span[0], span[1], kind, value, None, None,
                  None)


def _table(*answers: Answer, labels=("2018/19", "2019/20")):
    periods = [AskedPeriod(1, "a", labels[0], *Y18), AskedPeriod(2, "b", labels[0], *Y18),
               AskedPeriod(2, "c", labels[1], *Y19)]
    return build_table(slug="g", name="G", measure="offences", measure_label="Offences",
                       measures=[("offences", "Offences")], campaigns=[SECOND, FIRST],
                       asked_periods=periods, authorities=[MERCIA],
                       asked=[(1, MERCIA.id), (2, MERCIA.id)], answers=answers)


def test_a_later_not_provided_neither_replaces_nor_revises_an_answer():
    table = _table(_answer(FIRST, Y18, "exact", 73), _answer(SECOND, Y18, "not_provided"))
    cell = table.row("west-mercia").cells[Y18]
    assert (cell.text, cell.campaign, cell.revised) == ("73", "g-2019", False)
    assert table.revisions == []


def test_a_later_answer_of_another_kind_is_a_revision():
    table = _table(_answer(FIRST, Y18, "exact", 73), _answer(SECOND, Y18, "not_held"))
    assert table.row("west-mercia").cells[Y18].text == "not held"
    assert [r.sentence for r in table.revisions] == [
        "revised: 73 in the 2019 campaign, not held in the 2020 campaign"]


def test_the_same_answer_again_is_no_revision():
    table = _table(_answer(FIRST, Y18, "exact", 73), _answer(SECOND, Y18, "exact", 73))
    assert table.revisions == [] and table.row("west-mercia").cells[Y18].campaign == "g-2020"


def test_periods_sharing_a_label_are_told_apart_by_their_dates():
    table = _table(labels=("Year", "Year"))
    assert [p.label for p in table.periods] == ["Year (2018-04-01 to 2019-03-31)",
                                                "Year (2019-04-01 to 2020-03-31)"]


def test_a_change_between_periods_of_different_lengths_is_marked():
    quarter = (dt.date(2020, 4, 1), dt.date(2020, 6, 30))
    table = build_table(
        slug="g", name="G", measure="offences", measure_label="Offences",
        measures=[("offences", "Offences")], campaigns=[FIRST],
        asked_periods=[AskedPeriod(1, "y", "2019/20", *Y19), AskedPeriod(1, "q", "Q1", *quarter)],
        authorities=[MERCIA], asked=[(1, MERCIA.id)],
        answers=[_answer(FIRST, Y19, "exact", 90), _answer(FIRST, quarter, "exact", 30)])
    change = table.change("2019/20", "Q1")
    assert (change.panel_size, change.change, change.comparable) == (1, -60, False)
