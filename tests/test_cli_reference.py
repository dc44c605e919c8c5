"""`foitrack figures reference`, `references` and `reference-delete`, and the reference table in
`foitrack export` (issue 18, section 3)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.commands import invoke
from tests.factories import EXAMPLE_DESIGN

HEADER = "measure,period,area,value,source,url\n"
ONS = ("child sexual offences with an online element,October 2017 to September 2018,"
       'England and Wales,"9,000",ONS,https://www.ons.gov.uk/online-csa\n')
BESIDE = "offences,2018-19,England and Wales,4100,Home Office,\n"


@pytest.fixture
def campaign(runner, tmp_path):
    invoke(runner, "authorities", "load")
    design = tmp_path / "campaign.toml"
    design.write_text(EXAMPLE_DESIGN)
    assert invoke(runner, "campaigns", "create", "--from", str(design)).exit_code == 0
    figures = tmp_path / "figures.csv"
    figures.write_text("authority,measure,period,dimension,category,value,caveat,source\n"
                       "E23000016,offences,2018-19,,,122,,letter\n")
    assert invoke(runner, "figures", "import", "grooming-2019", str(figures)).exit_code == 0
    return runner


def _csv(tmp_path, *lines: str, name: str = "reference.csv") -> str:
    path = tmp_path / name
    path.write_text(HEADER + "".join(lines))
    return str(path)


def test_import_list_and_delete(campaign, tmp_path):
    result = invoke(campaign, "figures", "reference", "grooming-2019", _csv(tmp_path, ONS, BESIDE))
    assert result.exit_code == 0, result.output
    assert result.output == "Imported 2 reference figures added.\n"
    listed = invoke(campaign, "figures", "references", "grooming-2019").output.splitlines()
    assert listed[0].endswith(": child sexual offences with an online element, October 2017 to "
                              "September 2018, England and Wales: 9,000 (source: ONS, "
                              "https://www.ons.gov.uk/online-csa) [other official figure]")
    assert listed[1].endswith(": Offences of sexual communication with a child recorded, 2018/19, "
                              "England and Wales: 4,100 (source: Home Office) [beside the "
                              "campaign's figures]")
    rows = list(csv.DictReader(io.StringIO(
        invoke(campaign, "figures", "references", "grooming-2019", "--format", "csv").output)))
    assert [(r["measure"], r["value"], r["url"]) for r in rows] == [
        ("child sexual offences with an online element", "9000",
         "https://www.ons.gov.uk/online-csa"), ("offences", "4100", "")]
    deleted = invoke(campaign, "figures", "reference-delete", "grooming-2019", rows[0]["id"])
    assert deleted.output == "Deleted 1 reference figure.\n"
    assert len(invoke(campaign, "figures", "references", "grooming-2019").output.splitlines()) == 1
    assert invoke(campaign, "figures", "reference-delete", "grooming-2019", "--all").output == \
        "Deleted 1 reference figure.\n"
    assert invoke(campaign, "figures", "references", "grooming-2019").output == \
        "grooming-2019 has no reference figures.\n"


def test_a_bad_file_imports_nothing_and_lists_every_problem(campaign, tmp_path):
    result = invoke(campaign, "figures", "reference", "grooming-2019",
                    _csv(tmp_path, ONS, "offences,2018-19,England and Wales,16%,ONS,\n",
                         "offences,2017-18,,12,ONS,\n"))
    assert result.exit_code == 1
    assert result.output == (
        "Error: 2 problems, nothing was changed:\n"
        "  line 3, column value: '16%' is not a plain number, with or without thousands commas "
        "(9,000 or 9000), without % or a currency sign (write 16% as 16 and say 'per cent' in "
        "the measure)\n"
        "  line 4, column area: is empty; every row needs a area\n")
    assert invoke(campaign, "figures", "references", "grooming-2019").output == \
        "grooming-2019 has no reference figures.\n"


def test_dry_run_changes_nothing_and_replace_replaces(campaign, tmp_path):
    dry = invoke(campaign, "figures", "reference", "grooming-2019", _csv(tmp_path, ONS),
                 "--dry-run")
    assert dry.output == "Dry run, nothing changed. Would be: 1 reference figure added.\n"
    assert "no reference figures" in invoke(campaign, "figures", "references",
                                             "grooming-2019").output
    invoke(campaign, "figures", "reference", "grooming-2019", _csv(tmp_path, ONS, BESIDE))
    again = invoke(campaign, "figures", "reference", "grooming-2019", _csv(tmp_path, ONS))
    assert again.exit_code == 1
    assert "line 2, column measure: the campaign already has a reference figure" in again.output
    replaced = invoke(campaign, "figures", "reference", "grooming-2019", _csv(tmp_path, ONS),
                      "--replace")
    assert replaced.output == "Imported 1 reference figure added, 2 replaced.\n"


def test_exported_as_their_own_table_and_never_in_the_aggregate(campaign, tmp_path):
    before = invoke(campaign, "aggregate", "grooming-2019", "--format", "csv").output
    invoke(campaign, "figures", "reference", "grooming-2019", _csv(tmp_path, ONS, BESIDE))
    assert invoke(campaign, "aggregate", "grooming-2019", "--format", "csv").output == before
    out = tmp_path / "reference-out.csv"
    result = invoke(campaign, "export", "grooming-2019", "--format", "csv", "--table", "reference",
                    "-o", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes().decode("utf-8-sig") == (
        "measure,period,area,value,source,url\r\n"
        "child sexual offences with an online element,October 2017 to September 2018,"
        'England and Wales,9000,ONS,https://www.ons.gov.uk/online-csa\r\n'
        "offences,2018-19,England and Wales,4100,Home Office,\r\n")
    # An export imports back as it is.
    again = invoke(campaign, "figures", "reference", "grooming-2019", str(out), "--replace")
    assert again.output == "Imported 2 reference figures added, 2 replaced.\n"
    document = tmp_path / "all.json"
    invoke(campaign, "export", "grooming-2019", "--format", "json", "-o", str(document))
    data = json.loads(document.read_text())
    assert data["reference_figures"] == [
        {"measure": "child sexual offences with an online element",
         "period": "October 2017 to September 2018", "area": "England and Wales", "value": 9000,
         "source": "ONS", "url": "https://www.ons.gov.uk/online-csa"},
        {"measure": "offences", "period": "2018-19", "area": "England and Wales", "value": 4100,
         "source": "Home Office", "url": ""}]
    assert [line["text"] for line in data["release"]][-2:] == [
        "For context, official statistics (not from these FOI requests): child sexual offences "
        "with an online element, England and Wales, October 2017 to September 2018: 9,000 "
        "(Source: ONS, https://www.ons.gov.uk/online-csa).",
        "For context, official statistics (not from these FOI requests): offences of sexual "
        "communication with a child recorded, England and Wales, 2018/19: 4,100 "
        "(Source: Home Office)."]
    assert sum(r["total"] for r in data["aggregate"] if r["level"] == "total") == 122


def test_the_data_package_describes_the_reference_table(campaign, tmp_path):
    invoke(campaign, "figures", "reference", "grooming-2019", _csv(tmp_path, ONS))
    folder = tmp_path / "package"
    assert invoke(campaign, "export", "grooming-2019", "--format", "datapackage", "-o",
                  str(folder)).exit_code == 0
    descriptor = json.loads((folder / "datapackage.json").read_text())
    resource = next(r for r in descriptor["resources"] if r["name"] == "reference_figures")
    assert resource["path"] == "data/reference_figures.csv"
    assert [(f["name"], f["type"]) for f in resource["schema"]["fields"]] == [
        ("measure", "string"), ("period", "string"), ("area", "string"), ("value", "number"),
        ("source", "string"), ("url", "string")]
    assert all(f["description"] for f in resource["schema"]["fields"])
    assert resource["schema"]["primaryKey"] == ["measure", "period", "area"]
    assert (folder / "data" / "reference_figures.csv").read_bytes().decode() == (
        "measure,period,area,value,source,url\r\n"
        "child sexual offences with an online element,October 2017 to September 2018,"
        "England and Wales,9000,ONS,https://www.ons.gov.uk/online-csa\r\n")


def test_the_data_package_describes_the_aggregates_rate_columns(campaign, tmp_path):
    folder = tmp_path / "package"
    invoke(campaign, "export", "grooming-2019", "--format", "datapackage", "-o", str(folder))
    descriptor = json.loads((folder / "datapackage.json").read_text())
    fields = {f["name"]: f for f in next(r for r in descriptor["resources"]
                                         if r["name"] == "aggregate")["schema"]["fields"]}
    assert (fields["population"]["type"], fields["rate"]["type"]) == ("integer", "number")
    assert fields["rate"]["description"].startswith("rate_total per rate_per of population")
    # Every column says what it is: none falls back on the counts' wording.
    assert not [name for name, f in fields.items() if name.startswith(("rate", "population"))
                and f["description"].startswith("authorities whose figure was")]
    rows = list(csv.DictReader(io.StringIO(
        (folder / "data" / "aggregate.csv").read_text(encoding="utf-8"))))
    total = next(r for r in rows if r["level"] == "total")
    # West Mercia's 122 over its own mid-2018 population (the only force that answered).
    assert (total["population"], total["rate"]) == ("1278163", "9.5")
