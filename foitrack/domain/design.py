"""A campaign's data design as plain values: the tables of a campaign file, and the read-only
design every walk over measures, periods and breakdowns takes its order and labels from.

``CampaignDesign`` is built once from a campaign (``of``) or from a parsed file
(``from_spec``). The grid, the response template, the bulk import, the aggregate's sort, the
charts and the tile map all read it, so they agree on what the cells are and in which order.
Nothing here knows about the database or Flask: ``of`` reads any objects shaped like the models.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

# ---- the tables of a campaign file, as parsed (services.design checks them) -------------------


DEFAULT_RATE_PER = 100_000  # "per 100,000 people", the rate police statistics are given in
DEFAULT_RATE_BASE = "population"  # all usual residents (ONS mid-year estimates)


@dataclass
class MeasureSpec:
    key: str
    label: str
    unit: str
    rate_per: int = DEFAULT_RATE_PER  # 0: the measure is not rated
    rate_base: str = DEFAULT_RATE_BASE
    # Other names a reply may use for it ("Number of offences"): what extraction matches.
    # None: not given (applying the design keeps the stored ones); []: none.
    aliases: list[str] | None = None


@dataclass
class PeriodSpec:
    key: str
    label: str
    start: dt.date
    end: dt.date
    aliases: list[str] | None = None


@dataclass
class PeriodGroupSpec:
    key: str
    label: str
    periods: list[str]


@dataclass
class DimensionSpec:
    key: str
    label: str
    categories: list[str]
    not_recorded: str
    overlapping: bool = False  # a case may count under several categories
    unit: str = ""  # what its counts are called ("instances"); empty: the measure's unit
    # A category's other names, by its label: {"Messenger": ["Facebook Messenger"]}; None: not
    # given (applying the design keeps the stored ones).
    aliases: dict[str, list[str]] | None = None


@dataclass
class GroupSpec:
    key: str
    label: str
    dimension: str
    categories: list[str]


@dataclass
class Design:
    measures: list[MeasureSpec] = field(default_factory=list)
    periods: list[PeriodSpec] = field(default_factory=list)
    period_groups: list[PeriodGroupSpec] = field(default_factory=list)
    dimensions: list[DimensionSpec] = field(default_factory=list)
    groups: list[GroupSpec] = field(default_factory=list)
    suppression_threshold: int | None = None
    min_coverage: float | None = None  # [release]; None: release.DEFAULT_MIN_COVERAGE
    min_base: int | None = None  # [release]; None: release.DEFAULT_MIN_BASE


# ---- the read-only design ------------------------------------------------------------------
# Each part carries the id of its row when built from a campaign (None from a parsed file), so
# services can go from a key or label to the row without walking the models again.


@dataclass(frozen=True)
class DesignMeasure:
    key: str
    label: str
    unit: str
    id: int | None = None
    rate_per: int = DEFAULT_RATE_PER  # 0: not rated
    rate_base: str = DEFAULT_RATE_BASE
    aliases: tuple[str, ...] = ()  # other names a reply may use (extraction matches them)


@dataclass(frozen=True)
class DesignPeriod:
    key: str
    label: str
    start: dt.date
    end: dt.date
    id: int | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class DesignCategory:
    label: str
    is_not_recorded: bool = False
    id: int | None = None
    dimension: str = ""  # the key of its breakdown
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Breakdown:
    """A dimension: the categories a total is broken down into, its "not recorded" last."""

    key: str
    label: str
    categories: tuple[DesignCategory, ...]
    overlapping: bool = False
    unit: str = ""
    id: int | None = None

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(c.label for c in self.categories)

    @property
    def not_recorded(self) -> DesignCategory | None:
        return next((c for c in self.categories if c.is_not_recorded), None)

    def category(self, label: str) -> DesignCategory:
        """:raises KeyError: for a label that is not one of its categories (case matters)."""
        found = next((c for c in self.categories if c.label == label), None)
        if found is None:
            raise KeyError((self.key, label))
        return found


@dataclass(frozen=True)
class DesignGroup:
    """Categories of one breakdown added together, in the breakdown's order."""

    key: str
    label: str
    dimension: str
    categories: tuple[str, ...]
    id: int | None = None


@dataclass(frozen=True)
class DesignPeriodGroup:
    key: str
    label: str
    periods: tuple[str, ...]
    id: int | None = None


