"""The per-process cache of what pages derive: kept under a data version, never older."""

from __future__ import annotations

from foitrack.web.page_cache import PageCache


def builder(value: object, calls: list[object]):
    def build() -> object:
        calls.append(value)
        return value
    return build


def test_a_value_is_built_once_per_version_and_key():
    cache, calls = PageCache(), []
    assert cache.get((1, "a"), ("x",), builder("first", calls)) == "first"
    assert cache.get((1, "a"), ("x",), builder("second", calls)) == "first"
    assert cache.get((1, "a"), ("y",), builder("other", calls)) == "other"
    assert calls == ["first", "other"]


def test_a_newer_version_builds_again_and_frees_the_older_entries():
    cache, calls = PageCache(), []
    cache.get((1, "a"), ("x",), builder("old", calls))
    assert cache.get((2, "b"), ("x",), builder("new", calls)) == "new"
    assert len(cache) == 1
    assert cache.get((2, "b"), ("x",), builder("again", calls)) == "new"


def test_a_reader_behind_the_newest_version_is_answered_but_not_kept():
    # A request that read the version just before someone else's commit builds from what it
    # saw; that must not be found again by readers of the newer version.
    cache, calls = PageCache(), []
    cache.get((5, "e"), ("x",), builder("five", calls))
    assert cache.get((4, "d"), ("x",), builder("four", calls)) == "four"
    assert cache.get((4, "d"), ("x",), builder("four again", calls)) == "four again"
    assert cache.get((5, "e"), ("x",), builder("five again", calls)) == "five"


def test_the_same_number_with_another_stamp_is_another_version():
    # A database restored from a backup and written to again can reach a number seen before.
    cache, calls = PageCache(), []
    cache.get((7, "before restore"), ("x",), builder("old numbers", calls))
    assert cache.get((7, "after restore"), ("x",), builder("new numbers", calls)) == "new numbers"


def test_a_version_far_behind_starts_the_cache_again():
    cache, calls = PageCache(), []
    cache.get((10, "j"), ("x",), builder("ten", calls))
    cache.get((3, "c"), ("x",), builder("three", calls))  # restored from an old backup
    assert cache.get((3, "c"), ("x",), builder("three again", calls)) == "three"
    assert len(cache) == 1


def test_the_least_recently_used_entry_goes_when_full():
    cache, calls = PageCache(size=2), []
    cache.get((1, "a"), ("x",), builder("x", calls))
    cache.get((1, "a"), ("y",), builder("y", calls))
    cache.get((1, "a"), ("x",), builder("x again", calls))  # x is now the most recent
    cache.get((1, "a"), ("z",), builder("z", calls))
    assert cache.get((1, "a"), ("x",), builder("x rebuilt", calls)) == "x"
    assert cache.get((1, "a"), ("y",), builder("y rebuilt", calls)) == "y rebuilt"
