"""The FOI clock: working days, due dates and their working. Pure: no Flask, no database.

FOIA 2000 s.10(6): a working day is any day other than a Saturday, a Sunday, Christmas Day,
Good Friday or a day which is a bank holiday under the Banking and Financial Dealings Act 1971
in *any* part of the United Kingdom. FOISA 2002 s.73: any day other than a Saturday, a Sunday,
Christmas Day or a bank holiday in Scotland. Bank holidays come from the ``holidays`` package
(one-off and substitute days included), never from a hand-typed list.

A request is due on the 20th working day *following* the date of receipt (FOIA s.10(1); ICO
guidance "Time limits for compliance", paras 36-39): the date of receipt is the day it arrived,
whatever day that was, and day one is the first working day after it.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

import holidays

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# The parts of the UK whose bank holidays count, with the name used in explanations.
_PARTS = (("ENG", "England and Wales"), ("SCT", "Scotland"), ("NIR", "Northern Ireland"))


class Regime(enum.StrEnum):
    """Which Act governs a request: decided by the authority, not the request."""

    foia = "foia"  # Freedom of Information Act 2000: England, Wales, Northern Ireland, UK-wide bodies
    foisa = "foisa"  # Freedom of Information (Scotland) Act 2002: Scottish public authorities

    @property
    def act(self) -> str:
        return {
            Regime.foia: "Freedom of Information Act 2000",
            Regime.foisa: "Freedom of Information (Scotland) Act 2002",
        }[self]

    @property
    def commissioner(self) -> str:
        return {
            Regime.foia: "Information Commissioner (ICO)",
            Regime.foisa: "Scottish Information Commissioner",
        }[self]

    @property
    def has_public_interest_extension(self) -> bool:
        # FOISA s.10 allows no extension for the public interest test; FOIA s.10(3) does.
        return self is Regime.foia

    @property
    def parts(self) -> tuple[str, ...]:
        """The UK parts whose bank holidays are not working days under this Act."""
        return ("ENG", "SCT", "NIR") if self is Regime.foia else ("SCT",)


@dataclass(frozen=True)
class ClockSettings:
    """The numbers the clock uses; defaults follow the Acts and the regulators' guidance."""

    response_days: int = 20  # FOIA s.10(1), FOISA s.10(1)
    extension_guidance_days: int = 20  # ICO: a PIT extension should be no more than 20 more days
    review_days: int = 20  # s.45 Code of Practice (2018) part 5; FOISA s.21(1) (statutory)
    review_max_days: int = 40  # s.45 Code: 40 working days at most in complex cases
    review_window_days: int = 40  # ask for a review within 40 working days of the response
    very_overdue_days: int = 40  # like WhatDoTheyKnow's "long overdue": 40 working days, no reply
    due_soon_days: int = 5  # "due soon": due within this many working days


@dataclass(frozen=True)
class Skipped:
    """A day passed over while counting, and why."""

    date: dt.date
    reason: str

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {self.reason}"


@lru_cache(maxsize=256)
def _holidays_for(part: str, year: int) -> dict[dt.date, tuple[str, ...]]:
    calendar = holidays.UK(subdiv=part, years=year)
    return {
        day: tuple(name.strip() for name in str(names).split(";"))
        for day, names in calendar.items()
        if day.year == year
    }


def holiday_reason(day: dt.date, regime: Regime = Regime.foia) -> str | None:
    """Why ``day`` is a holiday under the regime ('Coronation of Charles III (UK)'), or None."""
    by_name: dict[str, list[str]] = {}
    for part, label in _PARTS:
        if part not in regime.parts:
            continue
        for name in _holidays_for(part, day.year).get(day, ()):
            by_name.setdefault(name, []).append(label)
    if not by_name:
        return None
    pieces = []
    for name, labels in by_name.items():
        if regime is Regime.foisa:
            where = "Scotland"
        elif len(labels) == len(_PARTS):
            where = "UK"
        else:
            where = ", ".join(labels)
        pieces.append(f"{name} ({where})")
    return "; ".join(pieces)


def non_working_reason(day: dt.date, regime: Regime = Regime.foia) -> str | None:
    """Why ``day`` is not a working day under the regime, or None if it is one."""
    if day.weekday() >= 5:
        return WEEKDAY_NAMES[day.weekday()]
    if day not in _weekday_holidays(regime, day.year):
        return None  # most days: no need to name the holidays
    reason = holiday_reason(day, regime)
    if reason:
        return reason
    # Christmas Day and Good Friday are named in s.10(6) because in England and Wales they are
    # common-law holidays, not bank holidays; the holidays package lists both anyway.
    if day.month == 12 and day.day == 25:
        return "Christmas Day"
    return None


def is_working_day(day: dt.date, regime: Regime = Regime.foia) -> bool:
    return non_working_reason(day, regime) is None


