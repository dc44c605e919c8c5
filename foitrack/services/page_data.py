"""What a campaign's heavy pages derive, and the keys it is kept under: the aggregate with its
charts, and the charts' images.

The aggregate page, its chart images, the release and the fact sheets build these when a page
asks (foitrack.web.views.figures); the warm-up builds them ahead of the page after a write (in
the web process, foitrack.web.warm, or in a worker into the shared cache,
foitrack.worker.tasks.warm_up). Both go through here, so what the warm-up builds is exactly
what the page looks for: the same key under the same data versions, read before the data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session

from foitrack import broker
from foitrack.errors import NotFound
from foitrack.exporters import charts
from foitrack.models import Campaign
from foitrack.services import aggregate, data_version
from foitrack.services.campaigns import authority_kinds
from foitrack.services.shared_cache import SharedCache

log = logging.getLogger(__name__)

T = TypeVar("T")
Key = tuple[Hashable, ...]

# Seconds after the last write to a campaign before its pages are built again: a burst of saves
# in the grid costs one rebuild, and the person saving rarely reaches the aggregate sooner.
WARM_UP_DELAY = 1.0
# The format the pages show charts in (<img src=...svg>); PNG is drawn only for a download.
SHOWN_FORMAT = "svg"


class Store(Protocol):
    """Where built values are kept: a process's PageCache, or the shared cache itself."""

    def get(self, version: data_version.Version, key: Key, build: Callable[[], T],
            *, shared: bool = ...) -> T: ...


@dataclass(frozen=True)
class Built:
    """An aggregate and its charts under the data versions they were built from."""

    version: data_version.Version
    result: aggregate.Aggregate
    problem: str | None  # why the choice of authorities could not be used; None when it could
    charts: list[charts.Chart]


# ---- the keys ---------------------------------------------------------------------------------

def aggregate_key(campaign_id: int, subset: str | None, checked: bool) -> Key:
    """The aggregate and its charts for a choice of authorities (None: everyone) and figures."""
    return ("aggregate", campaign_id, subset, checked)


def chart_key(campaign_id: int, subset: str | None, checked: bool, chart: str) -> Key:
    """One of the aggregate's charts, by name."""
    return (*aggregate_key(campaign_id, subset, checked), chart)


def fact_sheet_key(campaign_id: int, authority_slug: str, measure: str) -> Key:
    """A fact sheet's chart: one authority's figure for a measure beside the national total."""
    return ("fact sheet", campaign_id, authority_slug, measure)


def image_key(chart: Key, image_format: str) -> Key:
    """A chart (``chart_key`` or ``fact_sheet_key``) drawn as an image."""
    return ("image", *chart, image_format)


# ---- the builders -----------------------------------------------------------------------------

def outline(session: Session, campaign: Campaign) -> charts.Outline:
    """The campaign's design as the charts need it."""
    return charts.outline(campaign, authority_kinds(session, campaign))


def aggregate_for(session: Session, campaign: Campaign, subset: str | None,
                  checked: bool) -> tuple[aggregate.Aggregate, str | None]:
    """The aggregate over a choice of authorities, and why the choice could not be used (an
    unknown set or authority: then the aggregate of nobody)."""
    try:
        ids, label = aggregate.subset_ids(session, subset)
    except NotFound as error:
        return aggregate.build(session, campaign, [], subset="nobody"), str(error)
    return aggregate.build(session, campaign, ids, checked_only=checked, subset=label), None


def built(session: Session, store: Store, campaign: Campaign, subset: str | None = None,
          checked: bool = False) -> Built:
    """The aggregate and charts for a choice of authorities and figures, built once per data
    version: the page, each of its chart images and the fact sheets' charts share it.
    ``subset`` is spelt one way for each choice (the page's canonical spelling)."""
    # Before the data, so they are no older; a write to another campaign leaves them.
    version = data_version.of_campaigns(session, [campaign.id])

    def build() -> Built:
        # The campaign was loaded before the versions were read: read it again, so a change
        # committed in between (its title, its design) is not kept under the newer versions.
        session.refresh(campaign)
        result, problem = aggregate_for(session, campaign, subset, checked)
        return Built(version, result, problem, charts.catalogue(outline(session, campaign), result))

    return store.get(version, aggregate_key(campaign.id, subset, checked), build, shared=True)


def image(store: Store, version: data_version.Version, chart: Key, drawn: charts.Chart,
          image_format: str) -> bytes:
    """``drawn`` as an image, rendered once per data version (kept under ``chart``'s key)."""
    return store.get(version, image_key(chart, image_format),
                     lambda: charts.render(drawn.spec, image_format), shared=True)


def warm(session: Session, store: Store, campaign: Campaign) -> Built:
    """Build what the campaign's heavy pages will ask for first, into ``store``: the aggregate
    of everyone with its charts (which the release and the fact sheets use too) and the charts'
    images as the page shows them. What is there already is not built again."""
    found = built(session, store, campaign)
    for drawn in found.charts:
        image(store, found.version, chart_key(campaign.id, None, False, drawn.name), drawn,
              SHOWN_FORMAT)
    return found


# ---- asking for a warm-up ---------------------------------------------------------------------

def ask_worker_to_warm(config: Mapping[str, Any], shared: SharedCache, campaign_ids: set[int],
                       after: float) -> list[int]:
    """Have a worker warm these campaigns' pages into the shared cache ``after`` seconds from
    now; a campaign already asked for in that window is left (the one warm-up reads what
    was committed by then). Returns the ids handed to the broker.

    Called after the commit that changed them: a worker never reads an older state than the
    writer's. A broker that does not answer costs the warm-up only (the page builds on demand).
    """
    app = broker.app_for(config)
    asked = []
    for campaign_id in sorted(campaign_ids):
        # The window's claim lapses just before the task runs: a write after the claim and
        # before the task starts has committed before it reads.
        if not shared.claim(f"warm:{campaign_id}", after):
            continue
        try:
            app.send_task(broker.WARM_UP, args=[campaign_id], countdown=after,
                          queue=config.get("QUEUE") or "foitrack")
        except Exception:  # noqa: BLE001 - any broker fault: the page will build it on demand
            log.warning("could not ask for campaign %s's pages to be warmed", campaign_id,
                               exc_info=True)
            continue
        asked.append(campaign_id)
    return asked
