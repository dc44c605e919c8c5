"""Header and row labels matched to a campaign's design, and values read with the coded-value
parser.

A label is matched whole (after case, spaces and footnote markers are set aside) to a measure,
period or category by its label, key or declared aliases, or to a period by its dates written in
a common way ("2018/19", "FY 2018/19", "April 2018 to March 2019", "1 April 2018 - 31 March 2019",
"2018" for a calendar year). A label matching two things is ambiguous and matches nothing: a
wrong proposal is worse than a missing one.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, replace

from foitrack.domain.design import CampaignDesign
from foitrack.domain.figure_values import FigureValue, NotAFigure, ValueKind, parse

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
MONTHS["sept"] = 9
_MONTH = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|" \
         r"sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_TO = r"\s*(?:-|–|—|to|until|and)\s*"
# Footnote markers after a label or value: "12*", "Total†", "Snapchat (1)", "2018/19 [note 2]".
FOOTNOTE = re.compile(r"\s*(\*+|†|‡|§|[¹²³⁴⁵⁶⁷⁸⁹⁰]+|\(\s*(?:note\s*)?\d{1,2}\s*\)|"
                      r"\[\s*(?:note\s*)?\d{1,2}\s*\]|\(\s*[a-z]\s*\))$")
TOTALS = {"total", "totals", "grand total", "overall total", "all", "total all", "overall",
          "sum", "all platforms", "all categories"}

# Period spellings, each giving (start, end) dates.
_FINANCIAL = re.compile(r"^(?:fy|financial year|fin year|year)?\s*(\d{4})\s*[/\-–]\s*(\d{2}|\d{4})"
                        r"(?:\s*(?:fy|financial year))?$")
_MONTH_RANGE = re.compile(rf"^(?:from\s+)?{_MONTH}\s+(\d{{4}}){_TO}{_MONTH}\s+(\d{{4}})$")
_MONTH_RANGE_ONE_YEAR = re.compile(rf"^(?:from\s+)?{_MONTH}{_TO}{_MONTH}\s+(\d{{4}})$")
_DATE = rf"(\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH}\s+(\d{{4}})"
_DATE_RANGE = re.compile(rf"^(?:from\s+|between\s+)?{_DATE}{_TO}{_DATE}$")
_NUMERIC_DATE = r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})"
_NUMERIC_RANGE = re.compile(rf"^(?:from\s+|between\s+)?{_NUMERIC_DATE}{_TO}{_NUMERIC_DATE}$")
_CALENDAR = re.compile(r"^(?:calendar year\s+|cy\s*)?(\d{4})$")
_YEAR_ENDING = re.compile(rf"^(?:the\s+)?(?:financial\s+)?(?:year|12 months|twelve months)\s+"
                          rf"(?:ending|ended|to)\s+(?:\d{{1,2}}(?:st|nd|rd|th)?\s+)?{_MONTH}\s+(\d{{4}})$")


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _safe(make: object) -> tuple[dt.date, dt.date] | None:
    try:
        start, end = make()  # type: ignore[operator]
    except (ValueError, KeyError):
        return None
    return (start, end) if start <= end else None


def period_dates(text: str) -> tuple[dt.date, dt.date] | None:
    """The dates a period label stands for, or None when it is not a common spelling."""
    t = clean_label(text).replace(",", "")
    if m := _FINANCIAL.match(t):
        first, second = int(m.group(1)), m.group(2)
        follows = int(second) if len(second) == 4 else (first // 100) * 100 + int(second)
        if follows != first + 1:
            return None
        return dt.date(first, 4, 1), dt.date(first + 1, 3, 31)
    if m := _MONTH_RANGE.match(t):
        a, y1, b, y2 = m.groups()
        return _safe(lambda: (dt.date(int(y1), MONTHS[a[:3]], 1), _month_end(int(y2), MONTHS[b[:3]])))
    if m := _MONTH_RANGE_ONE_YEAR.match(t):
        a, b, y = m.groups()
        return _safe(lambda: (dt.date(int(y), MONTHS[a[:3]], 1), _month_end(int(y), MONTHS[b[:3]])))
    if m := _DATE_RANGE.match(t):
        d1, m1, y1, d2, m2, y2 = m.groups()
        return _safe(lambda: (dt.date(int(y1), MONTHS[m1[:3]], int(d1)),
                              dt.date(int(y2), MONTHS[m2[:3]], int(d2))))
    if m := _NUMERIC_RANGE.match(t):
        d1, m1, y1, d2, m2, y2 = m.groups()
        return _safe(lambda: (dt.date(int(y1), int(m1), int(d1)), dt.date(int(y2), int(m2), int(d2))))
    if m := _YEAR_ENDING.match(t):
        # "Year ending March 2019": the twelve months to the end of that month.
        month, year = MONTHS[m.group(1)[:3]], int(m.group(2))
        start_year, start_month = (year, month + 1) if month < 12 else (year + 1, 1)
        return _safe(lambda: (dt.date(start_year - 1, start_month, 1), _month_end(year, month)))
    if m := _CALENDAR.match(t):
        year = int(m.group(1))
        if 1900 <= year <= 2200:
            return dt.date(year, 1, 1), dt.date(year, 12, 31)
    return None


def clean_label(text: str) -> str:
    """A label as matched: lower case, one line, without a trailing colon or footnote marker."""
    t = " ".join(str(text).replace("\u00a0", " ").lower().split()).strip(" :")
    while True:
        stripped = FOOTNOTE.sub("", t).strip(" :")
        if stripped == t or not stripped:
            break
        t = stripped
    return t.replace("&", "and")


@dataclass(frozen=True)
class Key:
    """What a label (or several, merged) says about a cell; None: not said."""

    measure: str | None = None
    period: str | None = None
    dimension: str | None = None
    category: str | None = None
    total: bool = False

    def merge(self, other: Key) -> Key | str:
        """Both keys together, or a message naming the clash."""
        merged = self
        for name in ("measure", "period", "category"):
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine is not None and theirs is not None and mine != theirs:
                return f"the labels disagree on the {name} ({mine!r}, {theirs!r})"
            if theirs is not None:
                merged = replace(merged, **{name: theirs})
        if other.dimension is not None:
            merged = replace(merged, dimension=other.dimension)
        if (merged.total or other.total) and merged.category is not None:
            return "a total and a category at once"
        return replace(merged, total=merged.total or other.total)

    @property
    def empty(self) -> bool:
        return self == Key()


AMBIGUOUS = Key(measure="\0ambiguous")


class Labels:
    """The design's labels and aliases, ready to match a cell's text."""

    def __init__(self, design: CampaignDesign) -> None:
        self.design = design
        table: dict[str, set[Key]] = {}

        def add(text: str, key: Key) -> None:
            table.setdefault(clean_label(text), set()).add(key)

        for measure in design.measures:
            for text in (measure.label, measure.key, *measure.aliases):
                add(text, Key(measure=measure.key))
            for text in (measure.label, *measure.aliases):
                add(f"total {text}", Key(measure=measure.key, total=True))
        self.period_dates: dict[tuple[dt.date, dt.date], str] = {}
        for period in design.periods:
            for text in (period.label, period.key, *period.aliases):
                add(text, Key(period=period.key))
            self.period_dates[(period.start, period.end)] = period.key
        for breakdown in design.breakdowns:
            for category in breakdown.categories:
                for text in (category.label, *category.aliases):
                    add(text, Key(dimension=breakdown.key, category=category.label))
        self.table = table

    def resolve(self, text: str) -> Key | None:
        """The key a label stands for; None if nothing; AMBIGUOUS if several."""
        label = clean_label(text)
        if not label:
            return None
        keys = set(self.table.get(label, set()))
        dates = period_dates(label)
        if dates is not None and dates in self.period_dates:
            keys.add(Key(period=self.period_dates[dates]))
        if label in TOTALS:
            keys.add(Key(total=True))
        if len(keys) > 1:
            return AMBIGUOUS
        return next(iter(keys), None)

    def mentions(self, text: str) -> list[tuple[int, int, Key]]:
        """Where labels occur inside running text (whole words), longest first, not overlapping."""
        low = text.lower().replace("&", "and")
        found: list[tuple[int, int, Key]] = []
        for label, keys in sorted(self.table.items(), key=lambda item: -len(item[0])):
            if len(keys) != 1 or len(label) < 2:
                continue
            for m in re.finditer(rf"(?<![\w/]){re.escape(label)}(?![\w/])", low):
                if not any(m.start() < e and s < m.end() for s, e, _ in found):
                    found.append((m.start(), m.end(), next(iter(keys))))
        return sorted(found)


@dataclass(frozen=True)
class Value:
    written: str
    figure: FigureValue
    caveat: str | None = None  # the footnote marker the value carried


DASHES = {"-", "–", "—", "n/a", "na", "n.a.", "x", ".."}


def read_value(text: str, threshold: int | None) -> Value | str:
    """A cell's value, or the reason it is not read as one."""
    written = " ".join(str(text).split())
    if not written:
        return "empty cell"
    if written.lower() in DASHES:
        return f"{written!r} may mean nil or not applicable"
    candidate, caveat = written, None
    low = written.lower()
    if low in ("nil", "none", "zero"):
        return Value(written, FigureValue(ValueKind.exact, value=0))
    if low in ("not known", "unknown", "information not recorded", "data not recorded"):
        candidate = "not recorded"
    if written != "*" and (m := FOOTNOTE.search(written)) and m.start() > 0:
        candidate, caveat = written[:m.start()].strip(), f"footnote {m.group(1)}"
    try:
        figure = parse(candidate, threshold)
    except NotAFigure as error:
        return str(error)
    return Value(written, figure, caveat)


def looks_like_value(text: str) -> bool:
    return isinstance(read_value(text, 5), Value)
