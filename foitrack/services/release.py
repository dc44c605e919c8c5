"""Release lines, local fact sheets and the methods note, written from the aggregate.

Each number in a line is a ``Num`` that names the aggregate cell (or the figure) it came from,
so pages can link every number to the figures behind it and nothing is typed by hand.

The publication rules, each stated with the test that holds it in docs/statistics.md:
- coverage: a national (or subset) total, share or change is written only from usable figures
  of at least ``min_coverage`` of the authorities asked, and says how many whenever that is
  fewer than all; below it, a plain statement takes the line's place;
- base: a share needs a base (the recorded total) of at least ``min_base``; a fact sheet gives a
  share on a smaller base as a count ("9 of the 25"), a national release says it is too few;
- panels: a change, or a share against an earlier one, is stated over all that answered only
  when the same authorities gave both; otherwise on the matched panel, which the line names;
- bounds: a number with suppressed values in it carries the range they could make it;
- overlapping dimensions count "instances" (their own unit), never the measure's offences.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from foitrack.domain.clock import ClockSettings
from foitrack.domain.design import comparable
from foitrack.domain.figure_values import ValueKind
from foitrack.domain.phrasing import (
    change_words,
    estimate_words,
    join_authority_names,
    join_names,
    more_than_number,
    number,
    percent,
    rank_words,
    rate_number,
    rate_words,
    rise_words,
    set_in_text,
    share_words,
)
from foitrack.errors import NotFound
from foitrack.models import Authority, Campaign, Category, Dimension, Figure, Request
from foitrack.services import aggregate as agg
from foitrack.services import reference_figures as references
from foitrack.services.methods import bodies_word, methods_note
from foitrack.services.population import MIN_RANKED_POPULATION, SMALL_POPULATION_NOTE

__all__ = ["DEFAULT_MIN_BASE", "DEFAULT_MIN_COVERAGE", "Line", "Num", "Release", "Thresholds",
           "comparable", "context_lines", "describe_subset", "fact_sheet", "methods_note",
           "national_release", "subset_release"]

# Half the authorities asked: below it a "national" figure says more about who answered than
# about what happened. 50: a share of fewer cases moves by 2 points or more with each case.
DEFAULT_MIN_COVERAGE = 0.5
DEFAULT_MIN_BASE = 50


@dataclass(frozen=True)
class Num:
    """A number in a sentence, and the cell (or figure) it was computed from."""

    text: str
    measure: str
    period: str
    dimension: str | None = None
    category: str | None = None
    authority: str | None = None  # an authority's own figure

    def ref(self) -> dict[str, str]:
        values = {"measure": self.measure, "period": self.period, "dimension": self.dimension,
                  "category": self.category, "authority": self.authority}
        return {k: v for k, v in values.items() if v}


Segment = str | Num


@dataclass
class Line:
    parts: list[Segment]
    kind: str  # "headline", "total", "share", "change", "coverage", "local", "rate", "context"

    @property
    def text(self) -> str:
        return "".join(p if isinstance(p, str) else p.text for p in self.parts)


@dataclass
class Release:
    title: str
    lines: list[Line] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)

    def text(self) -> str:
        body = "\n".join(f"- {line.text}" for line in self.lines)
        methods = "\n".join(self.methods)
        return f"{self.title}\n\n{body}\n\nMethods\n{methods}\n"


@dataclass(frozen=True)
class Thresholds:
    """Below these a line is not written as a finding (the campaign file's [release])."""

    min_coverage: float = DEFAULT_MIN_COVERAGE
    min_base: int = DEFAULT_MIN_BASE

    @classmethod
    def of(cls, campaign: Campaign) -> Thresholds:
        return cls(DEFAULT_MIN_COVERAGE if campaign.min_coverage is None else campaign.min_coverage,
                   DEFAULT_MIN_BASE if campaign.min_base is None else campaign.min_base)

    def covered(self, given: int, asked: int) -> bool:
        """Whether ``given`` of ``asked`` authorities are enough for a national (or subset) line."""
        return asked > 0 and given > 0 and given >= self.min_coverage * asked - 1e-9


@dataclass
class _Story:
    """What every line of one release needs to know."""

    session: Session
    campaign: Campaign
    aggregate: agg.Aggregate
    thresholds: Thresholds
    bodies: str
    authority_ids: Sequence[int] | None = None
    subject: str | None = None
    authority: str | None = None  # a fact sheet's authority: its shares, counted as counts
    panels: dict[tuple[int, ...], agg.Aggregate] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f" in {self.subject}" if self.subject else ""

    @property
    def too_few_for(self) -> str:
        return f"a figure for {self.subject}" if self.subject else "a national figure"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:1].isupper() and not text[1:2].isupper() else text


def _latest_pair(campaign: Campaign) -> tuple[Any, Any | None]:
    periods = sorted(campaign.periods, key=lambda p: p.start)
    return periods[-1], (periods[-2] if len(periods) > 1 else None)


