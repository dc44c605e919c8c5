"""Fact sheets say both the count and the rate (issue 18): the rate to one decimal place, its
rank among the forces of 100,000 people or more, the rate across the forces that gave a
figure, why a small force has no rank, and which year's population a fallback used.

The expected numbers are worked out here from the shipped files themselves (the figures CSV
and the ONS population file), not read back from the aggregate."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from foitrack.domain.phrasing import ordinal
from foitrack.paths import DATA_DIR
from foitrack.services import aggregate, release
from tests.factories import enter_figures, make_campaign, make_fixture_campaign

TODAY = dt.date(2019, 7, 1)
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _population(year: int) -> dict[str, int]:
    with (DATA_DIR / "police-force-area-population.csv").open(encoding="utf-8") as handle:
        return {row["ons_code"]: int(row["population"]) for row in csv.DictReader(handle)
                if int(row["year"]) == year}


def _totals(period: str) -> dict[str, str]:
    with (FIXTURES / "grooming-2019.csv").open(encoding="utf-8") as handle:
        return {row["authority"]: row["value"] for row in csv.DictReader(handle)
                if row["period"] == period and not row["dimension"] and row["measure"] == "offences"}


def _lines(sheet: release.Release) -> list[str]:
    return [line.text for line in sheet.lines]


@pytest.fixture
def grooming(session):
    campaign = make_fixture_campaign(session, "grooming-2019")
    return campaign, aggregate.build(session, campaign)


def test_west_mercias_sheet_gives_its_rate_its_rank_by_rate_and_the_rate_across_forces(
        session, grooming):
    campaign, national = grooming
    people = _population(2018)  # 2018/19: the estimate for 30 June 2018
    given = _totals("2018-19")
    exact = {code: int(value) for code, value in given.items() if value.isdigit()}
    rate = {code: value * 100_000 / people[code] for code, value in exact.items()}
    ranked = [code for code in rate if people[code] >= 100_000]
    mercia = rate["E23000016"]
    rank = 1 + sum(1 for code in ranked if rate[code] > mercia)
    # Across the forces that gave a usable figure (a suppressed one counts 0, its people in).
    across = sum(exact.values()) * 100_000 / sum(people[code] for code in given)
    assert f"{mercia:.1f}" == "9.5"
    sheet = _lines(release.fact_sheet(session, campaign, national, "E23000016", TODAY))
    assert sheet[0] == (
        "West Mercia Police recorded 122 offences of sexual communication with a child in "
        f"2018/19, {mercia:.1f} per 100,000 people, the {ordinal(rank)} highest rate of the "
        f"{len(ranked)} forces with a population of 100,000 or more that gave a figure (the "
        f"rate across the forces that gave a figure was {across:.1f}).")
    assert sheet[1] == "That was up 67% from 73 in 2017/18."
    assert sheet[2] == ("By number of offences, it was the joint 14th highest of the 43 forces "
                        "that gave a figure.")


def test_city_of_london_gets_a_rate_but_no_rank_and_the_sheet_says_why(session, grooming):
    campaign, national = grooming
    people = _population(2018)["E23000034"]
    count = int(_totals("2018-19")["E23000034"])
    sheet = _lines(release.fact_sheet(session, campaign, national, "city-of-london", TODAY))
    assert sheet[0].startswith(
        f"City of London Police recorded {count} offences of sexual communication with a child "
        f"in 2018/19, {count * 100_000 / people:.1f} per 100,000 people (the rate across the "
        "forces that gave a figure was ")
    assert sheet[0].endswith(
        f"). Its rate is not ranked: its area's population ({people:,} at mid-2018) is under "
        f"100,000, so a single case more or less would move its rate by "
        f"{100_000 / people:.1f}.")
    assert "highest rate" not in sheet[0] and "lowest rate" not in sheet[0]


LATER = """
slug = "later"
title = "Offences, 2024/25"
authorities = ["west-mercia", "kent", "city-of-london"]
request_text = "Please."
[[measures]]
key = "offences"
label = "Offences recorded"
[[periods]]
key = "2024-25"
label = "2024/25"
start = 2024-04-01
end = 2025-03-31
"""


def test_a_period_without_its_own_estimate_says_which_year_was_used(session):
    campaign = make_campaign(session, LATER)
    enter_figures(session, campaign, ("E23000016", "2024-25", "", "", 140),
                  ("E23000032", "2024-25", "", "", 200))
    national = aggregate.build(session, campaign)
    people = _population(2023)  # the shipped estimates end at mid-2023
    sheet = _lines(release.fact_sheet(session, campaign, national, "west-mercia", TODAY))
    assert sheet[0].endswith(
        f"{140 * 100_000 / people['E23000016']:.1f} per 100,000 people, the highest rate of the 2 "
        "forces that gave a figure (the rate across the forces that gave a figure was "
        f"{340 * 100_000 / (people['E23000016'] + people['E23000032']):.1f}). The rate uses the "
        "mid-2023 population estimate, the nearest year to 2024/25 with one.")


def test_a_measure_without_a_rate_keeps_the_count_wording(session):
    campaign = make_campaign(session, LATER.replace('label = "Offences recorded"',
                                                    'label = "Offences recorded"\nrate_per = 0'))
    enter_figures(session, campaign, ("E23000016", "2024-25", "", "", 140),
                  ("E23000032", "2024-25", "", "", 200))
    national = aggregate.build(session, campaign)
    sheet = _lines(release.fact_sheet(session, campaign, national, "west-mercia", TODAY))
    assert sheet[:2] == ["West Mercia Police recorded 140 offences in 2024/25.",
                         "That was the lowest of the 2 forces that gave a figure."]
    assert not any("per 100,000" in line for line in sheet)


def test_the_national_release_gives_the_rate_over_the_forces_that_gave_a_figure(session):
    campaign = make_campaign(session, LATER.replace("[[measures]]",
                                                    "[release]\nmin_coverage = 0.5\n[[measures]]"))
    enter_figures(session, campaign, ("E23000016", "2024-25", "", "", 140),
                  ("E23000032", "2024-25", "", "", 200))  # the City gave nothing
    people = _population(2023)
    # Their own population, never the three forces' (or the country's) over a partial sum.
    rate = 340 * 100_000 / (people["E23000016"] + people["E23000032"])
    lines = release.national_release(session, campaign, aggregate.build(session, campaign),
                                     TODAY).lines
    assert [line.text for line in lines if line.kind == "rate"] == [
        f"That is {rate:.1f} per 100,000 people across the 2 forces that gave a figure "
        "(population: mid-2023 estimates, the nearest year with one where the period's own had "
        "none)."]


def test_the_methods_note_says_how_rates_are_worked_out_and_whose_population(session):
    campaign = make_campaign(session, LATER)
    note = release.methods_note(session, campaign, TODAY)
    assert ("Rates per 100,000 people divide the figures of the forces that gave a usable one by "
            "those forces' own population, never the whole population over a partial sum: the "
            "mid-year (30 June) estimate falling inside each period, or the nearest year with "
            "one, which the lines then name. Forces with fewer than 100,000 residents are given "
            "a rate but not ranked by it. Population estimates are held for 3 of the 3 forces; "
            "those shipped with foitrack are the ONS mid-year estimates for police force areas "
            "(Open Government Licence v3.0).") in note
    unrated = make_campaign(session, LATER.replace('slug = "later"', 'slug = "unrated"').replace(
        'label = "Offences recorded"', 'label = "Offences recorded"\nrate_per = 0'))
    assert not any(line.startswith("Rates") for line in
                   release.methods_note(session, unrated, TODAY))


# West Mercia, Kent, Sussex and Surrey have a resident population; British Transport Police
# polices the railways, has no area of residents, and so no population and no rate.
WITH_BTP = LATER.replace('slug = "later"', 'slug = "with-btp"').replace(
    '["west-mercia", "kent", "city-of-london"]',
    '["west-mercia", "kent", "sussex", "surrey", "british-transport"]').replace(
    'key = "2024-25"\nlabel = "2024/25"\nstart = 2024-04-01\nend = 2025-03-31',
    'key = "2018-19"\nlabel = "2018/19"\nstart = 2018-04-01\nend = 2019-03-31')
RESIDENT = {"E23000016": 122, "E23000032": 102, "E23000033": 25, "E23000031": 20}


@pytest.fixture
def with_btp(session):
    campaign = make_campaign(session, WITH_BTP)
    enter_figures(session, campaign, *[(code, "2018-19", "", "", value)
                                       for code, value in RESIDENT.items()],
                  ("british-transport", "2018-19", "", "", 40))
    return campaign


def _btp_rate() -> float:
    people = _population(2018)
    return sum(RESIDENT.values()) * 100_000 / sum(people[code] for code in RESIDENT)


def test_a_rate_over_fewer_forces_than_the_total_gives_its_own_count_and_names_who_is_left_out(
        session, with_btp):
    """The total (309) counts British Transport Police; the rate cannot: "That is" would tie
    the rate to a total it is not worked out on."""
    lines = release.national_release(session, with_btp, aggregate.build(session, with_btp),
                                     TODAY).lines
    assert [line.text for line in lines if line.kind == "total"][0].startswith(
        "309 offences recorded in 2018/19.")
    assert [line.text for line in lines if line.kind == "rate"] == [
        "Across the 4 forces that gave a figure and have a resident population estimate (all "
        f"but British Transport Police): 269 offences, {_btp_rate():.1f} per 100,000 people "
        "(population: mid-2018 estimates)."]


def test_a_subsets_rate_line_names_who_is_left_out_too(session, with_btp):
    ids, label = aggregate.subset_ids(session, "sussex,surrey,british-transport")
    lines = release.subset_release(session, with_btp, ids or [], [label or ""], TODAY).lines
    people = _population(2018)
    rate = 45 * 100_000 / (people["E23000033"] + people["E23000031"])
    assert [line.text for line in lines if line.kind == "rate"] == [
        "Across the 2 forces that gave a figure in Sussex, Surrey and British Transport Police "
        "together and have a resident population estimate (all but British Transport Police): "
        f"45 offences, {rate:.1f} per 100,000 people (population: mid-2018 estimates)."]


def test_without_the_by_authority_rows_the_left_out_are_counted(session, with_btp):
    """The dataset's release is written from an aggregate without by-authority rows."""
    built = aggregate.build(session, with_btp, with_authorities=False)
    lines = release.national_release(session, with_btp, built, TODAY).lines
    assert [line.text for line in lines if line.kind == "rate"] == [
        "Across the 4 forces that gave a figure and have a resident population estimate (all "
        f"but 1 of the 5 that gave a figure): 269 offences, {_btp_rate():.1f} per 100,000 people "
        "(population: mid-2018 estimates)."]


