"""Matching labels to the design and reading values (issue 19): period spellings, totals,
aliases, footnotes, coded values, and the cases where nothing is proposed, with the reason."""

from __future__ import annotations

import datetime as dt

import pytest

from foitrack.domain.extraction import extract
from foitrack.domain.extraction.cells import Location, Passage
from foitrack.domain.extraction.matching import AMBIGUOUS, Key, Labels, Value, period_dates, read_value
from foitrack.domain.extraction.sentences import read_passage
from foitrack.domain.figure_values import ValueKind
from tests.fixtures.reply_corpus import corpus_design

FY = (dt.date(2018, 4, 1), dt.date(2019, 3, 31))


@pytest.mark.parametrize("text", [
    "2018/19", "2018-19", "2018/2019", "FY 2018/19", "FY2018/19", "Financial year 2018/19",
    "April 2018 to March 2019", "Apr 2018 - Mar 2019", "1 April 2018 - 31 March 2019",
    "1st April 2018 to 31st March 2019", "01/04/2018 - 31/03/2019", "2018/19*", "2018/19 (1)",
])
def test_common_spellings_of_a_financial_year(text):
    assert period_dates(text) == FY


def test_a_year_alone_is_the_calendar_year_and_a_broken_spelling_is_nothing():
    assert period_dates("2018") == (dt.date(2018, 1, 1), dt.date(2018, 12, 31))
    assert period_dates("2018/20") is None  # not consecutive years
    assert period_dates("31 March 2019 - 1 April 2018") is None  # backwards
    assert period_dates("Instagram") is None


def test_labels_resolve_by_label_alias_total_and_dates():
    labels = Labels(corpus_design())
    assert labels.resolve("FB Messenger") == Key(dimension="platform", category="Messenger")
    assert labels.resolve("  instagram* ") == Key(dimension="platform", category="Instagram")
    assert labels.resolve("Grand total") == Key(total=True)
    assert labels.resolve("Total offences") == Key(measure="offences", total=True)
    assert labels.resolve("April 2017 to March 2018") == Key(period="2017-18")
    assert labels.resolve("Number of victims") == Key(measure="victims")
    assert labels.resolve("Force area") is None


def test_a_label_naming_two_things_is_ambiguous():
    design = corpus_design()
    from dataclasses import replace
    measures = (replace(design.measures[0], aliases=("Instagram",)), design.measures[1])
    labels = Labels(replace(design, measures=measures))
    assert labels.resolve("Instagram") is AMBIGUOUS


@pytest.mark.parametrize(("text", "kind", "caveat"), [
    ("1,234", ValueKind.exact, None), ("<5", ValueKind.suppressed, None),
    ("*", ValueKind.suppressed, None), ("not recorded", ValueKind.not_recorded, None),
    ("Not known", ValueKind.not_recorded, None), ("12*", ValueKind.exact, "footnote *"),
    ("12 (1)", ValueKind.exact, "footnote (1)"), ("nil", ValueKind.exact, None),
    ("1-4", ValueKind.suppressed, None),
])
def test_values_go_through_the_coded_value_parser(text, kind, caveat):
    value = read_value(text, 5)
    assert isinstance(value, Value) and value.figure.kind is kind and value.caveat == caveat
    assert value.written == text


@pytest.mark.parametrize("text", ["-", "n/a", "", "12.5", "about 40"])
def test_what_is_not_a_figure_is_not_read_and_says_why(text):
    assert isinstance(read_value(text, 5), str)


def test_a_star_without_a_threshold_is_skipped_with_the_reason():
    from dataclasses import replace
    design = replace(corpus_design(), suppression_threshold=None)
    result = extract("r.csv", b"Offences,2018/19\nInstagram,*\nSnapchat,4\n", design)
    assert [(p.category, p.value) for p in result.proposals] == [("Snapchat", "4")]
    assert any("threshold" in s.reason and s.location == "B2" for s in result.skipped)


def test_unknown_rows_and_columns_and_missing_measures_propose_nothing():
    design = corpus_design()
    # Two measures in the design and none named: which one is unknown.
    result = extract("r.csv", b"Platform,2018/19\nInstagram,4\n", design)
    assert result.proposals == [] and "no measure" in result.skipped[0].reason
    result = extract("r.csv", b"Offences,2018/19,Last year\nTikTok,4,5\nInstagram,6,7\n", design)
    assert [(p.category, p.period, p.value) for p in result.proposals] == [
        ("Instagram", "2018-19", "6")]
    reasons = {s.text: s.reason for s in result.skipped}
    assert "matches nothing" in reasons["4"] and "no label" in reasons["7"]


def test_a_cell_given_two_values_in_one_file_is_not_proposed():
    data = (b"Offences,2018/19\nInstagram,4\nTotal,10\n\nOffences,2018-19\nInstagram,5\n")
    result = extract("r.csv", data, corpus_design())
    assert [(p.category, p.value) for p in result.proposals] == [(None, "10")]
    assert sum("different values" in s.reason for s in result.skipped) == 2


