"""The national (or any subset's) aggregate of a campaign's figures, computed by the database.

Every sum, count and rank below is one SQL query grouped by measure, period (or period group)
and category (or category group): no Python loop over figures. Python only does arithmetic on
the grouped rows (shares, percentages), whose number does not grow with the data.

Rates per 100,000 people (``_Rates``): each authority's population for each period is chosen
in Python from the small population table (domain.population), handed to the database as a
VALUES table, and joined to the figures, so a rate's sums are grouped there too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from sqlalchemy import (
    BigInteger,
    Select,
    and_,
    case,
    column,
    distinct,
    func,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session

from foitrack.domain.aggregate_rows import (
    Aggregate,
    AggregateRow,
    AuthorityRow,
    Cell,
    ChangeRow,
)
from foitrack.domain.design import (
    Breakdown,
    CampaignDesign,
    DesignCategory,
    DesignGroup,
    DesignMeasure,
    DesignPeriod,
    DesignPeriodGroup,
)
from foitrack.domain.figure_values import ValueKind
from foitrack.domain.phrasing import estimate_words
from foitrack.domain.population import choose_year, period_year
from foitrack.errors import Invalid, NotFound
from foitrack.models import (
    Authority,
    Campaign,
    CategoryGroup,
    Figure,
    PeriodGroup,
    Request,
    category_group_member,
    period_group_member,
)
from foitrack.models.population import DEFAULT_BASE
from foitrack.services.authorities import get_set
from foitrack.services.campaigns import find_authorities_by_keys
from foitrack.services.population import (
    MIN_RANKED_POPULATION,
    SMALL_POPULATION_NOTE,
    campaign_estimates,
)

KINDS = ("exact", "suppressed", "not_recorded", "not_held", "withheld", "not_provided")
USABLE_KINDS = ("exact", "suppressed")


def _base_filters(campaign: Campaign, authority_ids: Sequence[int] | None,
                  checked_only: bool) -> list[Any]:
    filters = [Request.campaign_id == campaign.id]
    if authority_ids is not None:
        filters.append(Request.authority_id.in_(authority_ids))
    if checked_only:
        filters.append(Figure.checked_by.is_not(None))
    return filters


def _grouped(campaign: Campaign, authority_ids: Sequence[int] | None, checked_only: bool,
             by_period_group: bool, by_category_group: bool) -> Select[Any]:
    """One grouped query: sums and counts per measure, period (group) and category (group).

    A period group sums a figure only if its authority gave a usable figure for the same
    category in every period of the group (``_complete_cells``): otherwise "the two years"
    would add one year of some authorities to two of others. Its counts of exact and
    suppressed figures are of those authorities too; the other kinds (not recorded, withheld
    ...) are counted over all, as they say why an authority is left out.
    """
    exact = Figure.kind == ValueKind.exact.value
    suppressed = Figure.kind == ValueKind.suppressed.value
    usable = or_(exact, suppressed)
    period_key = PeriodGroup.id if by_period_group else Figure.period_id
    category_key = CategoryGroup.id if by_category_group else Figure.category_id
    # One figure per request, measure, period and category (the unique indexes on figure).
    one_per_request = not by_period_group and not by_category_group
    complete = (_complete_cells(campaign, authority_ids, checked_only) if by_period_group
                else None)
    counted = complete.c.request_id.is_not(None) if complete is not None else None

    def summed(condition: Any) -> Any:
        return condition if counted is None else and_(counted, condition)

    def authorities(condition: Any) -> Any:
        """Authorities with a figure that meets ``condition``. With at most one figure each in
        the cell (no period or category group), a plain count gives the same number without
        the sort a DISTINCT needs for each of the counts."""
        if one_per_request:
            return func.count(case((condition, Figure.request_id)))
        return func.count(distinct(case((condition, Figure.request_id))))

    with_figure = authorities(summed(usable))
    query = (
        select(
            Figure.measure_id.label("measure_id"),
            period_key.label("period_id"),
            category_key.label("category_id"),
            func.coalesce(func.sum(case((summed(exact), Figure.value), else_=0)), 0).label("total"),
            func.coalesce(func.sum(case((summed(exact), Figure.value),
                                        (summed(suppressed), Figure.lower),
                                        else_=0)), 0).label("lower_bound"),
            func.coalesce(func.sum(case((summed(exact), Figure.value),
                                        (summed(suppressed), Figure.upper),
                                        else_=0)), 0).label("upper_bound"),
            *(authorities(summed(Figure.kind == kind) if kind in USABLE_KINDS
                          else Figure.kind == kind).label(kind) for kind in KINDS),
            # Distinct authorities: in a group one authority may give several kinds of value.
            with_figure.label("usable"),
            ((authorities(usable) - with_figure) if by_period_group else literal(0))
            .label("left_out"),
            (func.count(Figure.request_id) if one_per_request
             else func.count(distinct(Figure.request_id))).label("answered"),
        )
        .select_from(Figure)
        .join(Request, Request.id == Figure.request_id)
        .where(*_base_filters(campaign, authority_ids, checked_only))
        .group_by(Figure.measure_id, period_key, category_key)
    )
    if by_period_group:
        assert complete is not None
        query = (query.join(period_group_member, period_group_member.c.period_id == Figure.period_id)
                 .join(PeriodGroup, PeriodGroup.id == period_group_member.c.group_id)
                 .outerjoin(complete, and_(
                     complete.c.request_id == Figure.request_id,
                     complete.c.measure_id == Figure.measure_id,
                     complete.c.group_id == period_group_member.c.group_id,
                     complete.c.category_id == func.coalesce(Figure.category_id, literal(0)))))
    if by_category_group:
        query = (query.join(category_group_member,
                            category_group_member.c.category_id == Figure.category_id)
                 .join(CategoryGroup, CategoryGroup.id == category_group_member.c.group_id))
    return query


def _complete_cells(campaign: Campaign, authority_ids: Sequence[int] | None,
                    checked_only: bool) -> Any:
    """(request, measure, period group, category; 0 for the total) where the request gave a
    usable figure, exact or suppressed, in every period of the group: a subquery."""
    usable = or_(Figure.kind == ValueKind.exact.value, Figure.kind == ValueKind.suppressed.value)
    sizes = (select(period_group_member.c.group_id, func.count().label("periods"))
             .group_by(period_group_member.c.group_id).subquery())
    return (
        select(Figure.request_id.label("request_id"), Figure.measure_id.label("measure_id"),
               period_group_member.c.group_id.label("group_id"),
               func.coalesce(Figure.category_id, literal(0)).label("category_id"))
        .select_from(Figure)
        .join(Request, Request.id == Figure.request_id)
        .join(period_group_member, period_group_member.c.period_id == Figure.period_id)
        .join(sizes, sizes.c.group_id == period_group_member.c.group_id)
        .where(*_base_filters(campaign, authority_ids, checked_only), usable)
        .group_by(Figure.request_id, Figure.measure_id, period_group_member.c.group_id,
                  Figure.category_id, sizes.c.periods)
        .having(func.count(distinct(Figure.period_id)) == sizes.c.periods)
        .subquery()
    )


def _per_request(campaign: Campaign, authority_ids: Sequence[int] | None, checked_only: bool,
                 by_category_group: bool) -> Any:
    """Each request's exact value per measure, period and category (or group), as a subquery.

    For a group, an authority's value counts only when every member it gave is exact.
    """
    exact = Figure.kind == ValueKind.exact.value
    category_key = CategoryGroup.id if by_category_group else Figure.category_id
    query = (
        select(
            Figure.request_id.label("request_id"),
            Figure.measure_id.label("measure_id"),
            Figure.period_id.label("period_id"),
            func.coalesce(category_key, literal(0)).label("category_id"),
            func.sum(case((exact, Figure.value), else_=0)).label("value"),
            func.sum(case((exact, 0), else_=1)).label("not_exact"),
        )
        .select_from(Figure)
        .join(Request, Request.id == Figure.request_id)
        .where(*_base_filters(campaign, authority_ids, checked_only))
        .group_by(Figure.request_id, Figure.measure_id, Figure.period_id, category_key)
    )
    if by_category_group:
        query = (query.join(category_group_member,
                            category_group_member.c.category_id == Figure.category_id)
                 .join(CategoryGroup, CategoryGroup.id == category_group_member.c.group_id))
    return query.subquery()


# (measure, category or group (0: the total), earlier period, later period) ids: (authorities,
# their total in the earlier period, in the later one).
_Panels = dict[tuple[int | None, ...], tuple[int, int, int]]


def _panel(session: Session, campaign: Campaign, design: CampaignDesign,
           authority_ids: Sequence[int] | None, checked_only: bool,
           by_category_group: bool) -> _Panels:
    """Matched panels: per (measure, category, earlier period, later period), the authorities
    with exact figures in both, and their totals in each.

    One pass: each authority's exact values side by side, a column per period, then counted
    and summed for every pair of periods. (Joining the per-authority values to themselves, as
    this did before, took five times as long as the rest of the aggregate together.)
    """
    periods = design.periods_in_time
    pairs = [(i, j) for i in range(len(periods)) for j in range(i + 1, len(periods))
             if periods[i].start < periods[j].start]
    if not pairs:
        return {}
    if by_category_group:
        per = _per_request(campaign, authority_ids, checked_only, by_category_group)
        side_by_side = (
            select(per.c.measure_id, per.c.category_id,
                   *(func.max(case((per.c.period_id == period.id, per.c.value))).label(f"v{n}")
                     for n, period in enumerate(periods)))
            .where(per.c.not_exact == 0)
            .group_by(per.c.request_id, per.c.measure_id, per.c.category_id)
            .subquery()
        )
    else:
        # One figure a cell: its value if exact, straight from the figures.
        exact = Figure.kind == ValueKind.exact.value
        side_by_side = (
            select(Figure.measure_id.label("measure_id"),
                   func.coalesce(Figure.category_id, literal(0)).label("category_id"),
                   *(func.max(case((and_(Figure.period_id == period.id, exact), Figure.value)))
                     .label(f"v{n}") for n, period in enumerate(periods)))
            .select_from(Figure)
            .join(Request, Request.id == Figure.request_id)
            .where(*_base_filters(campaign, authority_ids, checked_only))
            .group_by(Figure.request_id, Figure.measure_id, Figure.category_id)
            .subquery()
        )
    columns = []
    for i, j in pairs:
        earlier, later = side_by_side.c[f"v{i}"], side_by_side.c[f"v{j}"]
        both = and_(earlier.is_not(None), later.is_not(None))
        columns += [func.count(case((both, 1))), func.sum(case((both, earlier))),
                    func.sum(case((both, later)))]
    query = (select(side_by_side.c.measure_id, side_by_side.c.category_id, *columns)
             .group_by(side_by_side.c.measure_id, side_by_side.c.category_id))
    panels: _Panels = {}
    for measure_id, category_id, *sums in session.execute(query):
        for n, (i, j) in enumerate(pairs):
            size, total_from, total_to = sums[3 * n:3 * n + 3]
            if size:
                panels[(measure_id, category_id, periods[i].id, periods[j].id)] = (
                    size, total_from, total_to)
    return panels


def _ranks(session: Session, campaign: Campaign, authority_ids: Sequence[int] | None,
           checked_only: bool) -> list[Any]:
    """Every figure with its rank among the exact figures of its cell (1 = highest)."""
    exact = Figure.kind == ValueKind.exact.value
    partition = (Figure.measure_id, Figure.period_id, Figure.category_id)
    rank = case((exact, func.rank().over(
        partition_by=(*partition, exact), order_by=Figure.value.desc())), else_=None)
    ranked = case((exact, func.count().over(partition_by=(*partition, exact))), else_=None)
    query = (
        select(Figure.id, Figure.measure_id, Figure.period_id, Figure.category_id, Figure.kind,
               Figure.value, Figure.lower, Figure.upper, Figure.caveat, Request.authority_id,
               Authority.slug, Authority.name, Authority.short_name, Authority.code,
               rank.label("rank"), ranked.label("ranked"))
        .select_from(Figure)
        .join(Request, Request.id == Figure.request_id)
        .join(Authority, Authority.id == Request.authority_id)
        .where(*_base_filters(campaign, authority_ids, checked_only))
        .order_by(Authority.name)
    )
    return list(session.execute(query))


def build(
    session: Session,
    campaign: Campaign,
    authority_ids: Sequence[int] | None = None,
    *,
    checked_only: bool = False,
    subset: str | None = None,
    with_authorities: bool = True,
) -> Aggregate:
    """The aggregate of ``campaign`` over all its authorities, or over ``authority_ids``."""
    asked = _asked(session, campaign, authority_ids)
    result = Aggregate(campaign.slug, asked, checked_only=checked_only, subset=subset)
    design = CampaignDesign.of(campaign)
    ids = _ById.of(design)
    for by_period_group, by_category_group in _groupings(design):
        query = _grouped(campaign, authority_ids, checked_only, by_period_group,
                         by_category_group)
        result.rows += [_aggregate_row(ids, row, asked, by_period_group, by_category_group)
                        for row in session.execute(query).mappings()]
    _drop_partly_asked(result, design)
    _add_denominators(result)
    _sort(result, design)
    _add_changes(session, result, campaign, design, authority_ids, checked_only)
    rates = _Rates.of(session, campaign, design, authority_ids)
    rates.add_to_rows(session, result, ids, campaign, design, authority_ids, checked_only)
    if with_authorities:
        result.authorities = _authority_rows(session, campaign, ids, authority_ids, checked_only,
                                             rates)
    return result


def _asked(session: Session, campaign: Campaign, authority_ids: Sequence[int] | None) -> int:
    """How many authorities the campaign asked, of ``authority_ids`` if given."""
    query = select(func.count()).select_from(Request).where(Request.campaign_id == campaign.id)
    if authority_ids is not None:
        query = query.where(Request.authority_id.in_(authority_ids))
    return session.scalar(query) or 0


def _groupings(design: CampaignDesign) -> list[tuple[bool, bool]]:
    """(by period group, by category group) for each grouped query the design needs: by period
    and category always; by period group or category group only when it has some."""
    return [(by_period_group, by_category_group)
            for by_period_group in (False, True) if design.period_groups or not by_period_group
            for by_category_group in (False, True) if design.groups or not by_category_group]


@dataclass(frozen=True)
class _ById:
    """The design's parts by the ids the grouped queries return."""

    measures: dict[int | None, DesignMeasure]
    periods: dict[int | None, DesignPeriod]
    period_groups: dict[int | None, DesignPeriodGroup]
    categories: dict[int | None, tuple[DesignCategory, Breakdown]]
    groups: dict[int | None, DesignGroup]

    @classmethod
    def of(cls, design: CampaignDesign) -> _ById:
        return cls({m.id: m for m in design.measures}, {p.id: p for p in design.periods},
                   {g.id: g for g in design.period_groups},
                   {c.id: (c, b) for b in design.breakdowns for c in b.categories},
                   {g.id: g for g in design.groups})


