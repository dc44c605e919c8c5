"""The national (or any subset's) aggregate of a campaign's figures, computed by the database.

Every sum, count and rank below is one SQL query grouped by measure, period (or period group)
and category (or category group): no Python loop over figures. Python only does arithmetic on
the grouped rows (shares, percentages), whose number does not grow with the data. The plain
level (totals and categories by period), its matched panels and its rates share one query
(``_folded``) for designs of up to MAX_FOLDED_PERIODS periods: one pass over the figures
instead of three, the costliest part of the aggregate.

Rates per 100,000 people (``_Rates``): each authority's population for each period is chosen
in Python from the small population table (domain.population), handed to the database as a
VALUES table, and joined to the figures, so a rate's sums are grouped there too.
"""

from __future__ import annotations

import datetime as dt
import functools
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
from foitrack.domain.population import YearChoice, choose_year, period_year
from foitrack.domain.timeline import EventKind, ResponseOutcome, TimelineEvent, standing_outcome
from foitrack.errors import Invalid, NotFound
from foitrack.models import (
    Authority,
    AuthoritySet,
    Campaign,
    CategoryGroup,
    Event,
    Figure,
    PeriodGroup,
    Request,
    category_group_member,
    period_group_member,
)
from foitrack.models.authority import casefold
from foitrack.models.population import DEFAULT_BASE
from foitrack.services.campaigns import authorities_by_key
from foitrack.services.population import (
    MIN_RANKED_POPULATION,
    SMALL_POPULATION_NOTE,
    campaign_estimates,
)
from foitrack.services.requests import counts_for_authority
from foitrack.services.withdrawals import from_withdrawn_response, not_withdrawn

KINDS = ("exact", "suppressed", "not_recorded", "not_held", "withheld", "not_provided")
USABLE_KINDS = ("exact", "suppressed")


def _base_filters(campaign_id: int, authority_ids: Sequence[int] | None,
                  checked_only: bool) -> list[Any]:
    # Figures from a response the authority withdrew are left out, and counted in the note
    # (withdrawn_left_out): a publisher must not add up an answer the force took back.
    filters = [Request.campaign_id == campaign_id, not_withdrawn()]
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
        .where(*_base_filters(campaign.id, authority_ids, checked_only))
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
        .where(*_base_filters(campaign.id, authority_ids, checked_only), usable)
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
        .where(*_base_filters(campaign.id, authority_ids, checked_only))
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
            .where(*_base_filters(campaign.id, authority_ids, checked_only))
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


# (measure, period, category or group (0: the total), population year) ids: the exact sum, its
# bounds, the population and the authorities of a rate (see ``_Rates.add_to_rows``).
_RateSums = dict[tuple[int, int | None, int, int], tuple[int, int, int, int, int]]

# Up to this many periods the plain level is folded into one query (``_folded``); beyond, its
# columns (a handful per period, three per pair of periods) would grow past what is worth it.
MAX_FOLDED_PERIODS = 12


@dataclass
class _Folded:
    """The totals and categories of every period, their matched panels and their rate sums,
    from the one query ``_folded``; shaped as ``_grouped``, ``_panel`` and ``_rate_sums``
    return them, so the rest of ``build`` does not know which it was given."""

    rows: list[dict[str, Any]]
    panels: _Panels
    rate_sums: _RateSums


