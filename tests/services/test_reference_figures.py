"""Official figures for context (issue 18, section 3): imported all or nothing, matched to the
campaign's cells, carried into the release with their source, never added into the totals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from foitrack.errors import Invalid
from foitrack.exporters.aggregate import row_dict
from foitrack.models import AuditEntry, ReferenceFigure
from foitrack.services import aggregate, release
from foitrack.services import reference_figures as references
from tests.factories import TEST_ACTOR, enter_figures, make_campaign

TODAY = dt.date(2019, 7, 1)
HEADER = "measure,period,area,value,source,url\n"
ONS = ("child sexual offences with an online element,October 2017 to September 2018,"
       'England and Wales,"9,000",ONS,https://www.ons.gov.uk/online-csa\n')
BESIDE = "offences,2018-19,England and Wales,4100,Home Office,\n"


def _file(*lines: str) -> bytes:
    return (HEADER + "".join(lines)).encode()


@pytest.fixture
def campaign(session):
    found = make_campaign(session)
    enter_figures(session, found, ("E23000016", "2018-19", "", "", 122),
                  ("E23000017", "2018-19", "", "", 30))
    return found


def test_a_file_is_imported_in_order_with_commas_read_as_thousands(session, campaign):
    report = references.import_csv(session, TEST_ACTOR, campaign, _file(ONS, BESIDE))
    session.commit()
    assert report.summary() == "2 reference figures added"
    held = references.reference_figures(session, campaign)
    assert [(f.measure, f.period, f.area, f.value, f.source, f.url) for f in held] == [
        ("child sexual offences with an online element", "October 2017 to September 2018",
         "England and Wales", Decimal("9000"), "ONS", "https://www.ons.gov.uk/online-csa"),
        ("offences", "2018-19", "England and Wales", Decimal("4100"), "Home Office", None)]
    # Audited like any import: one entry a figure, with who did it.
    assert session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.entity_type == "reference_figure", AuditEntry.action == "create")) == 2


@pytest.mark.parametrize(("given", "expected"), [
    ("9,000", Decimal("9000")), ("9000", Decimal("9000")), ("16.4", Decimal("16.4")),
    ("1,234,567.25", Decimal("1234567.25")), ("-3", Decimal("-3")),
])
def test_values_are_plain_numbers_with_optional_thousands_commas(given, expected):
    assert references.parse_value(given) == expected


@pytest.mark.parametrize("given", ["16%", "£450", "9.000,5", "90,00", "1e3", "nine", "12.34567"])
def test_anything_else_is_refused_saying_what_a_value_must_be(given):
    with pytest.raises(ValueError, match="plain number|decimal places"):
        references.parse_value(given)


def test_a_bad_file_imports_nothing_and_names_every_line_and_column(session, campaign):
    bad = _file(ONS,
                "offences,2018-19,England and Wales,16%,ONS,\n",
                ",2018-19,Wales,5,ONS,ftp://example.org/x\n",
                "offences,2018-19,England and Wales,4100,,\n",
                ONS)
    with pytest.raises(Invalid) as caught:
        references.import_csv(session, TEST_ACTOR, campaign, bad)
    session.rollback()
    assert [str(p) for p in caught.value.problems] == [
        "line 3, column value: '16%' is not a plain number, with or without thousands commas "
        "(9,000 or 9000), without % or a currency sign (write 16% as 16 and say 'per cent' in "
        "the measure)",
        "line 4, column measure: is empty; every row needs a measure",
        "line 4, column url: 'ftp://example.org/x' is not a web address (http:// or https://)",
        "line 5, column source: is empty; every row needs a source",
        "line 6, column measure: repeats line 2: the same measure, period and area",
    ]
    assert references.reference_figures(session, campaign) == []


def test_the_header_must_be_exactly_the_six_columns(session, campaign):
    with pytest.raises(Invalid) as caught:
        references.import_csv(session, TEST_ACTOR, campaign,
                              b"measure,period,area,value,source,notes\nx,y,z,1,ONS,\n")
    assert [str(problem) for problem in caught.value.problems] == [
        "line 1: unknown column 'notes'", "line 1: the header has no 'url' column",
        "line 1: the header must be exactly measure,period,area,value,source,url"]


def test_a_figure_held_already_is_refused_unless_replacing(session, campaign):
    references.import_csv(session, TEST_ACTOR, campaign, _file(ONS, BESIDE))
    session.commit()
    with pytest.raises(Invalid, match="line 2, column measure: the campaign already has a "
                                      "reference figure for 'offences'"):
        references.import_csv(session, TEST_ACTOR, campaign, _file(BESIDE))
    session.rollback()
    report = references.import_csv(session, TEST_ACTOR, campaign,
                                   _file(BESIDE.replace("4100", "\"4,200\"")), replace=True)
    session.commit()
    assert report.summary() == "1 reference figure added, 2 replaced"
    assert [f.value for f in references.reference_figures(session, campaign)] == [Decimal(4200)]


def test_delete_takes_one_away(session, campaign):
    references.import_csv(session, TEST_ACTOR, campaign, _file(ONS, BESIDE))
    first = references.reference_figures(session, campaign)[0]
    references.delete_reference_figure(session, TEST_ACTOR, campaign, first.id)
    session.commit()
    assert [f.measure for f in references.reference_figures(session, campaign)] == ["offences"]


def test_reference_figures_never_change_the_aggregate(session, campaign):
    before = [row_dict(row) for row in aggregate.build(session, campaign).rows]
    references.import_csv(session, TEST_ACTOR, campaign, _file(ONS, BESIDE))
    session.commit()
    after = [row_dict(row) for row in aggregate.build(session, campaign).rows]
    assert after == before
    assert aggregate.build(session, campaign).row("offences", "2018-19").total == 152


def test_figures_matching_the_campaign_keys_take_its_labels(session, campaign):
    references.import_csv(session, TEST_ACTOR, campaign, _file(ONS, BESIDE))
    shown = references.beside(campaign, references.reference_figures(session, campaign))
    assert [(f.matches, f.measure_label, f.period_label, f.value_text) for f in shown] == [
        (False, "child sexual offences with an online element", "October 2017 to September 2018",
         "9,000"),
        (True, "Offences of sexual communication with a child recorded", "2018/19", "4,100")]


def test_the_national_release_ends_with_each_figure_and_its_source(session, campaign):
    references.import_csv(session, TEST_ACTOR, campaign, _file(ONS, BESIDE))
    session.commit()
    result = aggregate.build(session, campaign)
    lines = release.national_release(session, campaign, result, TODAY).lines
    context = [line.text for line in lines if line.kind == "context"]
    assert context == [
        "For context, official statistics (not from these FOI requests): child sexual offences "
        "with an online element, England and Wales, October 2017 to September 2018: 9,000 "
        "(Source: ONS, https://www.ons.gov.uk/online-csa).",
        "For context, official statistics (not from these FOI requests): offences of sexual "
        "communication with a child recorded, England and Wales, 2018/19: 4,100 "
        "(Source: Home Office).",
    ]
    assert lines[-2:] == [line for line in lines if line.kind == "context"]


def test_a_subset_release_leaves_national_statistics_out(session, campaign):
    references.import_csv(session, TEST_ACTOR, campaign, _file(ONS))
    session.commit()
    ids, _ = aggregate.subset_ids(session, "E23000016,E23000017")
    text = release.subset_release(session, campaign, ids or [], ["E23000016,E23000017"],
                                  TODAY).text()
    assert "For context" not in text


def test_values_keep_their_decimals_exactly(session, campaign):
    references.import_csv(session, TEST_ACTOR, campaign,
                          _file("share online,2017-18,England and Wales,16.4,ONS,\n"))
    session.commit()
    stored = session.scalar(select(ReferenceFigure))
    assert stored is not None and stored.value == Decimal("16.4")
    assert references.value_text(stored.value) == "16.4"
    assert references.export_rows([stored])[0]["value"] == 16.4