def test_a_force_without_a_population_has_a_sheet_saying_why_it_has_no_rate(session, with_btp):
    national = aggregate.build(session, with_btp)
    sheet = _lines(release.fact_sheet(session, with_btp, national, "british-transport", TODAY))
    assert sheet[:3] == [
        "British Transport Police recorded 40 offences in 2018/19.",
        "That was the 3rd highest of the 5 forces that gave a figure.",
        "British Transport Police has no resident population estimate for its area, so no rate "
        "is given."]


def test_a_sheet_says_the_rate_across_forces_is_over_those_with_a_population(session, with_btp):
    national = aggregate.build(session, with_btp)
    sheet = _lines(release.fact_sheet(session, with_btp, national, "west-mercia", TODAY))
    assert sheet[0].endswith(
        "(the rate across the forces that gave a figure and have a resident population estimate "
        f"was {_btp_rate():.1f}).")


def test_a_sheet_given_the_methods_note_says_the_same_and_reads_no_finding(session, grooming,
                                                                           monkeypatch):
    """Publishing and the right of reply write every force's sheet and keep only its lines:
    they give the note (or none), which is half a sheet's cost, the consistency findings."""
    campaign, national = grooming
    whole = release.fact_sheet(session, campaign, national, "E23000016", TODAY)
    assert whole.methods  # worked out when not given
    read = []
    monkeypatch.setattr(release, "methods_note", lambda *a, **k: read.append(a) or [])
    given = release.fact_sheet(session, campaign, national, "E23000016", TODAY,
                               methods=whole.methods)
    bare = release.fact_sheet(session, campaign, national, "E23000016", TODAY, methods=())
    assert read == []
    assert _lines(given) == _lines(bare) == _lines(whole)
    assert given.methods == whole.methods and bare.methods == []
