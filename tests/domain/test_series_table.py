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
THIRD = SeriesCampaign(3, "g-2021", "G 2021", 2)
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


def _answer(campaign: SeriesCampaign, span, kind: str, value: int | None = None,
            lower: int | None = None, upper: int | None = None,
            exemption: str | None = None) -> Answer:
    return Answer(campaign.id, MERCIA.id, "offences", span[0], span[1], kind, value, lower,
                  upper, exemption)


def _table(*answers: Answer, labels=("2018/19", "2019/20")):
    periods = [AskedPeriod(1, "a", labels[0], *Y18), AskedPeriod(2, "b", labels[0], *Y18),
               AskedPeriod(2, "c", labels[1], *Y19), AskedPeriod(3, "d", labels[0], *Y18)]
    return build_table(slug="g", name="G", measure="offences", measure_label="Offences",
                       measures=[("offences", "Offences")], campaigns=[SECOND, THIRD, FIRST],
                       asked_periods=periods, authorities=[MERCIA],
                       asked=[(1, MERCIA.id), (2, MERCIA.id), (3, MERCIA.id)], answers=answers)


def test_a_later_not_provided_neither_replaces_nor_revises_an_answer():
    table = _table(_answer(FIRST, Y18, "exact", 73), _answer(SECOND, Y18, "not_provided"))
    cell = table.row("west-mercia").cells[Y18]
    assert (cell.text, cell.campaign, cell.revised) == ("73", "g-2019", False)
    assert table.revisions == []


@pytest.mark.parametrize(("kind", "exemption", "text"), [
    ("withheld", "s.12", "withheld s.12"), ("not_recorded", None, "not recorded"),
    ("not_held", None, "not held"), ("not_provided", None, "not provided")])
def test_a_later_refusal_leaves_the_earlier_figure_standing(kind, exemption, text):
    table = _table(_answer(FIRST, Y18, "exact", 73),
                   _answer(SECOND, Y18, kind, exemption=exemption))
    cell = table.row("west-mercia").cells[Y18]
    assert (cell.text, cell.campaign, cell.revised) == ("73", "g-2019", False)
    assert table.revisions == []
    assert [(p.total, p.authorities) for p in table.national][0] == (73, 1)
    assert [r.sentence for r in table.later_refusals] == [
        f"later refused/not recorded: {text} in the 2020 campaign; 73 from the 2019 campaign "
        "stands"]


def test_a_later_refusal_leaves_a_suppressed_figure_standing_too():
    table = _table(_answer(FIRST, Y18, "suppressed", lower=0, upper=4),
                   _answer(SECOND, Y18, "withheld", exemption="s.40"))
    assert table.row("west-mercia").cells[Y18].text == "<5" and table.revisions == []


def test_a_figure_after_a_refusal_is_compared_with_the_figure_before_it():
    table = _table(_answer(FIRST, Y18, "exact", 73), _answer(SECOND, Y18, "not_recorded"),
                   _answer(THIRD, Y18, "exact", 75))
    cell = table.row("west-mercia").cells[Y18]
    assert (cell.text, cell.campaign, cell.revised) == ("75", "g-2021", True)
    assert [r.sentence for r in table.revisions] == [
        "revised: 73 in the 2019 campaign, 75 in the 2021 campaign"]


def test_without_any_figure_the_latest_refusal_is_shown():
    table = _table(_answer(FIRST, Y18, "withheld", exemption="s.12"),
                   _answer(SECOND, Y18, "not_recorded"), _answer(THIRD, Y18, "not_provided"))
    cell = table.row("west-mercia").cells[Y18]
    assert (cell.text, cell.campaign, cell.revised) == ("not recorded", "g-2020", False)
    assert table.revisions == [] and table.later_refusals == []
    assert [(p.total, p.authorities) for p in table.national][0] == (0, 0)


def test_a_figure_after_a_refusal_is_a_revision():
    table = _table(_answer(FIRST, Y18, "not_held"), _answer(SECOND, Y18, "exact", 75))
    assert table.row("west-mercia").cells[Y18].text == "75"
    assert [r.sentence for r in table.revisions] == [
        "revised: not held in the 2019 campaign, 75 in the 2020 campaign"]


def test_the_same_answer_again_is_no_revision():
    table = _table(_answer(FIRST, Y18, "exact", 73), _answer(SECOND, Y18, "exact", 73))
    assert table.revisions == [] and table.row("west-mercia").cells[Y18].campaign == "g-2020"


def test_periods_sharing_a_label_are_told_apart_by_their_dates():
    table = _table(labels=("Year", "Year"))
    assert [p.label for p in table.periods] == ["Year (2018-04-01 to 2019-03-31)",
                                                "Year (2019-04-01 to 2020-03-31)"]


def _asked_by_first(*spans: tuple[str, tuple[dt.date, dt.date], int | None]):
    return build_table(
        slug="g", name="G", measure="offences", measure_label="Offences",
        measures=[("offences", "Offences")], campaigns=[FIRST],
        asked_periods=[AskedPeriod(1, label, label, *span) for label, span, _value in spans],
        authorities=[MERCIA], asked=[(1, MERCIA.id)],
        answers=[_answer(FIRST, span, "exact", value) for _label, span, value in spans
                 if value is not None])


QUARTER = (dt.date(2020, 4, 1), dt.date(2020, 6, 30))
Y20 = (dt.date(2020, 4, 1), dt.date(2021, 3, 31))


def test_a_quarter_between_two_years_leaves_the_year_on_year_change():
    table = _asked_by_first(("2019/20", Y19, 90), ("Q1 2020", QUARTER, 30),
                            ("2020/21", Y20, 100))
    assert [p.label for p in table.periods] == ["2019/20", "Q1 2020", "2020/21"]
    assert [(c.from_period.label, c.to_period.label, c.panel_from, c.panel_to, c.comparable)
            for c in table.changes] == [("2019/20", "2020/21", 90, 100, True)]


def test_quarters_are_compared_with_the_quarter_before_past_a_year():
    q2 = (dt.date(2020, 7, 1), dt.date(2020, 9, 30))
    table = _asked_by_first(("Q1 2020", QUARTER, 30), ("2020/21", Y20, 100),
                            ("Q2 2020", q2, 35))
    assert [(c.from_period.label, c.to_period.label, c.change) for c in table.changes] == [
        ("Q1 2020", "Q2 2020", 5)]


def test_periods_of_different_lengths_alone_give_no_change():
    table = _asked_by_first(("2019/20", Y19, 90), ("Q1 2020", QUARTER, 30))
    assert table.changes == []
