"""Runs of periods a design usually asks for, written the way the shipped designs write them:
financial years ("2017-18", "2017/18", 1 April to 31 March) and calendar quarters ("2023-q1",
"Q1 2023", 1 January to 31 March), the label style the roll-forward can move on a year.
"""

from __future__ import annotations

import datetime as dt
import re

from foitrack.domain.design import PeriodSpec
from foitrack.errors import Invalid, Problem

MAX_PERIODS = 200  # more rows than anyone asks an authority for: a typo, not a design

_FINANCIAL_YEAR = re.compile(r"(?:FY\s*)?(?P<year>\d{4})(?:\s*[/-]\s*(?P<next>\d{2}|\d{4}))?",
                             re.IGNORECASE)
_QUARTER = re.compile(r"(?P<year>\d{4})\s*-?\s*Q(?P<quarter>[1-4])|Q(?P<quarter2>[1-4])\s*-?\s*"
                      r"(?P<year2>\d{4})", re.IGNORECASE)


def _financial_year(text: str, field: str) -> int:
    """The calendar year a financial year written "2017/18", "2017-18" or "2017" starts in."""
    found = _FINANCIAL_YEAR.fullmatch(text.strip())
    if not found:
        raise Invalid([Problem("must be a financial year written like 2017/18", field)])
    year, following = int(found["year"]), found["next"]
    if following and int(following) not in (year + 1, (year + 1) % 100):
        raise Invalid([Problem(f"{text.strip()!r} is not one financial year: the second year "
                               f"should be {(year + 1) % 100:02d}", field)])
    return year


def financial_years(first: str, last: str) -> list[PeriodSpec]:
    """Each financial year from ``first`` to ``last`` ("2017/18" to "2018/19"), both included.

    :raises Invalid: naming "first" or "last" when either is not a financial year, or they are
        backwards or too far apart.
    """
    start = _financial_year(first, "first")
    end = _financial_year(last, "last")
    _check_run(end - start + 1)
    return [PeriodSpec(f"{year}-{(year + 1) % 100:02d}", f"{year}/{(year + 1) % 100:02d}",
                       dt.date(year, 4, 1), dt.date(year + 1, 3, 31))
            for year in range(start, end + 1)]


def _quarter(text: str, field: str) -> tuple[int, int]:
    found = _QUARTER.fullmatch(text.strip())
    if not found:
        raise Invalid([Problem("must be a quarter written like 2023 Q1", field)])
    return int(found["year"] or found["year2"]), int(found["quarter"] or found["quarter2"])


def calendar_quarters(first: str, last: str) -> list[PeriodSpec]:
    """Each calendar quarter from ``first`` to ``last`` ("2023 Q1" to "2024 Q2"), both included.

    :raises Invalid: as financial_years does.
    """
    start_year, start_quarter = _quarter(first, "first")
    end_year, end_quarter = _quarter(last, "last")
    start, end = start_year * 4 + start_quarter - 1, end_year * 4 + end_quarter - 1
    _check_run(end - start + 1)
    periods = []
    for number in range(start, end + 1):
        year, quarter = divmod(number, 4)
        first_month = quarter * 3 + 1
        # The day before the next quarter starts: no month-length table to get wrong.
        next_start = dt.date(year + (first_month + 3 > 12), (first_month + 2) % 12 + 1, 1)
        periods.append(PeriodSpec(f"{year}-q{quarter + 1}", f"Q{quarter + 1} {year}",
                                  dt.date(year, first_month, 1),
                                  next_start - dt.timedelta(days=1)))
    return periods


def _check_run(count: int) -> None:
    if count < 1:
        raise Invalid([Problem("comes before the first", "last")])
    if count > MAX_PERIODS:
        raise Invalid([Problem(f"is more than {MAX_PERIODS} periods after the first", "last")])
