"""Rolling a campaign forward: next year's periods, keys, labels and wording from this year's.

"Repeat next year" moves the periods on by the campaign's cadence (12 months by default): the
dates by that many months (a month's last day stays its last day: 2020-02-29 becomes
2021-02-28, 2019-02-28 becomes 2020-02-29), and the years written in keys, labels and the
request's wording by the cadence in years ("2017/18" -> "2018/19", "fy2017-18" -> "fy2018-19").

Only years that belong to the periods move: a year inside some period's dates (or, in a label,
its own period's). "Sexual Offences Act 2003", "the 2017 Act", "GDPR (2018)", "section 1" and
"s.12" stay as written (a law's or a name's year, listed when it is a period's), and so does a
full date or a month ("3 April 2017", "April 2017", "2017-04") that is not a period's first or
last day or month, or that follows "since", "in force" or "commenced" ("in force since April
2017"): it names an event rather than the period asked about, and is listed for the researcher.
Two-digit years move when they are clearly a financial year ("FY17/18" -> "FY18/19", or
"financial years 17/18 and 18/19"); a bare "17/18" is only listed. A cadence that is not a whole
number of years moves the dates, and the labels that describe their own dates in a way that
can be written again for the new ones ("Q1 2020", "April to June 2020"); what cannot be moved
is listed in ``unmoved`` for the researcher. Pure: plain values in and out.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from foitrack.domain.design import Design, PeriodGroupSpec, PeriodSpec

DEFAULT_CADENCE_MONTHS = 12

MONTHS = tuple(calendar.month_name)[1:]  # "January" ... "December", in English as written
_MONTH = "|".join(MONTHS)
# The ways a year is written in a request, tried in this order at each place: a full date
# (ISO, day/month/year, "1 April 2017", "1st of April 2017"), a month ("April 2017"), then a year,
# alone or with the next ("2017/18", "2017-18", "2017/2018", "2017 to 2018" is two years; "2018-04"
# is a month), then two two-digit years ("17/18", "FY18/19").
_MENTION = re.compile(
    r"(?<![\w.])(?P<iso>(?P<iy>(?:19|20)\d\d)-(?P<im>\d\d)-(?P<id>\d\d))(?![\w-])"
    r"|(?<![\w./])(?P<num>(?P<nd>\d{1,2})/(?P<nm>\d{1,2})/(?P<ny>(?:19|20)\d\d))(?![\w/])"
    rf"|(?<![\w.])(?P<long>(?P<ld>\d{{1,2}})(?P<ls>st|nd|rd|th)?(?P<lsp>\s+(?:of\s+)?)"
    rf"(?P<lm>{_MONTH})(?P<lsp2>\s+)(?P<ly>(?:19|20)\d\d))(?!\w)"
    # "April 2017", and "April to June 2017" (months that move together).
    rf"|(?<![\w.])(?P<month>(?:(?P<rm>{_MONTH})(?P<rto>\s+(?:to|and|until)\s+|\s*[-–]\s*))?"
    rf"(?P<mm>{_MONTH})(?P<msp>\s+)(?P<my>(?:19|20)\d\d))(?!\w|[/\-–]\d)"
    # A number running on ("2023/4471", "12/2019") is a reference, not a year: left alone.
    r"|(?<![\d.£$€/])(?P<year>(?:19|20)\d\d)(?:(?P<sep>[/\-–])(?P<next>(?:19|20)\d\d|\d\d))?"
    r"(?!\d|[/\-–]\d)"
    # A letter may touch it ("FY18/19"); which letters is decided where it is moved.
    r"|(?<![\d.£$€/:\-–])(?P<short>(?P<sa>\d\d)(?P<ssep>[/\-–])(?P<sb>\d\d))"
    r"(?!\d|[/\-–]\d|[.,:]\d)",
)
_LAW = r"(?:Acts?|Regulations?|Order|Rules|Code)"
# "Act 2003", "Act, 2003", "Act (2003)", "the 2017 Act", "GDPR (2018)": a year that names a law
# or a thing, never a period's.
_LAW_BEFORE = re.compile(rf"\b{_LAW}\s*[,(]?\s*$")
_LAW_AFTER = re.compile(rf"\s+{_LAW}\b")
_NAME_BEFORE = re.compile(r"\b[A-Z][\w&'’.-]*\s*\(\s*$")
# "in force since April 2017", "came into force on 3 April 2017", "commenced in April 2017": the
# date of an event (a law's commencement), not of the periods, even on a period's first day.
_EVENT_BEFORE = re.compile(
    r"\b(?P<word>since|in\s+force|into\s+force|commenced|commencing|commencement)"
    r"(?:\s+(?:on|from|in|since|of|date))*\s+(?:the\s+)?$", re.IGNORECASE)
# What makes "17/18" a financial year: "FY" just before, or "financial year(s)"...
_FY_BEFORE = re.compile(r"(?:\bFY\s?|\b(?:financial|fiscal)\s+years?\s+)$", re.IGNORECASE)
# ... or following one in a list ("2017/18 and 18/19", "FY17/18, 18/19").
_LIST_JOIN = re.compile(r"\s*(?:,\s*(?:and\s+|or\s+)?|\s(?:and|or|to)\s+|\s*[&–-]\s*)")


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by ``months`` (negative: back). A month's last day stays its last day
    (2019-03-31 -> 2020-03-31, 2020-02-29 -> 2021-02-28, 2019-02-28 -> 2020-02-29)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    at_end = day.day == calendar.monthrange(day.year, day.month)[1]
    return dt.date(year, month + 1, last if at_end else min(day.day, last))


@dataclass(frozen=True)
class MovedPeriod:
    """One period (or period group) before and after: what the researcher is shown."""

    old_key: str
    key: str
    old_label: str
    label: str
    old_start: dt.date | None = None
    old_end: dt.date | None = None
    start: dt.date | None = None
    end: dt.date | None = None


@dataclass(frozen=True)
class RolledDesign:
    """The design moved on: periods and period groups moved, everything else as it was."""

    design: Design
    months: int
    periods: tuple[MovedPeriod, ...]
    period_groups: tuple[MovedPeriod, ...]
    key_map: dict[str, str]  # old period (and period group) key -> new key
    unmoved: tuple[str, ...]  # keys and labels that could not be moved, and why


@dataclass(frozen=True)
class WordingProposal:
    """The request's wording with its years moved on, and the diff to show the researcher."""

    old: str
    text: str
    diff: str
    moved: tuple[tuple[str, str], ...]  # (as written, as proposed), in order of appearance
    unmoved: tuple[str, ...]  # mentions left as written, and why

    @property
    def changed(self) -> bool:
        return self.text != self.old


