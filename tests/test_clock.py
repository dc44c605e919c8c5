"""The FOI clock against dates worked out by hand, and against a plain day-by-day count.

Each case was counted on a printed calendar: day one is the first working day after the date of
receipt; weekends, Christmas Day, Good Friday and bank holidays in any part of the UK (FOIA) or
in Scotland only (FOISA) are passed over. The note says which days were skipped.
"""

from __future__ import annotations

import datetime as dt
import functools

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foitrack.domain.clock import (
    Pause,
    Regime,
    add_working_days,
    explain_count,
    is_working_day,
    non_working_reason,
    working_days_between,
)

D = dt.date.fromisoformat
FOIA, FOISA = Regime.foia, Regime.foisa

CASES = [
    # received, regime, working days, due, how it was counted
    ("2017-04-03", FOIA, 20, "2017-05-04", "GF 14 Apr, EM 17 Apr, Early May 1 May skipped"),
    ("2017-12-08", FOIA, 20, "2018-01-11", "25, 26 Dec, 1 Jan and Scottish 2 Jan skipped"),
    ("2017-12-08", FOISA, 20, "2018-01-11", "Scotland has all four of those holidays too"),
    ("2018-03-29", FOIA, 20, "2018-04-30", "GF 30 Mar, EM 2 Apr skipped"),
    ("2018-03-29", FOISA, 20, "2018-04-27", "no Easter Monday holiday in Scotland"),
    ("2018-12-17", FOIA, 20, "2019-01-18", "24 Dec counts; 25, 26 Dec, 1 and 2 Jan skipped"),
    ("2018-12-22", FOIA, 20, "2019-01-24", "received on a Saturday; day one Mon 24 Dec"),
    ("2018-12-25", FOIA, 20, "2019-01-25", "received on Christmas Day; day one Thu 27 Dec"),
    ("2019-03-15", FOIA, 20, "2019-04-15", "St Patrick's Day (Sun 17) substitute Mon 18 Mar (NI)"),
    ("2019-03-15", FOISA, 20, "2019-04-12", "Mon 18 Mar is a working day in Scotland"),
    ("2019-03-17", FOIA, 20, "2019-04-15", "received on a Sunday, St Patrick's Day itself"),
    ("2019-04-08", FOIA, 20, "2019-05-09", "GF 19, EM 22 Apr, Early May 6 May skipped"),
    ("2019-04-08", FOISA, 20, "2019-05-08", "EM 22 Apr counts in Scotland"),
    ("2019-07-04", FOIA, 20, "2019-08-02", "Battle of the Boyne Fri 12 Jul (NI) skipped"),
    ("2019-07-15", FOIA, 20, "2019-08-13", "Scottish Summer Bank Holiday Mon 5 Aug skipped"),
    ("2019-07-15", FOISA, 20, "2019-08-13", "the same day skipped under FOISA"),
    ("2019-08-02", FOIA, 20, "2019-09-03", "5 Aug (Scotland) and 26 Aug (E&W, NI) skipped"),
    ("2019-11-29", FOIA, 20, "2020-01-03", "St Andrew's (Sat 30) substitute Mon 2 Dec; 25, 26 Dec; "
                                          "1 and 2 Jan skipped"),
    ("2019-11-29", FOISA, 20, "2020-01-03", "all of those are Scottish holidays"),
    ("2020-04-08", FOIA, 20, "2020-05-11", "GF 10, EM 13 Apr, VE Day Fri 8 May skipped"),
    ("2020-04-08", FOISA, 20, "2020-05-07", "EM counts; due before VE Day"),
    ("2020-04-23", FOIA, 20, "2020-05-22", "VE Day Fri 8 May 2020 (the moved May holiday) skipped"),
    ("2020-12-18", FOIA, 20, "2021-01-21", "25 Dec, Boxing Day substitute 28 Dec, 1 Jan and the 2 Jan "
                                          "substitute Mon 4 Jan (Scotland) skipped"),
    ("2022-05-27", FOIA, 20, "2022-06-28", "Mon 30 May counts (holiday moved); 2 and 3 Jun skipped"),
    ("2022-06-02", FOIA, 20, "2022-07-01", "received on the moved Spring holiday; Jubilee 3 Jun skipped"),
    ("2022-06-15", FOIA, 20, "2022-07-14", "Battle of the Boyne Tue 12 Jul (NI) skipped"),
    ("2022-06-15", FOISA, 20, "2022-07-13", "12 Jul counts in Scotland"),
    ("2022-07-29", FOIA, 20, "2022-08-30", "1 Aug (Scotland) and 29 Aug (E&W, NI) skipped"),
    ("2022-08-26", FOIA, 20, "2022-09-27", "29 Aug and the State Funeral Mon 19 Sep skipped"),
    ("2022-08-26", FOISA, 20, "2022-09-26", "29 Aug counts in Scotland; 19 Sep does not"),
    ("2022-12-20", FOIA, 20, "2023-01-23", "26, 27 Dec; 2 Jan substitute and Scottish 3 Jan skipped"),
    ("2023-03-16", FOIA, 20, "2023-04-18", "St Patrick's Fri 17 Mar, GF 7 and EM 10 Apr skipped"),
    ("2023-03-16", FOISA, 20, "2023-04-14", "17 Mar and 10 Apr count in Scotland"),
    ("2023-04-28", FOIA, 20, "2023-05-31", "1 May, Coronation 8 May and 29 May skipped"),
    ("2023-05-06", FOIA, 20, "2023-06-06", "received on a Saturday; Coronation Mon 8 May skipped"),
    ("2023-05-08", FOIA, 20, "2023-06-06", "received on the Coronation holiday itself"),
    ("2023-04-28", FOIA, 40, "2023-06-28", "40 working days: 20 more after 31 May"),
    ("2024-03-15", FOIA, 20, "2024-04-17", "St Patrick's substitute Mon 18 Mar, GF 29 Mar, EM 1 Apr"),
    ("2024-03-15", FOISA, 20, "2024-04-15", "18 Mar and 1 Apr count in Scotland"),
    ("2024-12-13", FOIA, 20, "2025-01-16", "25, 26 Dec, 1 Jan and Scottish 2 Jan skipped"),
    ("2024-12-13", FOISA, 20, "2025-01-16", "the same four days are Scottish holidays"),
    ("2025-07-11", FOIA, 20, "2025-08-12", "Boyne (Sat 12) substitute Mon 14 Jul (NI), 4 Aug (Scot.)"),
    ("2025-07-11", FOISA, 20, "2025-08-11", "14 Jul counts in Scotland"),
    ("2026-03-16", FOIA, 20, "2026-04-16", "St Patrick's Tue 17 Mar, GF 3 and EM 6 Apr skipped"),
    ("2026-11-27", FOIA, 20, "2026-12-30", "St Andrew's Mon 30 Nov, 25 Dec, Boxing substitute 28 Dec"),
    ("2026-11-27", FOISA, 20, "2026-12-30", "all three are Scottish holidays"),
    ("2026-12-17", FOIA, 20, "2027-01-20", "25, 28 Dec, 1 Jan and the 2 Jan substitute Mon 4 Jan"),
    ("2027-03-12", FOIA, 20, "2027-04-14", "St Patrick's Wed 17 Mar, GF 26 and EM 29 Mar skipped"),
    ("2027-12-20", FOIA, 20, "2028-01-21", "substitutes 27, 28 Dec, 3 Jan and Scottish 4 Jan 2028"),
]


