"""Series: the campaigns that ask the same question year after year, and each authority's
figures across them.

A repeat joins its source's series (``attach_repeat``, called by
services.campaigns.repeat_campaign); any campaign may be linked by hand. A campaign is in at
most one series. What a viewer is shown of a series is only what its visible campaigns hold
(services.membership): an embargoed campaign's periods, figures and revisions are left out for
anyone not let into it, and a series whose every campaign is hidden does not exist for them.

The table is read in a fixed number of queries whatever the number of campaigns, authorities
and figures (series, campaigns, periods, measures, requests, figures), then assembled by
domain.series_table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from foitrack.domain.series_table import (
    Answer,
    AskedPeriod,
    AuthorityInfo,
    Revision,
    SeriesCampaign,
    SeriesTable,
    build_table,
    find_revisions,
    series_name_base,
    series_slug_base,
)
from foitrack.errors import Conflict, Invalid, NotFound, Problem
from foitrack.models import Authority, Campaign, Figure, Measure, Period, Request, Series
from foitrack.services import audit, data_version, membership
from foitrack.services.authorities import SLUG_PATTERN, slugify

MAX_SLUG = 80
MAX_NAME = 300


# ---- membership of a series --------------------------------------------------------------------

def attach_repeat(session: Session, source: Campaign, repeat: Campaign,
                  actor: audit.Actor | None = None) -> Series:
    """Put ``repeat`` into ``source``'s series, first making one from ``source`` when it has
    none (its slug and title without their trailing year, the slug made unique).

    :raises Conflict: if ``repeat`` is already in another series.
    """
    series = source.series
    if series is None:
        # Named after the campaign the fewest are kept from: anyone who sees the repeat sees
        # the series' name, so a repeat open to more people than its embargoed source must not
        # carry the source's title into it.
        named = repeat if _hidden_longer(source, repeat) else source
        slug = _unique_slug(session, slugify(series_slug_base(named.slug)) or "series")
        series = Series(slug=slug, name=series_name_base(named.title)[:MAX_NAME])
        session.add(series)
        session.flush()
        if actor is not None:
            audit.record(session, actor, "series", series.id, "create", None, _snapshot(series))
        _join(session, actor, series, source)
    _join(session, actor, series, repeat)
    data_version.mark_changed(session, "campaign", [source.id, repeat.id])
    return series


def _hidden_longer(source: Campaign, repeat: Campaign) -> bool:
    """Whether ``source`` has an embargo that ``repeat`` does not match (none, or an earlier
    end): then some who see the repeat may not see the source."""
    if source.embargo_until is None:
        return False
    return repeat.embargo_until is None or repeat.embargo_until < source.embargo_until


def create_series(session: Session, actor: audit.Actor, *, slug: str, name: str,
                  description: str | None = None) -> Series:
    """A new, empty series. :raises Invalid: naming ``slug`` or ``name``."""
    slug, name = (slug or "").strip(), (name or "").strip()
    problems = []
    if not slug or not SLUG_PATTERN.match(slug) or len(slug) > MAX_SLUG:
        problems.append(Problem(f"{slug!r} must be lower-case letters, digits and single "
                                f"hyphens, at most {MAX_SLUG} characters", "slug"))
    elif session.scalar(select(Series.id).where(Series.slug == slug)) is not None:
        problems.append(Problem(f"{slug!r} is already the name of a series", "slug"))
    if not name:
        problems.append(Problem("is required", "name"))
    elif len(name) > MAX_NAME:
        problems.append(Problem(f"is longer than {MAX_NAME} characters", "name"))
    if problems:
        raise Invalid(problems)
    series = Series(slug=slug, name=name, description=(description or "").strip() or None)
    session.add(series)
    session.flush()
    audit.record(session, actor, "series", series.id, "create", None, _snapshot(series))
    return series


def link(session: Session, actor: audit.Actor, series: Series, campaign: Campaign) -> None:
    """Add ``campaign`` to ``series``; nothing happens if it is in it already.

    :raises Conflict: if it is in another series (unlink it first: a campaign is in one).
    """
    _join(session, actor, series, campaign)


def unlink(session: Session, actor: audit.Actor, campaign: Campaign) -> Series:
    """Take ``campaign`` out of its series; returns the series (kept, even if empty).

    :raises Conflict: if it is in none.
    """
    series = campaign.series
    if series is None:
        raise Conflict(f"campaign {campaign.slug!r} is in no series")
    campaign.series = None
    session.flush()
    audit.record(session, actor, "campaign", campaign.id, "update", {"series": series.slug},
                 {"series": None})
    return series


def _join(session: Session, actor: audit.Actor | None, series: Series, campaign: Campaign) -> None:
    if campaign.series_id == series.id or campaign.series is series:
        return
    if campaign.series is not None:
        raise Conflict(f"campaign {campaign.slug!r} is already in the series "
                       f"{campaign.series.slug!r}; unlink it first")
    campaign.series = series
    session.flush()
    if actor is not None:
        audit.record(session, actor, "campaign", campaign.id, "update", {"series": None},
                     {"series": series.slug})
    else:
        data_version.mark_changed(session, "campaign", [campaign.id])


def _snapshot(series: Series) -> dict[str, Any]:
    return {"slug": series.slug, "name": series.name, "description": series.description}


def _unique_slug(session: Session, base: str) -> str:
    """``base``, or ``base-2``, ``base-3``... whichever is free, within the length limit."""
    base = base[:MAX_SLUG - 4].strip("-") or "series"
    taken = set(session.scalars(select(Series.slug).where(
        or_(Series.slug == base, Series.slug.like(f"{base}-%")))))
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


# ---- finding series --------------------------------------------------------------------------

def get_series(session: Session, slug: str) -> Series:
    """:raises NotFound:"""
    series = session.scalar(select(Series).where(Series.slug == slug))
    if series is None:
        raise NotFound(f"no series {slug!r}")
    return series


def visible_series(session: Session, slug: str, viewer: Any, today: dt.date) -> Series:
    """The series ``slug`` as ``viewer`` may see it: one whose every campaign is hidden from
    them does not exist for them (its name comes from those campaigns).

    :raises NotFound:
    """
    series = get_series(session, slug)
    if not _shown(session, [series.id], viewer, today).get(series.id, True):
        raise NotFound(f"no series {slug!r}")
    return series


def visible_campaign_ids(session: Session, series: Series, viewer: Any,
                         today: dt.date) -> list[int]:
    """The ids of the campaigns of ``series`` that ``viewer`` may see, in id order."""
    return list(session.scalars(
        select(Campaign.id).where(Campaign.series_id == series.id,
                                  membership.visible_clause(viewer, today))
        .order_by(Campaign.id)))


@dataclass(frozen=True)
class SeriesSummary:
    """A series as the list shows it: only the campaigns the viewer may see."""

    slug: str
    name: str
    description: str | None
    campaigns: tuple[tuple[str, str], ...]  # (slug, title), in series order


def list_series(session: Session, viewer: Any, today: dt.date) -> list[SeriesSummary]:
    """Every series ``viewer`` may see, by name, with its visible campaigns; in three queries."""
    all_series = list(session.scalars(select(Series).order_by(Series.name, Series.slug)))
    shown = _shown(session, [s.id for s in all_series], viewer, today)
    rows = session.execute(
        select(Campaign.id, Campaign.slug, Campaign.title, Campaign.series_id,
               Campaign.created_at)
        .where(Campaign.series_id.in_([s.id for s in all_series]),
               membership.visible_clause(viewer, today))).all()
    ends = _latest_ends(session, [row.id for row in rows])
    by_series: dict[int, list[Any]] = {}
    for row in rows:
        by_series.setdefault(row.series_id, []).append(row)
    found = []
    for series in all_series:
        if not shown.get(series.id, True):
            continue
        campaigns = sorted(by_series.get(series.id, []),
                           key=lambda r: _order_key(ends.get(r.id), r.created_at, r.id))
        found.append(SeriesSummary(series.slug, series.name, series.description,
                                   tuple((r.slug, r.title) for r in campaigns)))
    return found


def _shown(session: Session, series_ids: Sequence[int], viewer: Any,
           today: dt.date) -> dict[int, bool]:
    """For each series with campaigns, whether ``viewer`` sees any of them (an empty series is
    seen by all)."""
    if not series_ids:
        return {}
    visible = membership.visible_clause(viewer, today)
    rows = session.execute(
        select(Campaign.series_id, func.count(),
               func.coalesce(func.sum(case((visible, 1), else_=0)), 0))
        .where(Campaign.series_id.in_(series_ids)).group_by(Campaign.series_id)).all()
    return {series_id: bool(seen) for series_id, _count, seen in rows}


def _latest_ends(session: Session, campaign_ids: Sequence[int]) -> dict[int, dt.date]:
    if not campaign_ids:
        return {}
    return dict(session.execute(select(Period.campaign_id, func.max(Period.end))
                                .where(Period.campaign_id.in_(campaign_ids))
                                .group_by(Period.campaign_id)).all())


def _order_key(latest_end: dt.date | None, created_at: dt.datetime,
               campaign_id: int) -> tuple[dt.date, dt.datetime, int]:
    """Series order: by the latest period a campaign asked, then by when it was made."""
    return (latest_end or dt.date.max, created_at, campaign_id)


# ---- the table and the revisions --------------------------------------------------------------

@dataclass
class _Read:
    """What the table and the revisions are built from: a fixed number of queries."""

    campaigns: list[SeriesCampaign]
    periods: list[AskedPeriod]
    measures: list[tuple[int, int, str, str]]  # (measure id, campaign id, key, label)
    authorities: list[AuthorityInfo]
    asked: list[tuple[int, int]]


def _read(session: Session, series: Series, viewer: Any, today: dt.date,
          only: Sequence[int] | None = None) -> _Read:
    query = (select(Campaign.id, Campaign.slug, Campaign.title, Campaign.created_at)
             .where(Campaign.series_id == series.id, membership.visible_clause(viewer, today)))
    if only is not None:
        query = query.where(Campaign.id.in_(list(only)))
    rows = session.execute(query).all()
    ids = [row.id for row in rows]
    periods = [AskedPeriod(p.campaign_id, p.key, p.label, p.start, p.end)
               for p in session.execute(
                   select(Period.campaign_id, Period.key, Period.label, Period.start, Period.end)
                   .where(Period.campaign_id.in_(ids)).order_by(Period.position, Period.id))]
    ends: dict[int, dt.date] = {}
    for period in periods:
        ends[period.campaign_id] = max(ends.get(period.campaign_id, period.end), period.end)
    ordered = sorted(rows, key=lambda r: _order_key(ends.get(r.id), r.created_at, r.id))
    campaigns = [SeriesCampaign(r.id, r.slug, r.title, n) for n, r in enumerate(ordered)]
    position = {c.id: c.position for c in campaigns}
    measures = sorted(
        ((m.id, m.campaign_id, m.key, m.label) for m in session.execute(
            select(Measure.id, Measure.campaign_id, Measure.key, Measure.label, Measure.position)
            .where(Measure.campaign_id.in_(ids)).order_by(Measure.position, Measure.id))),
        key=lambda m: -position[m[1]])  # the latest campaign's first (a stable sort)
    asked_rows = session.execute(
        select(Request.campaign_id, Authority.id, Authority.slug, Authority.code, Authority.name,
               Authority.short_name)
        .join(Authority, Authority.id == Request.authority_id)
        .where(Request.campaign_id.in_(ids))).all()
    authorities = {r.id: AuthorityInfo(r.id, r.slug, r.code, r.name, r.short_name)
                   for r in asked_rows}
    return _Read(campaigns, periods, measures, list(authorities.values()),
                 [(r.campaign_id, r.id) for r in asked_rows])


def _answers(session: Session, read: _Read, measure_ids: Sequence[int]) -> list[Answer]:
    """Every total figure of those measures in the campaigns read: one query."""
    if not measure_ids:
        return []
    keys = {m[0]: m[2] for m in read.measures}
    rows = session.execute(
        select(Request.campaign_id, Request.authority_id, Figure.measure_id, Period.start,
               Period.end, Figure.kind, Figure.value, Figure.lower, Figure.upper,
               Figure.exemption)
        .select_from(Figure)
        .join(Request, Request.id == Figure.request_id)
        .join(Period, Period.id == Figure.period_id)
        .where(Figure.measure_id.in_(measure_ids), Figure.category_id.is_(None)))
    return [Answer(r.campaign_id, r.authority_id, keys[r.measure_id], r.start, r.end,
                   str(getattr(r.kind, "value", r.kind)), r.value, r.lower, r.upper, r.exemption)
            for r in rows]


def _measure_list(read: _Read) -> list[tuple[str, str]]:
    """Each measure key once, labelled as the latest campaign having it labels it."""
    found: dict[str, str] = {}
    for _id, _campaign, key, label in read.measures:  # the latest campaign's first
        found.setdefault(key, label)
    return list(found.items())


def series_table(session: Session, series: Series, viewer: Any, today: dt.date,
                 measure: str | None = None, only: Sequence[int] | None = None) -> SeriesTable:
    """Each authority's figure (the total of ``measure``) for every period asked by a campaign
    of the series that ``viewer`` may see, the national totals and the matched-panel changes.

    ``measure``: a measure key; default, the first measure of the latest campaign. ``only``:
    of those campaigns, these ids alone (what a page keyed its cache on, so that a membership
    changed meanwhile can only leave campaigns out, never add one).
    :raises Invalid: naming ``measure`` when no campaign of the series has it.
    """
    read = _read(session, series, viewer, today, only)
    measures = _measure_list(read)
    if measure is None:
        measure = measures[0][0] if measures else ""
    elif measure not in dict(measures):
        known = ", ".join(key for key, _label in measures) or "none"
        raise Invalid(f"no campaign of the series {series.slug!r} has the measure {measure!r} "
                      f"(its measures: {known})", "measure")
    having = {m[1] for m in read.measures if m[2] == measure}
    answers = _answers(session, read, [m[0] for m in read.measures if m[2] == measure])
    return build_table(
        slug=series.slug, name=series.name, measure=measure,
        measure_label=dict(measures).get(measure, measure), measures=measures,
        campaigns=read.campaigns,
        asked_periods=[p for p in read.periods if p.campaign_id in having],
        authorities=read.authorities, asked=read.asked, answers=answers)


def series_revisions(session: Session, series: Series, viewer: Any, today: dt.date,
                     measure: str | None = None) -> list[Revision]:
    """Every revision in the campaigns of the series ``viewer`` may see: an authority's answer
    for a period that a later campaign asked again and got differently (totals, every measure
    or only ``measure``).

    :raises Invalid: naming ``measure`` when no campaign of the series has it.
    """
    read = _read(session, series, viewer, today)
    measures = _measure_list(read)
    if measure is not None and measure not in dict(measures):
        known = ", ".join(key for key, _label in measures) or "none"
        raise Invalid(f"no campaign of the series {series.slug!r} has the measure {measure!r} "
                      f"(its measures: {known})", "measure")
    ids = [m[0] for m in read.measures if measure is None or m[2] == measure]
    return find_revisions(read.campaigns, read.periods, read.authorities,
                          _answers(session, read, ids), measures)
