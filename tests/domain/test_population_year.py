"""Which mid-year estimate a period is rated on (domain.population): plain dates, no app."""

from __future__ import annotations

import datetime as dt

import pytest

from foitrack.domain.population import YearChoice, choose_year, period_year

D = dt.date
SHIPPED_YEARS = range(2017, 2024)  # mid-2017 to mid-2023, as the shipped file holds


@pytest.mark.parametrize(("start", "end", "year"), [
    (D(2018, 4, 1), D(2019, 3, 31), 2018),  # April-March: the 30 June of its first year
    (D(2023, 1, 1), D(2023, 12, 31), 2023),  # a calendar year
    (D(2020, 4, 1), D(2020, 6, 30), 2020),  # the last day counts
    (D(2020, 6, 30), D(2020, 9, 30), 2020),  # and the first
    (D(2018, 4, 1), D(2021, 3, 31), 2019),  # several inside: the one nearest the middle
    (D(2018, 6, 30), D(2019, 6, 30), 2018),  # two equally near: the earlier
    (D(2019, 10, 1), D(2019, 12, 31), None),  # no 30 June inside
])
def test_the_period_year_is_the_30_june_inside_it(start, end, year):
    assert period_year(start, end) == year


def test_a_period_with_its_own_estimate_uses_it():
    assert choose_year(D(2018, 4, 1), D(2019, 3, 31), SHIPPED_YEARS) == YearChoice(2018, False)


def test_a_period_after_the_last_estimate_uses_the_nearest_year_and_says_so():
    assert choose_year(D(2024, 4, 1), D(2025, 3, 31), SHIPPED_YEARS) == YearChoice(2023, True)


def test_a_period_before_the_first_estimate_uses_the_first():
    assert choose_year(D(2015, 4, 1), D(2016, 3, 31), SHIPPED_YEARS) == YearChoice(2017, True)


def test_a_quarter_with_no_30_june_uses_the_year_nearest_its_middle():
    # October to December 2019: mid-November is 4.5 months after June 2019, 7.5 before 2020.
    assert choose_year(D(2019, 10, 1), D(2019, 12, 31), SHIPPED_YEARS) == YearChoice(2019, True)
    # January to March 2020: mid-February is nearer June 2020.
    assert choose_year(D(2020, 1, 1), D(2020, 3, 31), SHIPPED_YEARS) == YearChoice(2020, True)


def test_a_missing_year_falls_back_on_the_nearest_and_the_earlier_on_a_tie():
    # 30 June 2018 alone; 2017 and 2019 are each 365 days away.
    assert choose_year(D(2018, 6, 30), D(2018, 6, 30), [2017, 2019]) == YearChoice(2017, True)
    # 2018/19 without 2018: 30 June 2019 is nearer its middle (October 2018) than June 2017.
    assert choose_year(D(2018, 4, 1), D(2019, 3, 31), [2017, 2019]) == YearChoice(2019, True)


def test_no_estimates_no_year():
    assert choose_year(D(2018, 4, 1), D(2019, 3, 31), []) is None