def _category_label(row: agg.AggregateRow, dimension_label: str) -> str:
    label = row.category_label or row.cell.category or ""
    # "12-13 accounted for..." says nothing; "Victim age 12-13 accounted for..." does.
    return f"{dimension_label} {label}" if label[:1].isdigit() else label


def _unit(measure: Any, dimension: Dimension) -> str:
    """What a dimension's counts are called: its own unit ("instances") or the measure's."""
    return dimension.unit or measure.unit


def _suppressed_range(row: agg.AggregateRow, full: bool = True) -> str:
    """' (between 3,217 and 3,221 counting suppressed figures)' when suppressed values are in it."""
    if row.lower_bound == row.upper_bound == row.total:
        return ""
    tail = " counting suppressed figures" if full else ""
    return f" (between {number(row.lower_bound)} and {number(row.upper_bound)}{tail})"


def _all_of(labels: list[str]) -> str:
    return f"both {labels[0]} and {labels[1]}" if len(labels) == 2 else f"each of {join_names(labels)}"


def _same_authorities(change: agg.ChangeRow | None, before: agg.AggregateRow | None,
                      after: agg.AggregateRow | None) -> bool:
    """Whether the same authorities gave exact figures in both periods (the panel is all of
    them), and as many gave suppressed ones: then a change over everyone is a like-for-like one,
    with the ranges said."""
    return (change is not None and before is not None and after is not None
            and change.panel_size == before.counts["exact"] == after.counts["exact"]
            and before.with_figure == after.with_figure)


# ---- spans: where shares are stated ------------------------------------------------------------

@dataclass(frozen=True)
class _Span:
    key: str
    label: str
    periods: tuple[Any, ...]  # the period models it covers (one, or a group's members)

    @property
    def is_group(self) -> bool:
        return len(self.periods) > 1 or self.key != self.periods[0].key

    def period_labels(self) -> list[str]:
        return [p.label for p in self.periods]


def _spans(story: _Story, measure: str, dimension: str,
           latest: Any) -> list[tuple[_Span, _Span | None]]:
    """Where to state shares: the latest period (compared with an earlier group of periods),
    then each group of periods in which every period has this breakdown."""
    has = {r.cell.period for r in story.aggregate.rows
           if r.cell.measure == measure and r.cell.dimension == dimension
           and r.cell.level == "category"}
    complete = [g for g in story.campaign.period_groups
                if g.periods and all(p.key in has for p in g.periods)]
    before = next((g for g in complete if all(p.end < latest.start for p in g.periods)), None)
    spans: list[tuple[_Span, _Span | None]] = []
    if latest.key in has:
        spans.append((_Span(latest.key, latest.label, (latest,)),
                      _Span(before.key, before.label, tuple(before.periods)) if before else None))
    spans += [(_Span(g.key, g.label, tuple(g.periods)), None) for g in complete]
    return spans


def _coverage_note(story: _Story, row: agg.AggregateRow, span: _Span) -> str:
    """'figures from 25 of the 43 asked', or for a group of periods, who gave every one."""
    if story.authority or row.with_figure >= row.asked:
        return ""
    if span.is_group:
        return (f"figures from the {row.with_figure} of the {row.asked} {story.bodies} asked "
                f"that gave figures for {_all_of(span.period_labels())}")
    return f"figures from {row.with_figure} of the {row.asked} asked"


def _share_line(story: _Story, row: agg.AggregateRow, unit: str, dimension_label: str,
                span: _Span, earlier: tuple[agg.AggregateRow, _Span] | None) -> Line:
    """'Instagram accounted for more than a quarter (25.3%) of the 4,900 instances where the
    communication method was recorded in the two years', with its range, coverage and the
    earlier share when the same authorities gave both."""
    cell = row.cell
    denominator = row.denominator or 0
    recorded = f" {unit} where the {_lower_first(dimension_label)} was recorded in {span.label}"
    den = Num(number(denominator), cell.measure, cell.period, cell.dimension, None, story.authority)
    label = _category_label(row, dimension_label)
    if denominator >= story.thresholds.min_base:
        parts: list[Segment] = [
            f"{label} accounted for ",
            Num(share_words(row.share_where_recorded or 0), cell.measure, cell.period,
                cell.dimension, cell.category, story.authority),
            " of the ", den, recorded]
    else:  # a small base: the count, never a fraction that would overstate it
        parts = [f"{label} accounted for ",
                 Num(number(row.total), cell.measure, cell.period, cell.dimension, cell.category,
                     story.authority),
                 " of the ", den, recorded]
    notes: list[list[Segment]] = []
    if row.lower_bound != row.upper_bound or row.lower_bound != row.total:
        notes.append([Num(f"between {number(row.lower_bound)} and {number(row.upper_bound)}",
                          cell.measure, cell.period, cell.dimension, cell.category,
                          story.authority), f" {unit} counting suppressed figures"])
    coverage = _coverage_note(story, row, span)
    if coverage:
        notes.append([coverage])
    for index, note in enumerate(notes):
        parts += [" (" if index == 0 else "; ", *note]
    if notes:
        parts.append(")")
    if earlier is not None:
        before, before_span = earlier
        base = before.denominator or 0
        if base >= story.thresholds.min_base and denominator >= story.thresholds.min_base:
            said = percent(before.share_where_recorded or 0, 1)
        else:
            said = f"{number(before.total)} of the {number(base)}"
        parts += [", against ", Num(said, before.cell.measure, before.cell.period,
                                    before.cell.dimension, before.cell.category, story.authority),
                  f" in {before_span.label}"]
    parts.append(".")
    return Line(parts, "share")


