"""Numbers written for the press, and only as strongly as they are true. Pure.

"a quarter" means 25.0%; 25.3% is "more than a quarter" and 24.6% "almost a quarter". The
conventional "one in five" stands for anything that rounds to 20%. "more than 70%" needs more
than 70%. Every phrase returned here is checked by property tests against its number.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from foitrack.domain.aggregate_rows import AggregateRow

# (value, words, is a "one in N" form). The "one in N" forms read as approximations.
FRACTIONS: tuple[tuple[float, str, bool], ...] = (
    (1 / 10, "one in ten", True),
    (1 / 5, "one in five", True),
    (1 / 4, "a quarter", False),
    (1 / 3, "a third", False),
    (2 / 5, "two in five", True),
    (1 / 2, "half", False),
    (3 / 5, "three in five", True),
    (2 / 3, "two thirds", False),
    (3 / 4, "three quarters", False),
    (4 / 5, "four in five", True),
    (9 / 10, "nine in ten", True),
)
EXACT = 0.0005  # within this of a fraction, the plain words ("a quarter") are true
ROUNDS_TO = 0.005  # a "one in N" form stands for anything that rounds to it
ALMOST = 0.025  # "almost a quarter": at most 2.5 points short
MORE_THAN = 0.05  # "more than a third": at most 5 points over


@dataclass(frozen=True)
class Phrase:
    """Words for a share, and what they claim, so that tests can hold them to it."""

    words: str
    claim: str  # "about", "more_than", "almost"
    fraction: float


def number(value: int) -> str:
    """4373 -> '4,373'."""
    return f"{value:,}"


def percent(share: float, places: int = 0) -> str:
    """0.3593 -> '36%'; with places=1, '35.9%'. Never rounds a non-zero share to '0%'."""
    text = f"{share * 100:.{places}f}%"
    if share > 0 and float(text[:-1]) == 0:
        return f"less than {1 / 10 ** places:g}%"
    return text


def fraction_phrase(share: float) -> Phrase | None:
    """The everyday fraction for a share, qualified as needed, or None when none is close."""
    for value, words, one_in_n in FRACTIONS:
        if abs(share - value) < EXACT or (one_in_n and abs(share - value) < ROUNDS_TO):
            return Phrase(words, "about", value)
    for value, words, _ in FRACTIONS:
        if value - ALMOST <= share < value:
            return Phrase(f"almost {words}", "almost", value)
    below = [(value, words) for value, words, _ in FRACTIONS if value < share <= value + MORE_THAN]
    if below:
        value, words = below[-1]
        return Phrase(f"more than {words}", "more_than", value)
    return None


def more_than_percent(share: float, step: int = 10) -> str | None:
    """'more than 70%' for 72.4% (the largest multiple of ``step`` strictly below)."""
    whole = share * 100
    floor = math.floor(whole / step) * step
    if floor == whole:
        floor -= step
    if floor <= 0:
        return None
    return f"more than {floor}%"


def share_words(share: float) -> str:
    """A share as a press officer writes it, with the exact figure: 'more than a quarter (25.3%)'.

    One family of words: where "more than N%" would land on a fraction the words have a name
    for (10%, 20%, 40%...), it is written with that name ("more than one in ten"), so a release
    never says "more than 10%" beside "more than one in five". All is "all", none is "none".
    """
    exact = percent(share, 1)
    if share >= 1:
        return f"all ({exact})"
    if share <= 0:
        return f"none ({exact})"
    phrase = fraction_phrase(share)
    words = phrase.words if phrase else more_than_percent(share)
    if phrase is None and words is not None:
        floor = int(words.removeprefix("more than ").removesuffix("%")) / 100
        named = next((name for value, name, _ in FRACTIONS if abs(value - floor) < 1e-9), None)
        if named:
            words = f"more than {named}"
    return f"{words} ({exact})" if words else exact


def more_than_number(value: int) -> str:
    """'more than 1,200' for 1,220: rounded down to two significant figures, strictly below."""
    if value < 100:
        return number(value)
    magnitude = 10 ** (len(str(value)) - 2)
    floor = value // magnitude * magnitude
    if floor == value:
        return number(value)
    return f"more than {number(floor)}"


def rate_number(rate: float) -> str:
    """A rate to one decimal place, as rates are published: 9.4736 -> '9.5', 1234.5 -> '1,234.5'."""
    return f"{rate:,.1f}"


def per_words(per: int, base: str = "population") -> str:
    """'per 100,000 people' for the resident population; another base by its name
    ('per 100,000 children-0-17'), as the campaign file gave it."""
    return f"per {number(per)} {'people' if base == 'population' else base}"


def estimate_words(base: str = "population") -> str:
    """What an authority has or lacks to be rated: 'resident population estimate', or
    'children-0-17 estimate' for another base."""
    return "resident population estimate" if base == "population" else f"{base} estimate"


def rate_words(rate: float, per: int, base: str = "population") -> str:
    """'9.5 per 100,000 people'."""
    return f"{rate_number(rate)} {per_words(per, base)}"


def rates_table_note(rows: Iterable[AggregateRow]) -> str | None:
    """What an aggregate table's rates are per, over whom, and the population years used:
    'Rate: per 100,000 people, over the authorities that gave a usable figure and have a
    population estimate (...). Population: mid-year estimates for mid-2017 and mid-2018.'
    None when no row has a rate."""
    rated = [row for row in rows if row.rate is not None]
    if not rated:
        return None
    pers = sorted({(row.rate_per, row.rate_base or "population") for row in rated})
    years = sorted({year for row in rated for year in row.population_years})
    note = ("Rate: " + " or ".join(per_words(per, base) for per, base in pers)
            + ", over the authorities that gave a usable figure and have a population estimate "
            "(never the national population over a partial sum). Population: mid-year "
            "estimates for " + join_names([f"mid-{year}" for year in years]) + ".")
    if any(row.population_nearest for row in rated):
        note += (" * Some authority had no estimate for the period's own mid-year: its nearest "
                 "year's was used.")
    return note


def change_words(old: int, new: int) -> str:
    """'up 36%', 'down 12%', 'unchanged', 'more than double', 'double', 'up from none'."""
    if old == 0:
        return "unchanged" if new == 0 else "up from none"
    if new == 0:
        return "down to none"
    ratio = new / old
    if ratio == 1:
        return "unchanged"
    if ratio > 2:
        times = {2: "double", 3: "treble"}.get(int(ratio), f"{int(ratio)} times")
        return f"more than {times}" if ratio > int(ratio) else times
    if ratio == 2:
        return "double"
    direction = "up" if ratio > 1 else "down"
    change = abs(ratio - 1)
    words = percent(change)
    if direction == "up" and words == "100%":
        return "almost double"  # up 99.5% or more, but not double: "up 100%" would say double
    if direction == "down" and words == "100%":
        return "down more than 99%"  # not all gone while anything is left
    return f"{direction} {words}"


def rise_words(old: int, new: int) -> str | None:
    """'a rise of more than a third' for 3,217 -> 4,373; None when no fraction fits."""
    if old == 0 or new <= old or new / old >= 2:
        return None
    phrase = fraction_phrase(new / old - 1)
    # "a rise of three in five" reads badly: rises use the plain fractions only.
    if phrase is None or any(phrase.fraction == value and one_in_n
                             for value, _, one_in_n in FRACTIONS):
        return None
    return f"a rise of {phrase.words}"


def rank_words(rank: int, ranked: int, tied: int = 1) -> str:
    """'the highest', 'the joint 3rd highest', 'the lowest' of ``ranked`` figures (rank 1 is
    the highest; ``tied`` figures share this rank)."""
    joint = "joint " if tied > 1 else ""
    if ranked > 1 and rank + tied - 1 >= ranked and rank > 1:
        return f"the {joint}lowest"
    if rank == 1:
        return f"the {joint}highest"
    return f"the {joint}{ordinal(rank)} highest"


def ordinal(rank: int) -> str:
    suffix = "th" if 10 <= rank % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(rank % 10, "th")
    return f"{rank}{suffix}"


def join_names(names: list[str]) -> str:
    """['Surrey', 'Sussex', 'Kent'] -> 'Surrey, Sussex and Kent'."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def join_authority_names(names: list[str]) -> str:
    """['Surrey Police', 'Sussex Police', 'Kent Police'] -> 'Surrey, Sussex and Kent Police':
    a last word all the names share is said once, as people write it."""
    words = [name.split() for name in names]
    last = {w[-1] for w in words if w}
    if len(names) > 1 and len(last) == 1 and all(len(w) > 1 for w in words):
        return f"{join_names([' '.join(w[:-1]) for w in words])} {last.pop()}"
    return join_names(names)


def set_in_text(title: str, members: int) -> str:
    """A set's title in running text: 'Territorial police forces of England and Wales' with 43
    members -> 'the 43 territorial police forces of England and Wales'."""
    words = title.removeprefix("All ").removeprefix("all ")
    first = words.split(" ", 1)[0]
    if first[:1].isupper() and not first[1:2].isupper():  # "Territorial", not "UK"
        words = words[:1].lower() + words[1:]
    return f"the {members} {words}"


def long_date(day: dt.date) -> str:
    """2019-04-01 -> '1 April 2019', as dates are written in lines and notes for print."""
    return f"{day.day} {day:%B %Y}"
