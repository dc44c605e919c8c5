"""Where a request stands in its campaign's list of requests, for the previous and next links
of the request and figures pages and their "Save and go to the next force".

The list is the campaign page's requests table: every request by authority name, or the ones
the campaign page's filter keeps (``?status=``: a status, late, due soon, refused...; passed
along from page to page).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from flask import flash, url_for

from foitrack.domain.timeline import Status
from foitrack.models import Request
from foitrack.services import data_version
from foitrack.services.requests import RequestRow
from foitrack.web import campaign_rows
from foitrack.web.context import db_session
from foitrack.web.views import requests_table

LATE = requests_table.LATE  # the campaign page's filter of the late requests


def _keeps(shown: str, findings: Collection[str] = ()) -> Callable[[RequestRow], bool] | None:
    """The campaign page's filter named ``shown``, or None if it names none; ``findings``: the
    authorities with open consistency findings, for that filter."""
    return requests_table.keeps(shown, findings)


def list_args(shown: str) -> dict[str, Any]:
    """The query arguments that keep following the list filtered as ``shown`` says (none for a
    filter the campaign page does not know), for url_for (typed Any, as its values are)."""
    return {"status": shown} if shown and _keeps(shown) is not None else {}


@dataclass(frozen=True)
class Place:
    """A request's neighbours in the list, and its place in it (None: the request has left
    the filtered list, as an answered request leaves the late ones)."""

    previous: RequestRow | None
    next: RequestRow | None
    position: int | None
    total: int
    shown: str  # the filter followed, "" for the whole list

    @property
    def args(self) -> dict[str, Any]:
        """The query arguments that keep following this list from page to page."""
        return list_args(self.shown)

    @property
    def filter_label(self) -> str:
        if not self.shown:
            return ""
        return requests_table.FILTERS.get(self.shown) or Status(self.shown).label


def place_of(found: Request, shown: str) -> Place:
    """Where ``found`` stands in its campaign's list, filtered as ``shown`` says (a filter the
    campaign page does not know is ignored).

    The neighbours are looked for in the whole list, from the request's own place, so a request
    that a save has just taken out of the filtered list still has the ones either side of it.
    """
    session = db_session()
    # Force by force: an authority's narrowed follow-ups are reached from its first request's
    # page, so they are not neighbours (the next "force" would be the same one again), and a
    # follow-up stands where its first request does.
    rows = [row for row in campaign_rows.rows_of(session, [found.campaign_id])[found.campaign_id]
            if row.follow_up_number == 0]
    anchor = found.follow_up_of_id or found.id
    findings: Collection[str] = ()
    if shown == requests_table.FINDINGS:
        version = data_version.of_campaigns(session, [found.campaign_id])
        findings = campaign_rows.open_findings_by_authority(found.campaign, version)
    chosen = _keeps(shown, findings)
    if chosen is None:
        shown = ""
    keeps: Callable[[RequestRow], bool] = chosen or (lambda row: True)
    listed = [row for row in rows if keeps(row)]
    here = next((i for i, row in enumerate(rows) if row.request_id == anchor), None)
    if here is None:  # not among the rows read: no neighbours rather than wrong ones
        return Place(None, None, None, len(listed), shown)
    previous = next((row for row in reversed(rows[:here]) if keeps(row)), None)
    following = next((row for row in rows[here + 1:] if keeps(row)), None)
    position = next((i + 1 for i, row in enumerate(listed) if row.request_id == anchor), None)
    return Place(previous, following, position, len(listed), shown)


def next_page(endpoint: str, found: Request, shown: str) -> str:
    """Where "Save and go to the next force" leads once saved: the next request's page of
    ``endpoint`` in the list, or after the last the campaign's page, with a message saying so.
    Worked out after the save, which may have taken ``found`` out of a filtered list."""
    place = place_of(found, shown)
    slug = found.campaign.slug
    if place.next is not None:
        return url_for(endpoint, slug=slug, authority=place.next.authority_slug, **place.args)
    last = f"of the requests shown as {place.filter_label}" if place.shown else "request in the list"
    flash(f"{found.authority.name} was the last {last}, so here is the campaign again.", "info")
    return url_for("campaigns.detail", slug=slug, **place.args)