def _dimension_given(rows: list[agg.AggregateRow]) -> int:
    """Authorities that gave the breakdown at all: the most that gave any one category."""
    return max((r.with_figure for r in rows if not r.is_not_recorded), default=0)


def _panel_ids(story: _Story, dimension: Dimension, spans: Sequence[_Span]) -> list[int]:
    """Authorities with a usable recorded figure for ``dimension`` in every period of ``spans``."""
    wanted = {p.id for span in spans for p in span.periods}
    query = (
        select(Request.authority_id, Figure.period_id).distinct()
        .select_from(Figure).join(Request, Request.id == Figure.request_id)
        .join(Category, Category.id == Figure.category_id)
        .where(Request.campaign_id == story.campaign.id, Category.dimension_id == dimension.id,
               Category.is_not_recorded.is_(False), Figure.period_id.in_(wanted),
               Figure.kind.in_([ValueKind.exact.value, ValueKind.suppressed.value]))
    )
    if story.authority_ids is not None:
        query = query.where(Request.authority_id.in_(story.authority_ids))
    if story.aggregate.checked_only:
        query = query.where(Figure.checked_by.is_not(None))
    periods: dict[int, set[int]] = {}
    for authority_id, period_id in story.session.execute(query):
        periods.setdefault(authority_id, set()).add(period_id)
    return sorted(a for a, given in periods.items() if given >= wanted)


def _panel_aggregate(story: _Story, ids: list[int]) -> agg.Aggregate:
    key = tuple(ids)
    if key not in story.panels:
        story.panels[key] = agg.build(story.session, story.campaign, ids,
                                      checked_only=story.aggregate.checked_only,
                                      with_authorities=False)
    return story.panels[key]


def _panel_share_lines(story: _Story, measure: Any, dimension: Dimension, span: _Span,
                       compare: _Span, rows: list[agg.AggregateRow]) -> list[Line]:
    """Shares against an earlier span, restated on the authorities that gave the breakdown for
    both: 'Among the 34 forces that gave platform figures for both ..., Instagram accounted for
    36.0% of the instances where the platform was recorded in ..., against 29.0% in ...'."""
    ids = _panel_ids(story, dimension, (span, compare))
    if not story.thresholds.covered(len(ids), story.aggregate.asked):
        return []
    panel = _panel_aggregate(story, ids)
    unit = _unit(measure, dimension)
    dimension_words = _lower_first(dimension.label)
    lines = []
    for row in rows:
        now = _row(panel, measure.key, span.key, row.cell.category, dimension.key, row.cell.level)
        then = _row(panel, measure.key, compare.key, row.cell.category, dimension.key,
                    row.cell.level)
        if now is None or then is None or now.share_where_recorded is None \
                or then.share_where_recorded is None \
                or min(now.denominator or 0, then.denominator or 0) < story.thresholds.min_base:
            continue
        lines.append(Line([
            "Among the ", Num(str(len(ids)), measure.key, span.key, dimension.key),
            f" {story.bodies} that gave {dimension_words} figures for both {span.label} and "
            f"{compare.label}, {_category_label(now, dimension.label)} accounted for ",
            Num(percent(now.share_where_recorded, 1), measure.key, span.key, dimension.key,
                now.cell.category),
            f" of the {unit} where the {dimension_words} was recorded in {span.label}, against ",
            Num(percent(then.share_where_recorded, 1), measure.key, compare.key, dimension.key,
                then.cell.category),
            f" in {compare.label}.",
        ], "share"))
    return lines


def _shares(story: _Story, measure: Any, latest: Any) -> list[Line]:
    """For each breakdown and span: its group shares, then the categories that make up a tenth
    or more; or, below the thresholds, a plain statement of why there are none."""
    lines: list[Line] = []
    for dimension in story.campaign.dimensions:
        for span, compare in _spans(story, measure.key, dimension.key, latest):
            lines += _span_shares(story, measure, dimension, span, compare)
    return lines


def _span_shares(story: _Story, measure: Any, dimension: Dimension, span: _Span,
                 compare: _Span | None) -> list[Line]:
    """One breakdown's share lines for one span, compared with ``compare`` where it can be."""
    categories = [r for r in story.aggregate.rows if r.cell.level == "category"
                  and r.cell.measure == measure.key and r.cell.period == span.key
                  and r.cell.dimension == dimension.key]
    too_few = _too_few_for_shares(story, measure, dimension, span, categories)
    if too_few is not None:
        return [too_few]
    unit = _unit(measure, dimension)
    lines: list[Line] = []
    # Compared over everyone only when every authority asked gave both spans; else on
    # the authorities that did (the panel), in lines of their own.
    unpaired: list[agg.AggregateRow] = []
    for row in _rows_to_state(story, measure, dimension, span, categories):
        earlier = None
        if compare is not None:
            before = _row(story.aggregate, measure.key, compare.key, row.cell.category,
                          dimension.key, row.cell.level)
            if before is not None \
                    and before.share_where_recorded is not None:
                if before.with_figure == row.with_figure == row.asked:
                    earlier = (before, compare)
                else:
                    unpaired.append(row)
        lines.append(_share_line(story, row, unit, dimension.label, span, earlier))
    if compare is not None and unpaired:
        lines += _panel_share_lines(story, measure, dimension, span, compare, unpaired)
    return lines


