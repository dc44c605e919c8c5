"""`foitrack figures check` and `figures explain`, run as users and scripts run them."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.commands import invoke
from tests.factories import CHECKS_DESIGN, FIGURES_HEADER


@pytest.fixture
def campaign(runner, tmp_path):
    """West Mercia and Sussex answered; West Mercia's total went from 8 to 31."""
    invoke(runner, "authorities", "load")
    design = tmp_path / "checks.toml"
    design.write_text(CHECKS_DESIGN)
    assert invoke(runner, "campaigns", "create", "--from", str(design)).exit_code == 0
    for code in ("E23000016", "E23000033"):
        invoke(runner, "requests", "event", "checks", code, "sent", "2019-04-01")
        invoke(runner, "requests", "event", "checks", code, "response", "2019-04-20",
               "--outcome", "provided")
    figures = tmp_path / "figures.csv"
    figures.write_text(FIGURES_HEADER + "E23000016,offences,2017-18,,,8,,Reply\n"
                                "E23000016,offences,2018-19,,,31,,Reply\n"
                                "E23000033,offences,2018-19,,,40,,Reply\n")
    assert invoke(runner, "figures", "import", "checks", str(figures)).exit_code == 0
    return runner


JUMP = "year-on-year-jump|E23000016|offences|2018-19||"


def test_check_as_csv_has_the_columns_scripts_rely_on(campaign):
    result = invoke(campaign, "figures", "check", "checks", "--format", "csv")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "authority,measure,period,dimension,category,check,detail,explanation",
        "E23000016,offences,2018-19,,,year-on-year-jump,check: 8 -> 31 (2017/18 to 2018/19),",
    ]


def test_check_as_a_table_and_as_json(campaign):
    table = invoke(campaign, "figures", "check", "checks").stdout.splitlines()
    assert table[0].split() == ["AUTHORITY", "CELL", "CHECK", "STATUS", "DETAIL"]
    assert "West Mercia Police" in table[1] and "open" in table[1] and "check: 8 -> 31" in table[1]
    assert table[-1] == "(1 finding, 1 open)"
    [finding] = json.loads(invoke(campaign, "figures", "check", "checks", "--format",
                                  "json").stdout)
    assert (finding["authority"], finding["authority_slug"], finding["key"], finding["open"]) == (
        "E23000016", "west-mercia", "year-on-year-jump|west-mercia|offences|2018-19||", True)


def test_strict_exits_1_while_a_finding_is_open_and_0_once_explained(campaign):
    assert invoke(campaign, "figures", "check", "checks").exit_code == 0
    strict = invoke(campaign, "figures", "check", "checks", "--strict")
    assert strict.exit_code == 1
    assert strict.stderr.strip() == "1 open finding."
    explained = invoke(campaign, "figures", "explain", "checks", JUMP, "--note",
                       "=HYPERLINK(\"x\") the force confirmed 31")
    assert explained.exit_code == 0, explained.output
    assert invoke(campaign, "figures", "check", "checks", "--strict").exit_code == 0
    rows = list(csv.DictReader(io.StringIO(invoke(campaign, "figures", "check", "checks",
                                                  "--format", "csv").stdout)))
    # Kept and listed, and made safe for a spreadsheet.
    assert rows[0]["explanation"] == "'=HYPERLINK(\"x\") the force confirmed 31"
    assert invoke(campaign, "figures", "explain", "checks", JUMP, "--remove").exit_code == 0
    assert invoke(campaign, "figures", "check", "checks", "--strict").exit_code == 1


def test_explain_refuses_an_unknown_finding_and_an_empty_note(campaign):
    unknown = invoke(campaign, "figures", "explain", "checks", JUMP.replace("2018-19", "2017-18"),
                     "--note", "x")
    assert unknown.exit_code == 1 and "key: is not a finding of this campaign now" in unknown.output
    empty = invoke(campaign, "figures", "explain", "checks", JUMP)
    assert empty.exit_code == 1 and "note: say what explains the finding" in empty.output
    assert invoke(campaign, "figures", "check", "checks", "--strict").exit_code == 1


def test_check_for_some_authorities_only(campaign):
    result = invoke(campaign, "figures", "check", "checks", "--authorities", "E23000033",
                    "--format", "csv", "--strict")
    assert result.exit_code == 0 and len(result.stdout.splitlines()) == 1
    assert invoke(campaign, "figures", "check", "checks", "--authorities", "nowhere").exit_code == 1


def test_an_import_warns_of_what_it_trips_and_still_imports(campaign, tmp_path):
    figures = tmp_path / "more.csv"
    figures.write_text(FIGURES_HEADER + "E23000033,offences,2018-19,age,Under 13,50,,Reply\n")
    dry = invoke(campaign, "figures", "import", "checks", str(figures), "--dry-run")
    assert dry.stdout.strip() == "Dry run, nothing changed. Would be: 1 new, 0 changed, 0 unchanged."
    assert ("Sussex Police, offences, 2018/19, Victim age: the categories add up to at least 50, "
            "more than the total of 40 (categories-exceed-total)") in dry.stderr
    assert "West Mercia" not in dry.stderr  # only what the file is about
    done = invoke(campaign, "figures", "import", "checks", str(figures))
    assert done.exit_code == 0 and "1 new" in done.stdout
    assert "(categories-exceed-total)" in done.stderr


def test_a_template_preview_warns_of_what_it_would_trip(campaign, tmp_path):
    from openpyxl import load_workbook

    path = tmp_path / "mercia.xlsx"
    invoke(campaign, "figures", "template", "checks", "--authority", "E23000016", "-o", str(path))
    book = load_workbook(path)
    sheet = book["Figures"]
    row = next(r for r in range(1, sheet.max_row + 1)
               if sheet[f"G{r}"].value == "offences" and sheet[f"H{r}"].value == "2018-19"
               and sheet[f"D{r}"].value == "Total")
    sheet[f"E{row}"] = 32
    book.save(path)
    preview = invoke(campaign, "figures", "import", "checks", str(path), input="n\n")
    assert ("West Mercia Police, offences, 2018/19, total: check: 8 -> 32 (2017/18 to 2018/19) "
            "(year-on-year-jump)") in preview.stderr
    assert "Nothing was imported." in preview.stdout