def whole_years(months: int) -> int | None:
    """The cadence in years, or None when it is not a whole number of years."""
    return months // 12 if months % 12 == 0 else None


# ---- years in a piece of text ------------------------------------------------------------------

def _pair(match: re.Match[str]) -> tuple[int, ...]:
    """The years a mention says: "2017/18" and "2017-2019" two, "2017" (and "2018-04", a year
    and a month) one."""
    first, second = int(match.group("year")), match.group("next")
    if second is None:
        return (first,)
    if len(second) == 2:
        # "2017/18" is a year running on into the next and "2017-19" two years apart, but
        # "2018-04" is April 2018: two digits that could be a month are one only then.
        short = int(second)
        if short == (first + 1) % 100 or (short > first % 100 and short > 12):
            return (first, first - first % 100 + short)
        return (first,)
    return (first, int(second))


def _shift_pair(match: re.Match[str], years: int) -> str:
    """A mention's years moved by ``years``: "2017/18" -> "2018/19", "2018-04" -> "2019-04"."""
    moved = str(int(match.group("year")) + years)
    sep, second = match.group("sep"), match.group("next")
    if second is None:
        return moved
    if len(_pair(match)) == 1:
        return f"{moved}{sep}{second}"
    if len(second) == 2:
        return f"{moved}{sep}{(int(second) + years) % 100:02d}"
    return f"{moved}{sep}{int(second) + years}"