def _too_few_for_shares(story: _Story, measure: Any, dimension: Dimension, span: _Span,
                        categories: list[agg.AggregateRow]) -> Line | None:
    """The coverage and base rules for a national (or subset) share: why none is given."""
    if story.authority:
        return None
    aggregate, thresholds = story.aggregate, story.thresholds
    dimension_words = _lower_first(dimension.label)
    given = _dimension_given(categories)
    if not thresholds.covered(given, aggregate.asked):
        return Line([
            "Only ", Num(f"{given} of the {aggregate.asked}", measure.key, span.key,
                         dimension.key),
            f" {story.bodies} asked gave {dimension_words} figures for {span.label}: too "
            f"few for {'shares for ' + story.subject if story.subject else 'national shares'}.",
        ], "coverage")
    denominator = next((r.denominator or 0 for r in categories), 0)
    if denominator < thresholds.min_base:
        return Line([
            f"The {dimension_words} was recorded for only ",
            Num(number(denominator), measure.key, span.key, dimension.key),
            f" {_unit(measure, dimension)}{story.where} in {span.label}: too few to give shares.",
        ], "coverage")
    return None


def _rows_to_state(story: _Story, measure: Any, dimension: Dimension, span: _Span,
                   categories: list[agg.AggregateRow]) -> list[agg.AggregateRow]:
    """The breakdown's groups, then its categories of a tenth or more, largest first ("other"
    and "not recorded" aside)."""
    chosen: list[agg.AggregateRow] = []
    for group in story.campaign.groups:
        if group.dimension.key == dimension.key:
            row = _row(story.aggregate, measure.key, span.key, group.key, dimension.key, "group")
            if row is not None \
                    and row.share_where_recorded is not None:
                chosen.append(row)
    chosen += sorted((r for r in categories if not r.is_not_recorded
                      and not (r.category_label or "").lower().startswith("other")
                      and (r.share_where_recorded or 0) >= 0.1), key=lambda r: -r.total)
    return chosen


# ---- the national (or subset) release -------------------------------------------------------

def _changed_lines(story: _Story, measure: Any, previous: Any, latest: Any) -> list[Line]:
    """Categories that more than doubled: over everyone when the same authorities gave both
    periods, else over the matched panel, saying so."""
    lines: list[Line] = []
    aggregate, thresholds = story.aggregate, story.thresholds
    dimensions = {d.key: d for d in story.campaign.dimensions}
    for change in aggregate.changes:
        if (change.measure, change.from_period, change.to_period, change.level) != (
            measure.key, previous.key, latest.key, "category"
        ) or change.dimension not in dimensions:
            continue
        dimension = dimensions[change.dimension]
        then = _row(aggregate, measure.key, previous.key, change.category, change.dimension,
                    "category")
        later = _row(aggregate, measure.key, latest.key, change.category, change.dimension,
                     "category")
        if then is None or later is None or then.is_not_recorded \
                or (later.category_label or "").lower().startswith("other"):
            continue
        unit = _unit(measure, dimension)
        label = _category_label(later, dimension.label)
        what = (f"recorded {unit} of {label}" if dimension.overlapping else
                f"{unit} where the {_lower_first(dimension.label)} was {label}")
        cell = (change.dimension, change.category)
        prefix: list[Segment]
        if _same_authorities(change, then, later):
            before_value, after_value, prefix = change.from_total, change.to_total, []
        else:
            before_value, after_value = change.panel_from, change.panel_to
            prefix = ["Among the ", Num(str(change.panel_size), measure.key, latest.key, *cell),
                      f" {story.bodies} that gave {label} figures for both {previous.label} and "
                      f"{latest.label}, "]
        if not before_value or after_value <= 2 * before_value \
                or before_value < thresholds.min_base \
                or not thresholds.covered(change.panel_size, aggregate.asked):
            continue
        sentence = what[:1].upper() + what[1:] if not prefix else what
        lines.append(Line([
            *prefix, f"{sentence} in {latest.label} were ",
            Num(change_words(before_value, after_value), measure.key, latest.key, *cell),
            f" those of {previous.label} (",
            Num(number(after_value), measure.key, latest.key, *cell), " against ",
            Num(number(before_value), measure.key, previous.key, *cell), ").",
        ], "change"))
    return lines


