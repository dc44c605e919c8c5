"""The national (or any subset's) aggregate of a campaign's figures, computed by the database.

Every sum, count and rank below is one SQL query grouped by measure, period (or period group)
and category (or category group): no Python loop over figures. Python only does arithmetic on
the grouped rows (shares, percentages), whose number does not grow with the data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, case, distinct, func, literal, or_, select
from sqlalchemy.orm import Session

from foitrack.domain.figure_values import ValueKind
from foitrack.models import (
    Authority,
    Campaign,
    Category,
    CategoryGroup,
    Dimension,
    Figure,
    PeriodGroup,
    Request,
    category_group_member,
    period_group_member,
)

KINDS = ("exact", "suppressed", "not_recorded", "not_held", "withheld", "not_provided")
USABLE_KINDS = ("exact", "suppressed")


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

    @property
    def with_figure(self) -> int:
        """Authorities that gave a usable figure: exact, or suppressed with bounds."""
        return self.usable

    @property
    def no_reply(self) -> int:
        """Authorities asked that gave nothing at all for this cell."""
        return self.asked - self.answered

    @property
    def share_where_recorded(self) -> float | None:
        if self.denominator in (None, 0) or self.is_not_recorded or self.cell.level == "total":
            return None
        return self.total / self.denominator  # type: ignore[operator]

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


@dataclass
class Aggregate:
    campaign_slug: str
    asked: int
    rows: list[AggregateRow] = field(default_factory=list)
    changes: list[ChangeRow] = field(default_factory=list)
    authorities: list[AuthorityRow] = field(default_factory=list)
    checked_only: bool = False
    subset: str | None = None

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


def _panel(session: Session, campaign: Campaign, authority_ids: Sequence[int] | None,
           checked_only: bool, by_category_group: bool) -> dict[tuple[int, int, int, int],
                                                                tuple[int, int, int]]:
    """Matched panels: per (measure, category, earlier period, later period), the authorities
    with exact figures in both, and their totals in each.

    One pass: each authority's exact values side by side, a column per period, then counted
    and summed for every pair of periods. (Joining the per-authority values to themselves, as
    this did before, took five times as long as the rest of the aggregate together.)
    """
    periods = sorted(campaign.periods, key=lambda p: p.start)
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
    panels: dict[tuple[int, int, int, int], tuple[int, int, int]] = {}
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
               Figure.value, Figure.lower, Figure.upper, Figure.caveat,
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
    asked_query = select(func.count()).select_from(Request).where(Request.campaign_id == campaign.id)
    if authority_ids is not None:
        asked_query = asked_query.where(Request.authority_id.in_(authority_ids))
    asked = session.scalar(asked_query) or 0
    result = Aggregate(campaign.slug, asked, checked_only=checked_only, subset=subset)

    measures = {m.id: m for m in campaign.measures}
    periods = {p.id: p for p in campaign.periods}
    period_groups = {g.id: g for g in campaign.period_groups}
    categories: dict[int, tuple[Category, Dimension]] = {
        c.id: (c, d) for d in campaign.dimensions for c in d.categories
    }
    groups = {g.id: g for g in campaign.groups}

    for by_period_group in (False, True):
        if by_period_group and not period_groups:
            continue
        for by_category_group in (False, True):
            if by_category_group and not groups:
                continue
            query = _grouped(campaign, authority_ids, checked_only, by_period_group,
                             by_category_group)
            for row in session.execute(query).mappings():
                period = (period_groups if by_period_group else periods)[row["period_id"]]
                label = None
                not_recorded = False
                if by_category_group:
                    group = groups[row["category_id"]]
                    cell = Cell(measures[row["measure_id"]].key, period.key, group.dimension.key,
                                group.key, "group")
                    label = group.label
                elif row["category_id"] is None:
                    cell = Cell(measures[row["measure_id"]].key, period.key, None, None, "total")
                else:
                    category, dimension = categories[row["category_id"]]
                    cell = Cell(measures[row["measure_id"]].key, period.key, dimension.key,
                                category.label, "category")
                    label, not_recorded = category.label, category.is_not_recorded
                result.rows.append(AggregateRow(
                    cell=cell, period_label=period.label, category_label=label,
                    total=int(row["total"]), lower_bound=int(row["lower_bound"]),
                    upper_bound=int(row["upper_bound"]),
                    counts={kind: int(row[kind]) for kind in KINDS}, usable=int(row["usable"]),
                    answered=int(row["answered"]), asked=asked,
                    is_not_recorded=not_recorded, complete_only=by_period_group,
                    left_out=int(row["left_out"]),
                ))
    _drop_partly_asked(result, campaign)
    _add_denominators(result)
    _sort(result, campaign)
    _add_changes(session, result, campaign, authority_ids, checked_only)
    if with_authorities:
        result.authorities = _authority_rows(session, campaign, authority_ids, checked_only)
    return result


def _drop_partly_asked(result: Aggregate, campaign: Campaign) -> None:
    """No period-group rows for a dimension (or a measure's total) with no figures at all in
    one of the group's periods: it was not asked about then, and a sum over the group would
    be of the other periods only."""
    if not campaign.period_groups:
        return
    asked = {(r.cell.measure, r.cell.period, r.cell.dimension) for r in result.rows
             if not r.complete_only}
    members = {g.key: [p.key for p in g.periods] for g in campaign.period_groups}
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


def _sort(result: Aggregate, campaign: Campaign) -> None:
    measure_order = {m.key: i for i, m in enumerate(campaign.measures)}
    period_order = {p.key: i for i, p in enumerate(campaign.periods)}
    period_order.update({g.key: len(period_order) + i for i, g in enumerate(campaign.period_groups)})
    dimension_order = {d.key: i for i, d in enumerate(campaign.dimensions)}
    category_order = {(d.key, c.label): i for d in campaign.dimensions
                      for i, c in enumerate(d.categories)}
    group_order = {g.key: i for i, g in enumerate(campaign.groups)}

    def key(row: AggregateRow) -> tuple[Any, ...]:
        cell = row.cell
        level = {"total": 0, "category": 1, "group": 2}[cell.level]
        within = (category_order.get((cell.dimension or "", cell.category or ""), 0)
                  if cell.level == "category" else group_order.get(cell.category or "", 0))
        return (measure_order[cell.measure], period_order[cell.period], level,
                dimension_order.get(cell.dimension or "", -1), within)

    result.rows.sort(key=key)


def _add_changes(session: Session, result: Aggregate, campaign: Campaign,
                 authority_ids: Sequence[int] | None, checked_only: bool) -> None:
    """Each period against every earlier one: all responding authorities, and the matched panel."""
    periods = sorted(campaign.periods, key=lambda p: p.start)
    by_key = {p.key: p for p in periods}
    measure_ids = {m.key: m.id for m in campaign.measures}
    category_ids = {(d.key, c.label): c.id for d in campaign.dimensions for c in d.categories}
    group_ids = {g.key: g.id for g in campaign.groups}
    # Keyed by dimension too: every dimension has its "Not recorded", and labels may repeat.
    rows = {(r.cell.measure, r.cell.period, r.cell.level, r.cell.dimension, r.cell.category): r
            for r in result.rows if r.cell.period in by_key}
    panels = _panel(session, campaign, authority_ids, checked_only, False)
    group_panels = (_panel(session, campaign, authority_ids, checked_only, True)
                    if campaign.groups else {})
    cells = {(r.cell.measure, r.cell.level, r.cell.dimension, r.cell.category) for r in result.rows
             if r.cell.period in by_key}
    for measure, level, dimension, category in sorted(cells, key=lambda c: tuple(map(str, c))):
        for i, earlier in enumerate(periods):
            for later in periods[i + 1:]:
                before = rows.get((measure, earlier.key, level, dimension, category))
                after = rows.get((measure, later.key, level, dimension, category))
                if before is None or after is None:
                    continue
                if level == "group":
                    category_id, source = group_ids[category or ""], group_panels
                elif level == "category":
                    category_id, source = category_ids[(dimension or "", category or "")], panels
                else:
                    category_id, source = 0, panels
                size, panel_from, panel_to = source.get(
                    (measure_ids[measure], category_id, earlier.id, later.id), (0, 0, 0))
                result.changes.append(ChangeRow(
                    measure=measure, dimension=dimension, category=category, level=level,
                    from_period=earlier.key, to_period=later.key, from_total=before.total,
                    to_total=after.total, panel_size=int(size), panel_from=int(panel_from or 0),
                    panel_to=int(panel_to or 0),
                ))


def _authority_rows(session: Session, campaign: Campaign, authority_ids: Sequence[int] | None,
                    checked_only: bool) -> list[AuthorityRow]:
    measures = {m.id: m.key for m in campaign.measures}
    periods = {p.id: p.key for p in campaign.periods}
    categories = {c.id: (d.key, c.label) for d in campaign.dimensions for c in d.categories}
    rows = []
    for r in _ranks(session, campaign, authority_ids, checked_only):
        dimension, label = categories.get(r.category_id, (None, None))
        cell = Cell(measures[r.measure_id], periods[r.period_id], dimension, label,
                    "category" if r.category_id else "total")
        rows.append(AuthorityRow(
            slug=r.slug, name=r.name, short_name=r.short_name, code=r.code, cell=cell,
            kind=str(r.kind.value if hasattr(r.kind, "value") else r.kind), value=r.value,
            lower=r.lower, upper=r.upper, rank=r.rank, ranked=r.ranked, caveat=r.caveat,
            figure_id=r.id,
        ))
    return rows


def subset_ids(session: Session, spec: str | None) -> tuple[list[int] | None, str | None]:
    """Authority ids for a set name or comma-separated codes/slugs (None: everyone).

    :raises foitrack.errors.NotFound: for an unknown set or authority.
    """
    from foitrack.errors import Invalid, NotFound
    from foitrack.services.authorities import get_set
    from foitrack.services.campaigns import find_authorities_by_keys

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
