"""Rolling a campaign forward: periods, keys, labels and wording moved on by the cadence."""

from __future__ import annotations

import datetime as dt

import pytest

from foitrack.domain.design import (
    Design,
    DimensionSpec,
    GroupSpec,
    MeasureSpec,
    PeriodGroupSpec,
    PeriodSpec,
)
from foitrack.domain.roll_forward import add_months, roll_design, roll_text, wording_diff

D = dt.date
TWO_YEARS = [PeriodSpec("2017-18", "2017/18", D(2017, 4, 1), D(2018, 3, 31)),
             PeriodSpec("2018-19", "2018/19", D(2018, 4, 1), D(2019, 3, 31))]


@pytest.mark.parametrize(("day", "months", "moved"), [
    (D(2019, 3, 31), 12, D(2020, 3, 31)),
    (D(2020, 2, 29), 12, D(2021, 2, 28)),
    (D(2019, 2, 28), 12, D(2020, 2, 29)),  # a month's last day stays its last day
    (D(2019, 4, 1), 12, D(2020, 4, 1)),
    (D(2020, 1, 31), 3, D(2020, 4, 30)),
    (D(2020, 11, 30), 3, D(2021, 2, 28)),
    (D(2020, 1, 15), 1, D(2020, 2, 15)),
    (D(2019, 3, 31), 24, D(2021, 3, 31)),
])
def test_dates_move_by_whole_months_keeping_the_end_of_the_month(day, months, moved) -> None:
    assert add_months(day, months) == moved


def test_a_year_on_moves_periods_keys_labels_and_dates() -> None:
    design = Design(periods=[
        PeriodSpec("fy2017-18", "2017/18", D(2017, 4, 1), D(2018, 3, 31)),
        PeriodSpec("2018-19", "2018/19", D(2018, 4, 1), D(2019, 3, 31)),
        PeriodSpec("y2018", "2018", D(2018, 1, 1), D(2018, 12, 31)),
        PeriodSpec("q1-2020", "Q1 2020", D(2020, 1, 1), D(2020, 3, 31)),
        PeriodSpec("lockdown", "April to June 2020", D(2020, 4, 1), D(2020, 6, 30)),
        PeriodSpec("feb", "February 2020", D(2020, 2, 1), D(2020, 2, 29)),
    ])
    rolled = roll_design(design)
    assert [(p.key, p.label, p.start, p.end) for p in rolled.design.periods] == [
        ("fy2018-19", "2018/19", D(2018, 4, 1), D(2019, 3, 31)),
        ("2019-20", "2019/20", D(2019, 4, 1), D(2020, 3, 31)),
        ("y2019", "2019", D(2019, 1, 1), D(2019, 12, 31)),
        ("q1-2021", "Q1 2021", D(2021, 1, 1), D(2021, 3, 31)),
        ("lockdown", "April to June 2021", D(2021, 4, 1), D(2021, 6, 30)),
        ("feb", "February 2021", D(2021, 2, 1), D(2021, 2, 28)),
    ]
    assert rolled.key_map["fy2017-18"] == "fy2018-19"
    assert rolled.unmoved == ()


def test_period_groups_keep_their_members_and_the_rest_of_the_design_is_kept() -> None:
    measure = MeasureSpec("offences", "Offences", "offences", 1000, "children-0-17")
    dimension = DimensionSpec("platform", "Method", ["Instagram", "Snapchat"], "Not recorded")
    group = GroupSpec("apps", "Apps", "platform", ["Instagram", "Snapchat"])
    design = Design(measures=[measure], periods=list(TWO_YEARS),
                    period_groups=[PeriodGroupSpec("both-2017-19", "2017/18 and 2018/19",
                                                   ["2017-18", "2018-19"])],
                    dimensions=[dimension], groups=[group], suppression_threshold=5,
                    min_coverage=0.5, min_base=30)
    rolled = roll_design(design)
    assert rolled.design.period_groups == [
        PeriodGroupSpec("both-2018-20", "2018/19 and 2019/20", ["2018-19", "2019-20"])]
    assert (rolled.design.measures, rolled.design.dimensions, rolled.design.groups) == (
        [measure], [dimension], [group])
    assert (rolled.design.suppression_threshold, rolled.design.min_coverage,
            rolled.design.min_base) == (5, 0.5, 30)
    assert design.periods == TWO_YEARS  # the source's design is not changed