def _folded(session: Session, campaign: Campaign, design: CampaignDesign,
            authority_ids: Sequence[int] | None, checked_only: bool, rates: _Rates) -> _Folded:
    """The plain level (no period or category group) in one pass over the figures.

    Each request's figures in a measure and category (or the total) are put side by side, a
    kind, exact value and bounds per period (one figure a cell: the unique indexes on figure),
    then joined to the authority's populations, a population and a mid-year per period, and
    counted per measure, category and those mid-years. That one scan gives what three did:
    the sums and counts per period (``_grouped``), the matched panel of every pair of periods
    (``_panel``) and the rates' sums (``_rate_sums``), whose authorities without a population
    (or of an unrated measure) are the rows whose mid-year is none. Python adds up the few
    rows of different mid-years (usually one for all, and one for those without).
    """
    periods = design.periods
    in_design = {p.id: n for n, p in enumerate(periods)}
    pairs = tuple((in_design[a.id], in_design[b.id]) for i, a in enumerate(design.periods_in_time)
                  for b in design.periods_in_time[i + 1:] if a.start < b.start)
    populations = rates.by_period_rows(design)
    query = _folded_query(campaign.id, None if authority_ids is None else tuple(authority_ids),
                          checked_only, tuple(p.id for p in periods), pairs,
                          rates.bases_of_measures(), populations)
    years = len(periods) if populations is not None else 0

    cells: dict[tuple[int, int | None, int], list[int]] = {}
    panels: dict[tuple[int | None, ...], list[int]] = {}
    rate_sums: dict[tuple[int, int | None, int, int], list[int]] = {}
    block = len(KINDS) + 4 + (populations is not None)
    for measure_id, category_id, *rest in session.execute(query):
        row_years, rest = rest[:years], rest[years:]
        for n, period in enumerate(periods):
            counts = rest[n * block:n * block + len(KINDS)]
            summed, below, above, answered, *population = rest[n * block + len(KINDS):
                                                                (n + 1) * block]
            if not answered:
                continue
            total = int(summed or 0)
            lower, upper = total + int(below or 0), total + int(above or 0)
            usable = int(counts[0]) + int(counts[1])
            cell = cells.setdefault((measure_id, period.id, category_id), [0] * (len(KINDS) + 5))
            for k, count in enumerate((*counts, total, lower, upper, usable, answered)):
                cell[k] += int(count)
            # No year (-1, or none at all from the outer join): no population for the rate.
            year = -1 if not row_years or row_years[n] is None else int(row_years[n])
            if year >= 0 and usable:
                sums = rate_sums.setdefault((measure_id, period.id, category_id, year),
                                            [0, 0, 0, 0, 0])
                for k, number in enumerate((total, lower, upper, int(population[0] or 0),
                                            usable)):
                    sums[k] += number
        for p, (i, j) in enumerate(pairs):
            size, total_from, total_to = rest[len(periods) * block + 3 * p:
                                              len(periods) * block + 3 * p + 3]
            if size:
                panel = panels.setdefault((measure_id, category_id, periods[i].id,
                                           periods[j].id), [0, 0, 0])
                panel[0] += int(size)
                panel[1] += int(total_from or 0)
                panel[2] += int(total_to or 0)
    rows = [{"measure_id": measure_id, "period_id": period_id,
             "category_id": category_id or None,
             **dict(zip(KINDS, numbers, strict=False)),
             "total": numbers[-5], "lower_bound": numbers[-4], "upper_bound": numbers[-3],
             "usable": numbers[-2], "answered": numbers[-1], "left_out": 0}
            for (measure_id, period_id, category_id), numbers in cells.items()]
    return _Folded(rows, {key: (size, total_from, total_to)
                          for key, (size, total_from, total_to) in panels.items()},
                   {key: (total, lower, upper, population, authorities)
                    for key, (total, lower, upper, population, authorities)
                    in rate_sums.items()})


