"""Dataset exports: exact CSV, numbers as numbers in XLSX, JSON, and a valid data package."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from frictionless import validate
from openpyxl import load_workbook

from foitrack.exporters import dataset as writers
from foitrack.services.datasets import campaign_dataset
from foitrack.services.design import create_from_file
from foitrack.services.figures import import_csv
from foitrack.services.requests import add_event, get_request
from tests.factories import TEST_ACTOR, load_forces
from tests.services.test_design import EXAMPLE

TODAY = dt.date(2019, 6, 10)
SMALL = EXAMPLE.replace('authorities = "england-wales"', 'authorities = ["E23000016", "E23000032"]')


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
        "kind,value,lower,upper,as_given,exemption,caveat,source,checked_by\r\n"
        "E23000032,Kent Police,offences,2018-19,2018-04-01,2019-03-31,,,exact,200,,,200,,"
        "'=SUM(A1),letter,\r\n"
        "E23000016,West Mercia Police,offences,2018-19,2018-04-01,2019-03-31,,,exact,122,,,122,,"
        "Keyword search,letter p.2,\r\n"
        "E23000016,West Mercia Police,offences,2018-19,2018-04-01,2019-03-31,platform,Instagram,"
        "suppressed,,0,4,<5,,,table 1,\r\n"
    )


def test_the_tracker_csv_exactly(small):
    out = io.StringIO()
    writers.write_csv(small.table("tracker"), out)
    assert out.getvalue().splitlines()[1:] == [
        "E23000032,Kent Police,,answered,part_provided,s.40(2),2019-05-01,2019-05-01,2019-05-31,"
        "2019-06-03,false,1,",
        "E23000016,West Mercia Police,,not_sent,,,,,,,,,",
    ]


def test_the_xlsx_keeps_numbers_as_numbers_and_explains_itself(small, tmp_path):
    path = tmp_path / "out.xlsx"
    writers.write_xlsx(small, path)
    book = load_workbook(path)
    assert book.sheetnames == ["README", "Aggregate", "Figures", "Requests", "Coverage"]
    readme = [row[1] for row in book["README"].iter_rows(values_only=True) if len(row) > 1]
    assert "1 figure was suppressed (small numbers): totals leave them out, and the bounds give " \
           "the range they could add." in readme
    figures = book["Figures"]
    assert figures.freeze_panes == "A2"
    assert figures["J2"].value == 200 and isinstance(figures["J2"].value, int)
    assert figures["O2"].value == "'=SUM(A1)"
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
    assert [r["name"] for r in descriptor["resources"]] == ["aggregate", "figures", "tracker",
                                                           "coverage"]
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