def _aggregate_row(ids: _ById, row: Any, asked: int, by_period_group: bool,
                   by_category_group: bool) -> AggregateRow:
    """One row of a grouped query as an aggregate row, its cell named by keys and labels."""
    period = (ids.period_groups if by_period_group else ids.periods)[row["period_id"]]
    measure = ids.measures[row["measure_id"]].key
    label = None
    not_recorded = False
    if by_category_group:
        group = ids.groups[row["category_id"]]
        cell = Cell(measure, period.key, group.dimension, group.key, "group")
        label = group.label
    elif row["category_id"] is None:
        cell = Cell(measure, period.key, None, None, "total")
    else:
        category, dimension = ids.categories[row["category_id"]]
        cell = Cell(measure, period.key, dimension.key, category.label, "category")
        label, not_recorded = category.label, category.is_not_recorded
    return AggregateRow(
        cell=cell, period_label=period.label, category_label=label,
        total=int(row["total"]), lower_bound=int(row["lower_bound"]),
        upper_bound=int(row["upper_bound"]),
        counts={kind: int(row[kind]) for kind in KINDS}, usable=int(row["usable"]),
        answered=int(row["answered"]), asked=asked,
        is_not_recorded=not_recorded, complete_only=by_period_group,
        left_out=int(row["left_out"]),
    )