def _replace_years(text: str, years: int, belongs: Callable[[int], bool]) -> tuple[str, bool]:
    """``text`` with each year (or year pair) that ``belongs`` moved by ``years``; and whether
    any year in it was left. Used on keys and labels, which hold no full dates."""
    left = False

    def move(match: re.Match[str]) -> str:
        nonlocal left
        if match.group("short"):
            # Two digits are a year only as a financial year of the period ("fy17-18").
            first = _short_first_year(match, belongs, both=True)
            return match.group(0) if first is None else _shift_short(match, years)
        if not any(belongs(y) for y in _pair(match)):
            left = True
            return match.group(0)
        return _shift_pair(match, years)

    return _YEAR_ONLY.sub(move, text), left


def _short_first_year(match: re.Match[str], belongs: Callable[[int], bool], both: bool
                      ) -> int | None:
    """The first year of a two-digit pair ("17/18": 2017) when the two are consecutive and
    (``both``: both, else either) belong to the periods; None when it is no such pair."""
    first, second = int(match.group("sa")), int(match.group("sb"))
    if second != (first + 1) % 100:
        return None
    for century in (2000, 1900):
        inside = [belongs(century + first), belongs(century + first + 1)]
        if all(inside) if both else any(inside):
            return century + first
    return None


def _shift_short(match: re.Match[str], years: int) -> str:
    """"17/18" moved by ``years``: "18/19"."""
    first, second = int(match.group("sa")), int(match.group("sb"))
    return f"{(first + years) % 100:02d}{match.group('ssep')}{(second + years) % 100:02d}"


# Keys are slugs ("fy2017-18"): a letter may touch the year there.
_YEAR_ONLY = re.compile(
    r"(?<![\d])(?P<year>(?:19|20)\d\d)(?:(?P<sep>[/\-–])(?P<next>(?:19|20)\d\d|\d\d))?"
    r"(?!\d|[/\-–]\d)"
    r"|(?<![\d/\-–])(?P<short>(?P<sa>\d\d)(?P<ssep>[/\-–])(?P<sb>\d\d))(?!\d|[/\-–]\d)")


def _years_of(start: dt.date, end: dt.date) -> set[int]:
    return set(range(start.year, end.year + 1))


# ---- labels that describe their own dates (cadences that are not whole years) -------------

def _label_styles(start: dt.date, end: dt.date) -> list[str]:
    """The ways a label may say exactly these dates, as templates: a label written in one of
    them for the old dates can be written in it again for the new ones."""
    whole_months = start.day == 1 and end.day == calendar.monthrange(end.year, end.month)[1]
    if not whole_months:
        return []
    styles = []
    if (start.month, end.month) == (1, 12) and start.year == end.year:
        styles.append("{year}")
    if (start.month, end.month) == (4, 3) and end.year == start.year + 1:
        styles += ["{year}/{yy}", "{year}-{yy}"]
    if start.year == end.year and start.month % 3 == 1 and end.month == start.month + 2:
        styles.append("Q{quarter} {year}")
    if (start.year, start.month) == (end.year, end.month):
        styles.append("{first} {year}")
    if start.year == end.year:
        styles.append("{first} to {last} {year}")
    styles.append("{first} {year} to {last} {end_year}")
    return styles


def _fill(style: str, start: dt.date, end: dt.date) -> str:
    return style.format(year=start.year, yy=f"{(start.year + 1) % 100:02d}",
                        quarter=(start.month - 1) // 3 + 1, first=MONTHS[start.month - 1],
                        last=MONTHS[end.month - 1], end_year=end.year)


def _label_for(label: str, old: tuple[dt.date, dt.date], new: tuple[dt.date, dt.date]
               ) -> str | None:
    """``label`` written for the ``new`` dates in the style it says the ``old`` ones, or None
    when it is in no such style or the style does not fit the new dates."""
    fits = _label_styles(*new)
    for style in _label_styles(*old):
        if _fill(style, *old) == label.strip() and style in fits:
            return _fill(style, *new)
    return None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# ---- the design -----------------------------------------------------------------------------