@pytest.mark.parametrize(("received", "regime", "days", "due", "note"), CASES,
                         ids=[f"{c[0]}-{c[1].value}-{c[2]}" for c in CASES])
def test_due_dates_worked_out_by_hand(received, regime, days, due, note):
    assert add_working_days(D(received), days, regime).due == D(due), note


def test_there_are_at_least_40_hand_worked_cases():
    assert len(CASES) >= 40


@pytest.mark.parametrize(
    ("day", "regime", "reason"),
    [
        ("2023-05-08", FOIA, "Coronation of Charles III (UK)"),
        ("2019-08-05", FOIA, "Summer Bank Holiday (Scotland)"),
        ("2019-03-18", FOIA, "Saint Patrick's Day (observed) (Northern Ireland)"),
        ("2019-07-12", FOIA, "Battle of the Boyne (Northern Ireland)"),
        ("2019-04-22", FOIA, "Easter Monday (England and Wales, Northern Ireland)"),
        ("2022-09-19", FOIA, "State Funeral of Queen Elizabeth II (UK)"),
        ("2020-05-08", FOIA, "May Day (UK)"),
        ("2019-12-25", FOIA, "Christmas Day (UK)"),
        ("2019-11-30", FOIA, "Saturday"),
        ("2019-12-01", FOIA, "Sunday"),
        ("2019-12-02", FOIA, "Saint Andrew's Day (observed) (Scotland)"),
        ("2019-04-19", FOISA, "Good Friday (Scotland)"),
    ],
)
def test_each_non_working_day_says_why(day, regime, reason):
    assert non_working_reason(D(day), regime) == reason


