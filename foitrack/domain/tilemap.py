"""The 43 forces of England and Wales as a grid cartogram, coloured by request status or a figure.

Pure: reads two shipped CSV files and works on plain values. The colours live in ``FILLS`` and
are drawn by the matching ``.fill-<name>`` rules in foitrack.css (the Content-Security-Policy
forbids inline styles); a test holds the two to each other and checks the text contrast.
"""

from __future__ import annotations

import csv
import math
import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from foitrack.domain.timeline import Lateness, RequestState, ResponseOutcome, Status
from foitrack.paths import DATA_DIR

TILES_FILE = DATA_DIR / "police-force-tiles.csv"
REGISTRY_FILE = DATA_DIR / "police-forces.csv"

# fill name -> (background, text). Where a fill is a pattern, the background given is its
# darker stripe: the one the text contrast has to hold against.
#
# The states of a request take Okabe and Ito's palette (2008), the one the charts use
# (exporters/charts.py): chosen so that no two of its colours are confused with any common
# colour-vision deficiency. There are more states than colours, so related states share a hue
# and differ by a pattern (NCND is a striped refusal, an extension a striped wait), and every
# state but the plainest also carries a glyph on its tile and in the key (STATE_GLYPHS): the
# colour is never the only cue. The wait runs sky blue (not yet due), orange (due soon),
# vermillion (overdue), dark brown (very overdue): lighter to darker as it gets worse.
FILLS: dict[str, tuple[str, str]] = {
    "state-figures": ("#009e73", "#0b0c0c"),
    "state-refused": ("#cc79a7", "#0b0c0c"),
    "state-ncnd": ("#cc79a7", "#0b0c0c"),  # striped with #e7bcd4
    "state-not_held": ("#f0e442", "#0b0c0c"),
    "state-awaiting": ("#56b4e9", "#0b0c0c"),
    "state-extended": ("#56b4e9", "#0b0c0c"),  # striped with #b9e0f6
    "state-due_soon": ("#e69f00", "#0b0c0c"),
    "state-overdue": ("#d55e00", "#0b0c0c"),
    "state-very_overdue": ("#6b2200", "#ffffff"),
    "state-on_hold": ("#dedede", "#0b0c0c"),  # striped with #f3f2f1
    "state-not_sent": ("#dedede", "#0b0c0c"),
    "state-withdrawn": ("#505a5f", "#ffffff"),
    # Sequential, lighter to darker blue: more is darker. The lightest is still a clear blue
    # (MIN_VALUE_CONTRAST against the white page), so a low value never looks like a blank.
    "seq-1": ("#7fb2dc", "#0b0c0c"),
    "seq-2": ("#4a8cc7", "#0b0c0c"),
    "seq-3": ("#2f6eaf", "#ffffff"),
    "seq-4": ("#1f5590", "#ffffff"),
    "seq-5": ("#0b2e5a", "#ffffff"),
    # Diverging blue (fell) to orange-brown (rose), grey for no change: readable with the
    # common red-green colour blindnesses, unlike red-green scales.
    "div-1": ("#1d5a96", "#ffffff"),
    "div-2": ("#86b5de", "#0b0c0c"),
    "div-3": ("#bdbdbd", "#0b0c0c"),
    "div-4": ("#eda260", "#0b0c0c"),
    "div-5": ("#9a4a05", "#ffffff"),
    "suppressed": ("#d0d3d4", "#0b0c0c"),
    # A rate given but not ranked (an area too small for its rate to mean much): white with a
    # dashed outline, outside the blue scale, so it is never read as the highest (or lowest).
    "not-ranked": ("#ffffff", "#0b0c0c"),
    "no-figure": ("#dcdcdc", "#0b0c0c"),
    # Asked, and no reply yet: white with a dotted ring and "…", so it is never read as a value.
    "no-reply": ("#ffffff", "#0b0c0c"),
    "not-asked": ("#ffffff", "#505a5f"),
}
SEQUENTIAL = ("seq-1", "seq-2", "seq-3", "seq-4", "seq-5")
DIVERGING = ("div-1", "div-2", "div-3", "div-4", "div-5")
# The least a value's fill must stand out from the white page (WCAG's contrast ratio; the
# lightest blue has 2.3, the "no change" grey 1.9); a test holds every value fill to it.
MIN_VALUE_CONTRAST = 1.8
PAGE_BACKGROUND = "#ffffff"