def roll_design(design: Design, months: int = DEFAULT_CADENCE_MONTHS) -> RolledDesign:
    """``design`` with its periods moved on by ``months`` (dates, keys, labels) and its period
    groups' keys and labels with them; measures, breakdowns, groups and settings kept."""
    years = whole_years(months)
    unmoved: list[str] = []
    moved_periods: list[MovedPeriod] = []
    for period in design.periods:
        start, end = add_months(period.start, months), add_months(period.end, months)
        key, label = _move_names(period.key, period.label, (period.start, period.end),
                                 (start, end), years, unmoved)
        moved_periods.append(MovedPeriod(period.key, key, period.label, label,
                                         period.start, period.end, start, end))
    by_key = {p.key: p for p in design.periods}
    moved_groups: list[MovedPeriod] = []
    for group in design.period_groups:
        members = [by_key[k] for k in group.periods if k in by_key]
        span = ((min(p.start for p in members), max(p.end for p in members)) if members
                else None)
        new_span = (add_months(span[0], months), add_months(span[1], months)) if span else None
        key, label = _move_names(group.key, group.label, span, new_span, years, unmoved)
        moved_groups.append(MovedPeriod(group.key, key, group.label, label))
    key_map = {m.old_key: m.key for m in (*moved_periods, *moved_groups)}
    if len(set(key_map.values())) != len(key_map):
        # Two keys moved onto one (a year outside its own period's dates): keep them all.
        unmoved.append("the period keys would clash once moved, so all are kept as they were")
        key_map = {old: old for old in key_map}
        moved_periods = [dataclasses.replace(m, key=m.old_key) for m in moved_periods]
        moved_groups = [dataclasses.replace(m, key=m.old_key) for m in moved_groups]
    rolled = dataclasses.replace(
        design,
        periods=[PeriodSpec(m.key, m.label, m.start, m.end) for m in moved_periods
                 if m.start is not None and m.end is not None],
        period_groups=[PeriodGroupSpec(m.key, m.label, [key_map[k] for k in g.periods])
                       for m, g in zip(moved_groups, design.period_groups, strict=True)],
    )
    return RolledDesign(rolled, months, tuple(moved_periods), tuple(moved_groups), key_map,
                        tuple(unmoved))


def _move_names(key: str, label: str, old: tuple[dt.date, dt.date] | None,
                new: tuple[dt.date, dt.date] | None, years: int | None,
                unmoved: list[str]) -> tuple[str, str]:
    """A period's (or period group's) key and label for its new dates; what could not be moved
    is said in ``unmoved``."""
    if old is None or new is None:
        unmoved.append(f"{label!r} ({key}): it has no periods, so it was not moved")
        return key, label
    if years is not None:
        belongs = _years_of(*old).__contains__
        new_key, key_left = _replace_years(key, years, belongs)
        new_label, label_left = _replace_years(label, years, belongs)
        if new_label == label:
            unmoved.append(f"label {label!r} ({key}): no year of its dates in it, kept as written")
        elif label_left:
            unmoved.append(f"label {label!r} ({key}): a year outside its dates was kept")
        if key_left:
            unmoved.append(f"key {key!r}: a year outside its dates was kept")
        return new_key, new_label
    written = _label_for(label, old, new)
    if written is None:
        unmoved.append(f"label {label!r} ({key}): it cannot be moved by {_months(new, old)}; "
                       "write it for the new dates")
        return key, label
    return (_slug(written) if key == _slug(label) else key), written


def _months(new: tuple[dt.date, dt.date], old: tuple[dt.date, dt.date]) -> str:
    months = (new[0].year - old[0].year) * 12 + new[0].month - old[0].month
    return f"{months} months"


# ---- the wording ------------------------------------------------------------------------------

