"""Release lines, local fact sheets and the methods note, written from the aggregate.

Each number in a line is a ``Num`` that names the aggregate cell (or the figure) it came from,
so pages can link every number to the figures behind it and nothing is typed by hand.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from foitrack import aggregate as agg
from foitrack.clock import ClockSettings
from foitrack.figure_values import ValueKind
from foitrack.models import Authority, Campaign, Figure, Request
from foitrack.phrasing import (
    change_words,
    join_names,
    more_than_number,
    number,
    ordinal,
    percent,
    rise_words,
    share_words,
)
from foitrack.services.errors import NotFound
from foitrack.services.methods import bodies_word, methods_note

__all__ = ["Line", "Num", "Release", "fact_sheet", "methods_note", "national_release",
           "subset_release"]


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
    kind: str  # "total", "share", "change", "coverage", "local"

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


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:1].isupper() and not text[1:2].isupper() else text


def _latest_pair(campaign: Campaign) -> tuple[Any, Any | None]:
    periods = sorted(campaign.periods, key=lambda p: p.start)
    return periods[-1], (periods[-2] if len(periods) > 1 else None)


def _category_label(row: agg.AggregateRow, dimension_label: str) -> str:
    label = row.category_label or row.cell.category or ""
    # "12-13 accounted for..." says nothing; "Victim age 12-13 accounted for..." does.
    return f"{dimension_label} {label}" if label[:1].isdigit() else label


def _share_line(row: agg.AggregateRow, measure: Any, dimension_label: str, period_label: str,
                authority: str | None = None,
                earlier: tuple[agg.AggregateRow, str] | None = None) -> Line | None:
    share = row.share_where_recorded
    if share is None or row.denominator is None:
        return None
    if row.with_figure * 2 < row.asked:
        return None  # fewer than half the authorities asked: not a national (or group) finding
    cell = row.cell
    parts: list[Segment] = [
        f"{_category_label(row, dimension_label)} accounted for ",
        Num(share_words(share), cell.measure, cell.period, cell.dimension, cell.category, authority),
        " of the ",
        Num(number(row.denominator), cell.measure, cell.period, cell.dimension, None, authority),
        f" {measure.unit} where the {_lower_first(dimension_label)} was recorded in {period_label}",
    ]
    if row.with_figure < row.asked:
        parts.append(f" (figures from {row.with_figure} of the {row.asked} asked)")
    if earlier is not None and earlier[0].share_where_recorded is not None \
            and earlier[0].with_figure == row.with_figure == row.asked:
        # Compared only when every authority asked gave both: otherwise the change could be
        # who answered, not what happened.
        before, label = earlier
        parts += [", against ", Num(percent(before.share_where_recorded or 0, 1), before.cell.measure,
                                    before.cell.period, before.cell.dimension, before.cell.category,
                                    authority), f" in {label}"]
    parts.append(".")
    return Line(parts, "share")


def comparable(first: Any, second: Any) -> bool:
    """Whether two periods are alike enough to compare totals: a quarter is not a year."""
    return abs((first.end - first.start).days - (second.end - second.start).days) <= 3


def _spans(campaign: Campaign, aggregate: agg.Aggregate, measure: str, dimension: str,
           latest: Any) -> list[tuple[str, str, tuple[str, str] | None]]:
    """Where to state shares: the latest period (compared with an earlier group of periods),
    then each group of periods in which every period has this breakdown."""
    has = {(r.cell.period) for r in aggregate.rows
           if r.cell.measure == measure and r.cell.dimension == dimension and r.cell.level == "category"}
    complete = [g for g in campaign.period_groups if all(p.key in has for p in g.periods)]
    before = next((g for g in complete if all(p.end < latest.start for p in g.periods)), None)
    spans: list[tuple[str, str, tuple[str, str] | None]] = []
    if latest.key in has:
        spans.append((latest.key, latest.label, (before.key, before.label) if before else None))
    spans += [(g.key, g.label, None) for g in complete]
    return spans


def _earlier(aggregate: agg.Aggregate, measure: str, dimension: str,
             compare: tuple[str, str] | None, category: str | None,
             level: str) -> tuple[agg.AggregateRow, str] | None:
    """The same cell in the earlier group of periods, to compare a share with."""
    if compare is None:
        return None
    row = _row(aggregate, measure, compare[0], category, dimension)
    return (row, compare[1]) if row is not None and row.cell.level == level else None


def _shares(campaign: Campaign, aggregate: agg.Aggregate, measure: Any, latest: Any,
            authority: str | None = None) -> list[Line]:
    """Group shares, then the categories that make up a tenth or more, for each span."""
    lines = []
    for dimension in campaign.dimensions:
        for period_key, period_label, compare in _spans(campaign, aggregate, measure.key,
                                                        dimension.key, latest):
            for group in campaign.groups:
                if group.dimension.key != dimension.key:
                    continue
                row = _row(aggregate, measure.key, period_key, group.key, dimension.key)
                line = row and _share_line(row, measure, dimension.label, period_label, authority,
                                           _earlier(aggregate, measure.key, dimension.key, compare,
                                                    group.key, "group"))
                if line:
                    lines.append(line)
            rows = [r for r in aggregate.rows if r.cell.level == "category"
                    and r.cell.measure == measure.key and r.cell.period == period_key
                    and r.cell.dimension == dimension.key and not r.is_not_recorded
                    and not (r.category_label or "").lower().startswith("other")
                    and (r.share_where_recorded or 0) >= 0.1]
            for row in sorted(rows, key=lambda r: -r.total):
                line = _share_line(row, measure, dimension.label, period_label, authority,
                                   _earlier(aggregate, measure.key, dimension.key, compare,
                                            row.cell.category, "category"))
                if line:
                    lines.append(line)
    return lines


def national_release(session: Session, campaign: Campaign, aggregate: agg.Aggregate,
                     today: dt.date, settings: ClockSettings | None = None,
                     subject: str | None = None) -> Release:
    """The national lines (or a subset's, named by ``subject``)."""
    bodies = bodies_word(campaign)
    release = Release(f"{campaign.title}: {subject or 'national figures'}")
    release.methods = methods_note(session, campaign, today, settings)
    if not campaign.periods:
        return release
    latest, previous = _latest_pair(campaign)
    for measure in campaign.measures:
        try:
            now = aggregate.row(measure.key, latest.key)
        except KeyError:
            continue
        where = f" in {subject}" if subject else ""
        unit_phrase = _lower_first(measure.label)
        if now.total >= 1000 and more_than_number(now.total).startswith("more than"):
            release.lines.append(Line([
                Num(more_than_number(now.total).capitalize(), measure.key, latest.key),
                f" {unit_phrase}{where} in {latest.label}.",
            ], "headline"))
        parts: list[Segment] = [Num(number(now.total), measure.key, latest.key),
                                f" {unit_phrase}{where} in {latest.label}"]
        before = change = None
        if previous is not None and comparable(previous, latest):
            before = _row(aggregate, measure.key, previous.key, None, None)
            change = _change(aggregate, measure.key, previous.key, latest.key, None)
        same = (before is not None and change is not None
                and change.panel_size == before.with_figure == now.with_figure)
        if same and before is not None and previous is not None:
            parts += [", ", Num(change_words(before.total, now.total), measure.key, latest.key),
                      " from ", Num(number(before.total), measure.key, previous.key),
                      f" in {previous.label}"]
            rise = rise_words(before.total, now.total)
            if rise:
                parts.append(f": {rise}")
        if now.lower_bound != now.upper_bound:
            parts.append(f" (between {number(now.lower_bound)} and {number(now.upper_bound)} "
                         "counting suppressed figures)")
        parts += [". From FOI responses of ", Num(now.coverage.replace(" of ", " of the "),
                                                  measure.key, latest.key), f" {bodies} asked."]
        release.lines.append(Line(parts, "total"))
        if not same and before is not None and change is not None and previous is not None \
                and change.panel_size:
            # Different authorities answered each year: compare only those that gave both.
            release.lines.append(Line([
                "Among the ", Num(str(change.panel_size), measure.key, latest.key),
                f" {bodies} that gave figures for both {previous.label} and {latest.label}: ",
                Num(number(change.panel_to), measure.key, latest.key), " against ",
                Num(number(change.panel_from), measure.key, previous.key), ", ",
                change_words(change.panel_from, change.panel_to),
                f" ({previous.label}: figures from {before.coverage} asked).",
            ], "change"))
        release.lines += _shares(campaign, aggregate, measure, latest)
        # Categories that more than doubled, where the same authorities gave both figures.
        if previous is not None and comparable(previous, latest):
            for change in aggregate.changes:
                if (change.measure, change.from_period, change.to_period, change.level) != (
                    measure.key, previous.key, latest.key, "category"
                ) or not change.from_total or change.to_total <= 2 * change.from_total:
                    continue
                then = _row(aggregate, measure.key, previous.key, change.category, change.dimension)
                later = _row(aggregate, measure.key, latest.key, change.category, change.dimension)
                if then is None or later is None or not (
                    change.panel_size == then.with_figure == later.with_figure
                ):
                    continue
                release.lines.append(Line([
                    f"Recorded instances of {change.category} in {latest.label} were ",
                    Num(change_words(change.from_total, change.to_total), measure.key, latest.key,
                        change.dimension, change.category),
                    f" those of {previous.label} (",
                    Num(number(change.to_total), measure.key, latest.key, change.dimension,
                        change.category),
                    " against ",
                    Num(number(change.from_total), measure.key, previous.key, change.dimension,
                        change.category),
                    ").",
                ], "change"))
    return release


def _change(aggregate: agg.Aggregate, measure: str, earlier: str, later: str,
            category: str | None) -> agg.ChangeRow | None:
    try:
        return aggregate.change(measure, earlier, later, category)
    except KeyError:
        return None


def _row(aggregate: agg.Aggregate, measure: str, period: str, category: str | None,
         dimension: str | None) -> agg.AggregateRow | None:
    try:
        return aggregate.row(measure, period, category, dimension)
    except KeyError:
        return None


def fact_sheet(session: Session, campaign: Campaign, national: agg.Aggregate, authority_slug: str,
               today: dt.date, settings: ClockSettings | None = None) -> Release:
    """One authority's story, in the style of a local paper, with the national context.

    :raises NotFound: for an authority not in the campaign.
    """
    request = next((r for r in campaign.requests if r.authority.slug == authority_slug
                    or r.authority.code == authority_slug), None)
    if request is None:
        raise NotFound(f"campaign {campaign.slug!r} has no request to {authority_slug!r}")
    authority: Authority = request.authority
    own = agg.build(session, campaign, [authority.id], with_authorities=False)
    mine = {(r.cell.measure, r.cell.period): r for r in national.for_authority(authority.slug)
            if r.cell.level == "total"}
    sheet = Release(f"{authority.name}: {campaign.title}")
    sheet.methods = methods_note(session, campaign, today, settings)
    if not campaign.periods:
        return sheet
    latest, previous = _latest_pair(campaign)
    bodies = bodies_word(campaign)
    slug = authority.slug
    for measure in campaign.measures:
        now = mine.get((measure.key, latest.key))
        if now is None or now.kind != ValueKind.exact.value:
            what = ("gave no figure" if now is None
                    else f"gave no exact figure ({now.kind.replace('_', ' ')})")
            sheet.lines.append(Line([f"{authority.name} {what} for {latest.label}."], "local"))
            continue
        parts: list[Segment] = [
            f"{authority.name} recorded ", Num(number(now.value or 0), measure.key, latest.key,
                                               authority=slug),
            f" {_lower_first(measure.label).removesuffix(' recorded')} in {latest.label}",
        ]
        before = mine.get((measure.key, previous.key)) if previous else None
        if previous and comparable(previous, latest) and before is not None \
                and before.kind == ValueKind.exact.value:
            parts += [", ", Num(change_words(before.value or 0, now.value or 0), measure.key,
                                latest.key, authority=slug),
                      " from ", Num(number(before.value or 0), measure.key, previous.key,
                                    authority=slug), f" in {previous.label}"]
        parts.append(".")
        sheet.lines.append(Line(parts, "local"))
        if now.rank:
            tied = sum(1 for r in national.authorities if r.cell == now.cell and r.rank == now.rank)
            sheet.lines.append(Line([
                f"That was the {'joint ' if tied > 1 else ''}{ordinal(now.rank)} highest of the ",
                Num(str(now.ranked), measure.key, latest.key), f" {bodies} that gave a figure.",
            ], "local"))
        national_now = _row(national, measure.key, latest.key, None, None)
        if national_now is not None:
            context: list[Segment] = [
                f"Across the {bodies} that answered, ",
                Num(number(national_now.total), measure.key, latest.key),
                f" were recorded in {latest.label}",
            ]
            national_before = (_row(national, measure.key, previous.key, None, None)
                               if previous and comparable(previous, latest) else None)
            national_change = (_change(national, measure.key, previous.key, latest.key, None)
                               if previous and national_before else None)
            if national_before and national_change and (
                national_change.panel_size == national_before.with_figure == national_now.with_figure
            ):
                context += [", ", Num(change_words(national_before.total, national_now.total),
                                      measure.key, latest.key)]
            context.append(".")
            sheet.lines.append(Line(context, "local"))
        sheet.lines += _shares(campaign, own, measure, latest, slug)
    caveats = sorted({f.caveat for f in _figures(session, request) if f.caveat})
    if caveats:
        sheet.lines.append(Line([f"{authority.name}'s caveats: " + " ".join(caveats)], "local"))
    return sheet


def subset_release(session: Session, campaign: Campaign, authority_ids: Sequence[int],
                   names: Sequence[str], today: dt.date) -> Release:
    """Lines for a group of authorities, e.g. 'Surrey, Sussex and Kent together'."""
    aggregate = agg.build(session, campaign, authority_ids, with_authorities=False)
    subject = f"{join_names(list(names))} together" if len(names) > 1 else names[0]
    return national_release(session, campaign, aggregate, today, subject=subject)


def _figures(session: Session, request: Request) -> list[Figure]:
    return list(session.scalars(select(Figure).where(Figure.request_id == request.id)))
