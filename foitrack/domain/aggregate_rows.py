"""An aggregate's rows as plain values: what services.aggregate computes and the exporters,
charts and pages read. Built from SQL results in services.aggregate; nothing here queries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any


@dataclass
class Cell:
    """Where a row sits: a measure, a period (or period group), and total/category/group."""

    measure: str
    period: str
    dimension: str | None  # None for the total
    category: str | None  # category label, or the group's key; None for the total
    level: str  # "total", "category" or "group"


@dataclass
class AggregateRow:
    cell: Cell
    period_label: str
    category_label: str | None
    total: int
    lower_bound: int
    upper_bound: int
    counts: dict[str, int]
    usable: int
    answered: int
    asked: int
    denominator: int | None = None  # the recorded total of the dimension: shares' denominator
    is_not_recorded: bool = False
    # A period group's row counts only authorities with a usable figure in every one of its
    # periods ("from the 34 forces that gave figures for both years"): ``usable`` is how many,
    # ``left_out`` how many gave a usable figure in some of its periods only.
    complete_only: bool = False
    left_out: int = 0
    # The rate (services.aggregate, issue 18): per ``rate_per`` of the measure's base
    # ("population": residents), over the authorities with a usable figure *and* a population,
    # their ``rate_total`` divided by their ``population`` -- never the national population
    # over a partial sum. None where the measure is not rated or no such authority exists.
    rate: float | None = None
    rate_per: int = 0
    rate_base: str = ""
    population: int | None = None  # summed over the ``rate_authorities``
    rate_total: int | None = None  # the exact figures of those same authorities
    rate_authorities: int = 0
    # The mid-years whose estimates were used (one, unless some authority had to fall back on
    # its nearest year), and whether any fell back: the table and the lines say which.
    population_years: tuple[int, ...] = ()
    population_nearest: bool = False
    nearest_years: tuple[int, ...] = ()  # those of ``population_years`` not the period's own
    # The rate with every suppressed figure of those authorities at its least and its most
    # (``rate``, like the total, counts them as 0, their authorities' people included).
    rate_lower: float | None = None
    rate_upper: float | None = None
    # Of the authorities asked, how many have no reply on their request's timeline at all, and
    # how many refused it (the outcome that stands is a refusal or "neither confirm nor deny"):
    # None where not known (a row built by hand), when every one without a figure counts as
    # not having replied, as before.
    not_replied: int | None = None
    refusing: int = 0

    @property
    def with_figure(self) -> int:
        """Authorities that gave a usable figure: exact, or suppressed with bounds."""
        return self.usable

    @property
    def no_figure(self) -> int:
        """Authorities asked that gave nothing at all for this cell, for whatever reason."""
        return self.asked - self.answered

    @property
    def no_reply(self) -> int:
        """Authorities asked that gave nothing for this cell and have not replied at all: a
        refusal is a reply (FOIA s.17, FOISA s.16), counted in ``refused``. The replies are
        counted per campaign, not per cell, so this is exact unless someone gave a figure with
        no reply or despite a refusal (findings of the checks); capped so that ``no_reply``
        and ``refused`` never add up to more than ``no_figure``."""
        if self.not_replied is None:
            return self.no_figure
        return min(self.not_replied, self.no_figure)

    @property
    def refused(self) -> int:
        """Authorities asked that gave nothing for this cell because they refused the request."""
        return min(self.refusing, self.no_figure - self.no_reply)

    @property
    def share_where_recorded(self) -> float | None:
        if self.denominator in (None, 0) or self.is_not_recorded or self.cell.level == "total":
            return None
        return self.total / self.denominator

    @property
    def coverage(self) -> str:
        return f"{self.with_figure} of {self.asked}"


@dataclass
class ChangeRow:
    measure: str
    dimension: str | None
    category: str | None
    level: str
    from_period: str
    to_period: str
    from_total: int
    to_total: int
    panel_size: int
    panel_from: int
    panel_to: int

    @property
    def change(self) -> int:
        return self.to_total - self.from_total

    @property
    def change_ratio(self) -> float | None:
        return self.to_total / self.from_total if self.from_total else None

    @property
    def panel_change(self) -> int:
        return self.panel_to - self.panel_from

    @property
    def panel_ratio(self) -> float | None:
        return self.panel_to / self.panel_from if self.panel_from else None


@dataclass
class AuthorityRow:
    """One authority's figure in one cell, with its rank among the exact figures."""

    slug: str
    name: str
    short_name: str
    code: str | None
    cell: Cell
    kind: str
    value: int | None
    lower: int | None
    upper: int | None
    rank: int | None
    ranked: int | None
    caveat: str | None
    figure_id: int
    # The authority's rate in this cell and its rank by rate (1 = highest) among the
    # ``rate_ranked`` authorities with an exact figure and a population of at least
    # services.population.MIN_RANKED_POPULATION; ``rate_note`` says why one has no rank.
    population: int | None = None
    population_year: int | None = None
    population_nearest: bool = False  # the period's own mid-year had no estimate
    rate: float | None = None
    rate_rank: int | None = None
    rate_ranked: int | None = None
    rate_note: str | None = None
    # The rate as an exact fraction, which the ranking compares (equal rates share a rank).
    rate_exact: Fraction | None = field(default=None, repr=False, compare=False)


@dataclass
class Aggregate:
    campaign_slug: str
    asked: int
    rows: list[AggregateRow] = field(default_factory=list)
    changes: list[ChangeRow] = field(default_factory=list)
    authorities: list[AuthorityRow] = field(default_factory=list)
    checked_only: bool = False
    subset: str | None = None
    # Figures from responses the authority withdrew, left out of every row (with a note).
    withdrawn_left_out: int = 0

    def row(self, measure: str, period: str, category: str | None = None,
            dimension: str | None = None, *, level: str | None = None) -> AggregateRow:
        """The row for a cell: category by label or group key (None: the total).

        :raises KeyError: for no such row, or for a label that several cells share (every
            dimension has its "Not recorded") when ``dimension`` and ``level`` do not say which.
        """
        return _one([row for row in self.rows
                     if (row.cell.measure, row.cell.period, row.cell.category) == (
                         measure, period, category)
                     and dimension in (None, row.cell.dimension)
                     and level in (None, row.cell.level)],
                    lambda row: (row.cell.dimension, row.cell.level),
                    (measure, period, dimension, category))

    def change(self, measure: str, from_period: str, to_period: str,
               category: str | None = None, dimension: str | None = None, *,
               level: str | None = None) -> ChangeRow:
        """The change in a cell from one period to a later one, found as ``row`` finds a row.

        :raises KeyError: for no such change, or a shared label without its dimension.
        """
        return _one([change for change in self.changes
                     if (change.measure, change.from_period, change.to_period, change.category)
                     == (measure, from_period, to_period, category)
                     and dimension in (None, change.dimension)
                     and level in (None, change.level)],
                    lambda change: (change.dimension, change.level),
                    (measure, from_period, to_period, dimension, category))

    def for_authority(self, slug: str) -> list[AuthorityRow]:
        return [row for row in self.authorities if row.slug == slug]


def _one(found: list[Any], where: Callable[[Any], tuple[str | None, str]],
         wanted: tuple[str | None, ...]) -> Any:
    """The single match, refusing to guess between cells that share a label."""
    if len(found) == 1:
        return found[0]
    if found:
        raise KeyError(f"{wanted!r} is in more than one cell: "
                       + ", ".join(f"{dimension} ({level})" for dimension, level in map(where, found))
                       + "; say which dimension (or level)")
    raise KeyError(wanted)
