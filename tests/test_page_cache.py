"""The cache of what pages derive: kept under the versions it read, never older; per process,
and behind it, where Redis is configured, shared by every process."""

from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from foitrack.services import shared_cache
from foitrack.services.shared_cache import SharedCache
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


# ---- the shared tier: Redis behind each process's cache ---------------------------------------

REDIS_URL = os.environ.get("FOITRACK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def namespace() -> Iterator[str]:
    """A prefix of this test's own on the suite's Redis, emptied afterwards."""
    prefix = f"foitrack-test:{uuid.uuid4().hex}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    for name in client.scan_iter(f"{prefix}*"):
        client.delete(name)


def process(namespace: str, url: str = REDIS_URL) -> PageCache:
    """A cache as another process would have it: its own connection to the shared tier."""
    return PageCache(shared=SharedCache(redis.Redis.from_url(url, socket_connect_timeout=0.5),
                                        namespace))


def test_a_value_one_process_built_is_found_by_another(namespace):
    first, second, calls = process(namespace), process(namespace), []
    assert first.get(v(0, 1), ("x",), builder("built once", calls), shared=True) == "built once"
    assert second.get(v(0, 1), ("x",), builder("again", calls), shared=True) == "built once"
    assert calls == ["built once"]
    assert (first.builds, second.builds) == (1, 0)
    # Another version is another value, in the shared tier too.
    assert second.get(v(0, 2), ("x",), builder("newer", calls), shared=True) == "newer"


def test_only_values_asked_to_be_shared_reach_it(namespace):
    first, second, calls = process(namespace), process(namespace), []
    first.get(v(0, 1), ("x",), builder("kept here", calls))
    assert second.get(v(0, 1), ("x",), builder("built there", calls)) == "built there"
    assert not redis.Redis.from_url(REDIS_URL).keys(f"{namespace}*")


def test_processes_asking_at_once_for_a_missing_value_build_it_once(namespace):
    caches = [process(namespace) for _ in range(3)]
    started = threading.Barrier(6)
    results: list[object] = []

    def slow() -> object:
        time.sleep(0.5)  # long enough that every process asks while it is being built
        return ["the value"]

    def ask(cache: PageCache) -> None:
        started.wait()
        results.append(cache.get(v(0, 1), ("x",), slow, shared=True))

    threads = [threading.Thread(target=ask, args=(cache,)) for cache in caches for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(cache.builds for cache in caches) == 1
    assert results == [["the value"]] * 6


def test_a_failed_build_in_one_process_lets_another_build(namespace):
    first, second = process(namespace), process(namespace)

    def fail() -> object:
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        first.get(v(0, 1), ("x",), fail, shared=True)
    assert second.get(v(0, 1), ("x",), lambda: "built", shared=True) == "built"


NAME_IN_ANOTHER_PROCESS = """
import sys
import redis
from foitrack.services.shared_cache import SharedCache
cache = SharedCache(redis.Redis(), sys.argv[1])
print(cache.name((("all", 3, "ab"), ("campaign:7", 12, "cd")), ("aggregate", 7, "kent,west-mercia", True)))
"""


def test_a_value_has_the_same_name_in_every_process(namespace):
    # hash() of a string differs from one process to the next; the name must not.
    here = SharedCache(redis.Redis(), namespace).name(
        (("all", 3, "ab"), ("campaign:7", 12, "cd")), ("aggregate", 7, "kent,west-mercia", True))
    names = {subprocess.run([sys.executable, "-c", NAME_IN_ANOTHER_PROCESS, namespace],
                            env={**os.environ, "PYTHONHASHSEED": str(seed)}, check=True,
                            capture_output=True, text=True).stdout.strip() for seed in (1, 2)}
    assert names == {here}
    # ... and keys that differ only in a value's type are two values.
    cache = SharedCache(redis.Redis(), namespace)
    assert cache.name(v(0, 1), ("x", 1)) != cache.name(v(0, 1), ("x", "1"))
    assert cache.name(v(0, 1), ("x", True)) != cache.name(v(0, 1), ("x", 1))


def test_a_key_that_cannot_be_written_down_stays_in_its_process(namespace):
    first, second, calls = process(namespace), process(namespace), []
    key = ("campaign", 1, dt.date(2024, 5, 1))  # a date's repr is no promise between releases
    first.get(v(0, 1), key, builder("first", calls), shared=True)
    assert second.get(v(0, 1), key, builder("second", calls), shared=True) == "second"
    assert not redis.Redis.from_url(REDIS_URL).keys(f"{namespace}*")


def test_without_redis_values_are_built_here_and_one_warning_said(namespace, caplog):
    down = "redis://127.0.0.1:1/0"  # nothing listens there
    caplog.set_level(logging.WARNING, logger="foitrack.services.shared_cache")
    cache, calls = process(namespace, down), []
    assert cache.get(v(0, 1), ("x",), builder("built here", calls), shared=True) == "built here"
    assert cache.get(v(0, 1), ("x",), builder("again", calls), shared=True) == "built here"
    assert cache.get(v(0, 1), ("y",), builder("y", calls), shared=True) == "y"
    assert not cache.has(v(0, 1), ("z",), shared=True)
    assert calls == ["built here", "y"]
    warnings = [r for r in caplog.records if "did not answer" in r.getMessage()]
    assert len(warnings) == 1


def test_the_settings_name_where_the_shared_tier_is():
    assert shared_cache.url_of({"CACHE_URL": "redis://cache:6379/1",
                                "BROKER_URL": "redis://broker:6379/0"}) == "redis://cache:6379/1"
    assert shared_cache.url_of({"BROKER_URL": "redis://broker:6379/0"}) == "redis://broker:6379/0"
    assert shared_cache.url_of({"BROKER_URL": "amqp://broker//"}) is None
    assert shared_cache.url_of({}) is None


def test_two_foitracks_on_one_redis_keep_apart(namespace):
    a = shared_cache.namespace_of({"QUEUE": "a", "DATABASE_URL": "postgresql://db/foitrack"})
    b = shared_cache.namespace_of({"QUEUE": "b", "DATABASE_URL": "postgresql://db/foitrack"})
    c = shared_cache.namespace_of({"QUEUE": "a", "DATABASE_URL": "postgresql://db/other"})
    assert len({a, b, c}) == 3
    first, second, calls = process(namespace + a), process(namespace + b), []
    first.get(v(0, 1), ("x",), builder("a's", calls), shared=True)
    assert second.get(v(0, 1), ("x",), builder("b's", calls), shared=True) == "b's"


def test_a_value_superseded_by_newer_versions_goes_within_a_minute(namespace):
    # A campaign written to all day must not fill Redis with a day of old aggregates.
    cache, calls = process(namespace), []
    tier = cache.shared
    assert tier is not None
    cache.get(v(0, 1), ("x",), builder("old", calls), shared=True)
    cache.get(v(0, 1), ("y",), builder("other key", calls), shared=True)
    old, other = tier.name(v(0, 1), ("x",)), tier.name(v(0, 1), ("y",))
    client = redis.Redis.from_url(REDIS_URL)
    assert client.ttl(old) > 3600
    cache.get(v(0, 2), ("x",), builder("new", calls), shared=True)
    assert 0 < client.ttl(old) <= shared_cache.SUPERSEDED
    assert client.ttl(tier.name(v(0, 2), ("x",))) > 3600
    assert client.ttl(other) > 3600  # another key's value is not touched


def test_the_cache_url_must_name_redis(tmp_path, monkeypatch):
    from foitrack.config import ConfigError, load_config

    monkeypatch.setenv("FOITRACK_CACHE_URL", "http://127.0.0.1:6379/1")
    with pytest.raises(ConfigError, match="CACHE_URL must be a Redis URL"):
        load_config(tmp_path, {"SECRET_KEY": "x"})
    monkeypatch.setenv("FOITRACK_CACHE_URL", "redis://127.0.0.1:6379/1")
    assert load_config(tmp_path, {"SECRET_KEY": "x"})["CACHE_URL"] == "redis://127.0.0.1:6379/1"


def test_a_value_not_signed_with_the_apps_key_is_never_unpickled(namespace):
    # Whoever can write to Redis without the app's secret key must not run code through it.
    ours = PageCache(shared=SharedCache(redis.Redis.from_url(REDIS_URL), namespace, secret=b"k1"))
    theirs = PageCache(shared=SharedCache(redis.Redis.from_url(REDIS_URL), namespace,
                                          secret=b"someone else's"))
    calls: list[object] = []
    theirs.get(v(0, 1), ("x",), builder("planted", calls), shared=True)
    assert ours.get(v(0, 1), ("x",), builder("ours", calls), shared=True) == "ours"
    assert calls == ["planted", "ours"]


def test_a_new_build_of_the_code_does_not_read_what_the_old_one_kept(monkeypatch):
    config = {"QUEUE": "q", "DATABASE_URL": "postgresql://db/foitrack"}
    before = shared_cache.namespace_of(config)
    monkeypatch.setattr(shared_cache, "code_fingerprint", lambda: "another-build")
    assert shared_cache.namespace_of(config) != before


def test_the_same_database_name_on_two_servers_keeps_apart():
    a = shared_cache.namespace_of({"DATABASE_URL": "postgresql://staging/foitrack"})
    b = shared_cache.namespace_of({"DATABASE_URL": "postgresql://production/foitrack"})
    assert a != b


def test_a_waiter_builds_for_itself_when_the_builder_takes_too_long(namespace):
    client = redis.Redis.from_url(REDIS_URL)
    cache = SharedCache(client, namespace, lock_seconds=60, wait_seconds=0.5)
    name = cache.name(v(0, 1), ("x",))
    assert client.set(f"{name}:lock", b"a builder that died", ex=60)  # held, never given back
    started = time.monotonic()
    assert cache.get(v(0, 1), ("x",), lambda: "built here") == "built here"
    assert time.monotonic() - started < 5


def test_no_warm_up_is_claimed_while_redis_is_down(namespace):
    down = SharedCache(redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5),
                       namespace)
    assert down.claim("campaign:1", 2.0) is False
