"""Which mid-year population estimate a period is rated on: plain dates and years in, a year out.

ONS mid-year estimates count the usual residents on 30 June of their year. A period is rated
on the estimate whose 30 June falls inside it (for an April-March year, the 30 June of its
first year); when its authority has no such estimate, on the nearest year it has, and the
choice says so, so that a table or a line can name the year used.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache


def mid_year(year: int) -> dt.date:
    """The date a mid-year estimate counts people on: 30 June of its year."""
    return dt.date(year, 6, 30)


def _from_middle(year: int, start: dt.date, end: dt.date) -> int:
    """Twice the days between the year's 30 June and the period's middle (twice, so that a
    period with an even number of days has a whole-number middle too)."""
    return abs(2 * mid_year(year).toordinal() - start.toordinal() - end.toordinal())


@lru_cache(maxsize=4096)  # asked for every authority of a campaign, of the same few periods
def period_year(start: dt.date, end: dt.date) -> int | None:
    """The year whose 30 June falls inside [start, end] (both days included); of several, the
    one nearest the period's middle (the earlier on a tie); None when no 30 June falls inside
    (a quarter from October to March, say)."""
    inside = [year for year in range(start.year, end.year + 1) if start <= mid_year(year) <= end]
    if not inside:
        return None
    return min(inside, key=lambda year: (_from_middle(year, start, end), year))


@dataclass(frozen=True)
class YearChoice:
    """The estimate a period is rated on: ``year``, and ``nearest`` when it is not the period's
    own (none fell inside it, or the authority has no estimate for that year)."""

    year: int
    nearest: bool


def choose_year(start: dt.date, end: dt.date, available: Iterable[int]) -> YearChoice | None:
    """The year of ``available`` a period [start, end] is rated on; None when none is available.

    The period's own year (``period_year``) when available; otherwise the available year whose
    30 June is nearest the period's middle, the earlier on a tie, flagged ``nearest``.
    """
    years = set(available)
    if not years:
        return None
    own = period_year(start, end)
    if own is not None and own in years:
        return YearChoice(own, False)
    return YearChoice(min(years, key=lambda year: (_from_middle(year, start, end), year)), True)
