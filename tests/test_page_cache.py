"""The per-process cache of what pages derive: kept under the versions it read, never older."""

from __future__ import annotations

import threading
import time

import pytest

from foitrack.web.page_cache import PageCache


def v(*numbers: int, stamp: str = "s") -> tuple[tuple[str, int, str], ...]:
    """Versions of the scopes "all" and "campaign:1" (and "campaign:2" with a third number)."""
    scopes = ["all", "campaign:1", "campaign:2"]
    return tuple((scope, number, f"{stamp}{number}") for scope, number in zip(scopes, numbers, strict=False))


def builder(value: object, calls: list[object]):
    def build() -> object:
        calls.append(value)
        return value
    return build


def test_a_value_is_built_once_per_version_and_key():
    cache, calls = PageCache(), []
    assert cache.get(v(0, 1), ("x",), builder("first", calls)) == "first"
    assert cache.get(v(0, 1), ("x",), builder("second", calls)) == "first"
    assert cache.get(v(0, 1), ("y",), builder("other", calls)) == "other"
    assert calls == ["first", "other"]


def test_a_newer_version_builds_again_and_replaces_the_older_entry():
    cache, calls = PageCache(), []
    cache.get(v(0, 1), ("x",), builder("old", calls))
    assert cache.get(v(0, 2), ("x",), builder("new", calls)) == "new"
    assert len(cache) == 1
    assert cache.get(v(0, 2), ("x",), builder("again", calls)) == "new"


def test_a_reader_behind_the_newest_version_is_answered_but_not_kept():
    # A request that read the version just before someone else's commit builds from what it
    # saw; that must not be found again by readers of the newer version.
    cache, calls = PageCache(), []
    cache.get(v(0, 5), ("x",), builder("five", calls))
    assert cache.get(v(0, 4), ("x",), builder("four", calls)) == "four"
    assert cache.get(v(0, 4), ("x",), builder("four again", calls)) == "four again"
    assert cache.get(v(0, 5), ("x",), builder("five again", calls)) == "five"


def test_the_same_number_with_another_stamp_is_another_version():
    # A database restored from a backup and written to again can reach a number seen before.
    cache, calls = PageCache(), []
    cache.get(v(0, 7, stamp="before"), ("x",), builder("old numbers", calls))
    assert cache.get(v(0, 7, stamp="after"), ("x",), builder("new", calls)) == "new"


def test_a_version_far_behind_replaces_what_was_kept():
    cache, calls = PageCache(), []
    cache.get(v(0, 10), ("x",), builder("ten", calls))
    cache.get(v(0, 3), ("x",), builder("three", calls))  # restored from an old backup
    assert cache.get(v(0, 3), ("x",), builder("three again", calls)) == "three"
    assert len(cache) == 1


def test_a_version_of_other_scopes_is_not_a_newer_one():
    # The same key under different scopes (a campaign page whose campaign list changed): the
    # latest build wins.
    cache, calls = PageCache(), []
    cache.get(v(0, 2, 2), ("x",), builder("two campaigns", calls))
    assert cache.get(v(0, 1), ("x",), builder("one campaign", calls)) == "one campaign"
    assert cache.get(v(0, 1), ("x",), builder("again", calls)) == "one campaign"


def test_the_least_recently_used_entry_goes_when_full():
    cache, calls = PageCache(size=2), []
    cache.get(v(0, 1), ("x",), builder("x", calls))
    cache.get(v(0, 1), ("y",), builder("y", calls))
    cache.get(v(0, 1), ("x",), builder("x again", calls))  # x is now the most recent
    cache.get(v(0, 1), ("z",), builder("z", calls))
    assert cache.get(v(0, 1), ("x",), builder("x rebuilt", calls)) == "x"
    assert cache.get(v(0, 1), ("y",), builder("y rebuilt", calls)) == "y rebuilt"


def test_threads_asking_at_once_for_a_missing_value_build_it_once():
    cache = PageCache()
    started = threading.Barrier(4)
    results: list[object] = []

    def slow() -> object:
        time.sleep(0.3)  # long enough that all four threads ask while it is being built
        return object()

    def ask() -> None:
        started.wait()
        results.append(cache.get(v(0, 1), ("x",), slow))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cache.builds == 1
    assert len({id(result) for result in results}) == 1


def test_a_failed_build_lets_the_next_caller_build():
    cache = PageCache()

    def fail() -> object:
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        cache.get(v(0, 1), ("x",), fail)
    assert cache.get(v(0, 1), ("x",), lambda: "built") == "built"
