"""Rates per 100,000 people in the aggregate, checked the way the issue's hidden check does:
each expected rate worked out here straight from the shipped ONS file, and compared with what
`foitrack aggregate` prints."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from sqlalchemy import event

from foitrack.services import aggregate
from foitrack.services.figures import import_csv
from foitrack.services.population import import_populations
from tests.commands import invoke
from tests.factories import (
    EXAMPLE_DESIGN,
    FIGURES_HEADER,
    FIXTURES,
    TEST_ACTOR,
    design_for,
    enter_figures,
    load_forces,
    make_campaign,
    make_fixture_campaign,
)

SHIPPED = Path(__file__).resolve().parents[2] / "foitrack" / "data" / "police-force-area-population.csv"
MERCIA, SUSSEX, KENT, CITY = "E23000016", "E23000033", "E23000032", "E23000034"
YEAR_OF = {"2017-18": 2017, "2018-19": 2018}  # April-March: the 30 June of the first year


def _population() -> dict[tuple[str, int], int]:
    with SHIPPED.open(newline="", encoding="utf-8") as handle:
        return {(row["ons_code"], int(row["year"])): int(row["population"])
                for row in csv.DictReader(handle)}


def _fixture_totals() -> dict[tuple[str, str], int]:
    """(ONS code, period) -> the force's total, from the grooming fixture's figures."""
    with (FIXTURES / "grooming-2019.csv").open(newline="", encoding="utf-8") as handle:
        return {(row["authority"], row["period"]): int(row["value"])
                for row in csv.DictReader(handle) if not row["dimension"]}


def _csv(runner, *args: str) -> list[dict[str, str]]:
    result = invoke(runner, "aggregate", *args, "--format", "csv")
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.output)))


def _total(rows, period: str) -> dict[str, str]:
    return next(r for r in rows if r["period"] == period and r["level"] == "total")


def _rate(count: int, people: int, per: int = 100_000) -> str:
    return str(round(count * per / people, 1))


def test_the_national_rate_is_every_force_s_offences_over_their_people(session, runner):
    make_fixture_campaign(session, "grooming-2019")
    people, totals = _population(), _fixture_totals()
    rows = _csv(runner, "grooming-2019")
    for period, year in YEAR_OF.items():
        codes = [code for code, p in totals if p == period]
        assert len(codes) == 43
        summed = sum(totals[(code, period)] for code in codes)
        residents = sum(people[(code, year)] for code in codes)
        total = _total(rows, period)
        assert (total["total"], total["population"], total["rate"]) == (
            str(summed), str(residents), _rate(summed, residents))
        assert (total["population_year"], total["population_nearest"], total["rate_per"],
                total["rate_base"], total["rate_authorities"], total["rate_total"]) == (
            str(year), "false", "100000", "population", "43", str(summed))
    # The figures the charity published: 7.4 per 100,000 across the forces in 2018/19.
    assert _total(rows, "2018-19")["rate"] == "7.4"
    # The first ten columns stay where scripts read them; the rates come after.
    assert list(rows[0])[:10] == ["measure", "period", "dimension", "category", "total",
                                  "lower_bound", "upper_bound", "share_where_recorded",
                                  "authorities_with_figure", "authorities_asked"]
    assert list(rows[0])[19:21] == ["population", "rate"]


def test_a_subset_s_rate_is_over_its_own_people(session, runner):
    make_fixture_campaign(session, "grooming-2019")
    people, totals = _population(), _fixture_totals()
    total = _total(_csv(runner, "grooming-2019", "--authorities", f"{MERCIA},{SUSSEX}"), "2018-19")
    summed = totals[(MERCIA, "2018-19")] + totals[(SUSSEX, "2018-19")]
    residents = people[(MERCIA, 2018)] + people[(SUSSEX, 2018)]
    assert (total["rate"], total["population"], total["rate_authorities"]) == (
        _rate(summed, residents), str(residents), "2")
    mercia = _total(_csv(runner, "grooming-2019", "--authorities", MERCIA), "2018-19")
    assert mercia["rate"] == _rate(122, people[(MERCIA, 2018)]) == "9.5"


def test_by_authority_each_force_has_its_rate_and_rank_and_the_city_has_no_rank(session, runner):
    make_fixture_campaign(session, "grooming-2019")
    people, totals = _population(), _fixture_totals()
    rates = {code: totals[(code, "2018-19")] * 100_000 / people[(code, 2018)]
             for code, period in totals if period == "2018-19"}
    ranked = sorted((code for code in rates if code != CITY), key=rates.__getitem__, reverse=True)
    rows = _csv(runner, "grooming-2019", "--by-authority")
    assert list(rows[0]) == [
        "authority", "name", "measure", "period", "dimension", "category", "kind", "value",
        "lower", "upper", "rank", "ranked", "caveat", "population", "population_year",
        "population_nearest", "rate", "rate_rank", "rate_ranked", "rate_note"]
    totals_2018 = {r["authority"]: r for r in rows if r["period"] == "2018-19" and not r["dimension"]}
    mercia = totals_2018[MERCIA]
    assert (mercia["value"], mercia["population"], mercia["population_year"], mercia["rate"],
            mercia["rate_rank"], mercia["rate_ranked"], mercia["rate_note"]) == (
        "122", str(people[(MERCIA, 2018)]), "2018", "9.5", str(ranked.index(MERCIA) + 1), "42", "")
    for code in ranked:
        assert totals_2018[code]["rate_rank"] == str(ranked.index(code) + 1), code
    city = totals_2018[CITY]
    assert (city["rate"], city["rate_rank"], city["rate_ranked"], city["rate_note"]) == (
        _rate(9, people[(CITY, 2018)]), "", "42",
        "resident population under 100,000: a rate per resident is not meaningful for it")
    # By raw count the City is last of 43; by rate it would be first, which is why it is left out.
    assert city["rank"] == "43" and rates[CITY] > rates[ranked[0]]


def test_the_json_carries_the_rates_in_rows_and_by_authority(session, runner):
    make_fixture_campaign(session, "grooming-2019")
    people = _population()
    data = json.loads(invoke(runner, "aggregate", "grooming-2019", "--format", "json").output)
    total = next(r for r in data["rows"] if r["period"] == "2018-19" and r["level"] == "total")
    assert (total["rate"], total["population_year"], total["population_nearest"]) == (
        7.4, 2018, False)
    mercia = next(r for r in data["by_authority"] if r["authority"] == MERCIA
                  and r["period"] == "2018-19" and not r["dimension"])
    assert {key: mercia[key] for key in ("population", "population_year", "rate", "rate_ranked")} == {
        "population": people[(MERCIA, 2018)], "population_year": 2018, "rate": 9.5,
        "rate_ranked": 42}
    by_authority = json.loads(invoke(runner, "aggregate", "grooming-2019", "--by-authority",
                                     "--format", "json").output)
    assert by_authority["by_authority"] == data["by_authority"]


def test_a_group_counts_each_force_s_people_once(session, runner):
    make_fixture_campaign(session, "grooming-2019")
    people = _population()
    members = {"Facebook", "Messenger", "Instagram", "WhatsApp"}
    with (FIXTURES / "grooming-2019.csv").open(newline="", encoding="utf-8") as handle:
        # A usable figure: a number, or a suppressed one ("<5", "1-4").
        usable = {row["authority"] for row in csv.DictReader(handle)
                  if row["period"] == "2018-19" and row["category"] in members
                  and (row["value"][:1].isdigit() or row["value"].startswith("<"))}
    assert 30 < len(usable) < 43
    group = next(r for r in _csv(runner, "grooming-2019")
                 if r["period"] == "2018-19" and r["category"] == "facebook-owned")
    residents = sum(people[(code, 2018)] for code in usable)
    assert (group["rate_authorities"], group["population"]) == (str(len(usable)), str(residents))
    assert group["rate"] == _rate(int(group["total"]), residents)


def test_a_period_group_has_no_rate(session, runner):
    make_fixture_campaign(session, "grooming-2019")
    rows = [r for r in _csv(runner, "grooming-2019") if r["period"] == "two-years"]
    assert rows and all(r["rate"] == r["population"] == r["rate_per"] == "" for r in rows)


def test_only_forces_that_gave_a_figure_and_have_people_are_in_the_rate(session, runner):
    forces = ["west-mercia", "sussex", "kent", "city-of-london", "british-transport"]
    campaign = make_campaign(session, design_for(forces, slug="partial"))
    enter_figures(session, campaign, ("west-mercia", "2018-19", "", "", "122"),
                  ("sussex", "2018-19", "", "", "138"), ("kent", "2018-19", "", "", "1-4"),
                  ("british-transport", "2018-19", "", "", "50"))
    people = _population()
    residents = people[(MERCIA, 2018)] + people[(SUSSEX, 2018)] + people[(KENT, 2018)]
    total = _total(_csv(runner, "partial"), "2018-19")
    # British Transport Police has no residents: in the total, not in the rate. The City gave
    # no figure: its people are not in the rate either (no national population over a part).
    assert (total["total"], total["authorities_with_figure"], total["authorities_asked"]) == (
        "310", "4", "5")
    assert (total["rate_authorities"], total["rate_total"], total["population"]) == (
        "3", "260", str(residents))
    # Kent's suppressed figure counts as 0, as in the total, with its people; the bounds say
    # what it could add.
    assert (total["rate"], total["rate_lower"], total["rate_upper"]) == (
        _rate(260, residents), _rate(261, residents), _rate(264, residents))
    rows = {r["authority"]: r for r in _csv(runner, "partial", "--by-authority")}
    assert (rows["british-transport"]["rate"], rows["british-transport"]["rate_rank"],
            rows["british-transport"]["rate_note"]) == (
        "", "", "no resident population estimate for its area")
    assert (rows[KENT]["rate"], rows[KENT]["population"], rows[KENT]["rate_rank"]) == (
        "", str(people[(KENT, 2018)]), "")
    # Ranked among the two with an exact figure: West Mercia's 9.5 above Sussex's.
    assert 122 / people[(MERCIA, 2018)] > 138 / people[(SUSSEX, 2018)]
    assert (rows[MERCIA]["rate_rank"], rows[SUSSEX]["rate_rank"], rows[MERCIA]["rate_ranked"]) == (
        "1", "2", "2")


def test_a_period_after_the_last_estimate_uses_the_nearest_year_and_says_so(session, runner):
    design = design_for(["west-mercia", "sussex"], slug="later").replace(
        "start = 2018-04-01\nend = 2019-03-31", "start = 2024-04-01\nend = 2025-03-31")
    campaign = make_campaign(session, design)
    enter_figures(session, campaign, ("west-mercia", "2018-19", "", "", "150"),
                  ("sussex", "2018-19", "", "", "160"))
    people = _population()
    total = _total(_csv(runner, "later"), "2018-19")
    residents = people[(MERCIA, 2023)] + people[(SUSSEX, 2023)]
    assert (total["rate"], total["population_year"], total["population_years"],
            total["population_nearest"]) == (_rate(310, residents), "2023", "2023", "true")
    table = invoke(runner, "aggregate", "later").output
    assert f"{310 * 100_000 / residents:.1f}*" in table
    assert "* a population estimate of another year than the period's" in table
    mercia = next(r for r in _csv(runner, "later", "--by-authority") if r["authority"] == MERCIA)
    assert (mercia["population_year"], mercia["population_nearest"], mercia["rate"]) == (
        "2023", "true", _rate(150, people[(MERCIA, 2023)]))


def test_a_period_longer_than_a_year_has_no_rate_and_says_why(session, runner):
    """200 offences over April 2017 to March 2019 on mid-2018's residents would read as a
    yearly rate twice too high."""
    design = design_for(["west-mercia", "sussex"], slug="two-years").replace(
        "start = 2018-04-01\nend = 2019-03-31", "start = 2017-04-01\nend = 2019-03-31")
    campaign = make_campaign(session, design)
    enter_figures(session, campaign, ("west-mercia", "2018-19", "", "", "200"))
    total = _total(_csv(runner, "two-years"), "2018-19")
    assert (total["total"], total["rate"], total["population"]) == ("200", "", "")
    by_period = {r["period"]: r for r in _csv(runner, "two-years", "--by-authority")}
    assert by_period["2018-19"]["rate"] == ""
    assert by_period["2018-19"]["rate_note"] == aggregate.LONG_PERIOD_NOTE


CHILDREN_DESIGN = design_for(["west-mercia", "sussex", "kent"], slug="children").replace(
    'label = "Offences of sexual communication with a child recorded"\n',
    'label = "Offences of sexual communication with a child recorded"\n'
    'rate_per = 1000\nrate_base = "children-0-17"\n')


def test_a_measure_rated_per_1000_children_round_trips_and_uses_imported_estimates(
        session, runner):
    campaign = make_campaign(session, CHILDREN_DESIGN)
    exported = invoke(runner, "campaigns", "export", "children").output
    assert 'rate_per = 1000\nrate_base = "children-0-17"\n' in exported
    assert invoke(runner, "campaigns", "export", "children").output == exported
    import_populations(session, TEST_ACTOR, b"authority,year,population,base\n"
                                            b"west-mercia,2018,240000,children-0-17\n"
                                            b"E23000033,2018,330000,children-0-17\n")
    session.commit()
    enter_figures(session, campaign, ("west-mercia", "2018-19", "", "", "122"),
                  ("sussex", "2018-19", "", "", "138"), ("kent", "2018-19", "", "", "127"))
    total = _total(_csv(runner, "children"), "2018-19")
    # Kent has no estimate of its children: left out of the rate, as BTP is of a resident one.
    assert (total["rate"], total["rate_per"], total["rate_base"], total["population"],
            total["rate_authorities"]) == (
        _rate(260, 570_000, 1000), "1000", "children-0-17", "570000", "2")
    rows = {r["authority"]: r for r in _csv(runner, "children", "--by-authority")}
    assert rows[KENT]["rate_note"] == "no children-0-17 estimate for its area"
    assert (rows[MERCIA]["rate"], rows[MERCIA]["rate_rank"]) == (_rate(122, 240_000, 1000), "1")


def test_two_measures_on_two_bases_each_take_their_own_population(session, runner):
    design = CHILDREN_DESIGN.replace('slug = "children"', 'slug = "two-bases"').replace(
        "[[periods]]", '[[measures]]\nkey = "victims"\nlabel = "Victims recorded"\n\n[[periods]]',
        1)
    campaign = make_campaign(session, design)
    import_populations(session, TEST_ACTOR, b"authority,year,population,base\n"
                                            b"west-mercia,2018,240000,children-0-17\n")
    session.commit()
    enter_figures(session, campaign, ("west-mercia", "2018-19", "", "", "122"))
    import_csv(session, TEST_ACTOR, campaign, io.BytesIO(
        (FIGURES_HEADER + "west-mercia,victims,2018-19,,,90,,Reply\n").encode()))
    session.commit()
    rows = [r for r in _csv(runner, "two-bases") if r["level"] == "total"]
    by_measure = {r["measure"]: r for r in rows}
    assert (by_measure["offences"]["rate"], by_measure["offences"]["rate_base"]) == (
        _rate(122, 240_000, 1000), "children-0-17")
    assert (by_measure["victims"]["rate"], by_measure["victims"]["rate_base"]) == (
        _rate(90, _population()[(MERCIA, 2018)]), "population")


def test_a_measure_with_rate_per_0_has_no_rate(session, runner):
    design = design_for(["west-mercia", "sussex"], slug="unrated").replace(
        'label = "Offences of sexual communication with a child recorded"\n',
        'label = "Offences of sexual communication with a child recorded"\nrate_per = 0\n')
    campaign = make_campaign(session, design)
    assert "rate_per = 0\n" in invoke(runner, "campaigns", "export", "unrated").output
    enter_figures(session, campaign, ("west-mercia", "2018-19", "", "", "122"))
    total = _total(_csv(runner, "unrated"), "2018-19")
    assert all(total[c] == "" for c in ("population", "rate", "rate_per", "rate_base",
                                        "rate_authorities", "population_year"))
    mercia = _csv(runner, "unrated", "--by-authority")[0]
    assert all(mercia[c] == "" for c in ("population", "rate", "rate_rank", "rate_note"))
    table = invoke(runner, "aggregate", "unrated").output.splitlines()
    assert table[1].split() == ["offences", "2018-19", "total", "122", "1", "of", "2"]
    assert not any(line.startswith("(rate") for line in table)


def _queries(session, build) -> list[str]:
    seen: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", listener)
    try:
        build()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return seen


def test_rates_cost_a_fixed_few_queries_and_none_for_an_unrated_campaign(session):
    load_forces(session)
    rated = make_campaign(session, EXAMPLE_DESIGN)
    unrated = make_campaign(session, design_for(slug="unrated").replace(
        'label = "Offences of sexual communication with a child recorded"\n',
        'label = "Offences of sexual communication with a child recorded"\nrate_per = 0\n'))
    for who in ("west-mercia", "sussex"):
        for campaign in (rated, unrated):
            enter_figures(session, campaign, (who, "2018-19", "", "", "10"),
                          (who, "2018-19", "platform", "Instagram", "4"))
    plain = _queries(session, lambda: aggregate.build(session, unrated))
    assert not [q for q in plain if "population" in q]
    with_rates = _queries(session, lambda: aggregate.build(session, rated))
    # The estimates, then the groups' rate query (the categories' rates come with the folded
    # query of the totals and categories).
    assert len(with_rates) - len(plain) == 2
    assert aggregate.build(session, rated).row("offences", "2018-19").rate is not None