def test_a_totals_column_in_a_transposed_table_is_the_total():
    data = b"Recorded offences,Instagram,Snapchat,Total\n2017/18,3,4,7\nFY 2018/19,<5,9,12\n"
    result = extract("r.csv", data, corpus_design())
    got = {(p.period, p.category, p.value, p.parsed_kind) for p in result.proposals}
    assert got == {("2017-18", "Instagram", "3", "exact"), ("2017-18", "Snapchat", "4", "exact"),
                   ("2017-18", None, "7", "exact"), ("2018-19", "Instagram", "<5", "suppressed"),
                   ("2018-19", "Snapchat", "9", "exact"), ("2018-19", None, "12", "exact")}
    assert all(p.dimension is None for p in result.proposals if p.category is None)


def _sentences(text: str) -> list[tuple[str, str, str | None, str]]:
    found, _ = read_passage(Passage(text, Location("paragraph 1")), Labels(corpus_design()), 5)
    return [(f.key.measure or "", f.key.period or "", f.key.category, f.value.written)
            for f in found]


def test_figures_in_sentences():
    assert _sentences("We recorded 122 offences in 2018/19, compared with 73 in 2017/18.") == [
        ("offences", "2018-19", None, "122"), ("offences", "2017-18", None, "73")]
    assert _sentences("Of the offences recorded in FY 2018/19, 30 involved Instagram and 12 "
                      "involved Facebook Messenger.") == [
        ("offences", "2018-19", "Instagram", "30"), ("offences", "2018-19", "Messenger", "12")]
    assert _sentences("Fewer than 5 offences in April 2017 to March 2018 involved WhatsApp.") == [
        ("offences", "2017-18", "WhatsApp", "Fewer than 5")]
    # The total restated ("of the 122 offences") is not a second figure; a comma before a
    # category starts a clause.
    assert _sentences("Of the 122 offences recorded in 2018/19, 30 involved Instagram.") == [
        ("offences", "2018-19", "Instagram", "30")]
    assert _sentences("Instagram was used in 8 of the offences recorded in 2018/19, Snapchat "
                      "in 7.") == [("offences", "2018-19", "Instagram", "8"),
                                   ("offences", "2018-19", "Snapchat", "7")]


@pytest.mark.parametrize("text", [
    "We received your request on 3 April 2019 and searched 3 systems.",
    "Offences rose by 25% in 2018/19.",
    "Section 40(2) applies to 2 records of offences in 2018/19.",
    "There are 43 forces; in 2018/19 this force employed 2,000 officers.",
    "In 2018/19 we recorded 122 offences, 30 on Instagram.",  # two numbers in a clause: unsure
    "Instagram was used in 30 offences.",  # no period
    "We recorded 122 offences and 40 victims in 2018/19.",  # two measures in one sentence
])
def test_numbers_that_are_not_one_cell_are_not_proposed(text):
    assert _sentences(text) == []


def test_calendar_years_as_numbers_in_a_spreadsheet_header_are_periods():
    import io

    from openpyxl import Workbook

    from foitrack.domain.design import CampaignDesign, Design, DimensionSpec, MeasureSpec, PeriodSpec

    design = CampaignDesign.from_spec(Design(
        measures=[MeasureSpec("offences", "Offences", "offences")],
        periods=[PeriodSpec(str(y), str(y), dt.date(y, 1, 1), dt.date(y, 12, 31))
                 for y in (2018, 2019)],
        dimensions=[DimensionSpec("platform", "Platform", ["Instagram", "Snapchat"],
                                  "Not recorded")]))
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in (["Platform", 2018, 2019], ["Instagram", 2018, 12], ["Snapchat", 3, "<5"]):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    result = extract("r.xlsx", out.getvalue(), design)
    got = {(p.period, p.category, p.value) for p in result.proposals}
    # A count that happens to be 2018 in a labelled row is still a count.
    assert got == {("2018", "Instagram", "2018"), ("2019", "Instagram", "12"),
                   ("2018", "Snapchat", "3"), ("2019", "Snapchat", "<5")}


def test_the_only_period_is_assumed_only_when_the_table_names_none():
    from dataclasses import replace
    design = corpus_design()
    single = replace(design, periods=design.periods[1:])
    # No period anywhere: the design's only one, with less confidence.
    result = extract("r.csv", b"Platform,Offences\nInstagram,4\nTotal,9\n", single)
    assert {(p.period, p.category, p.confidence) for p in result.proposals} == {
        ("2018-19", "Instagram", 0.8), ("2018-19", None, 0.8)}
    # Years written: a total over both is no year's total, and 2017/18 is not in the design.
    data = b"Offences,Instagram,Total\n2017/18,3,7\n2018/19,4,9\nTotal,7,16\n"
    result = extract("r.csv", data, single)
    assert {(p.period, p.category, p.value) for p in result.proposals} == {
        ("2018-19", "Instagram", "4"), ("2018-19", None, "9")}
