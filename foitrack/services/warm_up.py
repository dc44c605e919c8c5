"""Asking for a campaign's heavy pages to be built again after a write, ahead of their readers
(what is built: foitrack.services.page_data.warm).

Light on purpose: every process that writes imports it (a web process, a worker, each
`foitrack` command), and a command must start quickly; the charts and the aggregate are
imported only by whoever builds them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from foitrack import broker
from foitrack.services import data_version

if TYPE_CHECKING:
    from sqlalchemy.orm import sessionmaker

    from foitrack.services.shared_cache import SharedCache

log = logging.getLogger(__name__)

# Seconds after the last write to a campaign before its pages are built again: a burst of saves
# in the grid costs one rebuild, and the person saving rarely reaches the aggregate sooner.
WARM_UP_DELAY = 1.0


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


def through_the_queue(config: Mapping[str, Any], maker: sessionmaker[Any],
                      delay: float | None = None) -> bool:
    """After each commit of ``maker``'s sessions that changes campaigns, have a worker warm
    them into the shared cache (``delay`` seconds on: WARM_UP_DELAY unless set in the settings
    or given). Only where the web processes would find what it builds: a broker (not the
    embedded queue) and a shared cache; returns whether it watches.

    A worker's jobs and a `foitrack` command (an import, a reply filed from the command line)
    write as a person does in the web app, and their campaigns' pages are warmed the same way.
    """
    if broker.embedded(config):
        return False
    from foitrack.services import shared_cache  # Redis's client: only where there is a broker

    shared = shared_cache.for_config(config)
    if shared is None:
        return False
    after = float(delay or config.get("WARM_UP_DELAY") or WARM_UP_DELAY)
    data_version.on_commit(maker, lambda ids: ask_worker_to_warm(config, shared, ids, after))
    return True