def roll_text(text: str, periods: Sequence[PeriodSpec],
              months: int = DEFAULT_CADENCE_MONTHS) -> WordingProposal:
    """``text`` (a request's wording, a title) with the mentions of the periods' years and
    dates moved on by ``months``; other numbers untouched."""
    years = whole_years(months)
    belongs: set[int] = set()
    boundaries: dict[dt.date, dt.date] = {}  # the periods' first and last days: where each goes
    for period in periods:
        belongs |= _years_of(period.start, period.end)
        for day in (period.start, period.end):
            boundaries[day] = add_months(day, months)
    # Their months, by first day ("April 2017" is 2017-04-01): where each goes.
    month_moves = {day.replace(day=1): add_months(day.replace(day=1), months)
                   for day in boundaries}
    moved: list[tuple[str, str]] = []
    unmoved: list[str] = []
    fy_end = -1  # where the last financial year ("2017/18", "FY17/18") ended: a list goes on

    def move(match: re.Match[str]) -> str:
        nonlocal fy_end
        written, start = match.group(0), match.start()
        before = text[max(0, start - 60):start]
        listed = fy_end >= 0 and _LIST_JOIN.fullmatch(text, fy_end, start) is not None
        if match.group("short"):
            clear = listed or _FY_BEFORE.search(before) is not None
            new = _moved_short(match, before, clear)
            if clear:
                fy_end = match.end()
        else:
            if match.group("year") and len(_pair(match)) == 2 and (
                    _pair(match)[1] == _pair(match)[0] + 1):
                fy_end = match.end()
            new = _moved(match, before)
        if new is None:
            return written
        if new != written:
            moved.append((written, new))
        return new

    def _moved(match: re.Match[str], before: str) -> str | None:
        """The mention moved on, or None to keep it (saying why in ``unmoved`` when it may be
        the periods')."""
        written = match.group(0)
        if match.group("iso") or match.group("num") or match.group("long"):
            day = _date_of(match)
            if day is None:
                return None  # "31/02/2019" is no date: not ours to correct
            return _moved_day(written, day, boundaries.get(day), before,
                              lambda new: _write_date(match, new), "day")
        if match.group("month"):
            return _moved_months(match, before)
        if match.group("next") and len(_pair(match)) == 1:
            # "2018-04": a month, which moves as "April 2018" does.
            number = int(match.group("next"))
            if not 1 <= number <= 12:
                return None
            day = dt.date(int(match.group("year")), number, 1)
            return _moved_day(written, day, month_moves.get(day), before,
                              lambda new: f"{new.year}{match.group('sep')}{new.month:02d}",
                              "month")
        if not any(y in belongs for y in _pair(match)):
            return None
        return _moved_year(match, lambda: _shift_pair(match, years or 0))

    def _moved_day(written: str, day: dt.date, new: dt.date | None, before: str,
                   write: Callable[[dt.date], str], unit: str) -> str | None:
        """A full date or a month: moved when it is a period's first or last (day or month)
        and not an event's."""
        event = _EVENT_BEFORE.search(before)
        if new is not None and event is None:
            return write(new)
        if day.year in belongs:
            if new is not None and event is not None:  # a period's day, but an event's too
                word = " ".join(event.group("word").split())
                unmoved.append(f"{written!r}: after {word!r}, the date of an event, kept")
            else:
                unmoved.append(f"{written!r}: not a period's {_FIRST_OR_LAST[unit]}, kept")
        return None

    def _moved_months(match: re.Match[str], before: str) -> str | None:
        """"April 2017" moved as its first day is; "April to June 2017" when both months are
        a period's first or last and can still be written so."""
        last = dt.date(int(match.group("my")), MONTHS.index(match.group("mm")) + 1, 1)
        space = match.group("msp")
        if match.group("rm") is None:
            return _moved_day(match.group(0), last, month_moves.get(last), before,
                              lambda new: f"{MONTHS[new.month - 1]}{space}{new.year}", "month")
        number = MONTHS.index(match.group("rm")) + 1
        first = dt.date(last.year - (number > last.month), number, 1)
        new_first, new_last = month_moves.get(first), month_moves.get(last)
        if new_first is None or new_last is None or (
                new_last.year - new_first.year != last.year - first.year):
            new_last = None  # "November to February 2021" can say only so many months
        return _moved_day(
            match.group(0), last, new_last, before,
            lambda new: (f"{MONTHS[new_first.month - 1] if new_first else ''}"
                         f"{match.group('rto')}{MONTHS[new.month - 1]}{space}{new.year}"),
            "months")

    def _moved_short(match: re.Match[str], before: str, clear: bool) -> str | None:
        """"FY17/18", "financial years 17/18 and 18/19": moved as "2017/18" is; a bare "17/18"
        (a score, an age, a fraction?) is only named, when it could be the periods'."""
        written = match.group(0)
        if before[-1:].isalpha() and _FY_BEFORE.search(before) is None:
            return None  # "s17/18", "A12-13": a reference
        first = _short_first_year(match, belongs.__contains__, both=not clear)
        if first is None:
            return None
        if not clear:
            if match.group("ssep") == "/":
                unmoved.append(f"{written!r}: perhaps the financial year {first}/"
                               f"{match.group('sb')}, kept; write FY{written} to move it")
            return None
        return _moved_year(match, lambda: _shift_short(match, years or 0))

    def _moved_year(match: re.Match[str], shift: Callable[[], str]) -> str | None:
        """A year of the periods moved on, unless it is a law's or a name's or the cadence is
        not whole years."""
        named = _named(text, match)
        if named is not None:
            unmoved.append(f"{named!r}: the year of a law or a name, kept")
            return None
        if years is None:
            unmoved.append(f"{match.group(0)!r}: a year cannot be moved by {months} months")
            return None
        return shift()

    proposed = _MENTION.sub(move, text)
    return WordingProposal(text, proposed, wording_diff(text, proposed), tuple(moved),
                           tuple(unmoved))