def _drop_partly_asked(result: Aggregate, design: CampaignDesign) -> None:
    """No period-group rows for a dimension (or a measure's total) with no figures at all in
    one of the group's periods: it was not asked about then, and a sum over the group would
    be of the other periods only."""
    if not design.period_groups:
        return
    asked = {(r.cell.measure, r.cell.period, r.cell.dimension) for r in result.rows
             if not r.complete_only}
    members = {g.key: g.periods for g in design.period_groups}
    result.rows = [r for r in result.rows if not r.complete_only or all(
        (r.cell.measure, period, r.cell.dimension) in asked for period in members[r.cell.period])]


def _add_denominators(result: Aggregate) -> None:
    """Shares 'where recorded': the dimension's recorded categories add up to the denominator."""
    recorded: dict[tuple[str, str, str], int] = {}
    for row in result.rows:
        if row.cell.level == "category" and not row.is_not_recorded:
            key = (row.cell.measure, row.cell.period, row.cell.dimension or "")
            recorded[key] = recorded.get(key, 0) + row.total
    for row in result.rows:
        if row.cell.level in ("category", "group"):
            row.denominator = recorded.get((row.cell.measure, row.cell.period,
                                            row.cell.dimension or ""), 0)


def _sort(result: Aggregate, design: CampaignDesign) -> None:
    result.rows.sort(key=lambda row: design.row_order(
        row.cell.measure, row.cell.period, row.cell.level, row.cell.dimension, row.cell.category))


