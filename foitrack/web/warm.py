"""A campaign's heavy pages built again in the background after a write, so that the next person
to open them rarely waits for the build.

After a commit that changed campaigns (foitrack.services.data_version.on_commit), what their
pages ask for first (foitrack.services.page_data.warm) is built ahead of anyone asking:

- with a task queue and a shared cache (a Redis BROKER_URL, or a broker and CACHE_URL): a worker
  builds it into the shared cache, where every web process finds it: the aggregate, its charts
  and images, the last-written authority's fact sheet, and the campaign's series; one warm-up
  per campaign per WARM_UP_DELAY seconds, whichever process wrote (foitrack.services.warm_up);
- otherwise (no broker: `make run`, `foitrack serve`): a thread of this process builds the
  same into its cache (and the shared one, if there is one) WARM_UP_DELAY seconds after the
  last write to the campaign, so a burst of saves costs one rebuild, not one per save. A thread
  shares the process's one interpreter lock with the requests, so it waits while the process
  answers a request, between its steps, and has its images drawn in a process apart
  (foitrack.exporters.chart_images.draw_apart): vl-convert holds the lock for a whole drawing,
  and the series' two images (1.5 s) once slowed the next grid from 0.01 to 1 s, which is why
  the series was left out of this warm-up until they were drawn apart. A write by another
  process (a `foitrack` command, the embedded queue's jobs) is not warmed here: the page builds
  it on demand.

Only commits ask, never reads. WARM_UP_DELAY: seconds (warm_up.WARM_UP_DELAY unless set; a test
app, TESTING, has none unless set, so no test has a thread building behind its back); None or 0
turns the warm-up off.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from typing import Any

from flask import Flask

from foitrack.domain.clock import today_in_uk
from foitrack.exporters import chart_images
from foitrack.models import Campaign
from foitrack.services import data_version, page_data, warm_up
from foitrack.web import campaign_rows, page_cache

log = logging.getLogger(__name__)

_WARMER = "foitrack.web.warm"
_STARTS = "foitrack.web.warm.starts"
# Seconds the warm-up waits for a busy process before going on anyway (a steady stream of
# requests must not starve it: the pages it builds would then all be built on demand).
MAX_YIELD = 5.0


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
        self._serving = 0  # requests this process is answering now
        self._idle = threading.Condition()

    def ask(self, campaign_ids: set[int]) -> None:
        """Build these campaigns' pages ``delay`` seconds from now, or later if written again
        meanwhile. Quick: called after a commit, in the committing request."""
        with self._wake:
            due = time.monotonic() + self.delay
            for campaign_id in campaign_ids:
                self._due[campaign_id] = due
            self._start()
            self._wake.notify()

    def serving(self, change: int) -> None:
        """A request begins (+1) or ends (-1) in this process."""
        with self._idle:
            self._serving += change
            if self._serving <= 0:
                self._serving = 0
                self._idle.notify_all()

    def wait_until_idle(self) -> None:
        """Wait while this process answers requests (MAX_YIELD seconds at most): the warm-up
        builds what nobody has asked for yet, and a person asking must not wait behind it."""
        deadline = time.monotonic() + MAX_YIELD
        with self._idle:
            while self._serving and not self._stopped:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._idle.wait(left)

    def _start(self) -> None:
        # Started on first use, in the process that serves (a gunicorn worker, not the master
        # it was forked from: a thread does not survive the fork).
        if self._stopped:
            return
        if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="foitrack-warm-up",
                                            daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        """Stop the thread, after the build it is in (if any)."""
        with self._wake:
            self._stopped = True
            self._wake.notify()
            thread = self._thread
        with self._idle:
            self._idle.notify_all()
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
                    # The request rows first: cheap, and read by the campaign page, the
                    # dashboard and the aggregate's map (why a force has no figure).
                    with app.app_context():
                        campaign_rows.rows_of(session, [campaign_id])
                    self.wait_until_idle()
                    page_data.warm(session, page_cache.of(app.extensions), campaign,
                                   app.config.get("TODAY") or today_in_uk(),
                                   app.config["CLOCK"], between=self.wait_until_idle,
                                   draw=chart_images.draw_apart, findings=True)
                    self.warmed += 1
                session.rollback()  # read only
        except Exception:  # noqa: BLE001 - a failed warm-up costs the next reader the build
            log.exception("warming campaign %s's pages failed", campaign_id)


def init_app(app: Flask) -> None:
    """Warm the pages of what this app's sessions commit, as the settings say (see above).
    Called again (a test that changes the settings or the database), it replaces what it set."""
    delay = app.config.get("WARM_UP_DELAY", None if app.testing else warm_up.WARM_UP_DELAY)
    maker = app.extensions["foitrack.db"].sessionmaker
    old: Any = app.extensions.pop(_WARMER, None)
    if old is not None:
        old.stop()
    if not delay:
        data_version.on_commit(maker, None)
        return
    if warm_up.through_the_queue(app.config, maker, float(delay)):
        return
    warmer = Warmer(app, float(delay))
    app.extensions[_WARMER] = warmer
    data_version.on_commit(maker, warmer.ask)
    if not app.extensions.get(_STARTS):
        # Once per app (init_app may run again): the hooks find its warmer of the moment.
        app.extensions[_STARTS] = True
        app.before_request(_request_begins)
        app.teardown_request(_request_ends)


def _request_begins() -> None:
    from flask import current_app, g

    warmer = warmer_of(current_app._get_current_object())  # type: ignore[attr-defined]
    if warmer is None:
        return
    g.foitrack_warmer = warmer
    warmer.serving(+1)


def _request_ends(_error: BaseException | None = None) -> None:
    from flask import g

    warmer = g.pop("foitrack_warmer", None)
    if warmer is not None:
        warmer.serving(-1)


def warmer_of(app: Flask) -> Warmer | None:
    """The app's warm-up thread, when it warms in its own process."""
    return app.extensions.get(_WARMER)