# The states a request's tile can show, in the key's order, with their names in the key.
STATES: dict[str, str] = {
    "figures": "Answered with figures",
    "refused": "Refused",
    "ncnd": "Neither confirm nor deny",
    "not_held": "Not held",
    "awaiting": "Awaiting reply, not yet due",
    "extended": "Extended by the authority",
    "due_soon": "Due soon",
    "overdue": "Overdue",
    "very_overdue": "Very overdue",
    "on_hold": "On hold: clarification or fee asked for",
    "not_sent": "Not sent",
    "withdrawn": "Withdrawn",
}
# The glyph in a tile's corner and in its key: a second cue besides the colour. The plain
# wait and "not sent" have none, so that the map stays calm where nothing has happened.
STATE_GLYPHS: dict[str, str] = {
    "figures": "✓", "refused": "×", "ncnd": "?", "not_held": "–", "extended": "+",
    "due_soon": "!", "overdue": "!!", "very_overdue": "!!!", "on_hold": "‖", "withdrawn": "/",
}
# The figure map's fills that are not values, with their glyphs.
READING_GLYPHS: dict[str, str] = {"state-refused": "×", "state-ncnd": "?", "state-not_held": "–",
                                  "no-reply": "…"}


@dataclass(frozen=True)
class Position:
    code: str
    label: str
    row: int
    col: int


@dataclass(frozen=True)
class Place:
    """An authority to show: its ONS code (None if it has none), its name and where a click goes."""

    code: str | None
    name: str
    link: str | None = None


@dataclass(frozen=True)
class Mark:
    """What a tile says: its fill, the words for it, and the glyph drawn on it besides the
    colour (STATE_GLYPHS, READING_GLYPHS; "" for none)."""

    name: str
    fill: str
    text: str
    link: str | None = None
    glyph: str = ""

    @property
    def title(self) -> str:
        return f"{self.name}: {self.text}"


@dataclass(frozen=True)
class Tile:
    position: Position
    mark: Mark

    @property
    def label(self) -> str:
        return self.position.label


@dataclass(frozen=True)
class LegendEntry:
    fill: str
    text: str
    count: int
    glyph: str = ""


@dataclass
class TileMap:
    tiles: list[Tile]
    legend: list[LegendEntry]
    off_map: list[Mark] = field(default_factory=list)  # asked, but with no tile to draw

    @property
    def rows(self) -> int:
        return max((t.position.row for t in self.tiles), default=0)

    @property
    def cols(self) -> int:
        return max((t.position.col for t in self.tiles), default=0)

    @property
    def any_glyph(self) -> bool:
        """Some square carries a glyph, which the key's note then explains."""
        return any(entry.glyph for entry in self.legend)

    @property
    def any_asked(self) -> bool:
        """Worth drawing: at least one tile is an authority that was asked."""
        return any(t.mark.fill != "not-asked" for t in self.tiles)


@cache
def positions() -> dict[str, Position]:
    """The tile of each force, by ONS code, from police-force-tiles.csv."""
    with TILES_FILE.open(encoding="utf-8", newline="") as handle:
        return {row["code"]: Position(row["code"], row["label"], int(row["row"]), int(row["col"]))
                for row in csv.DictReader(handle)}


@cache
def registry_names() -> dict[str, str]:
    """Force names by code, for the tiles of forces a campaign did not ask."""
    with REGISTRY_FILE.open(encoding="utf-8", newline="") as handle:
        return {row["code"]: row["name"] for row in csv.DictReader(handle) if row["code"]}


def lay_out(marked: Iterable[tuple[Place, Mark]], legend: list[LegendEntry]) -> TileMap:
    """Every tile, with its mark or "not asked"; authorities without a tile go to ``off_map``."""
    tiles_by_code = positions()
    marks: dict[str, Mark] = {}
    off_map: list[Mark] = []
    for place, mark in marked:
        if place.code and place.code in tiles_by_code:
            marks[place.code] = mark
        else:
            off_map.append(mark)
    names = registry_names()
    tiles = [
        Tile(position, marks.get(code) or Mark(names.get(code, position.label), "not-asked",
                                               "not asked"))
        for code, position in sorted(tiles_by_code.items(),
                                     key=lambda item: (item[1].row, item[1].col))
    ]
    not_asked = sum(1 for t in tiles if t.mark.fill == "not-asked")
    if not_asked:
        legend = [*legend, LegendEntry("not-asked", "Not asked", not_asked)]
    return TileMap(tiles, legend, off_map)


# ---- colouring by request status ----------------------------------------------------------