# The folded statement of a campaign's shape, kept: it has over a hundred columns, and building it
# and its cache key took a quarter of the aggregate's time, again on every build. Made only
# from its arguments, so a kept statement cannot be of other periods, measures, authorities
# or populations than those it is asked for; figures are read when it runs, never kept.
@functools.lru_cache(maxsize=64)
def _folded_query(campaign_id: int, authority_ids: tuple[int, ...] | None, checked_only: bool,
                  periods: tuple[int | None, ...], pairs: tuple[tuple[int, int], ...],
                  bases: tuple[tuple[int | None, int], ...],
                  populations: tuple[tuple[int, ...], ...] | None) -> Select[Any]:
    """The statement ``_folded`` runs: per period n the kind counts, sums, answered count and
    (with ``populations``) population of columns k{n}, x{n}... of each request, then three
    columns per pair of periods (indexes into ``periods``), grouped by measure, category and
    (with populations) each period's population mid-year; ``bases`` is (measure id, base) of
    every rated measure, ``populations`` the rows of ``_Rates.by_period_rows``."""
    exact = Figure.kind == ValueKind.exact.value
    suppressed = Figure.kind == ValueKind.suppressed.value
    columns = []
    for n, period_id in enumerate(periods):
        here = Figure.period_id == period_id
        columns += [func.max(case((here, Figure.kind))).label(f"k{n}"),
                    func.max(case((and_(here, exact), Figure.value))).label(f"x{n}"),
                    func.max(case((and_(here, suppressed), Figure.lower))).label(f"l{n}"),
                    func.max(case((and_(here, suppressed), Figure.upper))).label(f"u{n}")]
    side_by_side = (
        select(Figure.measure_id.label("measure_id"),
               func.coalesce(Figure.category_id, literal(0)).label("category_id"),
               Request.authority_id.label("authority_id"), *columns)
        .select_from(Figure)
        .join(Request, Request.id == Figure.request_id)
        .where(*_base_filters(campaign_id, authority_ids, checked_only))
        .group_by(Figure.request_id, Request.authority_id, Figure.measure_id, Figure.category_id)
        .subquery()
    )
    c = side_by_side.c
    table = (_integer_table(("authority_id", "base", *(f"{letter}{n}" for n in range(len(periods))
                                                      for letter in ("p", "y"))),
                            populations, "rate_population_by_period")
             if populations is not None else None)
    years = [table.c[f"y{n}"] for n in range(len(periods))] if table is not None else []
    selected: list[Any] = [c.measure_id, c.category_id, *years]
    for n in range(len(periods)):
        kind = c[f"k{n}"]
        selected += [*(func.count(case((kind == k, 1))) for k in KINDS),
                     func.sum(c[f"x{n}"]), func.sum(c[f"l{n}"]), func.sum(c[f"u{n}"]),
                     func.count(kind)]
        if table is not None:
            selected.append(func.sum(case((kind.in_(USABLE_KINDS), table.c[f"p{n}"]))))
    for i, j in pairs:
        earlier, later = c[f"x{i}"], c[f"x{j}"]
        both = and_(earlier.is_not(None), later.is_not(None))
        selected += [func.count(case((both, 1))), func.sum(case((both, earlier))),
                     func.sum(case((both, later)))]
    query = select(*selected).select_from(side_by_side)
    if table is not None:
        # A measure's figures meet the populations of its own base only (none if unrated).
        on = and_(table.c.authority_id == c.authority_id,
                  c.measure_id.in_([measure_id for measure_id, _ in bases]))
        if len({base for _, base in bases}) > 1:
            on = and_(on, table.c.base == case(dict(bases), value=c.measure_id))
        query = query.outerjoin(table, on)
    return query.group_by(c.measure_id, c.category_id, *years)


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
        .where(*_base_filters(campaign.id, authority_ids, checked_only))
        # A whole order, not just the authority's: PostgreSQL may return an authority's figures
        # in another order from one run to the next (two builds of one aggregate differed so).
        # The cell's order is SQLite's, which a figure's unique index gave it before.
        .order_by(Authority.name, Figure.measure_id, Figure.period_id,
                  Figure.category_id.nulls_first(), Figure.id)
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
    rates = _Rates.of(session, campaign, design, authority_ids)
    folded = (_folded(session, campaign, design, authority_ids, checked_only, rates)
              if len(design.periods) <= MAX_FOLDED_PERIODS else None)
    for by_period_group, by_category_group in _groupings(design):
        if folded is not None and not by_period_group and not by_category_group:
            rows: Any = folded.rows
        else:
            rows = session.execute(_grouped(campaign, authority_ids, checked_only,
                                            by_period_group, by_category_group)).mappings()
        result.rows += [_aggregate_row(ids, row, asked, by_period_group, by_category_group)
                        for row in rows]
    replied, refusing = _replies(session, campaign, authority_ids)
    result.withdrawn_left_out = _withdrawn_left_out(session, campaign, authority_ids,
                                                    checked_only)
    for row in result.rows:
        row.not_replied, row.refusing = asked - replied, refusing
    _drop_partly_asked(result, design)
    _add_denominators(result)
    _sort(result, design)
    _add_changes(session, result, campaign, design, authority_ids, checked_only,
                 folded.panels if folded is not None else None)
    rates.add_to_rows(session, result, ids, campaign, design, authority_ids, checked_only,
                      folded.rate_sums if folded is not None else None)
    if with_authorities:
        result.authorities = _authority_rows(session, campaign, ids, authority_ids, checked_only,
                                             rates)
    return result


def _asked(session: Session, campaign: Campaign, authority_ids: Sequence[int] | None) -> int:
    """How many authorities the campaign asked, of ``authority_ids`` if given."""
    # Once each: a narrowed follow-up asks the same authority again (services.follow_ups).
    query = select(func.count()).select_from(Request).where(Request.campaign_id == campaign.id,
                                                            Request.follow_up_number == 0)
    if authority_ids is not None:
        query = query.where(Request.authority_id.in_(authority_ids))
    return session.scalar(query) or 0