_FIRST_OR_LAST = {"day": "first or last day", "month": "first or last month",
                  "months": "first and last months"}


def _named(text: str, match: re.Match[str]) -> str | None:
    """The law or name a year in ``text`` belongs to, as written ("Act 2003", "Act (2003)",
    "the 2017 Act" -> "2017 Act", "GDPR (2018)"), or None."""
    start, end = match.start(), match.end()
    before = text[max(0, start - 60):start]
    closing = re.match(r"\s*\)", text[end:])
    law = _LAW_BEFORE.search(before)
    if law is None and closing is not None and match.group("year") and not match.group("next"):
        # Only a lone year in brackets is a name's: "(2017/18 and 2018/19)" are periods.
        law = _NAME_BEFORE.search(before)
    if law is not None:
        if law.group(0).rstrip().endswith("(") and closing is not None:
            end += closing.end()
        return before[law.start():] + text[start:end]
    after = _LAW_AFTER.match(text, end)
    if after is not None:
        return text[start:after.end()]
    return None


def _date_of(match: re.Match[str]) -> dt.date | None:
    """The full date a mention says, or None for a date that does not exist."""
    try:
        if match.group("iso"):
            return dt.date(int(match.group("iy")), int(match.group("im")), int(match.group("id")))
        if match.group("num"):
            return dt.date(int(match.group("ny")), int(match.group("nm")), int(match.group("nd")))
        return dt.date(int(match.group("ly")), MONTHS.index(match.group("lm")) + 1,
                       int(match.group("ld")))
    except ValueError:
        return None


def _write_date(match: re.Match[str], day: dt.date) -> str:
    """``day`` written the way the mention wrote its date."""
    if match.group("iso"):
        return day.isoformat()
    if match.group("num"):
        width = len(match.group("nd"))
        return f"{day.day:0{width}d}/{day.month:0{len(match.group('nm'))}d}/{day.year}"
    suffix = _ordinal_suffix(day.day) if match.group("ls") else ""
    return (f"{day.day}{suffix}{match.group('lsp')}{MONTHS[day.month - 1]}"
            f"{match.group('lsp2')}{day.year}")


def _ordinal_suffix(number: int) -> str:
    if 10 <= number % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")


def wording_diff(old: str, new: str) -> str:
    """A unified diff of last time's wording and the proposed one ("" when they are equal)."""
    return "".join(difflib.unified_diff(
        _lines(old), _lines(new), fromfile="last time's wording", tofile="proposed wording",
        lineterm="\n"))


def _lines(text: str) -> list[str]:
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    return lines