def extended(state: RequestState) -> bool:
    """The authority gave itself more time (s.10(3)) and the response date moved with it."""
    deadline = state.response_deadline
    return (deadline is not None and deadline.due is not None and deadline.count is not None
            and deadline.due > deadline.count.due)


_ANSWERS = {
    ResponseOutcome.provided: "figures",
    ResponseOutcome.part_provided: "figures",
    ResponseOutcome.refused: "refused",
    ResponseOutcome.ncnd: "ncnd",
    ResponseOutcome.not_held: "not_held",
}


def request_state(state: RequestState) -> str:
    """The key of STATES a request's tile shows.

    An answer shows what it said (its outcome stays through any review or complaint); a
    request still owed shows how late it is, then whether its clock is stopped or extended.
    A cost refusal (s.12) is a refusal: the words name the section.
    """
    if state.status is Status.not_sent:
        return "not_sent"
    if state.status is Status.withdrawn:
        return "withdrawn"
    if state.outcome is not None:
        return _ANSWERS.get(ResponseOutcome(state.outcome), "figures")
    if state.lateness in (Lateness.overdue, Lateness.very_overdue):
        return state.lateness.value
    if state.status in (Status.awaiting_clarification, Status.awaiting_fee):
        return "on_hold"
    if state.lateness is Lateness.due_soon:
        return "due_soon"
    return "extended" if extended(state) else "awaiting"


def state_words(state: RequestState, key: str) -> str:
    """The tile's words: its state, the sections cited, and what has happened since."""
    words = STATES[key]
    if key in ("figures", "refused", "ncnd") and state.outcome is not None:
        outcome = ResponseOutcome(state.outcome)
        if outcome is ResponseOutcome.part_provided:
            words += " (in part)"
        if state.exemptions:
            words += f" ({', '.join(state.exemptions)})"
    deadline = state.response_deadline
    if key in ("extended", "due_soon") and deadline is not None and deadline.due is not None:
        words += f", due {deadline.due.isoformat()}"
        if key == "due_soon" and extended(state):
            words += " (extended)"
    elif key in ("overdue", "very_overdue") and state.working_days_late:
        days = state.working_days_late
        words += f", {days} working day{'s' if days != 1 else ''} late"
    if state.status not in (Status.answered, Status.not_sent, Status.withdrawn) \
            and not state.status.awaiting_authority:
        label = state.status.label
        words += f"; {label[:1].lower()}{label[1:]}"
    if state.lateness is Lateness.review_overdue:
        words += f"; {Lateness.review_overdue.label.lower()}"
    return words


def status_map(entries: Iterable[tuple[Place, RequestState]]) -> TileMap:
    """Tiles coloured by each request's state (request_state); the key lists each state shown,
    with its count."""
    marked = []
    for place, state in entries:
        key = request_state(state)
        marked.append((place, Mark(place.name, f"state-{key}", state_words(state, key),
                                   place.link, STATE_GLYPHS.get(key, ""))))
    counts = Counter(mark.fill for _, mark in marked)
    legend = [LegendEntry(f"state-{key}", label, counts[f"state-{key}"], STATE_GLYPHS.get(key, ""))
              for key, label in STATES.items() if counts[f"state-{key}"]]
    return lay_out(marked, legend)


# ---- colouring by a figure ----------------------------------------------------------------

@dataclass(frozen=True)
class Reading:
    """One authority's number for the map: a value, or why there is none.

    ``kind`` is "value", "suppressed", "unranked" (a rate given but not ranked, kept out of
    the colour scale: ``why`` says why), one of the answers without a figure ("refused",
    "ncnd", "not_held"), "awaiting" (no reply yet) or "none" (no figure for another reason);
    ``text`` says it in words ("122", "1 to 4 (suppressed)", "refused (s.12)").
    """

    kind: str
    text: str
    value: float | None = None
    why: str | None = None


# The fill of each kind of reading that is not a value, and its words in the key, in the key's
# order. An answer without a figure takes its state's fill from the status map, so a refusal
# (s.12 among them) never looks like a request still waiting for a reply.
READING_FILLS = {"suppressed": "suppressed", "unranked": "not-ranked", "refused": "state-refused",
                 "ncnd": "state-ncnd", "not_held": "state-not_held", "none": "no-figure",
                 "awaiting": "no-reply"}
READING_KEY = {
    "suppressed": "Suppressed (a small number)",
    "not-ranked": "Not ranked, so not coloured",
    "state-refused": "Refused or withheld",
    "state-ncnd": "Neither confirm nor deny",
    "state-not_held": "Not held",
    "no-figure": "No figure",
    "no-reply": "No reply yet",
}


