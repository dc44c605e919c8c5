"""What pages derive slowly, kept in each process under the data version it was derived from.

A key starts with the data version (foitrack.services.data_version) read before the data: an entry can
only be found again while no audited change has committed since, so a page never shows
numbers older than the database's. Several gunicorn workers each keep their own; a worker
that has not seen a version yet builds it once. Nothing here knows about Flask.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

# Entries of the newest version, a few campaigns and selections each; older ones go at once.
SIZE = 64


class PageCache:
    """A small least-recently-used map from (version, what, ...) to what was built."""

    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self.newest = -1  # the highest version number seen
        # Keyed by (version, key): the version first, to drop what a newer one makes stale.
        self._entries: OrderedDict[tuple[tuple[int, str], tuple[Hashable, ...]], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, version: tuple[int, str], key: tuple[Hashable, ...], build: Callable[[], T]) -> T:
        """The value kept under ``(version, *key)``, or ``build()``'s, kept for next time.

        ``version`` is foitrack.services.data_version.current(), read before the data ``build`` reads.
        """
        full = (version, key)
        with self._lock:
            if full in self._entries:
                self._entries.move_to_end(full)
                return self._entries[full]
        value = build()  # outside the lock: another thread may build the same; both are right
        with self._lock:
            number = version[0]
            if number < self.newest - 1:
                # Far behind: a database restored from a backup. Start again from it.
                self._entries.clear()
                self.newest = number
            if number > self.newest:
                # A newer version makes older entries unreachable: free them now.
                self.newest = number
                for old in [k for k in self._entries if k[0][0] < number]:
                    del self._entries[old]
            if number == self.newest:
                self._entries[full] = value
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
        return value

    def has(self, version: tuple[int, str], key: tuple[Hashable, ...]) -> bool:
        """Whether ``get`` would find ``(version, *key)`` without building it."""
        with self._lock:
            return (version, key) in self._entries

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


def of(extensions: dict[str, Any]) -> PageCache:
    """The cache kept in an app's ``extensions``, made on first use."""
    return extensions.setdefault("foitrack.web.page_cache", PageCache())


def budget_of(extensions: dict[str, Any], per_minute: int) -> RenderBudget:
    """The render budget kept in an app's ``extensions``, made on first use."""
    return extensions.setdefault(
        "foitrack.render_budget", RenderBudget(per_minute))
