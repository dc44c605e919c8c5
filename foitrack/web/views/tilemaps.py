"""The tile maps on the campaign and aggregate pages: the page's data and arguments in, a map out.

Not a blueprint: the campaign and figures views call these so their own code stays a line long.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import url_for

from foitrack.domain import tilemap
from foitrack.domain.phrasing import per_words
from foitrack.domain.tilemap import Place, Reading, TileMap
from foitrack.errors import NotFound
from foitrack.services import aggregate
from foitrack.services.requests import RequestRow
from foitrack.web import campaign_rows
from foitrack.web.context import db_session

FORMATS = {
    "value": lambda v: f"{v:,.0f}",
    "rate": lambda v: f"{v:,.1f}",
    "change": lambda v: f"{v:+,.0f}",
    "change_pct": lambda v: f"{v:+.0f}%",
}


def campaign_map(slug: str, rows: Sequence[RequestRow]) -> TileMap:
    """Each request's force coloured by its state (answered with figures, refused, overdue...);
    a click opens the request."""
    return tilemap.status_map(
        (Place(r.authority_code, r.authority_name,
               url_for("requests.detail", slug=slug, authority=r.authority_slug)), r.state)
        for r in rows if r.counts  # one tile a force: the request its figures come from
    )


@dataclass
class FigureChoice:
    """What the aggregate map shows, and the choices its form offers."""

    measure: str = ""
    period: str = ""
    category: str = ""  # "" for the total, else "<dimension key>:<category label>"
    show: str = "value"
    earlier: str | None = None  # the period a change is measured from
    measures: list[tuple[str, str]] = field(default_factory=list)
    periods: list[tuple[str, str]] = field(default_factory=list)
    categories: list[tuple[str, str]] = field(default_factory=list)
    shows: list[tuple[str, str]] = field(default_factory=lambda: list(tilemap.SHOW.items()))
    caption: str = ""
    note: str | None = None
    per_text: str = ""  # "per 100,000 people", for a measure with a rate


def _choose(campaign: Any, args: Mapping[str, str]) -> FigureChoice:
    """Read the map's arguments, falling back to the first measure, latest period and total."""
    periods = sorted(campaign.periods, key=lambda p: p.start)
    choice = FigureChoice(
        measures=[(m.key, m.label) for m in campaign.measures],
        periods=[(p.key, p.label) for p in periods],
        categories=[("", "Total")] + [(f"{d.key}:{c.label}", f"{d.label or d.key}: {c.label}")
                                      for d in campaign.dimensions for c in d.categories],
    )
    choice.measure = _pick(args.get("map_measure"), [k for k, _ in choice.measures])
    choice.period = _pick(args.get("map_period"), [k for k, _ in choice.periods], last=True)
    choice.category = _pick(args.get("map_category"), [k for k, _ in choice.categories])
    choice.show = _pick(args.get("map_show") or ("rate" if args.get("per") else None),
                        list(tilemap.SHOW))
    labels = {p.key: p.label for p in periods}
    index = [p.key for p in periods].index(choice.period) if choice.period else 0
    rated = next((m for m in campaign.measures if m.key == choice.measure and m.rate_per), None)
    if rated is not None:
        choice.per_text = per_words(rated.rate_per, rated.rate_base or "population")
        choice.shows = [(key, f"the rate {choice.per_text}" if key == "rate" else text)
                        for key, text in choice.shows]
    else:
        choice.shows = [(key, text) for key, text in choice.shows if key != "rate"]
        if choice.show == "rate":
            choice.note = "This measure has no rate (its campaign file sets rate_per = 0)."
            choice.show = "value"
    what = labels.get(choice.period, "")
    if choice.show == "rate":
        what = f"{what}, {choice.per_text}"
    elif choice.show != "value":
        if index == 0:
            choice.note = f"{labels.get(choice.period, '')} is the first period: there is no change to show."
            choice.show = "value"
        else:
            choice.earlier = periods[index - 1].key
    category = dict(choice.categories).get(choice.category, "Total")
    measure = dict(choice.measures).get(choice.measure, choice.measure)
    if choice.earlier:
        what = f"change from {labels[choice.earlier]} to {labels[choice.period]}"
        what += " (per cent)" if choice.show == "change_pct" else ""
    choice.caption = f"{measure}, {category.lower() if category == 'Total' else category}: {what}"
    return choice


def _pick(wanted: str | None, allowed: list[str], last: bool = False) -> str:
    if wanted in allowed:
        return wanted or ""
    if not allowed:
        return ""
    return allowed[-1] if last else allowed[0]


def map_key(campaign: Any, args: Mapping[str, str]) -> tuple[str, ...]:
    """What the map shows for these arguments, spelt one way: unknown values fall back as the
    map does, so a link with made-up arguments finds the map already kept (and cannot fill the
    page cache with copies of it)."""
    choice = _choose(campaign, args)
    return (choice.measure, choice.period, choice.category, choice.show)


def aggregate_map(campaign: Any, result: Any, args: Mapping[str, str]) -> tuple[TileMap | None,
                                                                                FigureChoice]:
    """The chosen figure (or its change) for each force asked; a click opens its fact sheet."""
    choice = _choose(campaign, args)
    if not choice.measure or not choice.period:
        return None, choice
    try:
        ids, _ = aggregate.subset_ids(db_session(), args.get("authorities"))
    except NotFound:
        return None, choice  # the page already says the subset is unknown
    dimension, _, category = choice.category.partition(":")
    found = tilemap.readings(result.authorities, choice.measure, choice.period, dimension or None,
                             category or None, earlier=choice.earlier, show=choice.show,
                             per_text=choice.per_text)
    # An authority with no figure in the cell says why from its request: a refusal (s.12
    # among them) must not look like a request still waiting for its reply.
    states = {r.authority_slug: r.state
              for r in campaign_rows.rows_of(db_session(), [campaign.id])[campaign.id]
              if r.counts}
    entries = [
        (Place(code, name, url_for("figures.fact_sheet", slug=campaign.slug, authority=slug)),
         found.get(slug) or (tilemap.answer_reading(states[slug]) if slug in states
                             else Reading("none", "no figure")))
        for slug, name, code in aggregate.asked_authorities(db_session(), campaign, ids)
    ]
    fmt = FORMATS[choice.show if choice.earlier or choice.show == "rate" else "value"]
    return tilemap.figure_map(entries, diverging=choice.earlier is not None, fmt=fmt), choice
