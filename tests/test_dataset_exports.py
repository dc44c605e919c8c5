"""Dataset exports: exact CSV, numbers as numbers in XLSX, JSON, and a valid data package."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
from pathlib import Path

import pytest
from frictionless import validate
from openpyxl import load_workbook
from sqlalchemy import select

from foitrack.cli import main
from foitrack.domain.csv_safety import FORMULA_STARTS
from foitrack.exporters import dataset as writers
from foitrack.models import Authority, Figure, Request
from foitrack.services import aggregate as agg
from foitrack.services.datasets import campaign_dataset
from foitrack.services.design import create_from_file
from foitrack.services.figures import check_figures, import_csv
from foitrack.services.release import Num, national_release
from foitrack.services.requests import add_event, get_request
from tests.factories import EXAMPLE_DESIGN, TEST_ACTOR, load_forces, make_user

TODAY = dt.date(2019, 6, 10)
SMALL = EXAMPLE_DESIGN.replace('authorities = "england-wales"', 'authorities = ["E23000016", "E23000032"]')


@pytest.fixture
def small(session):
    load_forces(session)
    campaign = create_from_file(session, TEST_ACTOR, SMALL)
    import_csv(session, TEST_ACTOR, campaign, io.BytesIO(
        b"authority,measure,period,dimension,category,value,caveat,source\n"
        b"E23000016,offences,2018-19,,,122,Keyword search,letter p.2\n"
        b"E23000016,offences,2018-19,platform,Instagram,<5,,table 1\n"
        b"E23000032,offences,2018-19,,,200,=SUM(A1),letter\n"))
    kent = get_request(session, campaign.slug, "kent")
    add_event(session, TEST_ACTOR, kent, "sent", dt.date(2019, 5, 1), today=TODAY)
    add_event(session, TEST_ACTOR, kent, "response", dt.date(2019, 6, 3), today=TODAY,
              outcome="part_provided", exemptions="s.40(2)")
    session.commit()
    return campaign_dataset(session, campaign, TODAY)


def test_the_figures_csv_exactly(small):
    out = io.StringIO()
    writers.write_csv(small.table("figures"), out)
    assert out.getvalue() == (
        "\ufeffauthority_code,authority,measure,period,period_start,period_end,dimension,category,"
        "kind,value,lower,upper,as_given,exemption,caveat,source,checked_by,withdrawn\r\n"
        "E23000032,Kent Police,offences,2018-19,2018-04-01,2019-03-31,,,exact,200,,,200,,"
        "'=SUM(A1),letter,,false\r\n"
        "E23000016,West Mercia Police,offences,2018-19,2018-04-01,2019-03-31,,,exact,122,,,122,,"
        "Keyword search,letter p.2,,false\r\n"
        "E23000016,West Mercia Police,offences,2018-19,2018-04-01,2019-03-31,platform,Instagram,"
        "suppressed,,0,4,<5,,,table 1,,false\r\n"
    )


def test_the_tracker_csv_exactly(small):
    out = io.StringIO()
    writers.write_csv(small.table("tracker"), out)
    assert out.getvalue().splitlines()[1:] == [
        "E23000032,Kent Police,,answered,part_provided,s.40(2),2019-05-01,2019-05-01,2019-05-31,"
        "2019-06-03,false,1,,part_provided,response,,,,,,,,,0,first request,,,,",
        "E23000016,West Mercia Police,,not_sent,,,,,,,,,,,,,,,,,,,,0,first request,,,,",
    ]


def test_the_xlsx_keeps_numbers_as_numbers_and_explains_itself(small, tmp_path):
    path = tmp_path / "out.xlsx"
    writers.write_xlsx(small, path)
    book = load_workbook(path)
    assert book.sheetnames == ["README", "Aggregate", "Figures", "Requests", "Coverage",
                               "Changes", "Release", "Release numbers", "Methods", "Measures",
                               "Periods", "Categories", "Reference figures"]
    readme = [row[1] for row in book["README"].iter_rows(values_only=True) if len(row) > 1]
    assert small.methods and all(line in readme for line in small.methods)
    figures = book["Figures"]
    assert figures.freeze_panes == "A2"
    assert figures["J2"].value == 200 and isinstance(figures["J2"].value, int)
    # Text as written, stored as a string, never a formula (issue 23).
    assert (figures["O2"].value, figures["O2"].data_type) == ("=SUM(A1)", "s")
    aggregate = book["Aggregate"]
    header = [c.value for c in aggregate[1]]
    total = dict(zip(header, [c.value for c in aggregate[2]], strict=True))
    assert total["total"] == 322 and isinstance(total["total"], int)
    assert book["Coverage"]["I2"].value == 2


def test_json_is_one_document(small):
    out = io.StringIO()
    writers.write_json(small, out)
    data = json.loads(out.getvalue())
    assert data["campaign"] == "grooming-2019"
    assert [row["as_given"] for row in data["figures"]] == ["200", "122", "<5"]
    assert data["tracker"][0]["sent_on"] == "2019-05-01"


def test_the_data_package_passes_frictionless_validate(small, tmp_path):
    path = writers.write_datapackage(small, tmp_path / "pkg")
    report = validate(str(path))
    assert report.valid, report.flatten(["type", "message"])
    descriptor = json.loads(path.read_text())
    assert descriptor["description"].startswith("Freedom of Information requests were sent to 1")
    assert [r["name"] for r in descriptor["resources"]] == [
        "aggregate", "figures", "tracker", "coverage", "changes", "release", "release_numbers",
        "methods", "measures", "periods", "categories", "reference_figures"]
    assert "=SUM(A1)" in (tmp_path / "pkg" / "data" / "figures.csv").read_text()  # exact values


def test_the_database_writes_every_kind_of_figure_as_python_would(session):
    """The figures CSV's cells are written by the database (figure_text_rows); they must be
    the text of figure_rows, value by value, for every kind of value and awkward text."""
    from foitrack.exporters.dataset import _text
    from foitrack.services.datasets import FIGURE_COLUMNS, figure_rows, figure_text_rows

    load_forces(session)
    campaign = create_from_file(session, TEST_ACTOR, SMALL)
    import_csv(session, TEST_ACTOR, campaign, io.BytesIO((
        "authority,measure,period,dimension,category,value,caveat,source\n"
        "E23000016,offences,2018-19,,,0,\"Says \"\"about\"\" 3, maybe\",\n"
        "E23000016,offences,2018-19,platform,Instagram,<5,\"line one\nline two\",table 1\n"
        "E23000016,offences,2018-19,platform,Facebook,10-14,,\n"
        "E23000016,offences,2018-19,platform,Messenger,withheld s.40(2),,\n"
        "E23000016,offences,2018-19,platform,WhatsApp,withheld,,\n"
        "E23000016,offences,2018-19,platform,Snapchat,not held,,\n"
        "E23000016,offences,2018-19,platform,Other,not provided,,\n"
        "E23000016,offences,2018-19,platform,Not recorded,not recorded,,\n"
        "E23000032,offences,2018-19,,,1234567,Café – ünïcode ✓,=SUM(A1)\n").encode()))
    session.commit()
    expected = [tuple(_text(row[c.name]) for c in FIGURE_COLUMNS)
                for row in figure_rows(session, campaign)]
    written = [tuple(row) for row in figure_text_rows(session, campaign)]
    assert written == expected
    assert {row[12] for row in written} == {
        "0", "<5", "10-14", "withheld s.40(2)", "withheld", "not held", "not provided",
        "not recorded", "1234567"}


# ---- the changes, the release, the methods note and the keys (issue 14, point 8) -----------

FIXTURES = Path(__file__).parent / "fixtures"
CHANGES_HEADER = ("measure,from_period,to_period,dimension,category,level,from_total,to_total,"
                  "change,panel_size,panel_from,panel_to,panel_change,change_ratio,panel_ratio")


@pytest.fixture
def grooming(session):
    """The README's campaign: two years, a period group, "Not recorded" in two dimensions,
    category groups, 43 forces of which 6 to 43 gave figures."""
    load_forces(session)
    campaign = create_from_file(session, TEST_ACTOR, (FIXTURES / "grooming-2019.toml").read_text())
    import_csv(session, TEST_ACTOR, campaign,
               io.BytesIO((FIXTURES / "grooming-2019.csv").read_bytes()))
    session.commit()
    return campaign


def _csv_text(table):
    out = io.StringIO()
    writers.write_csv(table, out)
    return out.getvalue()


def _csv_dicts(text):
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def _sheet(sheet):
    rows = sheet.iter_rows(values_only=True)
    header = next(rows)
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_the_changes_csv_has_its_header_and_a_row_per_change_with_its_panel(session, grooming):
    text = _csv_text(campaign_dataset(session, grooming, TODAY).table("changes"))
    assert text.splitlines()[0] == "\ufeff" + CHANGES_HEADER
    rows = _csv_dicts(text)
    changes = agg.build(session, grooming, with_authorities=False).changes
    assert len(rows) == len(changes) > 0
    for row, change in zip(rows, changes, strict=True):
        assert (row["measure"], row["from_period"], row["to_period"], row["dimension"],
                row["category"], row["level"]) == (
            change.measure, change.from_period, change.to_period, change.dimension or "",
            change.category or "", change.level)
        assert [int(row[name]) for name in ("from_total", "to_total", "change", "panel_size",
                                            "panel_from", "panel_to", "panel_change")] == [
            change.from_total, change.to_total, change.to_total - change.from_total,
            change.panel_size, change.panel_from, change.panel_to,
            change.panel_to - change.panel_from]
    assert {row["level"] for row in rows} == {"total", "category", "group"}


def _check_two_forces(session, campaign):
    """A second researcher checks every figure of West Mercia and Kent."""
    figures = session.scalars(
        select(Figure).join(Request).join(Authority)
        .where(Request.campaign_id == campaign.id, Authority.slug.in_(["west-mercia", "kent"])))
    check_figures(session, TEST_ACTOR, list(figures), make_user(session, role="researcher"))
    session.commit()


def test_export_writes_the_changes_csv_and_honours_checked_only(session, grooming, runner,
                                                                 tmp_path):
    _check_two_forces(session, grooming)
    for flags, checked in (([], False), (["--checked-only"], True)):
        target = tmp_path / f"changes-{checked}.csv"
        result = runner.invoke(main, ["export", "grooming-2019", "--format", "csv", "--table",
                                      "changes", "-o", str(target), *flags],
                               catch_exceptions=False)
        assert result.exit_code == 0, result.output
        written = target.read_bytes().decode("utf-8")
        assert written == _csv_text(campaign_dataset(session, grooming, TODAY, checked_only=checked)
                                    .table("changes"))
    everything = _csv_dicts((tmp_path / "changes-False.csv").read_bytes().decode("utf-8"))
    checked = _csv_dicts((tmp_path / "changes-True.csv").read_bytes().decode("utf-8"))
    assert checked and {int(row["panel_size"]) for row in checked} <= {0, 1, 2}
    assert max(int(row["panel_size"]) for row in everything) > 2


def test_a_checked_only_dataset_carries_the_checked_only_release_and_note(session, grooming):
    _check_two_forces(session, grooming)
    data = campaign_dataset(session, grooming, TODAY, checked_only=True)
    checked = national_release(session, grooming, agg.build(
        session, grooming, checked_only=True, with_authorities=False), TODAY)
    everything = national_release(session, grooming,
                                  agg.build(session, grooming, with_authorities=False), TODAY)
    assert checked.methods != everything.methods
    assert data.methods == checked.methods
    assert [row["text"] for row in data.table("methods").rows()] == checked.methods
    assert [row["text"] for row in data.table("release").rows()] == \
        [line.text for line in checked.lines]


def test_the_release_and_its_numbers_are_the_release_lines_with_their_cells(session, grooming):
    data = campaign_dataset(session, grooming, TODAY)
    release = national_release(session, grooming,
                               agg.build(session, grooming, with_authorities=False), TODAY)
    assert release.lines
    lines = list(data.table("release").rows())
    assert [(row["line"], row["kind"], row["text"]) for row in lines] == [
        (number, line.kind, "".join(p if isinstance(p, str) else p.text for p in line.parts))
        for number, line in enumerate(release.lines, start=1)]
    numbers = list(data.table("release_numbers").rows())
    assert [(n["line"], n["text"], n["measure"], n["period"], n["dimension"], n["category"],
             n["authority"]) for n in numbers] == [
        (number, p.text, p.measure, p.period, p.dimension or "", p.category or "", p.authority or "")
        for number, line in enumerate(release.lines, start=1)
        for p in line.parts if isinstance(p, Num)]
    # Each number names a cell of the design: a measure, a period (or group), and a dimension
    # and category (or group) when it is about one (a dimension alone: its recorded total).
    measures = {row["measure"] for row in data.table("measures").rows()}
    periods = {row["period"] for row in data.table("periods").rows()}
    categories = {(row["dimension"], row["category"]) for row in data.table("categories").rows()}
    dimensions = {dimension for dimension, _ in categories}
    for number in numbers:
        line = lines[number["line"] - 1]["text"]
        assert line[number["start"] - 1:][:len(number["text"])] == number["text"]
        assert number["position"] == 1 + sum(1 for other in numbers if other["line"] ==
                                             number["line"] and other["start"] < number["start"])
        assert number["measure"] in measures and number["period"] in periods
        assert number["dimension"] in dimensions
        assert not number["category"] or (number["dimension"], number["category"]) in categories
    assert any(number["category"] for number in numbers)  # a share's number names its category


def test_the_xlsx_carries_the_changes_release_and_methods_note(session, grooming, tmp_path):
    data = campaign_dataset(session, grooming, TODAY)
    path = tmp_path / "out.xlsx"
    writers.write_xlsx(data, path)
    book = load_workbook(path)
    release = national_release(session, grooming,
                               agg.build(session, grooming, with_authorities=False), TODAY)
    assert [row["text"] for row in _sheet(book["Release"])] == [line.text for line in release.lines]
    numbers = _sheet(book["Release numbers"])
    assert numbers == [{**row, "dimension": row["dimension"] or None,
                        "category": row["category"] or None, "authority": None}
                       for row in data.table("release_numbers").rows()]
    assert isinstance(numbers[0]["start"], int)
    assert [row["text"] for row in _sheet(book["Methods"])] == release.methods
    readme = [row[1] for row in book["README"].iter_rows(values_only=True) if len(row) > 1]
    assert all(line in readme for line in release.methods)  # the README sheet keeps the note
    changes = _sheet(book["Changes"])
    assert len(changes) == len(list(data.table("changes").rows()))
    assert all(isinstance(row["panel_change"], int) for row in changes)
    assert ",".join(changes[0]) == CHANGES_HEADER


def test_the_json_document_has_the_changes_release_and_design(session, grooming):
    out = io.StringIO()
    writers.write_json(campaign_dataset(session, grooming, TODAY), out)

    def no_repeated_keys(pairs):
        keys = [key for key, _ in pairs]
        assert len(keys) == len(set(keys)), keys
        return dict(pairs)

    document = json.loads(out.getvalue(), object_pairs_hook=no_repeated_keys)
    assert list(document) == [
        "campaign", "title", "methods", "licenses", "aggregate", "figures", "tracker", "coverage",
        "changes", "release", "release_numbers", "measures", "periods", "categories",
        "reference_figures"]
    assert document["changes"][0]["panel_size"] == \
        agg.build(session, grooming, with_authorities=False).changes[0].panel_size
    assert document["licenses"][0]["name"] == "OGL-UK-3.0"
    assert {row["period"]: row["kind"] for row in document["periods"]} == {
        "2017-18": "period", "2018-19": "period", "two-years": "group"}


def test_the_data_package_declares_its_keys_licence_and_sources_and_validates(session, grooming,
                                                                              tmp_path):
    path = writers.write_datapackage(campaign_dataset(session, grooming, TODAY), tmp_path / "pkg")
    report = validate(str(path))
    assert report.valid, report.flatten(["type", "message"])
    descriptor = json.loads(path.read_text())
    assert descriptor["licenses"] == [{
        "name": "OGL-UK-3.0",
        "path": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
        "title": "Open Government Licence v3.0"}]
    assert len(descriptor["sources"]) == 43
    assert {"title": "Sexual communication with a child, 2017/18 and 2018/19: Freedom of "
                     "Information request to West Mercia Police"} in descriptor["sources"]
    schemas = {r["name"]: r["schema"] for r in descriptor["resources"]}
    assert all(schema.get("primaryKey") for schema in schemas.values())
    assert schemas["changes"]["primaryKey"] == ["measure", "from_period", "to_period", "level",
                                                "dimension", "category"]
    assert {"fields": ["authority_code"], "reference": {"resource": "tracker",
                                                        "fields": ["authority_code"]}} \
        in schemas["figures"]["foreignKeys"]
    assert {(key["reference"]["resource"], tuple(key["fields"]))
            for key in schemas["changes"]["foreignKeys"]} == {
        ("measures", ("measure",)), ("periods", ("from_period",)), ("periods", ("to_period",)),
        ("categories", ("dimension", "category", "level"))}
    for name in ("release", "release_numbers", "methods"):
        assert (tmp_path / "pkg" / "data" / f"{name}.csv").exists()


def test_the_data_package_keys_are_checked(session, grooming, tmp_path):
    """A validator that reads the keys finds a figure of an authority not in the tracker, a
    change from a period not in the periods, and a change listed twice."""
    original = writers.write_datapackage(campaign_dataset(session, grooming, TODAY),
                                         tmp_path / "pkg").parent
    broken = tmp_path / "broken"
    shutil.copytree(original, broken)
    data = broken / "data"
    tracker = (data / "tracker.csv").read_text().splitlines(keepends=True)
    (data / "tracker.csv").write_text("".join(line for line in tracker
                                              if not line.startswith("E23000016,")))
    periods = (data / "periods.csv").read_text().splitlines(keepends=True)
    (data / "periods.csv").write_text("".join(line for line in periods
                                              if not line.startswith("2017-18,")))
    changes = (data / "changes.csv").read_text().splitlines(keepends=True)
    (data / "changes.csv").write_text("".join(changes) + changes[1])
    report = validate(str(broken / "datapackage.json"))
    found = {(task.name, error.type) for task in report.tasks for error in task.errors}
    assert {("figures", "foreign-key"), ("changes", "foreign-key"),
            ("changes", "primary-key")} <= found


HOSTILE = """
slug = "hostile"
title = "=HYPERLINK(\\"http://example.org\\",\\"open\\")"
authorities = ["E23000016", "E23000032"]
request_text = "Dear {{ authority.name }}"
[[measures]]
key = "offences"
label = "=1+1 offences"
[[periods]]
key = "2017-18"
label = "+2017/18"
start = 2017-04-01
end = 2018-03-31
[[periods]]
key = "2018-19"
label = "-2018/19"
start = 2018-04-01
end = 2019-03-31
[[dimensions]]
key = "platform"
label = "@method"
categories = ["=Instagram", "Other"]
not_recorded = "-Not recorded"
[[groups]]
key = "apps"
label = "=apps"
dimension = "platform"
categories = ["=Instagram", "Other"]
"""


def test_every_text_cell_of_every_csv_and_sheet_is_safe_from_formulas(session, tmp_path):
    load_forces(session)
    campaign = create_from_file(session, TEST_ACTOR, HOSTILE)
    rows = ["authority,measure,period,dimension,category,value,caveat,source"]
    for code, base in (("E23000016", 1200), ("E23000032", 900)):
        for period, more in (("2017-18", 0), ("2018-19", 1500)):
            rows += [f"{code},offences,{period},,,{base + more},=cmd|' /C calc'!A0,-source",
                     f"{code},offences,{period},platform,=Instagram,{base // 2 + more},,",
                     f"{code},offences,{period},platform,Other,{base // 4},,",
                     f"{code},offences,{period},platform,-Not recorded,{base // 4},,"]
    import_csv(session, TEST_ACTOR, campaign, io.BytesIO("\n".join(rows).encode()))
    session.commit()
    data = campaign_dataset(session, campaign, TODAY)
    assert list(data.table("release").rows()) and list(data.table("changes").rows())
    for table in data.tables:
        strings = [c.name for c in table.columns if c.type == "string"]
        for row in _csv_dicts(_csv_text(table)):
            assert not [row[name] for name in strings if row[name].startswith(FORMULA_STARTS)], \
                table.name
    path = tmp_path / "out.xlsx"
    writers.write_xlsx(data, path)
    book = load_workbook(path)
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row
             if isinstance(cell.value, str)]
    texts = [cell.value for cell in cells]
    # In an XLSX the text is kept exactly, as a string cell, never a formula (issue 23).
    assert "=Instagram" in texts and "=HYPERLINK(\"http://example.org\",\"open\")" in texts
    assert not [cell.coordinate for cell in cells if cell.data_type != "s"]
    # The data package keeps the values exactly, as the README says.
    writers.write_datapackage(data, tmp_path / "pkg")
    assert ",=Instagram," in (tmp_path / "pkg" / "data" / "changes.csv").read_text()