@pytest.mark.parametrize("day", ["2019-04-22", "2019-03-18", "2019-07-12", "2019-08-26"])
def test_holidays_outside_scotland_are_working_days_under_foisa(day):
    assert not is_working_day(D(day), FOIA)
    assert is_working_day(D(day), FOISA)


def test_the_explanation_shows_receipt_day_one_and_every_skipped_day():
    lines = explain_count(add_working_days(D("2023-04-28"), 20))
    assert lines[0] == "Due 2023-05-31 (Wednesday): the 20th working day after 2023-04-28."
    assert lines[1] == "Day one: 2023-05-02 (Tuesday)."
    assert "  2023-05-08 Coronation of Charles III (UK)" in lines
    assert "  2023-05-01 May Day (UK)" in lines
    assert "  2023-04-29 Saturday" in lines
    assert len([line for line in lines if line.startswith("  ")]) == 13


def test_a_fees_pause_is_not_counted():
    # Received Mon 2019-01-07; fees notice Mon 14 Jan, paid Fri 18 Jan: five working days out.
    plain = add_working_days(D("2019-01-07"), 20)
    paused = add_working_days(D("2019-01-07"), 20, pauses=[Pause(D("2019-01-14"), D("2019-01-18"), "fees")])
    assert plain.due == D("2019-02-04")
    assert paused.due == D("2019-02-11")
    assert [s.date for s in paused.skipped if s.reason == "fees"] == [
        D("2019-01-14"), D("2019-01-15"), D("2019-01-16"), D("2019-01-17"), D("2019-01-18"),
    ]


def test_working_days_between_counts_days_late():
    assert working_days_between(D("2023-05-31"), D("2023-05-31")) == 0
    assert working_days_between(D("2023-05-31"), D("2023-06-05")) == 3  # Thu, Fri, Mon
    assert working_days_between(D("2023-05-05"), D("2023-05-09")) == 1  # Mon 8 is the Coronation


# ---- against a plain day-by-day count --------------------------------------------------

@functools.cache
def _bank_holidays(part: str, year: int) -> holidays.HolidayBase:
    # Building a year's calendar is the slow part of the plain count; the answer never changes.
    return holidays.UK(subdiv=part, years=year)


def _plain_is_working(day: dt.date, regime: Regime) -> bool:
    if day.weekday() >= 5 or (day.month, day.day) == (12, 25):
        return False
    parts = ("ENG", "WLS", "SCT", "NIR") if regime is FOIA else ("SCT",)
    return not any(day in _bank_holidays(part, day.year) for part in parts)


def _plain_due(start: dt.date, days: int, regime: Regime) -> dt.date:
    day, counted = start, 0
    while counted < days:
        day += dt.timedelta(days=1)
        if _plain_is_working(day, regime):
            counted += 1
    return day


dates = st.dates(min_value=dt.date(2017, 1, 1), max_value=dt.date(2027, 12, 31))
regimes = st.sampled_from([FOIA, FOISA])


@settings(max_examples=300, deadline=None)
@given(start=dates, days=st.integers(min_value=0, max_value=60), regime=regimes)
def test_matches_a_plain_day_by_day_count(start, days, regime):
    count = add_working_days(start, days, regime)
    assert count.due == _plain_due(start, days, regime)
    between = [start + dt.timedelta(days=n) for n in range(1, (count.due - start).days + 1)]
    assert sorted(s.date for s in count.skipped) == [
        day for day in between if not _plain_is_working(day, regime)
    ]
    if days:
        assert is_working_day(count.due, regime)
        assert working_days_between(start, count.due, regime) == days


@settings(max_examples=200, deadline=None)
@given(first=dates, gap=st.integers(min_value=0, max_value=30), regime=regimes)
def test_a_later_receipt_is_never_due_earlier(first, gap, regime):
    later = first + dt.timedelta(days=gap)
    assert add_working_days(later, 20, regime).due >= add_working_days(first, 20, regime).due


@settings(max_examples=200, deadline=None)
@given(start=dates, regime=regimes)
def test_foisa_is_never_later_than_foia(start, regime):
    # FOIA skips every Scottish holiday and more, so it can only end later.
    assert add_working_days(start, 20, FOISA).due <= add_working_days(start, 20, FOIA).due


def test_a_typed_date_is_read_once_for_the_command_line_and_the_events_file() -> None:
    from foitrack.domain.clock import parse_iso_date

    assert parse_iso_date("2019-05-01") == dt.date(2019, 5, 1)
    with pytest.raises(ValueError, match=r"^'2019-13-01' is not a date in the form YYYY-MM-DD$"):
        parse_iso_date("2019-13-01")
    with pytest.raises(ValueError, match=r"^'1899-05-01' is outside 1990 to 2100$"):
        parse_iso_date("1899-05-01")