def _add_changes(session: Session, result: Aggregate, campaign: Campaign, design: CampaignDesign,
                 authority_ids: Sequence[int] | None, checked_only: bool) -> None:
    """Each period against every earlier one: all responding authorities, and the matched panel."""
    periods = design.periods_in_time
    pairs = [(earlier, later) for i, earlier in enumerate(periods) for later in periods[i + 1:]]
    in_time = {p.key for p in periods}
    # Keyed by dimension too: every dimension has its "Not recorded", and labels may repeat.
    rows = {(r.cell.measure, r.cell.period, r.cell.level, r.cell.dimension, r.cell.category): r
            for r in result.rows if r.cell.period in in_time}
    panels = _panel(session, campaign, design, authority_ids, checked_only, False)
    group_panels = (_panel(session, campaign, design, authority_ids, checked_only, True)
                    if design.groups else {})
    cells = {(r.cell.measure, r.cell.level, r.cell.dimension, r.cell.category) for r in result.rows
             if r.cell.period in in_time}
    for measure, level, dimension, category in sorted(cells, key=lambda c: tuple(map(str, c))):
        for earlier, later in pairs:
            before = rows.get((measure, earlier.key, level, dimension, category))
            after = rows.get((measure, later.key, level, dimension, category))
            if before is None or after is None:
                continue
            category_id, source = _panel_source(design, level, dimension, category, panels,
                                                group_panels)
            size, panel_from, panel_to = source.get(
                (design.measure(measure).id, category_id, earlier.id, later.id), (0, 0, 0))
            result.changes.append(ChangeRow(
                measure=measure, dimension=dimension, category=category, level=level,
                from_period=earlier.key, to_period=later.key, from_total=before.total,
                to_total=after.total, panel_size=int(size), panel_from=int(panel_from or 0),
                panel_to=int(panel_to or 0),
            ))