def test_a_label_without_a_year_of_its_dates_is_kept_and_named() -> None:
    rolled = roll_design(Design(periods=[PeriodSpec("latest", "Latest year", D(2019, 4, 1),
                                                    D(2020, 3, 31))]))
    assert [(p.key, p.label, p.start) for p in rolled.design.periods] == [
        ("latest", "Latest year", D(2020, 4, 1))]
    assert rolled.unmoved == ("label 'Latest year' (latest): no year of its dates in it, "
                              "kept as written",)


def test_a_quarterly_cadence_moves_dates_and_the_labels_it_can_and_names_the_rest() -> None:
    design = Design(periods=[
        PeriodSpec("q1-2020", "Q1 2020", D(2020, 1, 1), D(2020, 3, 31)),
        PeriodSpec("lockdown", "April to June 2020", D(2020, 4, 1), D(2020, 6, 30)),
        PeriodSpec("2018-19", "2018/19", D(2018, 4, 1), D(2019, 3, 31)),
    ])
    rolled = roll_design(design, 3)
    assert [(p.key, p.label, p.start, p.end) for p in rolled.design.periods] == [
        ("q2-2020", "Q2 2020", D(2020, 4, 1), D(2020, 6, 30)),
        ("lockdown", "July to September 2020", D(2020, 7, 1), D(2020, 9, 30)),
        ("2018-19", "2018/19", D(2018, 7, 1), D(2019, 6, 30)),
    ]
    assert rolled.unmoved == ("label '2018/19' (2018-19): it cannot be moved by 3 months; "
                              "write it for the new dates",)


def test_two_years_on_moves_years_by_two() -> None:
    rolled = roll_design(Design(periods=list(TWO_YEARS)), 24)
    assert [(p.key, p.label) for p in rolled.design.periods] == [
        ("2019-20", "2019/20"), ("2020-21", "2020/21")]


SEED_WORDING = """{{ salutation }},

Under the Freedom of Information Act 2000, section 1, please tell me how many offences of
sexual communication with a child (Sexual Offences Act 2003, s.15A, in force since
3 April 2017) {{ authority.name }} recorded in each of the financial years 2017/18 and
2018/19, that is from 1 April 2017 to 31 March 2019. If this exceeds the s.12 cost limit,
please give 2018/19 alone. Ten years of data (2009 onwards) are not needed.

Yours faithfully,"""


def test_the_wording_moves_the_periods_years_and_nothing_else() -> None:
    proposal = roll_text(SEED_WORDING, TWO_YEARS)
    assert proposal.text == """{{ salutation }},

Under the Freedom of Information Act 2000, section 1, please tell me how many offences of
sexual communication with a child (Sexual Offences Act 2003, s.15A, in force since
3 April 2017) {{ authority.name }} recorded in each of the financial years 2018/19 and
2019/20, that is from 1 April 2018 to 31 March 2020. If this exceeds the s.12 cost limit,
please give 2019/20 alone. Ten years of data (2009 onwards) are not needed.

Yours faithfully,"""
    assert proposal.moved == (("2017/18", "2018/19"), ("2018/19", "2019/20"),
                              ("1 April 2017", "1 April 2018"), ("31 March 2019", "31 March 2020"),
                              ("2018/19", "2019/20"))
    assert proposal.unmoved == ("'3 April 2017': not a period's first or last day, kept",)