def _total_lines(story: _Story, measure: Any, latest: Any, previous: Any | None) -> list[Line]:
    """The headline and the total with its change, or why there are none."""
    aggregate, thresholds, bodies = story.aggregate, story.thresholds, story.bodies
    now = _row(aggregate, measure.key, latest.key, None, None)
    given = now.with_figure if now is not None else 0
    if now is None or not thresholds.covered(given, aggregate.asked):
        return [Line([
            "Only " if given else "",
            Num(f"{given} of the {aggregate.asked}" if given else f"None of the {aggregate.asked}",
                measure.key, latest.key),
            f" {bodies} asked gave figures for {latest.label}: too few for {story.too_few_for}.",
        ], "coverage")]
    lines = []
    partial: list[Segment] = []
    if now.with_figure < now.asked:
        partial = [", from the ", Num(f"{now.with_figure} of the {now.asked}", measure.key,
                                      latest.key), f" {bodies} that gave figures"]
    if now.total >= 1000 and more_than_number(now.total).startswith("more than"):
        lines.append(Line([
            Num(more_than_number(now.total).capitalize(), measure.key, latest.key),
            f" {_lower_first(measure.label)}{story.where} in {latest.label}", *partial, ".",
        ], "headline"))
    before = change = None
    if previous is not None and comparable(previous, latest):
        before = _row(aggregate, measure.key, previous.key, None, None)
        change = _change(aggregate, measure.key, previous.key, latest.key, None)
    same = _same_authorities(change, before, now)
    lines.append(_total_line(story, measure, now, latest, before if same else None, previous))
    if not same and before is not None and change is not None and previous is not None \
            and change.panel_size and thresholds.covered(change.panel_size, aggregate.asked):
        lines.append(_panel_total_line(story, measure, change, before, latest, previous))
    if now.rate is not None and measure.rate_per:
        lines.append(_national_rate_line(story, measure, now, latest))
    return lines


def _total_line(story: _Story, measure: Any, now: agg.AggregateRow, latest: Any,
                before: agg.AggregateRow | None, previous: Any | None) -> Line:
    """The total, with its change from ``before`` when the same authorities gave both."""
    parts: list[Segment] = [Num(number(now.total), measure.key, latest.key),
                            f" {_lower_first(measure.label)}{story.where} in {latest.label}",
                            _suppressed_range(now)]
    if before is not None and previous is not None:
        parts += [", ", Num(change_words(before.total, now.total), measure.key, latest.key),
                  " from ", Num(number(before.total), measure.key, previous.key),
                  f" in {previous.label}", _suppressed_range(before, full=now.lower_bound
                                                              == now.upper_bound)]
        rise = rise_words(before.total, now.total)
        if rise:
            parts.append(f": {rise}")
    parts += [". From FOI responses of ", Num(now.coverage.replace(" of ", " of the "),
                                              measure.key, latest.key), f" {story.bodies} asked"]
    if story.aggregate.checked_only:
        parts.append(", counting only figures checked by a second person")
    parts.append(".")
    return Line(parts, "total")


def _national_rate_line(story: _Story, measure: Any, now: agg.AggregateRow, latest: Any) -> Line:
    """'That is 7.4 per 100,000 people across the 43 forces that gave a figure (population:
    mid-2018 estimates).': the sum over those authorities over their own population, never
    the national population over a partial sum. When some that gave a figure have no
    population (British Transport Police), the rate is over fewer than the total just given,
    so the line gives its own count and says who is left out:
    'Across the 4 forces that gave a figure and have a resident population estimate (all but
    British Transport Police): 269 offences, 5.6 per 100,000 people (population: ...).'"""
    assert now.rate is not None
    base = now.rate_base or measure.rate_base or "population"
    rate = Num(rate_words(now.rate, now.rate_per or measure.rate_per, base), measure.key,
               latest.key)
    years = join_names([f"mid-{year}" for year in now.population_years])
    nearest = ", the nearest year with one where the period's own had none" \
        if now.population_nearest else ""
    population = f"(population: {years} estimates{nearest})."
    if now.rate_authorities >= now.with_figure:
        return Line(["That is ", rate, f" across the {now.rate_authorities} {story.bodies} that "
                                       f"gave a figure{story.where} {population}"], "rate")
    return Line([
        "Across the ", Num(str(now.rate_authorities), measure.key, latest.key),
        f" {story.bodies} that gave a figure{story.where} and have a {estimate_words(base)} "
        f"({_all_but(story.aggregate, now)}): ",
        Num(number(now.rate_total or 0), measure.key, latest.key),
        f" {_unit_plural(measure)}, ", rate, f" {population}",
    ], "rate")


# Up to this many authorities left out of a rate are named; more are counted.
NAMED_LEFT_OUT = 3


def _all_but(aggregate: agg.Aggregate, now: agg.AggregateRow) -> str:
    """Who gave a figure to ``now`` but is left out of its rate for want of a population:
    'all but British Transport Police' when the aggregate's by-authority rows name a few,
    else 'all but 5 of the 45 that gave a figure'."""
    left_out = now.with_figure - now.rate_authorities
    usable = (ValueKind.exact.value, ValueKind.suppressed.value)
    names = [row.name for row in aggregate.authorities
             if row.cell == now.cell and row.kind in usable and row.population is None]
    if len(names) == left_out <= NAMED_LEFT_OUT:
        return f"all but {join_authority_names(sorted(names))}"
    return f"all but {left_out} of the {now.with_figure} that gave a figure"