def _panel_source(design: CampaignDesign, level: str, dimension: str | None,
                  category: str | None, panels: _Panels,
                  group_panels: _Panels) -> tuple[int | None, _Panels]:
    """The id a cell's matched panels are keyed by (0 for the total), and which panels hold it."""
    if level == "group":
        return design.group(category or "").id, group_panels
    if level == "category":
        return design.category(dimension or "", category or "").id, panels
    return 0, panels


def _authority_rows(session: Session, campaign: Campaign, ids: _ById,
                    authority_ids: Sequence[int] | None, checked_only: bool,
                    rates: _Rates) -> list[AuthorityRow]:
    rows = []
    for r in _ranks(session, campaign, authority_ids, checked_only):
        found = ids.categories.get(r.category_id)
        dimension, label = (found[1].key, found[0].label) if found else (None, None)
        measure = ids.measures[r.measure_id]
        cell = Cell(measure.key, ids.periods[r.period_id].key, dimension,
                    label, "category" if r.category_id else "total")
        row = AuthorityRow(
            slug=r.slug, name=r.name, short_name=r.short_name, code=r.code, cell=cell,
            kind=str(r.kind.value if hasattr(r.kind, "value") else r.kind), value=r.value,
            lower=r.lower, upper=r.upper, rank=r.rank, ranked=r.ranked, caveat=r.caveat,
            figure_id=r.id,
        )
        rates.add_to_authority_row(row, measure, r.authority_id, r.period_id)
        rows.append(row)
    _rank_by_rate(rows)
    return rows


# ---- rates per 100,000 people --------------------------------------------------------------
#
# The rule (issue 18, docs/statistics.md): a total's or category's rate is the sum over the
# authorities that gave a usable figure *and* have a population for the measure's base,
# divided by those same authorities' population: never the national population over a
# partial sum. A suppressed figure ("<5") counts as the total counts it: 0 in the sum, with
# its authority's population in the denominator (it answered, so it is in the coverage the
# rate is stated over); ``rate_lower`` and ``rate_upper`` give the rate with every suppressed
# figure at its least and its most. An authority with no population (British Transport Police)
# is left out of both sides. A category group counts each authority's population once.
# Period groups ("the two years") get no rate: a sum over two years over one year's people is
# not a rate per year, and which year's people would be arbitrary.


@dataclass(frozen=True)
class _Chosen:
    """An authority's population for one base and period, and the mid-year it is of."""

    population: int
    year: int
    nearest: bool