@pytest.mark.parametrize("text", [
    "section 1 and s.12 of the Freedom of Information Act 2000",
    "the Sexual Offences Act 2003",
    "the Online Safety Act 2023",  # a law's year, even when it is a period's year
    "£450 (18 hours)",
    "reference 2023/4471",
])
def test_unrelated_numbers_are_never_moved(text) -> None:
    periods = [PeriodSpec("2023-24", "2023/24", D(2023, 4, 1), D(2024, 3, 31)),
               PeriodSpec("2000-01", "2000/01", D(2000, 4, 1), D(2001, 3, 31)),
               PeriodSpec("2003", "2003", D(2003, 1, 1), D(2003, 12, 31))]
    proposal = roll_text(text, periods)
    assert (proposal.text, proposal.moved, proposal.diff) == (text, (), "")


def test_dates_in_the_wording_keep_how_they_are_written() -> None:
    text = "From 2017-04-01 to 31/03/2019, or 1st April 2017 to 31 March 2019, in April 2018."
    assert roll_text(text, TWO_YEARS).text == (
        "From 2018-04-01 to 31/03/2020, or 1st April 2018 to 31 March 2020, in April 2019.")


def test_a_leap_day_in_the_wording_moves_as_the_period_does() -> None:
    periods = [PeriodSpec("winter", "Winter 2019/20", D(2019, 12, 1), D(2020, 2, 29))]
    assert roll_text("1 December 2019 to 29 February 2020", periods).text == \
        "1 December 2020 to 28 February 2021"


def test_a_cadence_in_months_moves_dates_and_names_the_years_it_cannot_move() -> None:
    periods = [PeriodSpec("q1-2020", "Q1 2020", D(2020, 1, 1), D(2020, 3, 31))]
    proposal = roll_text("From 1 January 2020 to 31 March 2020 (Q1 2020).", periods, 3)
    assert proposal.text == "From 1 April 2020 to 30 June 2020 (Q1 2020)."
    assert proposal.unmoved == ("'2020': a year cannot be moved by 3 months",)


def test_the_diff_shows_each_changed_line() -> None:
    assert wording_diff("Dear X,\nIn 2017/18.\nThanks", "Dear X,\nIn 2018/19.\nThanks") == (
        "--- last time's wording\n+++ proposed wording\n@@ -1,3 +1,3 @@\n Dear X,\n"
        "-In 2017/18.\n+In 2018/19.\n Thanks\n")
    assert wording_diff("same", "same") == ""


def test_a_commencement_month_stays_even_on_a_periods_first_month_and_is_named() -> None:
    text = ("For 2017/18 and 2018/19, offences under s.67 (in force since April 2017), which "
            "commenced in April 2017 and came into force on 1 April 2017.")
    proposal = roll_text(text, TWO_YEARS)
    assert proposal.text == (
        "For 2018/19 and 2019/20, offences under s.67 (in force since April 2017), which "
        "commenced in April 2017 and came into force on 1 April 2017.")
    assert proposal.unmoved == (
        "'April 2017': after 'in force', the date of an event, kept",
        "'April 2017': after 'commenced', the date of an event, kept",
        "'1 April 2017': after 'into force', the date of an event, kept")


def test_a_month_moves_only_when_it_is_a_periods_first_or_last_month() -> None:
    text = ("From April 2017 to March 2019 (2017-04 to 2019-03); a change in June 2017 "
            "(2017-06), and the 1st of April 2017.")
    proposal = roll_text(text, TWO_YEARS)
    assert proposal.text == (
        "From April 2018 to March 2020 (2018-04 to 2020-03); a change in June 2017 "
        "(2017-06), and the 1st of April 2018.")
    assert proposal.unmoved == ("'June 2017': not a period's first or last month, kept",
                                "'2017-06': not a period's first or last month, kept")


def test_a_month_moves_by_a_cadence_in_months() -> None:
    periods = [PeriodSpec("q1-2020", "Q1 2020", D(2020, 1, 1), D(2020, 3, 31))]
    proposal = roll_text("January 2020 to March 2020", periods, 3)
    assert (proposal.text, proposal.unmoved) == ("April 2020 to June 2020", ())


