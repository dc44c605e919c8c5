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

Only commits ask, never reads. Without a queue, the thread also looks at the campaigns' data
versions every WARM_UP_POLL seconds, so that what another process wrote (a `foitrack` command's
import, a job of the embedded queue, another web process) is warmed here too, that long after.

WARM_UP_DELAY: seconds (warm_up.WARM_UP_DELAY unless set; a test app, TESTING, has none unless
set, so no test has a thread building behind its back); None or 0 turns the warm-up off.
WARM_UP_POLL: seconds (POLL unless set); None or 0 turns the looking off.
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
from foitrack.models import Campaign
from foitrack.services import data_version, page_data, warm_up
from foitrack.web import page_cache

log = logging.getLogger(__name__)

_WARMER = "foitrack.web.warm"
_STARTS = "foitrack.web.warm.starts"
# Seconds between looks for other processes' writes: one small query (a row per campaign).
POLL = 2.0


class Warmer:
    """A thread that builds campaigns' pages into its app's cache, once each has been left
    unwritten for ``delay`` seconds."""

    def __init__(self, app: Flask, delay: float, poll: float | None = None) -> None:
        self._app = weakref.ref(app)  # the app keeps its warmer, not the other way round
        self.delay = delay
        self.poll = poll  # seconds between looks for others' writes; None: not looked for
        self._due: dict[int, float] = {}  # campaign id -> when to build it
        # Each campaign's version when last built or looked at; None until the first look.
        self._seen: dict[int, tuple[int, str]] | None = None
        self._next_look = 0.0
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._stopped = False
        self.warmed = 0  # campaigns built: the tests and benchmarks count them
        self.looks = 0  # looks for others' writes made

    def ask(self, campaign_ids: set[int]) -> None:
        """Build these campaigns' pages ``delay`` seconds from now, or later if written again
        meanwhile. Quick: called after a commit, in the committing request."""
        with self._wake:
            due = time.monotonic() + self.delay
            for campaign_id in campaign_ids:
                self._due[campaign_id] = due
            self._start()
            self._wake.notify()

    def start(self) -> None:
        """Start the thread in this process, if it is not running (quick: each request asks)."""
        if self._thread is None or self._pid != os.getpid():
            with self._wake:
                self._start()

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
        if thread is not None and thread.is_alive():
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            ready: list[int] = []
            with self._wake:
                while not self._stopped:
                    now = time.monotonic()
                    ready = [c for c, at in self._due.items() if at <= now]
                    if ready or (self.poll and now >= self._next_look):
                        break
                    wake_at = [*self._due.values(), *([self._next_look] if self.poll else [])]
                    self._wake.wait(min(wake_at) - now if wake_at else None)
                if self._stopped:
                    return
                for campaign_id in ready:
                    del self._due[campaign_id]
            for campaign_id in sorted(ready):
                self._warm(campaign_id)
            if self.poll and time.monotonic() >= self._next_look:
                self._look()

    def _look(self) -> None:
        """Ask for the campaigns whose version changed since the last look or build, written
        by another process (this one's writes have asked already: built, they are not again)."""
        assert self.poll
        self._next_look = time.monotonic() + self.poll
        app = self._app()
        if app is None:
            return
        try:
            with app.extensions["foitrack.db"].session() as session:
                now = data_version.of_every_campaign(session)
                session.rollback()
        except Exception:  # noqa: BLE001 - the database away: the next look tries again
            log.warning("could not read the data versions", exc_info=True)
            return
        with self._wake:
            self.looks += 1
            seen, self._seen = self._seen, {**(self._seen or {}), **now}
            if seen is None:
                return  # the first look: what was written before this process started
            due = time.monotonic() + self.delay
            for campaign_id, version in now.items():
                if seen.get(campaign_id) != version:
                    self._due.setdefault(campaign_id, due)

    def _warm(self, campaign_id: int) -> None:
        app = self._app()
        if app is None:
            return
        try:
            with app.extensions["foitrack.db"].session() as session:
                # Before the build, which reads no older: a look after it finds nothing new.
                version = data_version.of_every_campaign(session).get(campaign_id)
                campaign = session.get(Campaign, campaign_id)
                if campaign is not None:  # else deleted since
                    if version is not None:
                        with self._wake:
                            if self._seen is not None:
                                self._seen[campaign_id] = version
                    page_data.warm(session, page_cache.of(app.extensions), campaign,
                                   app.config.get("TODAY") or today_in_uk(),
                                   app.config["CLOCK"])
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
    poll = app.config.get("WARM_UP_POLL", POLL)
    warmer = Warmer(app, float(delay), float(poll) if poll else None)
    app.extensions[_WARMER] = warmer
    data_version.on_commit(maker, warmer.ask)
    if warmer.poll and not app.extensions.get(_STARTS):
        # Looking starts with the first request this process serves, not at import.
        app.extensions[_STARTS] = True
        app.before_request(_start_looking)


def _start_looking() -> None:
    from flask import current_app

    warmer = warmer_of(current_app._get_current_object())  # type: ignore[attr-defined]
    if warmer is not None and warmer.poll:
        warmer.start()


def warmer_of(app: Flask) -> Warmer | None:
    """The app's warm-up thread, when it warms in its own process."""
    return app.extensions.get(_WARMER)
