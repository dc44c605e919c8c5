"""What pages derive slowly, kept in each process under the data versions it was derived from.

A value is kept with the versions (foitrack.services.data_version) of the scopes it read, read
before the data: it is found again only while none of them has changed since, so a page never
shows numbers older than the database's, and a write to one campaign leaves another's pages
valid. Within a process, threads asking for the same missing value at once wait for one build.

Each process keeps its own. Where Redis is configured (CACHE_URL, or a Redis BROKER_URL), the
values a page asks to share (``shared=True``: the aggregate, its tables and the chart images) are
also kept there (foitrack.services.shared_cache): a value missing here is looked for there, and
built by one process of the whole deployment while the others wait, not once per worker. Only
values that pickle and hold no database objects are shared; the rest stay in their process.
Nothing here knows about Flask.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from foitrack.services import shared_cache
from foitrack.services.data_version import Version
from foitrack.services.shared_cache import SharedCache

T = TypeVar("T")

# Enough for every page of a few dozen busy campaigns: a campaign's rows, tables, map,
# aggregate, charts and release take about ten entries.
SIZE = 512
# How far (in numbers of one scope) a kept value may be ahead of one just built and still
# win: a request that read the versions just before someone's commit builds from what it saw,
# and must not push out what readers of the newer versions keep finding. Further behind than
# this is a database restored from an older backup, whose values replace what was kept.
RACE = 2


def _ahead(kept: Version, built: Version) -> bool:
    """Whether ``kept`` is a slightly newer state of the same scopes than ``built``."""
    if len(kept) != len(built) or any(k[0] != b[0] for k, b in zip(kept, built, strict=True)):
        return False
    gaps = [k[1] - b[1] for k, b in zip(kept, built, strict=True)]
    return all(0 <= gap <= RACE for gap in gaps) and any(gaps)


class PageCache:
    """A least-recently-used map from a page's key to (versions, what was built under them)."""

    def __init__(self, size: int = SIZE, shared: SharedCache | None = None) -> None:
        self.size = size
        self.shared = shared  # the deployment's tier behind this one, if any
        self._entries: OrderedDict[tuple[Hashable, ...], tuple[Version, Any]] = OrderedDict()
        self._lock = threading.Lock()
        # One lock per (versions, key) being built, so concurrent threads build it once.
        self._building: dict[tuple[Version, tuple[Hashable, ...]], threading.Lock] = {}
        self.builds = 0  # how many values were built: the tests and benchmarks count them

    def _found(self, version: Version, key: tuple[Hashable, ...]) -> tuple[bool, Any]:
        entry = self._entries.get(key)
        if entry is not None and entry[0] == version:
            self._entries.move_to_end(key)
            return True, entry[1]
        return False, None

    def get(self, version: Version, key: tuple[Hashable, ...], build: Callable[[], T],
            *, shared: bool = False) -> T:
        """The value kept for ``key`` under ``version``, or ``build()``'s, kept for next time.

        ``version`` is what foitrack.services.data_version read for the scopes ``build``
        reads, read before the data. ``shared``: look for the value in the shared tier, and
        keep it there, when there is one; only for values that pickle and hold no database
        objects (an aggregate, HTML, an image), under a key of plain values.
        """
        with self._lock:
            hit, value = self._found(version, key)
            if hit:
                return value
            building = self._building.setdefault((version, key), threading.Lock())
        with building:  # a second thread waits here for the first one's build
            with self._lock:
                hit, value = self._found(version, key)
                if hit:
                    return value
            ran: list[bool] = []

            def counted() -> T:
                ran.append(True)
                return build()

            try:
                built = (self.shared.get(version, key, counted) if shared and self.shared
                         else counted())
            except BaseException:
                with self._lock:
                    self._building.pop((version, key), None)
                raise
            with self._lock:  # kept and unlocked at once, so no third thread builds it again
                self._building.pop((version, key), None)
                self.builds += len(ran)  # not when another process built it
                kept = self._entries.get(key)
                if kept is None or not _ahead(kept[0], version):
                    self._entries[key] = (version, built)
                    self._entries.move_to_end(key)
                    while len(self._entries) > self.size:
                        self._entries.popitem(last=False)
            return built

    def has(self, version: Version, key: tuple[Hashable, ...], *, shared: bool = False) -> bool:
        """Whether ``get`` would find ``key`` under ``version`` without building it (looking in
        the shared tier too when ``shared``)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] == version:
                return True
        return bool(shared and self.shared and self.shared.has(version, key))

    def __len__(self) -> int:
        return len(self._entries)


class RenderBudget:
    """How many things each person may have built afresh in a sliding minute.

    The cache serves what someone has already asked for; this bounds what it cannot serve, so
    that one person varying a parameter cannot keep a worker drawing charts. Kept per process,
    like the cache.
    """

    WINDOW = 60.0  # seconds

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._spent: dict[Hashable, deque[float]] = {}
        self._lock = threading.Lock()

    def spend(self, who: Hashable) -> float | None:
        """Take one build from ``who``'s budget: None when granted, else the seconds until one
        is free again (for Retry-After)."""
        now = self.clock()
        with self._lock:
            for person in [p for p, times in self._spent.items() if times[-1] <= now - self.WINDOW]:
                del self._spent[person]  # forget people idle for a minute: memory stays bounded
            times = self._spent.setdefault(who, deque())
            while times and times[0] <= now - self.WINDOW:
                times.popleft()
            if len(times) >= self.per_minute:
                return max(times[0] + self.WINDOW - now, 1.0)
            times.append(now)
            return None


_CACHE = "foitrack.web.page_cache"
_SHARED = "foitrack.web.shared_cache"


def init_app(extensions: dict[str, Any], config: dict[str, Any]) -> PageCache:
    """Give the app its cache, in front of the shared tier its settings name (if any)."""
    extensions[_SHARED] = shared_cache.for_config(config)
    extensions[_CACHE] = PageCache(shared=extensions[_SHARED])
    return extensions[_CACHE]


def of(extensions: dict[str, Any]) -> PageCache:
    """The cache kept in an app's ``extensions``, made on first use."""
    cache = extensions.get(_CACHE)
    if cache is None:  # setdefault: two threads making the first keep one
        cache = extensions.setdefault(_CACHE, PageCache(shared=extensions.get(_SHARED)))
    return cache


def budget_of(extensions: dict[str, Any], per_minute: int) -> RenderBudget:
    """The render budget kept in an app's ``extensions``, made on first use."""
    return extensions.setdefault(
        "foitrack.render_budget", RenderBudget(per_minute))