@pytest.mark.parametrize(("text", "named"), [
    ("the GDPR (2018)", "GDPR (2018)"),
    ("per Smith v Jones (2018)", "Jones (2018)"),
    ("the 2018 Act", "2018 Act"),
    ("the 2018 Regulations", "2018 Regulations"),
    ("the Data Protection Act 2018", "Act 2018"),
    ("the Data Protection Act (2018)", "Act (2018)"),
    ("the Police Act, 2018", "Act, 2018"),
])
def test_a_laws_or_names_year_is_kept_and_named_when_it_is_a_periods(text, named) -> None:
    proposal = roll_text(text, TWO_YEARS)
    assert (proposal.text, proposal.moved) == (text, ())
    assert proposal.unmoved == (f"{named!r}: the year of a law or a name, kept",)
    assert roll_text(text.replace("2018", "2003"), TWO_YEARS).unmoved == ()  # not the periods'


def test_periods_in_brackets_still_move() -> None:
    text = "in the year (2018), and in each financial year (2017/18 and 2018/19)"
    assert roll_text(text, TWO_YEARS).text == (
        "in the year (2019), and in each financial year (2018/19 and 2019/20)")


@pytest.mark.parametrize(("text", "proposed"), [
    ("For FY17/18 and FY18/19.", "For FY18/19 and FY19/20."),
    ("For FY2017/18 and FY18/19.", "For FY2018/19 and FY19/20."),
    ("For FY 17-18 and fy18-19.", "For FY 18-19 and fy19-20."),
    ("In the financial years 17/18 and 18/19.", "In the financial years 18/19 and 19/20."),
    ("In 2017/18, 18/19.", "In 2018/19, 19/20."),
    ("In 2017-18 and 2018-19.", "In 2018-19 and 2019-20."),
])
def test_two_digit_financial_years_move_like_four_digit_ones(text, proposed) -> None:
    proposal = roll_text(text, TWO_YEARS)
    assert (proposal.text, proposal.unmoved) == (proposed, ())


def test_a_bare_two_digit_pair_is_named_not_moved() -> None:
    text = ("In 17/18 and 18/19, children aged 17-18, 16/17 of whom, scored 18/19 on ref "
            "A17/18.")
    proposal = roll_text(text, TWO_YEARS)
    assert (proposal.text, proposal.moved) == (text, ())
    assert proposal.unmoved == (
        "'17/18': perhaps the financial year 2017/18, kept; write FY17/18 to move it",
        "'18/19': perhaps the financial year 2018/19, kept; write FY18/19 to move it",
        "'18/19': perhaps the financial year 2018/19, kept; write FY18/19 to move it")


def test_two_digit_financial_years_in_keys_and_labels_move() -> None:
    design = Design(periods=[
        PeriodSpec("fy17-18", "FY17/18", D(2017, 4, 1), D(2018, 3, 31)),
        PeriodSpec("fy18-19", "FY 18/19", D(2018, 4, 1), D(2019, 3, 31))])
    rolled = roll_design(design)
    assert [(p.key, p.label) for p in rolled.design.periods] == [
        ("fy18-19", "FY18/19"), ("fy19-20", "FY 19/20")]
    assert rolled.unmoved == ()


def test_a_date_that_does_not_exist_is_left_alone() -> None:
    text = "on 31/02/2018 or 17/18/2018"
    proposal = roll_text(text, TWO_YEARS)
    assert (proposal.text, proposal.unmoved) == (text, ())


@pytest.mark.parametrize(("months", "proposed"), [
    (3, "In July to September 2020 (July 2020 - September 2020), May to June 2020."),
    (12, "In April to June 2021 (April 2021 - June 2021), May to June 2020."),
])
def test_months_written_as_a_range_move_together(months, proposed) -> None:
    periods = [PeriodSpec("q2", "April to June 2020", D(2020, 4, 1), D(2020, 6, 30))]
    proposal = roll_text("In April to June 2020 (April 2020 - June 2020), May to June 2020.",
                         periods, months)
    assert proposal.text == proposed
    assert proposal.unmoved == ("'May to June 2020': not a period's first and last months, kept",)