def _panel_total_line(story: _Story, measure: Any, change: agg.ChangeRow,
                      before: agg.AggregateRow, latest: Any, previous: Any) -> Line:
    """Different authorities answered each year: compare only those that gave both."""
    return Line([
        "Among the ", Num(str(change.panel_size), measure.key, latest.key),
        f" {story.bodies} that gave figures for both {previous.label} and {latest.label}: ",
        Num(number(change.panel_to), measure.key, latest.key), " against ",
        Num(number(change.panel_from), measure.key, previous.key), ", ",
        change_words(change.panel_from, change.panel_to),
        f" ({previous.label}: figures from {before.coverage} asked).",
    ], "change")


def national_release(session: Session, campaign: Campaign, aggregate: agg.Aggregate,
                     today: dt.date, settings: ClockSettings | None = None,
                     subject: str | None = None,
                     authority_ids: Sequence[int] | None = None) -> Release:
    """The national lines, or a subset's (``subject`` names it in the lines, ``authority_ids``
    are its authorities, for the methods note; the aggregate must be built over the same)."""
    story = _Story(session, campaign, aggregate, Thresholds.of(campaign), bodies_word(campaign),
                   authority_ids, subject)
    release = Release(f"{campaign.title}: {subject or 'national figures'}")
    release.methods = methods_note(session, campaign, today, settings,
                                   authority_ids=authority_ids,
                                   checked_only=aggregate.checked_only, subject=subject)
    if not campaign.periods:
        return release
    latest, previous = _latest_pair(campaign)
    for measure in campaign.measures:
        release.lines += _total_lines(story, measure, latest, previous)
        release.lines += _shares(story, measure, latest)
        if previous is not None and comparable(previous, latest):
            release.lines += _changed_lines(story, measure, previous, latest)
    if subject is None:
        # Official statistics describe the whole country, not a chosen few authorities.
        release.lines += context_lines(session, campaign)
    return release


def context_lines(session: Session, campaign: Campaign) -> list[Line]:
    """The campaign's reference figures as lines of their own, each naming its source:
    'For context, official statistics (not from these FOI requests): child sexual offences
    with an online element, England and Wales, October 2017 to September 2018: 9,000
    (Source: ONS, https://...).' Never added into any FOI number."""
    lines = []
    for figure in references.beside(campaign, references.reference_figures(session, campaign)):
        source = figure.source + (f", {figure.url}" if figure.url else "")
        lines.append(Line([
            "For context, official statistics (not from these FOI requests): "
            f"{_lower_first(figure.measure_label)}, {figure.area}, {figure.period_label}: "
            f"{figure.value_text} (Source: {source})."], "context"))
    return lines


def _change(aggregate: agg.Aggregate, measure: str, earlier: str, later: str,
            category: str | None) -> agg.ChangeRow | None:
    try:
        return aggregate.change(measure, earlier, later, category)
    except KeyError:
        return None


def _row(aggregate: agg.Aggregate, measure: str, period: str, category: str | None,
         dimension: str | None, level: str | None = None) -> agg.AggregateRow | None:
    try:
        return aggregate.row(measure, period, category, dimension, level=level)
    except KeyError:
        return None


# ---- fact sheets ---------------------------------------------------------------------------

def _national_context(story: _Story, measure: Any, latest: Any, previous: Any | None,
                      national: agg.Aggregate) -> Line:
    """'Across the forces that answered, 4,373 were recorded in 2018/19, up 36%.'"""
    bodies = story.bodies
    now = _row(national, measure.key, latest.key, None, None)
    if now is None or not story.thresholds.covered(now.with_figure, national.asked):
        given = now.with_figure if now is not None else 0
        return Line([f"Only {given} of the {national.asked} {bodies} asked gave figures for "
                     f"{latest.label}: too few for a national figure."], "local")
    who = (f"Across the {bodies} that answered" if now.with_figure == now.asked
           else f"Across the {now.with_figure} of the {now.asked} {bodies} that gave figures")
    context: list[Segment] = [f"{who}, ", Num(number(now.total), measure.key, latest.key),
                              f" were recorded in {latest.label}", _suppressed_range(now)]
    before = (_row(national, measure.key, previous.key, None, None)
              if previous and comparable(previous, latest) else None)
    change = _change(national, measure.key, previous.key, latest.key, None) \
        if previous and before else None
    if _same_authorities(change, before, now) and before is not None:
        context += [", ", Num(change_words(before.total, now.total), measure.key, latest.key)]
    context.append(".")
    return Line(context, "local")


