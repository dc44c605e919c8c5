"""The shipped ONS population estimates, loaded with the forces, and imported estimates."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from foitrack.errors import Invalid
from foitrack.models import AuditEntry, Authority, Population
from foitrack.services.population import (
    POPULATION_FILE,
    import_populations,
    list_populations,
    load_shipped,
)
from foitrack.services.registry import load_registry
from tests.factories import TEST_ACTOR, load_forces

SHIPPED = Path(__file__).resolve().parents[2] / "foitrack" / "data" / "police-force-area-population.csv"


def _shipped() -> dict[tuple[str, int], int]:
    with SHIPPED.open(newline="", encoding="utf-8") as handle:
        return {(row["ons_code"], int(row["year"])): int(row["population"])
                for row in csv.DictReader(handle)}


def _stored(session, slug: str, base: str = "population") -> dict[int, tuple[int, str]]:
    rows = session.execute(
        select(Population.year, Population.population, Population.origin)
        .join(Authority, Authority.id == Population.authority_id)
        .where(Authority.slug == slug, Population.base == base))
    return {year: (population, origin) for year, population, origin in rows}


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_the_shipped_file_is_the_current_ons_series_for_45_forces_and_seven_years():
    rows = _shipped()
    assert len(rows) == 315
    assert {year for _code, year in rows} == set(range(2017, 2024))
    # The main file's checks: the 43 areas add up to England and Wales.
    assert sum(population for (code, year), population in rows.items()
               if year == 2019 and code[:3] in ("E23", "W15")) == 59_317_788
    assert rows[("S92000003", 2023)] == 5_490_100 and rows[("N92000002", 2023)] == 1_920_382


def test_loading_the_forces_loads_every_estimate_of_the_file(session):
    report = load_forces(session)
    assert report.populations.created == 315
    assert _count(session, Population) == 315
    shipped = _shipped()
    mercia = _stored(session, "west-mercia")
    assert mercia == {year: (shipped[("E23000016", year)], "registry") for year in range(2017, 2024)}
    # Police Scotland and the PSNI by their countries' codes.
    assert _stored(session, "scotland")[2018] == (shipped[("S92000003", 2018)], "registry")
    assert _stored(session, "northern-ireland")[2023] == (shipped[("N92000002", 2023)], "registry")
    assert _stored(session, "british-transport") == {}
    entries = session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "population"))
    assert len(entries.all()) == 315


def test_loading_again_changes_nothing(session):
    load_forces(session)
    audit = _count(session, AuditEntry)
    report = load_registry(session, TEST_ACTOR)
    session.commit()
    assert (report.populations.created, report.populations.updated,
            report.populations.unchanged) == (0, 0, 315)
    assert _count(session, AuditEntry) == audit


def test_a_different_number_for_a_held_estimate_needs_replace(session):
    load_forces(session)
    shipped = _shipped()[("E23000016", 2018)]
    with pytest.raises(Invalid) as caught:
        import_populations(session, TEST_ACTOR, b"authority,year,population\n"
                                                b"west-mercia,2024,1310000\n"
                                                b"west-mercia,2018,1000\n")
    [problem] = caught.value.problems
    assert (problem.line, problem.field) == (3, "population")
    assert problem.message.startswith(f"west-mercia population 2018 is already {shipped:,} (ONS")
    assert problem.message.endswith("to change it to 1,000, import with --replace")
    session.rollback()
    assert _stored(session, "west-mercia")[2018] == (shipped, "registry")
    assert 2024 not in _stored(session, "west-mercia")  # all or nothing
    # The same number again is no change, and needs nothing.
    same = import_populations(session, TEST_ACTOR,
                              f"authority,year,population\nwest-mercia,2018,{shipped}\n".encode())
    assert (same.updated, same.replaced) == (0, [])


def test_an_import_replaces_a_shipped_estimate_and_a_reload_keeps_it(session):
    load_forces(session)
    shipped = _shipped()[("E23000016", 2018)]
    report = import_populations(session, TEST_ACTOR,
                                b"authority,year,population,source\n"
                                b"E23000016,2018,1300000,ONS mid-2024 edition\n"
                                b"west-mercia,2024,1310000,\n", replace=True)
    session.commit()
    assert (report.created, report.updated, report.unchanged) == (1, 1, 0)
    assert report.replaced == [f"west-mercia population 2018: {shipped:,} -> 1,300,000"]
    assert _stored(session, "west-mercia")[2018] == (1_300_000, "import")
    assert _stored(session, "west-mercia")[2024] == (1_310_000, "import")
    reload = load_registry(session, TEST_ACTOR)
    session.commit()
    assert reload.populations.kept_imported == 1
    assert reload.populations.updated == 0
    assert _stored(session, "west-mercia")[2018] == (1_300_000, "import")
    entry = session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == "population", AuditEntry.action == "update")).one()
    assert entry.before == {"population": _shipped()[("E23000016", 2018)],
                            "source": entry.before["source"], "origin": "registry"}
    assert entry.after == {"population": 1_300_000, "source": "ONS mid-2024 edition",
                           "origin": "import"}


def test_an_import_takes_country_codes_slugs_and_other_bases(session):
    load_forces(session)
    import_populations(session, TEST_ACTOR,
                       b"authority,year,population,base\n"
                       b"S92000003,2018,\"1,000,000\",children-0-17\n"
                       b"n92000002,2018,450000,children-0-17\n"
                       b"Kent,2018,330000,children-0-17\n")
    session.commit()
    assert _stored(session, "scotland", "children-0-17") == {2018: (1_000_000, "import")}
    assert _stored(session, "northern-ireland", "children-0-17") == {2018: (450_000, "import")}
    assert _stored(session, "kent", "children-0-17") == {2018: (330_000, "import")}
    # The resident population is untouched.
    assert _stored(session, "kent")[2018][1] == "registry"


def test_a_bad_file_names_every_problem_by_line_and_column_and_changes_nothing(session):
    load_forces(session)
    before = _count(session, Population), _count(session, AuditEntry)
    data = (b"authority,year,population,base,source\n"
            b"E23000016,2024,1310000,,\n"       # fine
            b"E99999999,2024,5,,\n"             # no such authority
            b"kent,twenty,5,,\n"                # not a year
            b"kent,2024,-5,,\n"                 # not a whole number
            b"kent,2025,0,,\n"                  # not a population
            b"kent,2024,5,Children,\n"          # not a base's name
            b"west-mercia,2024,1,,\n"           # the first line again
            b",2024,,,\n")                      # missing cells
    with pytest.raises(Invalid) as raised:
        import_populations(session, TEST_ACTOR, data)
    problems = [str(problem) for problem in raised.value.problems]
    assert problems == [
        "line 3, column authority: no authority with the ONS code or slug 'E99999999'",
        "line 4, column year: 'twenty' is not a whole number",
        "line 5, column population: '-5' is not a whole number",
        "line 6, column population: must be at least 1",
        "line 7, column base: 'Children' is not a base's name (lower case, letters, digits and "
        "hyphens, at most 50 characters, such as population or children-0-17)",
        "line 8, column year: west-mercia population 2024 is also on line 2",
        "line 9, column authority: is required",
        "line 9, column population: is required",
    ]
    session.rollback()
    assert (_count(session, Population), _count(session, AuditEntry)) == before


@pytest.mark.parametrize(("header", "message"), [
    (b"authority,year\n", "line 1: the header has no 'population' column"),
    (b"authority,year,population,people\n", "line 1: unknown column 'people'"),
    (b"", "the file is empty"),
])
def test_a_file_with_the_wrong_columns_is_refused(session, header, message):
    load_forces(session)
    with pytest.raises(Invalid, match=message):
        import_populations(session, TEST_ACTOR, header + b"kent,2018,1\n" if header else header)


def test_a_registry_estimate_the_file_no_longer_holds_is_removed(session, tmp_path):
    load_forces(session)
    shorter = tmp_path / "population.csv"
    shutil.copy(POPULATION_FILE, shorter)
    lines = shorter.read_text(encoding="utf-8").splitlines(keepends=True)
    shorter.write_text("".join(line for line in lines if not line.startswith("E23000016,West "
                                                                            "Mercia Police,2017,")),
                       encoding="utf-8")
    report = load_shipped(session, TEST_ACTOR, shorter)
    session.commit()
    assert (report.removed, report.unchanged) == (1, 314)
    assert 2017 not in _stored(session, "west-mercia")


def test_list_by_authority_and_base(session):
    load_forces(session)
    import_populations(session, TEST_ACTOR,
                       b"authority,year,population,base\nkent,2018,330000,children-0-17\n")
    rows = list_populations(session, authority="E23000032")
    assert [(r.base, r.year) for r in rows] == [("children-0-17", 2018)] + [
        ("population", year) for year in range(2017, 2024)]
    assert [r.authority for r in list_populations(session, base="children-0-17")] == ["E23000032"]
    assert {r.authority for r in list_populations(session, authority="S92000003")} == {"scotland"}