def quantile_bounds(values: Sequence[float], classes: int = 5) -> list[float]:
    """Upper bounds of up to ``classes`` classes holding about equal numbers of values.

    Quantiles rather than equal steps, because one large force (the Met) would otherwise put
    nearly every other force in the lowest class. Ties can merge classes, so fewer may come back.
    """
    ordered = sorted(values)
    if not ordered:
        return []
    bounds: list[float] = []
    for k in range(1, classes + 1):
        bound = ordered[math.ceil(k * len(ordered) / classes) - 1]
        if not bounds or bound > bounds[-1]:
            bounds.append(bound)
    return bounds


def class_of(value: float, bounds: Sequence[float]) -> int:
    """The index of the first class whose upper bound is at least ``value``."""
    for index, bound in enumerate(bounds):
        if value <= bound:
            return index
    return len(bounds) - 1


def sequential_fill(index: int, classes: int) -> str:
    """Spread fewer than five classes over the whole scale, so light and dark both show."""
    if classes <= 1:
        return SEQUENTIAL[2]
    return SEQUENTIAL[round(index * (len(SEQUENTIAL) - 1) / (classes - 1))]


def diverging_class(value: float, threshold: float) -> int:
    """0 fell by ``threshold`` or more, 1 fell by less, 2 no change, 3 rose by less, 4 rose more."""
    if value == 0:
        return 2
    if value < 0:
        return 0 if -value >= threshold else 1
    return 4 if value >= threshold else 3


def change_threshold(values: Iterable[float]) -> float:
    """The median size of the non-zero changes: about half the moving forces fall each side."""
    sizes = [abs(v) for v in values if v != 0]
    return statistics.median(sizes) if sizes else 0.0


def _range_text(members: Sequence[float], fmt: Callable[[float], str]) -> str:
    low, high = min(members), max(members)
    return fmt(low) if low == high else f"{fmt(low)} to {fmt(high)}"


def _not_ranked_text(reasons: Sequence[str | None]) -> str:
    """The legend's words for rates left out of the scale: the reason, when all share one."""
    shared = set(reasons)
    why = shared.pop() if len(shared) == 1 else None
    return "Not ranked, so not coloured" + (f" ({why.rstrip('.')})" if why
                                           else ": each square says why")


def figure_map(entries: Iterable[tuple[Place, Reading]], *, diverging: bool = False,
               fmt: Callable[[float], str] = lambda v: f"{v:,.0f}") -> TileMap:
    """Tiles coloured by a figure (five sequential classes) or a change (five diverging ones).

    Each legend entry gives the range of the values actually in its class. "unranked" readings
    (City of London's rate) have their own fill and take no part in the classes' bounds.
    """
    entries = list(entries)
    values = [r.value for _, r in entries if r.kind == "value" and r.value is not None]
    members: dict[int, list[float]] = {}
    bounds: list[float] = []
    if diverging:
        threshold = change_threshold(values)

        def fill_of(value: float) -> str:
            index = diverging_class(value, threshold)
            members.setdefault(index, []).append(value)
            return DIVERGING[index]
    else:
        bounds = quantile_bounds(values)

        def fill_of(value: float) -> str:
            index = class_of(value, bounds)
            members.setdefault(index, []).append(value)
            return sequential_fill(index, len(bounds))

    marked = []
    for place, reading in entries:
        if reading.kind == "value" and reading.value is not None:
            fill = fill_of(reading.value)
        else:
            fill = READING_FILLS.get(reading.kind, "no-figure")
        marked.append((place, Mark(place.name, fill, reading.text, place.link,
                                   READING_GLYPHS.get(fill, ""))))

    legend = []
    for index in sorted(members):
        fill = DIVERGING[index] if diverging else sequential_fill(index, len(bounds))
        text = "No change" if diverging and index == 2 else _range_text(members[index], fmt)
        legend.append(LegendEntry(fill, text, len(members[index])))
    counts = Counter(mark.fill for _, mark in marked)
    for fill, text in READING_KEY.items():
        if counts[fill]:
            if fill == "not-ranked":
                text = _not_ranked_text([reading.why for _, reading in entries
                                         if reading.kind == "unranked"])
            legend.append(LegendEntry(fill, text, counts[fill], READING_GLYPHS.get(fill, "")))
    return lay_out(marked, legend)


# ---- readings from the aggregate's per-authority rows -------------------------------------

SHOW = {
    "value": "the figure",
    "rate": "the rate per 100,000 people",
    "change": "the change from the period before",
    "change_pct": "the change from the period before, in per cent",
}
CHANGES = ("change", "change_pct")


