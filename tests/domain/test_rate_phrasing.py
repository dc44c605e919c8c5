"""The words rates are given in (domain/phrasing): one way of saying 'per 100,000 people', used
by the aggregate table's note, the tile map, the release lines and the text table alike."""

from __future__ import annotations

import io

from foitrack.domain.aggregate_rows import Aggregate, AggregateRow, Cell
from foitrack.domain.phrasing import per_words, rate_words, rates_table_note
from foitrack.exporters.aggregate import write_table


def _row(period: str, rate: float | None, years: tuple[int, ...] = (), per: int = 100_000,
         base: str = "population", nearest: bool = False) -> AggregateRow:
    return AggregateRow(Cell("offences", period, None, None, "total"), period, None, 10, 10, 10,
                        {}, 1, 1, 1, rate=rate, rate_per=per if rate is not None else 0,
                        rate_base=base if rate is not None else "", population_years=years,
                        population_nearest=nearest)


def test_per_words_name_the_base():
    assert per_words(100_000) == "per 100,000 people"
    assert per_words(1000, "children-0-17") == "per 1,000 children-0-17"
    assert rate_words(9.4736, 100_000) == "9.5 per 100,000 people"


def test_the_table_note_says_per_what_over_whom_and_which_years():
    rows = [_row("2017-18", 5.1, (2017,)), _row("2018-19", 7.4, (2018,)), _row("both", None)]
    assert rates_table_note(rows) == (
        "Rate: per 100,000 people, over the authorities that gave a usable figure and have a "
        "population estimate (never the national population over a partial sum). Population: "
        "mid-year estimates for mid-2017 and mid-2018.")


def test_the_table_note_names_every_unit_and_flags_a_nearest_year():
    rows = [_row("2024-25", 5.1, (2023,), nearest=True),
            _row("2024-25", 2.0, (2023,), per=1000, base="children-0-17")]
    assert rates_table_note(rows) == (
        "Rate: per 1,000 children-0-17 or per 100,000 people, over the authorities that gave a "
        "usable figure and have a population estimate (never the national population over a "
        "partial sum). Population: mid-year estimates for mid-2023. * Some authority had no "
        "estimate for the period's own mid-year: its nearest year's was used.")


def test_no_rate_no_note():
    assert rates_table_note([_row("2018-19", None)]) is None


def test_the_text_tables_footer_uses_the_same_words():
    out = io.StringIO()
    write_table(Aggregate("c", 1, rows=[_row("2018-19", 2.0, (2018,), per=1000,
                                             base="children-0-17")]), out)
    assert out.getvalue().splitlines()[-1] == (
        "(rate: per 1,000 children-0-17, over the authorities with a figure and a population)")
