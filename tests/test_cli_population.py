"""`foitrack authorities population import` and `list`, as a script runs them."""

from __future__ import annotations

import csv
import io

from tests.commands import invoke


def _mercia_2024(runner) -> list[dict[str, str]]:
    rows = csv.DictReader(io.StringIO(invoke(runner, "authorities", "population", "list",
                                             "--authority", "west-mercia", "--format",
                                             "csv").output))
    return [row for row in rows if row["year"] == "2024"]


def test_load_says_how_many_estimates_and_their_licence(runner):
    output = invoke(runner, "authorities", "load").output
    assert ("Population estimates (ONS, Open Government Licence v3.0): 315 created, 0 updated, "
            "0 unchanged, 0 removed; 0 imported estimates kept.") in output


def test_a_dry_run_reports_and_changes_nothing_then_the_import_does(runner, tmp_path):
    invoke(runner, "authorities", "load")
    path = tmp_path / "population.csv"
    path.write_text("authority,year,population,base,source\n"
                    "E23000016,2024,1310000,,ONS mid-2024\n")
    result = invoke(runner, "authorities", "population", "import", str(path), "--dry-run")
    assert result.output == ("Dry run, nothing changed. Would be: 1 created, 0 updated, "
                             "0 unchanged.\n")
    assert _mercia_2024(runner) == []
    result = invoke(runner, "authorities", "population", "import", str(path))
    assert result.output == "Imported population estimates: 1 created, 0 updated, 0 unchanged.\n"
    assert _mercia_2024(runner) == [{
        "authority": "E23000016", "year": "2024", "population": "1310000", "base": "population",
        "source": "ONS mid-2024", "name": "West Mercia Police", "slug": "west-mercia",
        "origin": "import"}]


def test_a_bad_file_is_refused_whole_with_each_problem_by_line_and_column(runner, tmp_path):
    invoke(runner, "authorities", "load")
    path = tmp_path / "population.csv"
    path.write_text("authority,year,population\nE23000016,2024,1310000\nnowhere,2024,5\n"
                    "kent,2024,many\n")
    result = invoke(runner, "authorities", "population", "import", str(path))
    assert result.exit_code == 1
    assert result.output == (
        "Error: 2 problems, nothing was changed:\n"
        "  line 3, column authority: no authority with the ONS code or slug 'nowhere'\n"
        "  line 4, column population: 'many' is not a whole number\n")
    assert _mercia_2024(runner) == []


def test_list_as_a_table(runner):
    invoke(runner, "authorities", "load")
    output = invoke(runner, "authorities", "population", "list", "--authority",
                    "city-of-london").output
    assert output.splitlines()[:3] == [
        "AUTHORITY  NAME                   BASE        YEAR  POPULATION  ORIGIN",
        "E23000034  City of London Police  population  2017  7,877       registry",
        "E23000034  City of London Police  population  2018  8,165       registry",
    ]
    assert output.splitlines()[-1] == "(7 estimates)"
    result = invoke(runner, "authorities", "population", "list", "--authority", "nowhere")
    assert result.exit_code == 1
    assert "no authority with the ONS code or slug 'nowhere'" in result.output


def test_replacing_a_shipped_estimate_needs_replace_and_lists_each_change(runner, tmp_path):
    invoke(runner, "authorities", "load")
    path = tmp_path / "population.csv"
    path.write_text("authority,year,population\nwest-mercia,2018,1000\n")
    refused = invoke(runner, "authorities", "population", "import", str(path))
    assert refused.exit_code == 1
    assert "line 2, column population: west-mercia population 2018 is already 1,278,163" in (
        refused.output)
    result = invoke(runner, "authorities", "population", "import", str(path), "--replace")
    assert result.output == ("Imported population estimates: 0 created, 1 updated, 0 unchanged.\n"
                             "  replaced west-mercia population 2018: 1,278,163 -> 1,000\n")
