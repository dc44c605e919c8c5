"""A campaign's heavy pages built again in the background after a write, so that the next person
to open them rarely waits for the build.

After a commit that changed campaigns (foitrack.services.data_version.on_commit), their
aggregate for everyone, its charts and the charts' images (foitrack.services.page_data.warm:
what the aggregate page, the release and the fact sheets ask for first) are built ahead of
anyone asking:

- with a task queue and a shared cache (a Redis BROKER_URL, or a broker and CACHE_URL): a worker
  builds them into the shared cache, where every web process finds them; one warm-up per
  campaign per WARM_UP_DELAY seconds, whichever process wrote;
- otherwise (no broker: `make run`, `foitrack serve`): a thread of this process builds them into
  its cache (and the shared one, if there is one) WARM_UP_DELAY seconds after the last write to
  the campaign, so a burst of saves costs one rebuild, not one per save.

Only commits ask, never reads. WARM_UP_DELAY: seconds (page_data.WARM_UP_DELAY unless set; a
test app, TESTING, has none unless set, so no test has a thread building behind its back); None
or 0 turns the warm-up off.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from typing import Any

from flask import Flask

from foitrack import broker
from foitrack.models import Campaign
from foitrack.services import data_version, page_data
from foitrack.web import page_cache

log = logging.getLogger(__name__)

_WARMER = "foitrack.web.warm"


class Warmer:
    """A thread that builds campaigns' pages into its app's cache, once each has been left
    unwritten for ``delay`` seconds."""

    def __init__(self, app: Flask, delay: float) -> None:
        self._app = weakref.ref(app)  # the app keeps its warmer, not the other way round
        self.delay = delay
        self._due: dict[int, float] = {}  # campaign id -> when to build it
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._stopped = False
        self.warmed = 0  # campaigns built: the tests and benchmarks count them

    def ask(self, campaign_ids: set[int]) -> None:
        """Build these campaigns' pages ``delay`` seconds from now, or later if written again
        meanwhile. Quick: called after a commit, in the committing request."""
        with self._wake:
            due = time.monotonic() + self.delay
            for campaign_id in campaign_ids:
                self._due[campaign_id] = due
            # Started on first use, in the process that serves (a gunicorn worker, not the
            # master it was forked from: a thread does not survive the fork).
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name="foitrack-warm-up",
                                                daemon=True)
                self._thread.start()
            self._wake.notify()

    def stop(self, timeout: float = 10) -> None:
        """Stop the thread, after the build it is in (if any)."""
        with self._wake:
            self._stopped = True
            self._wake.notify()
            thread = self._thread
        if thread is not None and thread.is_alive():
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            ready: list[int] = []
            with self._wake:
                while not self._stopped:
                    now = time.monotonic()
                    ready = [c for c, at in self._due.items() if at <= now]
                    if ready:
                        break
                    self._wake.wait(min(self._due.values()) - now if self._due else None)
                if self._stopped:
                    return
                for campaign_id in ready:
                    del self._due[campaign_id]
            for campaign_id in sorted(ready):
                self._warm(campaign_id)

    def _warm(self, campaign_id: int) -> None:
        app = self._app()
        if app is None:
            return
        try:
            with app.extensions["foitrack.db"].session() as session:
                campaign = session.get(Campaign, campaign_id)
                if campaign is not None:  # else deleted since
                    page_data.warm(session, page_cache.of(app.extensions), campaign)
                    self.warmed += 1
                session.rollback()  # read only
        except Exception:  # noqa: BLE001 - a failed warm-up costs the next reader the build
            log.exception("warming campaign %s's pages failed", campaign_id)


def init_app(app: Flask) -> None:
    """Warm the pages of what this app's sessions commit, as the settings say (see above).
    Called again (a test that changes the settings or the database), it replaces what it set."""
    delay = app.config.get("WARM_UP_DELAY", None if app.testing else page_data.WARM_UP_DELAY)
    maker = app.extensions["foitrack.db"].sessionmaker
    old: Any = app.extensions.pop(_WARMER, None)
    if old is not None:
        old.stop()
    if not delay:
        data_version.on_commit(maker, None)
        return
    shared = page_cache.of(app.extensions).shared
    if shared is not None and not broker.embedded(app.config):
        config = app.config
        data_version.on_commit(
            maker, lambda ids: page_data.ask_worker_to_warm(config, shared, ids, float(delay)))
        return
    warmer = Warmer(app, float(delay))
    app.extensions[_WARMER] = warmer
    data_version.on_commit(maker, warmer.ask)


def warmer_of(app: Flask) -> Warmer | None:
    """The app's warm-up thread, when it warms in its own process."""
    return app.extensions.get(_WARMER)