@dataclass(frozen=True)
class Pause:
    """Working days that do not count, e.g. from a fees notice to the fee's payment (s.10(2))."""

    start: dt.date
    end: dt.date  # inclusive
    reason: str


@dataclass
class Count:
    """The result of counting working days: the day reached and the working shown."""

    start: dt.date
    working_days: int
    due: dt.date
    day_one: dt.date | None
    skipped: list[Skipped] = field(default_factory=list)


def add_working_days(
    start: dt.date,
    days: int,
    regime: Regime = Regime.foia,
    pauses: Iterable[Pause] = (),
) -> Count:
    """The ``days``-th working day following ``start``, with each day skipped and why.

    Day one is the first working day after ``start``; ``start`` itself never counts.
    Working days inside a pause are skipped too (and listed with the pause's reason).
    """
    if days < 0:
        raise ValueError("days must be 0 or more")
    due, day_one, skipped = _counted(start, days, regime, tuple(pauses))
    return Count(start=start, working_days=days, due=due, day_one=day_one, skipped=list(skipped))


@lru_cache(maxsize=8192)
def _counted(start: dt.date, days: int, regime: Regime, pauses: tuple[Pause, ...]
             ) -> tuple[dt.date, dt.date | None, tuple[Skipped, ...]]:
    # Remembered: the requests of a campaign mostly go out on the same few days, and every
    # list page counts their deadlines again; the answer depends on nothing else.
    day, counted, day_one = start, 0, None
    skipped: list[Skipped] = []
    while counted < days:
        day += dt.timedelta(days=1)
        reason = non_working_reason(day, regime)
        if reason is None:
            paused = next((p for p in pauses if p.start <= day <= p.end), None)
            if paused is not None:
                reason = paused.reason
        if reason is not None:
            skipped.append(Skipped(day, reason))
            continue
        counted += 1
        if counted == 1:
            day_one = day
    return day, day_one, tuple(skipped)


def working_days_between(
    start: dt.date, end: dt.date, regime: Regime = Regime.foia, pauses: Iterable[Pause] = ()
) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end`` <= ``start``).

    The number of working days late when ``start`` is the due date and ``end`` today.
    """
    first = start + dt.timedelta(days=1)
    if end < first:
        return 0
    # Counted, not walked: a request sent years ago is on every chase list and page.
    span = (end - first).days + 1
    total = span // 7 * 5 + sum(
        1 for offset in range(span % 7) if (first.weekday() + offset) % 7 < 5)
    total -= sum(1 for year in range(first.year, end.year + 1)
                 for day in _weekday_holidays(regime, year) if first <= day <= end)
    paused = {day for p in pauses for day in _days_after(max(p.start, first) - dt.timedelta(days=1),
                                                         min(p.end, end))
              if is_working_day(day, regime)}
    return total - len(paused)


@lru_cache(maxsize=256)
def _weekday_holidays(regime: Regime, year: int) -> frozenset[dt.date]:
    """The days of ``year`` that are not working days though they fall Monday to Friday."""
    days = {day for part in regime.parts for day in _holidays_for(part, year)}
    days.add(dt.date(year, 12, 25))
    return frozenset(day for day in days if day.weekday() < 5)


def _days_after(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    day = start + dt.timedelta(days=1)
    while day <= end:
        yield day
        day += dt.timedelta(days=1)


def explain_count(count: Count, what: str = "Due") -> list[str]:
    """The working of a count, as lines a person can check against a calendar."""
    lines = [f"{what} {count.due.isoformat()} ({WEEKDAY_NAMES[count.due.weekday()]}): "
             f"the {ordinal(count.working_days)} working day after {count.start.isoformat()}."]
    if count.day_one is not None:
        lines.append(f"Day one: {count.day_one.isoformat()} "
                     f"({WEEKDAY_NAMES[count.day_one.weekday()]}).")
    if count.skipped:
        lines.append("Not counted:")
        lines += [f"  {skipped}" for skipped in count.skipped]
    return lines


def ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def parse_iso_date(text: str) -> dt.date:
    """A date typed as YYYY-MM-DD, from 1990 to 2100 (the command line's and the events file's
    dates: a year outside that is a typing slip, not an FOI request).

    :raises ValueError: with the message to show, quoting ``text``.
    """
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date in the form YYYY-MM-DD") from None
    if not 1990 <= day.year <= 2100:
        raise ValueError(f"{text!r} is outside 1990 to 2100")
    return day


def today_in_uk(at: dt.datetime | None = None) -> dt.date:
    """Today's date where the law runs (or the date there at ``at``, an aware time): a request
    read at 00:30 BST is already tomorrow's."""
    from zoneinfo import ZoneInfo

    return (at or dt.datetime.now(dt.UTC)).astimezone(ZoneInfo("Europe/London")).date()