@dataclass
class _Rates:
    """The populations a campaign's rates are worked out on, chosen per authority and period."""

    measures: dict[int | None, DesignMeasure] = field(default_factory=dict)  # the rated ones
    chosen: dict[tuple[int, str, int | None], _Chosen] = field(default_factory=dict)
    # Each period's own mid-year (None: no 30 June inside it), to say when a year is another.
    own_years: dict[int | None, int | None] = field(default_factory=dict)
    # Periods longer than a year: not rated (see ``rated_period``).
    too_long: frozenset[int | None] = frozenset()

    @classmethod
    def of(cls, session: Session, campaign: Campaign, design: CampaignDesign,
           authority_ids: Sequence[int] | None) -> _Rates:
        """The rated measures and their populations; no query when no measure is rated."""
        measures = {m.id: m for m in design.measures if m.rate_per > 0}
        if not measures:
            return cls()
        bases = {m.rate_base for m in measures.values()} | {DEFAULT_BASE}
        estimates = campaign_estimates(session, campaign.id, bases, authority_ids)
        chosen = {}
        rated = [period for period in design.periods if rated_period(period.start, period.end)]
        for (authority_id, base), years in estimates.items():
            for period in rated:
                choice = choose_year(period.start, period.end, years)
                if choice is not None:
                    chosen[(authority_id, base, period.id)] = _Chosen(
                        years[choice.year], choice.year, choice.nearest)
        return cls(measures, chosen,
                   {p.id: period_year(p.start, p.end) for p in design.periods},
                   frozenset(p.id for p in design.periods if p not in rated))

    def population(self, authority_id: int, base: str, period_id: int | None) -> _Chosen | None:
        return self.chosen.get((authority_id, base, period_id))

    def add_to_rows(self, session: Session, result: Aggregate, ids: _ById, campaign: Campaign,
                    design: CampaignDesign, authority_ids: Sequence[int] | None,
                    checked_only: bool) -> None:
        """Fill the rate fields of the total, category and group rows of rated measures."""
        if not self.measures:
            return
        cells: dict[tuple[str, str, str, str | None, str | None], AggregateRow] = {}
        for row in result.rows:
            measure = design.measure(row.cell.measure)
            if row.complete_only or measure.rate_per <= 0:
                continue
            row.rate_per, row.rate_base = measure.rate_per, measure.rate_base
            cells[(row.cell.measure, row.cell.period, row.cell.level, row.cell.dimension,
                   row.cell.category)] = row
        bases = sorted({m.rate_base for m in self.measures.values()})
        table = [(authority_id, period_id, bases.index(base), chosen.population, chosen.year)
                 for (authority_id, base, period_id), chosen in self.chosen.items()
                 if base in bases]
        if not table or not cells:
            return
        populations = _integer_table(
            ("authority_id", "period_id", "base", "population", "year"), table,
            "rate_population")
        base_of = {measure_id: bases.index(m.rate_base) for measure_id, m in self.measures.items()}
        sums: dict[tuple[str, str, str, str | None, str | None], list[int]] = {}
        years: dict[tuple[str, str, str, str | None, str | None], set[int]] = {}
        nearest: dict[tuple[str, str, str, str | None, str | None], set[int]] = {}
        for by_category_group in (False, True) if design.groups else (False,):
            query = _rate_sums(campaign, authority_ids, checked_only, by_category_group,
                               populations, base_of)
            for measure_id, period_id, category_id, year, *numbers in session.execute(query):
                key = _cell_key(ids, measure_id, period_id, category_id, by_category_group)
                totals = sums.setdefault(key, [0, 0, 0, 0, 0])
                for i, value in enumerate(numbers):
                    totals[i] += int(value or 0)
                years.setdefault(key, set()).add(int(year))
                if int(year) != self.own_years.get(period_id):
                    nearest.setdefault(key, set()).add(int(year))
        for key, (total, lower, upper, population, authorities) in sums.items():
            rated = cells.get(key)
            if rated is None or population <= 0:
                continue
            _set_rate(rated, total, lower, upper, population, authorities)
            rated.population_years = tuple(sorted(years[key]))
            rated.nearest_years = tuple(sorted(nearest.get(key, ())))
            rated.population_nearest = bool(rated.nearest_years)

    def add_to_authority_row(self, row: AuthorityRow, measure: DesignMeasure,
                             authority_id: int, period_id: int | None) -> None:
        """An authority's population, year and rate in a cell of a rated measure; its rank is
        set afterwards (``_rank_by_rate``), among the cell's authorities."""
        if measure.rate_per <= 0:
            return
        if period_id in self.too_long:
            row.rate_note = LONG_PERIOD_NOTE
            return
        chosen = self.population(authority_id, measure.rate_base, period_id)
        if chosen is None:
            row.rate_note = f"no {estimate_words(measure.rate_base)} for its area"
            return
        row.population, row.population_year = chosen.population, chosen.year
        row.population_nearest = chosen.nearest
        if row.value is None:
            return
        row.rate = row.value * measure.rate_per / chosen.population
        row.rate_exact = Fraction(row.value * measure.rate_per, chosen.population)
        # Ranked on residents even when rated on another base: a rate per child is as
        # meaningless for the City as one per resident.
        residents = self.population(authority_id, DEFAULT_BASE, period_id) or chosen
        if residents.population < MIN_RANKED_POPULATION:
            row.rate_note = SMALL_POPULATION_NOTE