def fact_sheet(session: Session, campaign: Campaign, national: agg.Aggregate, authority_slug: str,
               today: dt.date, settings: ClockSettings | None = None, *,
               methods: Sequence[str] | None = None) -> Release:
    """One authority's story, in the style of a local paper, with the national context.

    ``methods``: the campaign's methods note (``methods_note`` with the same ``today``,
    settings and ``checked_only``), when the caller writes every authority's sheet: the note
    is the same for each, and about half a sheet's cost (it reads the consistency findings).

    :raises NotFound: for an authority not in the campaign.
    """
    # The first request (follow_up_number 0), named, not the lowest id: a narrowed follow-up
    # (a new request, FOIA s.1(1)) is the same authority's, and the figures stay on the first.
    request = next((r for r in campaign.requests if r.follow_up_number == 0
                    and (r.authority.slug == authority_slug
                         or r.authority.code == authority_slug)), None)
    if request is None:
        raise NotFound(f"campaign {campaign.slug!r} has no request to {authority_slug!r}")
    authority: Authority = request.authority
    own = agg.build(session, campaign, [authority.id], checked_only=national.checked_only,
                    with_authorities=False)
    sheet = Release(f"{authority.name}: {campaign.title}")
    sheet.methods = list(methods) if methods is not None else methods_note(
        session, campaign, today, settings, checked_only=national.checked_only)
    if not campaign.periods:
        return sheet
    latest, previous = _latest_pair(campaign)
    story = _Story(session, campaign, own, Thresholds.of(campaign), bodies_word(campaign),
                   [authority.id], authority=authority.slug)
    mine = {(r.cell.measure, r.cell.period): r for r in national.for_authority(authority.slug)
            if r.cell.level == "total"}
    for measure in campaign.measures:
        now = mine.get((measure.key, latest.key))
        if now is None or now.kind != ValueKind.exact.value:
            what = ("gave no figure" if now is None
                    else f"gave no exact figure ({now.kind.replace('_', ' ')})")
            sheet.lines.append(Line([f"{authority.name} {what} for {latest.label}."], "local"))
            continue
        before = mine.get((measure.key, previous.key)) if previous else None
        if now.rate is not None and measure.rate_per:
            # The rate first: a count says more about a force's size than about its risk.
            sheet.lines.append(_own_rate_line(story, authority, measure, now, latest, national))
            change = _change_from(authority, measure, now, latest, before, previous)
            if change:
                sheet.lines.append(Line(["That was ", *change, "."], "local"))
            if now.rank and now.ranked:
                sheet.lines.append(_rank_line(story, measure, now, latest, national,
                                              f"By number of {_unit_plural(measure)}, it was"))
        else:
            sheet.lines.append(_own_figure_line(authority, measure, now, latest, before,
                                                previous))
            if now.rank and now.ranked:
                sheet.lines.append(_rank_line(story, measure, now, latest, national))
            if measure.rate_per and now.rate_note:
                sheet.lines.append(Line([_no_rate_sentence(authority, now.rate_note)], "local"))
        sheet.lines.append(_national_context(story, measure, latest, previous, national))
        sheet.lines += _shares(story, measure, latest)
    caveats = sorted({f.caveat for f in _figures(session, request) if f.caveat})
    if caveats:
        sheet.lines.append(Line([f"{authority.name}'s caveats: " + " ".join(caveats)], "local"))
    return sheet


def _own_figure_line(authority: Authority, measure: Any, now: agg.AuthorityRow, latest: Any,
                     before: agg.AuthorityRow | None, previous: Any | None) -> Line:
    """'Kent Police recorded 122 offences in 2018/19, up 20% from 102 in 2017/18.'"""
    parts: list[Segment] = [*_recorded(authority, measure, now, latest)]
    change = _change_from(authority, measure, now, latest, before, previous)
    if change:
        parts += [", ", *change]
    parts.append(".")
    return Line(parts, "local")


def _recorded(authority: Authority, measure: Any, now: agg.AuthorityRow,
              latest: Any) -> list[Segment]:
    """'Kent Police recorded 122 offences in 2018/19'."""
    return [f"{authority.name} recorded ", Num(number(now.value or 0), measure.key, latest.key,
                                               authority=authority.slug),
            f" {_lower_first(measure.label).removesuffix(' recorded')} in {latest.label}"]


def _change_from(authority: Authority, measure: Any, now: agg.AuthorityRow, latest: Any,
                 before: agg.AuthorityRow | None, previous: Any | None) -> list[Segment]:
    """'up 20% from 102 in 2017/18', when the earlier figure is exact and comparable."""
    if not (previous and comparable(previous, latest) and before is not None
            and before.kind == ValueKind.exact.value):
        return []
    slug = authority.slug
    return [Num(change_words(before.value or 0, now.value or 0), measure.key, latest.key,
                authority=slug),
            " from ", Num(number(before.value or 0), measure.key, previous.key, authority=slug),
            f" in {previous.label}"]


def _no_rate_sentence(authority: Authority, note: str) -> str:
    """Why a rated measure gives this authority no rate, from the aggregate's note: 'British
    Transport Police has no resident population estimate for its area, so no rate is given.'"""
    note = note.rstrip(".")
    if note.startswith("no "):
        return f"{authority.name} has {note}, so no rate is given."
    return note[:1].upper() + note[1:] + ("" if "no rate" in note else ", so no rate is given") + "."


