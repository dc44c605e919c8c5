"""Each campaign's request rows (foitrack.services.requests.RequestRow), kept in the page cache
under that campaign's own data version, with what pages derive from them alone.

The campaign page, the chase list and the dashboard all take their rows from here, so a write
to one campaign rebuilds that campaign's rows only: whichever page asks next finds every other
campaign's rows as they were kept. The campaigns missing from the cache are built together, in
one ``request_rows`` call (a fixed number of queries however many are missing), and threads
missing the same campaign at once build it once.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy.orm import Session

from foitrack.domain.clock import ClockSettings
from foitrack.models import Campaign
from foitrack.services import data_version
from foitrack.services.checks import open_findings
from foitrack.services.requests import RequestRow, request_rows
from foitrack.web import page_cache
from foitrack.web.context import clock_settings, db_session, today

T = TypeVar("T")

_LOCKS = "foitrack.web.campaign_rows.locks"
_LOCKS_LOCK = threading.Lock()


@dataclass(frozen=True)
class _Kept:
    """What the cache keeps for one campaign: its rows, and what pages derived from them
    (derived_of), filled in as they ask: a value derived from the rows is as fresh as they are."""

    rows: list[RequestRow]
    derived: dict[tuple[str, str, str], Any] = field(default_factory=dict)


def key(campaign_id: int, day: dt.date, settings: ClockSettings) -> tuple[Hashable, ...]:
    """What one campaign's rows are kept under, worked out on ``day`` with ``settings``."""
    return ("campaign rows", campaign_id, day, settings)


def versions_of(session: Session, campaign_ids: Iterable[int]) -> dict[int, data_version.Version]:
    """Each campaign's data version, equal to ``data_version.of_campaigns(session, [id])``,
    read for all of them in one query."""
    scopes = {campaign_id: data_version.campaign_scope(campaign_id) for campaign_id in campaign_ids}
    if not scopes:
        return {}
    read = {triple[0]: triple for triple in
            data_version.of_scopes(session, [data_version.REGISTRY, *scopes.values()])}
    common = (read[data_version.ALL], read[data_version.REGISTRY])
    # Sorted by scope, as of_scopes returns them: the same tuple as a page reading one campaign.
    return {campaign_id: tuple(sorted((*common, read[scope])))
            for campaign_id, scope in scopes.items()}


def rows_of(session: Session, campaign_ids: Iterable[int]) -> dict[int, list[RequestRow]]:
    """Each campaign's rows by authority name, worked out on today's date; only those of the
    campaigns written since they were kept are built again. The rows are shared between
    requests: read them, never change them."""
    return {campaign_id: kept.rows for campaign_id, kept in _kept(session, campaign_ids).items()}


def derived_of(session: Session, campaigns: Sequence[Campaign], name: str,
               derive: Callable[[Campaign, list[RequestRow]], T]) -> dict[int, T]:
    """``derive(campaign, its rows)`` for each campaign, kept with its rows: worked out again
    only when they are rebuilt. ``name`` names ``derive`` alone, which reads nothing but the
    rows and the campaign's slug and title. The values are shared between requests: read
    them, never change them."""
    found = {}
    kept = _kept(session, [campaign.id for campaign in campaigns])
    for campaign in campaigns:
        derived = kept[campaign.id].derived
        # Under the slug and title too: a campaign loaded before the versions were read (and
        # renamed in between) must not leave its old name with the new rows.
        name_of = (name, campaign.slug, campaign.title)
        if name_of not in derived:
            # Two threads may both derive it (from the same rows); one value is kept.
            derived.setdefault(name_of, derive(campaign, kept[campaign.id].rows))
        found[campaign.id] = derived[name_of]
    return found


def _locks(campaign_ids: list[int]) -> list[threading.Lock]:
    """One lock per campaign in this process, in id order (taken in one order: no deadlock)."""
    with _LOCKS_LOCK:
        held: dict[int, threading.Lock] = current_app.extensions.setdefault(_LOCKS, {})
        return [held.setdefault(campaign_id, threading.Lock()) for campaign_id in sorted(campaign_ids)]


def _kept(session: Session, campaign_ids: Iterable[int]) -> dict[int, _Kept]:
    ids = list(dict.fromkeys(campaign_ids))
    versions = versions_of(session, ids)  # before the data, so the rows are no older
    day, settings = today(), clock_settings()
    cache = page_cache.of(current_app.extensions)

    def held(campaign_id: int) -> bool:
        return cache.has(versions[campaign_id], key(campaign_id, day, settings))

    cold = [i for i in ids if not held(i)]
    built: dict[int, list[RequestRow]] = {}

    def build(campaign_id: int) -> _Kept:
        if campaign_id in built:
            return _Kept(built[campaign_id])
        # Kept when looked for, and pushed out of the cache since: built on its own.
        return _Kept(request_rows(session, [campaign_id], day, settings)[campaign_id])

    # Threads missing the same campaigns wait here for one build, then find it kept.
    locks = _locks(cold)
    for lock in locks:
        lock.acquire()
    try:
        still = [i for i in cold if not held(i)]
        if still:
            built = request_rows(session, still, day, settings)
        return {i: cache.get(versions[i], key(i, day, settings), partial(build, i)) for i in ids}
    finally:
        for lock in reversed(locks):
            lock.release()


def open_findings_by_authority(campaign: Campaign, version: Any) -> Mapping[str, int]:
    """How many consistency findings are open for each authority (by slug), kept like the
    rows: a figure, an event or an explanation changes the data version, and so the counts.
    Shared between requests: read it, never change it."""
    def count() -> Mapping[str, int]:
        found = open_findings(db_session(), campaign, today=today(), settings=clock_settings())
        return dict(Counter(finding.authority for finding in found))

    return page_cache.of(current_app.extensions).get(
        version, ("open findings by authority", campaign.id, today(), clock_settings()),
        count)