# A rate is per year of residents: a two-year period's count over one year's population would
# be read as a yearly rate twice too high (the reason period groups have none either).
LONG_PERIOD_NOTE = "the period is longer than a year, so no rate is given"


def rated_period(start: dt.date, end: dt.date) -> bool:
    """Whether a period is rated: a year or less (366 days, a leap year's)."""
    return (end - start).days + 1 <= 366


def _set_rate(row: AggregateRow, total: int, lower: int, upper: int, population: int,
              authorities: int) -> None:
    row.population, row.rate_total, row.rate_authorities = population, total, authorities
    row.rate = total * row.rate_per / population
    row.rate_lower = lower * row.rate_per / population
    row.rate_upper = upper * row.rate_per / population


def _integer_table(names: tuple[str, ...], rows: Sequence[tuple[Any, ...]], name: str) -> Any:
    """``rows`` of whole numbers as a table the query can join, written into the statement.

    Not bound parameters: a campaign of 400 authorities and 312 monthly periods would pass the
    databases' limits on them. Not SQLAlchemy's ``values(..., literal_binds=True)`` either:
    compiling 2,400 rows of literals that way took 0.2 s, four times the whole aggregate's
    queries. ``int()`` makes every cell a plain number, so nothing else can reach the SQL.
    """
    body = ", ".join("(" + ", ".join(str(int(cell)) for cell in row) + ")" for row in rows)
    # SQLite and PostgreSQL both call a VALUES list's columns column1, column2, ...
    # CAST: INTEGER affinity, without which SQLite will not index them to join figures' ids.
    named = ", ".join(f"CAST(column{i + 1} AS BIGINT) AS {column_name}"
                      for i, column_name in enumerate(names))
    # MATERIALIZED: made once, so that SQLite indexes it for the join (without it, SQLite read
    # all of it again for every figure) and PostgreSQL hashes it once.
    return (text(f"SELECT {named} FROM (VALUES {body}) AS {name}_rows")
            .columns(*(column(column_name, BigInteger) for column_name in names))
            .cte(name).prefix_with("MATERIALIZED"))


def _rate_sums(campaign: Campaign, authority_ids: Sequence[int] | None, checked_only: bool,
               by_category_group: bool, populations: Any, base_of: dict[int | None, int]) -> Any:
    """Per measure, period, category (or group; 0: the total) and population year: the exact
    sum, its bounds, the population and the count of the authorities with a usable figure and
    a population. Each authority is one row before it is summed, so a group counts its
    population once."""
    exact = Figure.kind == ValueKind.exact.value
    suppressed = Figure.kind == ValueKind.suppressed.value
    usable = and_(*_base_filters(campaign, authority_ids, checked_only), or_(exact, suppressed),
                  Figure.measure_id.in_([m for m in base_of if m is not None]))

    def population_of(measure_id: Any, period_id: Any, authority_id: Any) -> Any:
        same = and_(populations.c.authority_id == authority_id,
                    populations.c.period_id == period_id)
        if len(set(base_of.values())) == 1:
            # One base (the usual case): the table holds only its rows, and a join on two
            # plain columns lets PostgreSQL hash it (a CASE in the key made it sort 19,000
            # figures for a merge join, a third of the aggregate's time).
            return same
        return and_(same, populations.c.base == case(base_of, value=measure_id))

    if not by_category_group:
        # One figure per request and cell: each figure is its authority's row already, so it
        # joins its population straight away (grouping by authority first took 4x as long).
        return (
            select(Figure.measure_id, Figure.period_id,
                   func.coalesce(Figure.category_id, literal(0)), populations.c.year,
                   func.sum(case((exact, Figure.value), else_=0)),
                   func.sum(case((exact, Figure.value), (suppressed, Figure.lower), else_=0)),
                   func.sum(case((exact, Figure.value), (suppressed, Figure.upper), else_=0)),
                   func.sum(populations.c.population), func.count())
            .select_from(Figure)
            .join(Request, Request.id == Figure.request_id)
            .join(populations, population_of(Figure.measure_id, Figure.period_id,
                                             Request.authority_id))
            .where(usable)
            .group_by(Figure.measure_id, Figure.period_id, Figure.category_id,
                      populations.c.year)
        )
    per = (
        select(
            Figure.measure_id.label("measure_id"), Figure.period_id.label("period_id"),
            CategoryGroup.id.label("category_id"),
            Request.authority_id.label("authority_id"),
            func.sum(case((exact, Figure.value), else_=0)).label("value"),
            func.sum(case((exact, Figure.value), (suppressed, Figure.lower), else_=0))
            .label("lower"),
            func.sum(case((exact, Figure.value), (suppressed, Figure.upper), else_=0))
            .label("upper"),
        )
        .select_from(Figure)
        .join(Request, Request.id == Figure.request_id)
        .join(category_group_member, category_group_member.c.category_id == Figure.category_id)
        .join(CategoryGroup, CategoryGroup.id == category_group_member.c.group_id)
        .where(usable)
        .group_by(Figure.measure_id, Figure.period_id, CategoryGroup.id, Request.authority_id)
    ).subquery()
    return (
        select(per.c.measure_id, per.c.period_id, per.c.category_id, populations.c.year,
               func.sum(per.c.value), func.sum(per.c.lower), func.sum(per.c.upper),
               func.sum(populations.c.population), func.count())
        .select_from(per)
        .join(populations, population_of(per.c.measure_id, per.c.period_id, per.c.authority_id))
        .group_by(per.c.measure_id, per.c.period_id, per.c.category_id, populations.c.year)
    )