@dataclass(frozen=True)
class DesignCell:
    """One figure a request may hold: a measure in a period, for the total or one category."""

    measure: DesignMeasure
    period: DesignPeriod
    breakdown: Breakdown | None = None  # None for the total
    category: DesignCategory | None = None

    @property
    def key(self) -> tuple[str, str, str | None, str | None]:
        """(measure key, period key, dimension key, category label); None, None: the total."""
        return (self.measure.key, self.period.key,
                self.breakdown.key if self.breakdown else None,
                self.category.label if self.category else None)

    @property
    def label(self) -> str:
        """How a page names the cell: "Offences, 2018/19, Instagram" or "..., total"."""
        return (f"{self.measure.label}, {self.period.label}, "
                f"{self.category.label if self.category else 'total'}")


def _aliases(row: Any) -> tuple[str, ...]:
    """A model row's aliases (a list kept as JSON), () for a row or object without them."""
    return tuple(getattr(row, "aliases", None) or ())


LEVELS = ("total", "category", "group")  # the order of an aggregate's rows within a period


def _index(items: tuple[Any, ...], key: Any) -> Mapping[Any, Any]:
    return MappingProxyType({key(item): item for item in items})


@dataclass(frozen=True)
class CampaignDesign:
    """A campaign's data design, read-only: its parts in the design's order, and lookups by key.

    :meth:`cells` is the one canonical order of a request's cells (the grid's and the response
    template's); :meth:`row_order` the aggregate's order of rows.
    """

    measures: tuple[DesignMeasure, ...] = ()
    periods: tuple[DesignPeriod, ...] = ()  # in the design's order (see ``periods_in_time``)
    period_groups: tuple[DesignPeriodGroup, ...] = ()
    breakdowns: tuple[Breakdown, ...] = ()
    groups: tuple[DesignGroup, ...] = ()
    suppression_threshold: int | None = None
    _measures: Mapping[str, DesignMeasure] = field(init=False, repr=False, compare=False)
    _periods: Mapping[str, DesignPeriod] = field(init=False, repr=False, compare=False)
    _breakdowns: Mapping[str, Breakdown] = field(init=False, repr=False, compare=False)
    _groups: Mapping[str, DesignGroup] = field(init=False, repr=False, compare=False)
    _period_groups: Mapping[str, DesignPeriodGroup] = field(init=False, repr=False,
                                                            compare=False)
    _orders: _Orders = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Frozen: the lookups are made once, here, and cannot drift from the tuples.
        for name, items in (("_measures", self.measures), ("_periods", self.periods),
                            ("_breakdowns", self.breakdowns), ("_groups", self.groups),
                            ("_period_groups", self.period_groups)):
            object.__setattr__(self, name, _index(items, lambda item: item.key))
        object.__setattr__(self, "_orders", _Orders.of(self))

    # -- building --------------------------------------------------------------------------

    @classmethod
    def of(cls, campaign: Any) -> CampaignDesign:
        """The design of a campaign (the model, or anything shaped like it), read once."""
        return cls(
            measures=tuple(DesignMeasure(m.key, m.label, m.unit, m.id,
                                         DEFAULT_RATE_PER if m.rate_per is None else m.rate_per,
                                         m.rate_base or DEFAULT_RATE_BASE, _aliases(m))
                           for m in campaign.measures),
            periods=tuple(DesignPeriod(p.key, p.label, p.start, p.end, p.id, _aliases(p))
                          for p in campaign.periods),
            period_groups=tuple(DesignPeriodGroup(g.key, g.label,
                                                  tuple(p.key for p in g.periods), g.id)
                                for g in campaign.period_groups),
            breakdowns=tuple(
                Breakdown(d.key, d.label,
                          tuple(DesignCategory(c.label, bool(c.is_not_recorded), c.id, d.key,
                                               _aliases(c))
                                for c in d.categories),
                          bool(d.overlapping), d.unit or "", d.id)
                for d in campaign.dimensions),
            groups=tuple(DesignGroup(g.key, g.label, g.dimension.key,
                                     tuple(c.label for c in g.categories), g.id)
                         for g in campaign.groups),
            suppression_threshold=campaign.suppression_threshold,
        )

    @classmethod
    def from_spec(cls, design: Design) -> CampaignDesign:
        """The design a parsed campaign file describes, as applying it would store it: each
        breakdown's "not recorded" category last."""
        def breakdown(spec: DimensionSpec) -> Breakdown:
            labels = [label for label in spec.categories if label != spec.not_recorded]
            aliases = {label: tuple(names) for label, names in (spec.aliases or {}).items()}
            return Breakdown(spec.key, spec.label,
                             (*(DesignCategory(label, dimension=spec.key,
                                               aliases=aliases.get(label, ()))
                                for label in labels),
                              DesignCategory(spec.not_recorded, True, dimension=spec.key,
                                             aliases=aliases.get(spec.not_recorded, ()))),
                             spec.overlapping, spec.unit)

        def group(spec: GroupSpec) -> DesignGroup:
            return DesignGroup(spec.key, spec.label, spec.dimension, tuple(spec.categories))

        return cls(
            measures=tuple(DesignMeasure(m.key, m.label, m.unit, None, m.rate_per, m.rate_base,
                                         tuple(m.aliases or ()))
                           for m in design.measures),
            periods=tuple(DesignPeriod(p.key, p.label, p.start, p.end, None, tuple(p.aliases or ()))
                          for p in design.periods),
            period_groups=tuple(DesignPeriodGroup(g.key, g.label, tuple(g.periods))
                                for g in design.period_groups),
            breakdowns=tuple(breakdown(d) for d in design.dimensions),
            groups=tuple(group(g) for g in design.groups),
            suppression_threshold=design.suppression_threshold,
        )

    # -- lookups (each :raises KeyError: for an unknown key) -------------------------------

    def measure(self, key: str) -> DesignMeasure:
        return self._measures[key]

    def period(self, key: str) -> DesignPeriod:
        return self._periods[key]

    def breakdown(self, key: str) -> Breakdown:
        return self._breakdowns[key]

    def category(self, dimension: str, label: str) -> DesignCategory:
        return self._breakdowns[dimension].category(label)

    def group(self, key: str) -> DesignGroup:
        return self._groups[key]

    def period_group(self, key: str) -> DesignPeriodGroup:
        return self._period_groups[key]

    def has_measure(self, key: str) -> bool:
        return key in self._measures

    def has_period(self, key: str) -> bool:
        return key in self._periods

    def has_breakdown(self, key: str) -> bool:
        return key in self._breakdowns

    # -- orders ----------------------------------------------------------------------------

    @property
    def periods_in_time(self) -> tuple[DesignPeriod, ...]:
        """The periods by start date (the design's order among equal starts): as charts, the
        changes and the tile map walk them."""
        return tuple(sorted(self.periods, key=lambda p: p.start))

    def cells(self) -> Iterator[DesignCell]:
        """Every cell of a request, in the canonical order: by measure, then period, the total
        first, then each breakdown's categories in turn."""
        for measure in self.measures:
            for period in self.periods:
                yield DesignCell(measure, period)
                for breakdown in self.breakdowns:
                    for category in breakdown.categories:
                        yield DesignCell(measure, period, breakdown, category)

    def cell_count(self) -> int:
        return len(self.measures) * len(self.periods) * (
            1 + sum(len(b.categories) for b in self.breakdowns))

    def category_choices(self) -> list[tuple[str, str]]:
        """("<dimension key>:<label>", "<dimension label>: <label>") for every category, in
        order: the choices of a form that picks one (the tile map's)."""
        return [(f"{b.key}:{c.label}", f"{b.label or b.key}: {c.label}")
                for b in self.breakdowns for c in b.categories]

    def row_order(self, measure: str, period: str, level: str, dimension: str | None,
                  category: str | None) -> tuple[int, int, int, int, int]:
        """Where an aggregate row sits: by measure, period (period groups after the periods),
        total before categories before groups, then breakdown and category (or group) order.

        A category or group the design does not know sorts first within its level.
        """
        order = self._orders
        within = (order.categories.get((dimension or "", category or ""), 0)
                  if level == "category" else order.groups.get(category or "", 0))
        return (order.measures[measure], order.periods[period], LEVELS.index(level),
                order.breakdowns.get(dimension or "", -1), within)


@dataclass(frozen=True)
class _Orders:
    measures: Mapping[str, int]
    periods: Mapping[str, int]  # the periods', then the period groups' keys
    breakdowns: Mapping[str, int]
    categories: Mapping[tuple[str, str], int]
    groups: Mapping[str, int]

    @classmethod
    def of(cls, design: CampaignDesign) -> _Orders:
        periods = {p.key: i for i, p in enumerate(design.periods)}
        periods.update({g.key: len(design.periods) + i for i, g in enumerate(design.period_groups)})
        return cls(
            measures={m.key: i for i, m in enumerate(design.measures)},
            periods=periods,
            breakdowns={b.key: i for i, b in enumerate(design.breakdowns)},
            categories={(b.key, c.label): i for b in design.breakdowns
                        for i, c in enumerate(b.categories)},
            groups={g.key: i for i, g in enumerate(design.groups)},
        )


def comparable(first: Any, second: Any) -> bool:
    """Whether two periods are alike enough to compare totals: a quarter is not a year."""
    return abs((first.end - first.start).days - (second.end - second.start).days) <= 3