def _in_cell(row: Any, measure: str, period: str, dimension: str | None,
             category: str | None) -> bool:
    cell = row.cell
    return (cell.measure, cell.period, cell.dimension, cell.category) == (
        measure, period, dimension, category)


def _one(row: Any | None) -> Reading:
    """An authority's figure in one cell, as a reading."""
    if row is None:
        return Reading("none", "no figure")
    if row.kind == "exact":
        return Reading("value", f"{row.value:,}", float(row.value))
    if row.kind == "suppressed":
        return Reading("suppressed", f"{row.lower} to {row.upper} (suppressed)")
    if row.kind == "withheld":
        return Reading("refused", "withheld")
    if row.kind == "not_held":
        return Reading("not_held", "not held")
    return Reading("none", row.kind.replace("_", " "))


def _rate(row: Any | None, per_text: str) -> Reading:
    """An authority's rate in one cell, with its rank by rate or why it has none."""
    if row is None or row.kind != "exact":
        return _one(row)
    if row.rate is None:
        return Reading("none", f"{row.value:,}: no population to give a rate")
    rate = f"{row.rate:,.1f} {per_text}"
    year = (f"; population of mid-{row.population_year}, the nearest year with an estimate"
            if row.population_nearest and row.population_year else "")
    if row.rate_rank and row.rate_ranked:
        rank = f"rank {row.rate_rank} of {row.rate_ranked} by rate"
        return Reading("value", f"{rate} ({row.value:,}; {rank}{year})", float(row.rate))
    # A tiny area's rate swings by a whole class with one case: shown, but not coloured as if
    # it were the highest.
    why = (row.rate_note or "population too small").rstrip(".")
    return Reading("unranked", f"{rate} ({row.value:,}; not ranked: {why}{year}; not coloured "
                               "by rate)", float(row.rate), why)


def readings(rows: Iterable[Any], measure: str, period: str, dimension: str | None = None,
             category: str | None = None, *, earlier: str | None = None,
             show: str = "value", per_text: str = "per 100,000 people") -> dict[str, Reading]:
    """Each authority's reading (by slug) from the aggregate's ``AuthorityRow`` list.

    With ``earlier`` and a change to ``show``, the reading is the change from ``earlier`` to
    ``period``: only when both figures are exact, since a suppressed one has no single value.
    With ``show="rate"``, the rate (``per_text`` says per what) of each exact figure.
    """
    rows = list(rows)
    now = {r.slug: r for r in rows if _in_cell(r, measure, period, dimension, category)}
    if show == "rate":
        return {slug: _rate(row, per_text) for slug, row in now.items()}
    if show == "value" or earlier is None:
        return {slug: _one(row) for slug, row in now.items()}
    before = {r.slug: r for r in rows if _in_cell(r, measure, earlier, dimension, category)}
    found: dict[str, Reading] = {}
    for slug in now.keys() | before.keys():
        a, b = _one(before.get(slug)), _one(now.get(slug))
        if a.kind != "value" or b.kind != "value":
            kind = "suppressed" if "suppressed" in (a.kind, b.kind) else (
                b.kind if b.kind in ("refused", "not_held") else "none")
            found[slug] = Reading(kind, f"{a.text}, then {b.text}")
            continue
        assert a.value is not None and b.value is not None
        change = b.value - a.value
        if show == "change_pct":
            if a.value == 0:
                found[slug] = Reading("none", f"{a.text} → {b.text} (no percentage change from 0)")
                continue
            percent = change / a.value * 100
            found[slug] = Reading("value", f"{a.text} → {b.text} ({percent:+.0f}%)", percent)
        else:
            found[slug] = Reading("value", f"{a.text} → {b.text} ({change:+,.0f})", change)
    return found


def answer_reading(state: RequestState) -> Reading:
    """Why an authority asked has no figure in the cell, from its request: refused (saying
    the sections, s.12 among them), neither confirmed nor denied, not held, no reply yet, or
    an answer without this figure."""
    key = request_state(state)
    if key in ("refused", "ncnd", "not_held"):
        words = STATES[key].lower() if key != "ncnd" else "neither confirm nor deny"
        if state.exemptions:
            words += f" ({', '.join(state.exemptions)})"
        return Reading(key, f"no figure: {words}")
    if key == "figures":
        return Reading("none", "no figure")
    if key in ("not_sent", "withdrawn"):
        return Reading("none", f"no figure: {STATES[key].lower()}")
    return Reading("awaiting", "no reply yet")