def _cell_key(ids: _ById, measure_id: int, period_id: int, category_id: int,
              by_category_group: bool) -> tuple[str, str, str, str | None, str | None]:
    """(measure, period, level, dimension, category) of a rate query's row, as the rows' cells."""
    measure, period = ids.measures[measure_id].key, ids.periods[period_id].key
    if by_category_group:
        group = ids.groups[category_id]
        return measure, period, "group", group.dimension, group.key
    if not category_id:
        return measure, period, "total", None, None
    category, dimension = ids.categories[category_id]
    return measure, period, "category", dimension.key, category.label


def _rank_by_rate(rows: list[AuthorityRow]) -> None:
    """Rank each cell's rated authorities by rate, 1 the highest (equal rates share a rank),
    leaving out those under MIN_RANKED_POPULATION (their ``rate_note`` says why). In Python:
    the rows are here already, one per figure, and the rates compare exactly as fractions."""
    cells: dict[tuple[str, str, str | None, str | None], list[AuthorityRow]] = {}
    for row in rows:
        if row.rate_exact is not None:
            cells.setdefault((row.cell.measure, row.cell.period, row.cell.dimension,
                              row.cell.category), []).append(row)
    for rated in cells.values():
        ranked = sorted((row for row in rated if row.rate_note is None),
                        key=lambda row: row.rate_exact or 0, reverse=True)
        previous: Fraction | None = None
        rank = 0
        for position, row in enumerate(ranked, start=1):
            if row.rate_exact != previous:
                rank, previous = position, row.rate_exact
            row.rate_rank = rank
        for row in rated:
            row.rate_ranked = len(ranked)


def subset_ids(session: Session, spec: str | None) -> tuple[list[int] | None, str | None]:
    """Authority ids for a set name or comma-separated codes/slugs (None: everyone).

    :raises foitrack.errors.NotFound: for an unknown set or authority.
    """
    if not spec or not spec.strip():
        return None, None
    spec = spec.strip()
    if "," not in spec:
        try:
            found = get_set(session, spec)
        except NotFound:
            pass
        else:
            return [a.id for a in found.members], found.title
    try:
        authorities = find_authorities_by_keys(session, spec.split(","), "authorities")
    except Invalid as error:
        raise NotFound(f"{error.problems[0].message}, and no set {spec!r}") from None
    return [a.id for a in authorities], ", ".join(a.short_name for a in authorities)



def asked_authorities(session: Session, campaign: Campaign,
                      authority_ids: Sequence[int] | None = None) -> list[tuple[str, str, str | None]]:
    """(slug, name, code) of every authority the campaign asked, or of those in ``authority_ids``.

    The map needs them to tell "asked, no figure" from "not asked": the per-authority rows only
    hold authorities that gave something.
    """
    query = (select(Authority.slug, Authority.name, Authority.code)
             .join(Request, Request.authority_id == Authority.id)
             .where(Request.campaign_id == campaign.id).order_by(Authority.name))
    if authority_ids is not None:
        query = query.where(Authority.id.in_(authority_ids))
    return [(slug, name, code) for slug, name, code in session.execute(query)]