def _withdrawn_left_out(session: Session, campaign: Campaign,
                        authority_ids: Sequence[int] | None, checked_only: bool) -> int:
    """How many figures _base_filters left out as from a withdrawn response."""
    query = (select(func.count()).select_from(Figure)
             .join(Request, Request.id == Figure.request_id)
             .where(Request.campaign_id == campaign.id, from_withdrawn_response()))
    if authority_ids is not None:
        query = query.where(Request.authority_id.in_(authority_ids))
    if checked_only:
        query = query.where(Figure.checked_by.is_not(None))
    return session.scalar(query) or 0


# Events by which the authority answered (FOIA s.1, s.17; FOISA s.1, s.16, s.21(4)), and the
# decisions that change what stands; a refusal is a reply, not a silence. A response the
# authority withdrew (practice, not law) stands no more: with nothing since, the request counts
# as not replied, its figures being left out too.
_REPLIES = (EventKind.response, EventKind.internal_review_outcome)
_DECISIONS = (*_REPLIES, EventKind.ico_decision, EventKind.response_withdrawn,
              EventKind.response_replaced)
_REFUSING = (ResponseOutcome.refused, ResponseOutcome.ncnd)


def _replies(session: Session, campaign: Campaign,
             authority_ids: Sequence[int] | None) -> tuple[int, int]:
    """How many of the authorities asked replied at all, and how many of them refused (the
    outcome that stands after any review or decision notice): in one query."""
    query = (select(Event.request_id, Event.kind, Event.outcome, Event.occurred_on, Event.id,
                    Event.steps_ordered)
             .join(Request, Request.id == Event.request_id)
             .where(Request.campaign_id == campaign.id, Event.removed_at.is_(None),
                    Event.kind.in_(_DECISIONS),
                    # each authority's reply as its figures' source (services.follow_ups): a
                    # cost refusal a narrowed follow-up superseded is not counted as one
                    counts_for_authority()))
    if authority_ids is not None:
        query = query.where(Request.authority_id.in_(authority_ids))
    decisions: dict[int, list[TimelineEvent]] = {}
    for request_id, kind, outcome, on, event_id, steps in session.execute(query):
        # steps: a decision notice changes the outcome only when it ordered some (FOIA s.50(4))
        decisions.setdefault(request_id, []).append(
            TimelineEvent(kind=kind, on=on, seq=event_id, outcome=outcome, steps_ordered=steps))
    replied = sum(1 for found in decisions.values() if any(e.kind in _REPLIES for e in found)
                  and not _withdrawn_now(found))
    refusing = sum(1 for found in decisions.values() if standing_outcome(found) in _REFUSING)
    return replied, refusing