def _unit_plural(measure: Any) -> str:
    return str(measure.unit or "cases")


def _own_rate_line(story: _Story, authority: Authority, measure: Any, now: agg.AuthorityRow,
                   latest: Any, national: agg.Aggregate) -> Line:
    """'West Mercia Police recorded 122 offences in 2018/19, 9.5 per 100,000 people, the 12th
    highest rate of the 40 forces that gave a figure (the rate across the forces that gave a
    figure was 7.4).' A small authority's rate is given but not ranked, saying why; a
    population from another year than the period's own says which."""
    assert now.rate is not None
    slug, per, base = authority.slug, measure.rate_per, measure.rate_base or "population"
    parts: list[Segment] = [*_recorded(authority, measure, now, latest), ", ",
                            Num(rate_words(now.rate, per, base), measure.key, latest.key,
                                authority=slug)]
    if now.rate_rank and now.rate_ranked:
        tied = sum(1 for r in national.authorities
                   if r.cell == now.cell and r.rate_rank == now.rate_rank)
        parts += [f", {rank_words(now.rate_rank, now.rate_ranked, tied)} rate of the ",
                  Num(str(now.rate_ranked), measure.key, latest.key),
                  f" {story.bodies}"
                  + (f" with a population of {number(MIN_RANKED_POPULATION)} or more"
                     if now.ranked and now.rate_ranked < now.ranked else "")
                  + " that gave a figure"]
    everyone = _row(national, measure.key, latest.key, None, None)
    if everyone is not None and everyone.rate is not None:
        # Over those with a population only: say so when some that gave a figure have none.
        having = (f" and have a {estimate_words(base)}"
                  if everyone.rate_authorities < everyone.with_figure else "")
        parts += [f" (the rate across the {story.bodies} that gave a figure{having} was ",
                  Num(rate_number(everyone.rate), measure.key, latest.key), ")"]
    parts.append(".")
    if not now.rate_rank:
        parts.append(f" Its rate is not ranked: {_unranked_reason(now, per)}.")
    if now.population_nearest and now.population_year is not None:
        parts.append(f" The rate uses the mid-{now.population_year} population estimate, the "
                     f"nearest year to {latest.label} with one.")
    return Line(parts, "rate")


def _unranked_reason(now: agg.AuthorityRow, per: int) -> str:
    """Why an authority's rate has no rank: an area of fewer than MIN_RANKED_POPULATION
    residents (City of London's), where a single case moves the rate by more than one per
    ``per``; or the aggregate's own note."""
    if now.rate_note == SMALL_POPULATION_NOTE and now.population:
        year = f" at mid-{now.population_year}" if now.population_year else ""
        return (f"its area's population ({number(now.population)}{year}) is under "
                f"{number(MIN_RANKED_POPULATION)}, so a single case more or less would move its "
                f"rate by {rate_number(per / now.population)}")
    return (now.rate_note or "it cannot be compared with the others").rstrip(".")


def _rank_line(story: _Story, measure: Any, now: agg.AuthorityRow, latest: Any,
               national: agg.Aggregate, lead: str = "That was") -> Line:
    """Where the authority's figure ranks among those that gave one, ties counted."""
    assert now.rank is not None and now.ranked is not None
    tied = sum(1 for r in national.authorities if r.cell == now.cell and r.rank == now.rank)
    return Line([
        f"{lead} {rank_words(now.rank, now.ranked, tied)} of the ",
        Num(str(now.ranked), measure.key, latest.key),
        f" {story.bodies} that gave a figure.",
    ], "local")


# ---- subsets -------------------------------------------------------------------------------

def describe_subset(session: Session, authority_ids: Sequence[int], label: str | None) -> str:
    """How lines name a subset: a set as 'the 43 territorial police forces of England and
    Wales', chosen authorities as 'Surrey, Sussex and Kent Police together'."""
    if label and "," not in label and len(authority_ids) != 1:
        return set_in_text(label, len(authority_ids))
    names = dict(session.execute(select(Authority.id, Authority.name)
                                 .where(Authority.id.in_(authority_ids))).all())
    ordered = [names[i] for i in authority_ids if i in names]
    return f"{join_authority_names(ordered)} together" if len(ordered) > 1 else "".join(ordered)


def subset_release(session: Session, campaign: Campaign, authority_ids: Sequence[int],
                   names: Sequence[str], today: dt.date, *, checked_only: bool = False,
                   settings: ClockSettings | None = None) -> Release:
    """Lines for a group of authorities, e.g. 'Surrey, Sussex and Kent Police together'
    (``names`` as subset_ids gives them: a set's title, or the authorities')."""
    # With its by-authority rows, so a rate line can name who has no population.
    aggregate = agg.build(session, campaign, authority_ids, checked_only=checked_only)
    label = names[0] if len(names) == 1 else ", ".join(names)
    return national_release(session, campaign, aggregate, today, settings,
                            subject=describe_subset(session, authority_ids, label),
                            authority_ids=authority_ids)


def _figures(session: Session, request: Request) -> list[Figure]:
    return list(session.scalars(select(Figure).where(Figure.request_id == request.id)))