def _withdrawn_now(events: list[TimelineEvent]) -> bool:
    """The last answer (response, replacement or withdrawal) is a withdrawal."""
    answers = [e for e in sorted(events, key=TimelineEvent.sort_key) if e.kind in (
        EventKind.response, EventKind.response_replaced, EventKind.response_withdrawn)]
    return bool(answers) and answers[-1].kind is EventKind.response_withdrawn


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
                 authority_ids: Sequence[int] | None, checked_only: bool,
                 panels: _Panels | None = None) -> None:
    """Each period against every earlier one: all responding authorities, and the matched panel
    (the categories' and totals' ``panels`` when the folded query has counted them already)."""
    periods = design.periods_in_time
    pairs = [(earlier, later) for i, earlier in enumerate(periods) for later in periods[i + 1:]]
    in_time = {p.key for p in periods}
    # Keyed by dimension too: every dimension has its "Not recorded", and labels may repeat.
    rows = {(r.cell.measure, r.cell.period, r.cell.level, r.cell.dimension, r.cell.category): r
            for r in result.rows if r.cell.period in in_time}
    if panels is None:
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
        own_years = {p.id: period_year(p.start, p.end) for p in design.periods}
        # choose_year depends on the period and the years an authority has only: worked out
        # once for each, not for each of 400 authorities (most have the same years).
        choices: dict[tuple[int | None, frozenset[int]], YearChoice | None] = {}
        for (authority_id, base), years in estimates.items():
            available = frozenset(years)
            for period in rated:
                own = own_years[period.id]
                if own is not None and own in available:  # as choose_year would say
                    chosen[(authority_id, base, period.id)] = _Chosen(years[own], own, False)
                    continue
                if (period.id, available) not in choices:
                    choices[(period.id, available)] = choose_year(period.start, period.end,
                                                                  available)
                choice = choices[(period.id, available)]
                if choice is not None:
                    chosen[(authority_id, base, period.id)] = _Chosen(
                        years[choice.year], choice.year, choice.nearest)
        return cls(measures, chosen, own_years,
                   frozenset(p.id for p in design.periods if p not in rated))

    def population(self, authority_id: int, base: str, period_id: int | None) -> _Chosen | None:
        return self.chosen.get((authority_id, base, period_id))

    def by_period_rows(self, design: CampaignDesign) -> tuple[tuple[int, ...], ...] | None:
        """Each authority's chosen population and its mid-year for every period of the design,
        one row per authority and rated base: (authority id, base, p0, y0, p1, y1 ...), with
        population 0 and year -1 where none was chosen; None when none is rated."""
        if not self.measures:
            return None
        bases = sorted({m.rate_base for m in self.measures.values()})
        periods = {p.id: n for n, p in enumerate(design.periods)}
        table: dict[tuple[int, str], list[int]] = {}
        for (authority_id, base, period_id), chosen in self.chosen.items():
            if base not in bases:
                continue
            row = table.get((authority_id, base))
            if row is None:
                row = table[(authority_id, base)] = [authority_id, bases.index(base),
                                                     *[0, -1] * len(periods)]
            n = periods[period_id]
            row[2 + 2 * n], row[3 + 2 * n] = chosen.population, chosen.year
        return tuple(tuple(row) for row in table.values()) or None

    def bases_of_measures(self) -> tuple[tuple[int | None, int], ...]:
        """(measure id, its base's index in the sorted bases) of every rated measure."""
        bases = sorted({m.rate_base for m in self.measures.values()})
        return tuple((measure_id, bases.index(m.rate_base))
                     for measure_id, m in sorted(self.measures.items(),
                                                 key=lambda item: item[0] or 0))

    def add_to_rows(self, session: Session, result: Aggregate, ids: _ById, campaign: Campaign,
                    design: CampaignDesign, authority_ids: Sequence[int] | None,
                    checked_only: bool, plain: _RateSums | None = None) -> None:
        """Fill the rate fields of the total, category and group rows of rated measures (the
        totals' and categories' sums from ``plain`` when the folded query has added them up)."""
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
        if not cells or not any(base in bases for _, base, _ in self.chosen):
            return
        populations = None  # written out only for a query that needs it
        base_of = {measure_id: bases.index(m.rate_base) for measure_id, m in self.measures.items()}
        sums: dict[tuple[str, str, str, str | None, str | None], list[int]] = {}
        years: dict[tuple[str, str, str, str | None, str | None], set[int]] = {}
        nearest: dict[tuple[str, str, str, str | None, str | None], set[int]] = {}
        for by_category_group in (False, True) if design.groups else (False,):
            if plain is not None and not by_category_group:
                found: Any = ((*key, *numbers) for key, numbers in plain.items())
            else:
                if populations is None:
                    populations = _integer_table(
                        ("authority_id", "period_id", "base", "population", "year"),
                        [(authority_id, period_id, bases.index(base), chosen.population,
                          chosen.year)
                         for (authority_id, base, period_id), chosen in self.chosen.items()
                         if base in bases],
                        "rate_population")
                found = session.execute(_rate_sums(campaign, authority_ids, checked_only,
                                                   by_category_group, populations, base_of))
            for measure_id, period_id, category_id, year, *numbers in found:
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
    body = ", ".join("(" + ", ".join(map(str, map(int, row))) + ")" for row in rows)
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
    usable = and_(*_base_filters(campaign.id, authority_ids, checked_only), or_(exact, suppressed),
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


@dataclass(frozen=True)
class Subset:
    """A choice of authorities, read: who is in it, what to call it, and one way to spell it."""

    authority_ids: list[int]
    label: str
    # One spelling for each choice, so that caches key on what is chosen, not on how it was
    # typed: a set's slug for a set alone, else the authorities' slugs, sorted, each once.
    canonical: str
    # What each term named, for the form to tick: (the term as typed, "set" or "authority",
    # its slug).
    named: tuple[tuple[str, str, str], ...]


def choose_subset(session: Session, spec: str | None) -> Subset | None:
    """The authorities that a choice names (None: no choice, so everyone).

    Terms are separated by commas; each is a set (its slug, or its title in any case) or an
    authority (its slug or ONS code, or its name or short name in any case), and their
    authorities are added together. A lone term is a set first and a term among several an
    authority first, as before names were read, so every URL by slug or code keeps its meaning.

    :raises foitrack.errors.NotFound: naming the terms that name nothing, or a term that names
        more than one authority or set.
    """
    terms = list(dict.fromkeys(term.strip() for term in (spec or "").split(",") if term.strip()))
    if not terms:
        return None
    sets = list(session.scalars(select(AuthoritySet)))  # a short list: tens, not thousands
    if len(terms) == 1:
        alone = next((s for s in sets if s.slug == terms[0]), None)
        if alone is not None:
            return _set_subset(alone, ((terms[0], "set", alone.slug),))
    try:
        authorities = authorities_by_key(session, terms, names=True)
    except Invalid as error:
        raise NotFound(error.problems[0].message) from None
    chosen: dict[int, Authority] = {}
    named: list[tuple[str, str, str]] = []
    unknown = []
    for term in terms:
        if term in authorities:
            chosen.setdefault(authorities[term].id, authorities[term])
            named.append((term, "authority", authorities[term].slug))
        elif (found := _set_named(sets, term)) is not None:
            for member in found.members:
                chosen.setdefault(member.id, member)
            named.append((term, "set", found.slug))
        else:
            unknown.append(term)
    if unknown:
        raise NotFound(f"no authority or set named {', '.join(map(repr, unknown))}")
    chosen_sets = {slug for _term, kind, slug in named if kind == "set"}
    if len(chosen_sets) == 1 and all(kind == "set" for _term, kind, _slug in named):
        return _set_subset(next(s for s in sets if s.slug in chosen_sets), tuple(named))
    members = list(chosen.values())
    # Only empty sets chosen: their slugs, so the choice still reads as them and not everyone.
    canonical = ",".join(sorted({a.slug for a in members} or chosen_sets))
    return Subset([a.id for a in members], ", ".join(a.short_name for a in members), canonical,
                  tuple(named))


def _set_subset(found: AuthoritySet, named: tuple[tuple[str, str, str], ...]) -> Subset:
    return Subset([a.id for a in found.members], found.title, found.slug, named)


def _set_named(sets: Sequence[AuthoritySet], term: str) -> AuthoritySet | None:
    """The set with this slug, or with this slug or title in any case and accents.

    :raises NotFound: when the term is the title of more than one set.
    """
    exact = next((s for s in sets if s.slug == term), None)
    if exact is not None:
        return exact
    folded = casefold(term)
    matches = [s for s in sets if folded in (casefold(s.slug), casefold(s.title))]
    if len(matches) > 1:
        raise NotFound(f"{term!r} names more than one set: "
                       f"{', '.join(s.slug for s in sorted(matches, key=lambda s: s.slug))}; "
                       "use a set's slug to choose one")
    return matches[0] if matches else None


def subset_ids(session: Session, spec: str | None) -> tuple[list[int] | None, str | None]:
    """Authority ids for a choice of sets and authorities (choose_subset), and its label (a
    set's title, or the authorities' short names); (None, None) for no choice, so everyone.

    :raises foitrack.errors.NotFound: for an unknown or ambiguous set or authority.
    """
    chosen = choose_subset(session, spec)
    return (None, None) if chosen is None else (chosen.authority_ids, chosen.label)


def asked_authorities(session: Session, campaign: Campaign,
                      authority_ids: Sequence[int] | None = None) -> list[tuple[str, str, str | None]]:
    """(slug, name, code) of every authority the campaign asked, or of those in ``authority_ids``.

    The map needs them to tell "asked, no figure" from "not asked": the per-authority rows only
    hold authorities that gave something.
    """
    query = (select(Authority.slug, Authority.name, Authority.code)
             .join(Request, Request.authority_id == Authority.id)
             .where(Request.campaign_id == campaign.id, Request.follow_up_number == 0)
             .order_by(Authority.name))
    if authority_ids is not None:
        query = query.where(Authority.id.in_(authority_ids))
    return [(slug, name, code) for slug, name, code in session.execute(query)]
