"""The tier of the page cache that every process of a deployment shares: Redis, where there is one.

Each process keeps what pages derive in its own memory (foitrack.web.page_cache). Behind that,
this keeps the same values in Redis for a day, so that a value one gunicorn worker, web machine
or Celery worker has built is found by all the others, and a value nobody has yet is built by
one of them while the others wait for it (a Redis lock per value), not once per process.

A value is named by a digest of its data versions and key written as JSON, which reads the same
in every process (``hash()`` is salted per process, and ``repr`` promises nothing); only
strings, numbers, booleans, None and tuples of them are accepted, so no two keys share a name.
Values are pickled: only the deployment's own Redis is trusted, as with the broker.

Where Redis is: CACHE_URL, else BROKER_URL when that is a Redis URL, else nowhere (each process
keeps its own, as before). Names start with the queue's name, the database's and foitrack's
release, so two foitracks, a test run, or the old and new release during an upgrade, sharing one
Redis never read each other's values. When Redis does not answer, pages are built in the process
as if none were configured: a warning is logged once, and Redis is tried again after RETRY
seconds. Nothing here knows about Flask.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import pickle
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import redis
from sqlalchemy.engine import make_url

from foitrack.paths import templates_dir
from foitrack.services.data_version import Version

log = logging.getLogger(__name__)

T = TypeVar("T")

TTL = 24 * 3600  # seconds a value is kept: past a day, an unread value is not worth the memory
# Seconds a value is kept once the same key's value under newer versions is: a reader still on
# the older versions finishes with it, and then it goes, so that a campaign written to all day
# does not fill Redis with a day of superseded aggregates.
SUPERSEDED = 60
# The longest one process builds while the others wait; past it the lock lapses (a builder
# killed mid-build must not hold everyone up) and a waiter builds for itself.
LOCK_SECONDS = 60
# The longest a process waits for another's build before building for itself: well inside a
# gunicorn worker's timeout, so a builder that died holds nobody long.
WAIT_SECONDS = 10
RETRY = 30.0  # seconds after a failure before Redis is asked again
REDIS_SCHEMES = ("redis", "rediss", "unix")  # what redis-py connects to


class SharedCache:
    """Values kept in Redis under (versions, key), built by one process at a time."""

    def __init__(self, client: redis.Redis, namespace: str, ttl: int = TTL,
                 lock_seconds: float = LOCK_SECONDS, secret: bytes = b"",
                 wait_seconds: float = WAIT_SECONDS) -> None:
        self.client = client
        self.namespace = namespace
        self.ttl = ttl
        self.lock_seconds = lock_seconds
        self.wait_seconds = min(wait_seconds, lock_seconds)
        # Values are signed with it, and one whose signature does not match is never unpickled:
        # whoever can write to Redis but does not hold the app's secret key cannot run code in
        # the web and worker processes through it.
        self._mac_key = hashlib.sha256(b"foitrack shared cache\0" + secret).digest()
        self._down_until = 0.0
        self._warned = False
        self._state = threading.Lock()

    # ---- naming ---------------------------------------------------------------------------

    def name(self, version: Version, key: tuple[Hashable, ...]) -> str | None:
        """The value's name in Redis, the same in every process; None for a key that cannot be
        written down for certain (a date, an object), which stays in its process."""
        digest = _digest([version, key])
        return None if digest is None else f"{self.namespace}v:{digest}"

    def _latest(self, key: tuple[Hashable, ...]) -> str:
        """Where the name of the key's latest value is kept, whatever its versions."""
        return f"{self.namespace}k:{_digest(key)}"

    # ---- the cache ------------------------------------------------------------------------

    def get(self, version: Version, key: tuple[Hashable, ...], build: Callable[[], T],
            *, shared: bool = True) -> T:
        """The value kept for ``key`` under ``version``, or ``build()``'s, kept for the others.

        When nobody has it, one process builds while the others wait on the lock and then read
        its value. ``shared`` is there to match PageCache.get's signature (foitrack.services
        .page_data.Store): everything here is shared.
        """
        name = self.name(version, key)
        if name is None or not self._usable():
            return build()
        found = self._read(name)
        if found is not _MISSING:
            return found
        if not self._usable():  # it failed just now: build without waiting on it again
            return build()
        lock = self._lock(name)
        try:
            if lock is not None:
                found = self._read(name)  # built by the process we waited for
                if found is not _MISSING:
                    return found
            value = build()
            self._write(name, value, key)
            return value
        finally:
            if lock is not None:
                self._release(lock)

    def has(self, version: Version, key: tuple[Hashable, ...]) -> bool:
        """Whether ``get`` would find the value without building it."""
        name = self.name(version, key)
        if name is None or not self._usable():
            return False
        try:
            return bool(self.client.exists(name))
        except redis.RedisError as error:
            self._failed(error)
            return False

    def put(self, version: Version, key: tuple[Hashable, ...], value: Any) -> None:
        """Keep ``value`` for ``key`` under ``version``, replacing what was kept."""
        name = self.name(version, key)
        if name is not None and self._usable():
            self._write(name, value, key)

    def claim(self, what: str, seconds: float) -> bool:
        """True for the first process to claim ``what`` in ``seconds``, False for the others
        until then: one warm-up per campaign per window, whoever wrote. False when Redis does
        not answer: the broker is most likely that Redis too, and a request that has committed
        must not then wait on it (the page is built when someone asks)."""
        if not self._usable():
            return False
        try:
            return bool(self.client.set(f"{self.namespace}claim:{what}", b"1", nx=True,
                                        px=max(int(seconds * 1000), 1)))
        except redis.RedisError as error:
            self._failed(error)
            return False

    # ---- Redis, and what to do when it does not answer -------------------------------------

    def _read(self, name: str) -> Any:
        try:
            raw = self.client.get(name)
        except redis.RedisError as error:
            self._failed(error)
            return _MISSING
        self._answered()
        if not isinstance(raw, bytes):
            return _MISSING
        signature, payload = raw[:32], raw[32:]
        if not hmac.compare_digest(signature, self._sign(payload)):
            log.warning("a shared cache value was not signed with this app's key; ignored")
            return _MISSING
        try:
            return pickle.loads(payload)  # noqa: S301 - signed by a process holding our key
        except Exception:  # noqa: BLE001 - unreadable (a class gone since): build it again
            log.warning("a shared cache value could not be read; building it again", exc_info=True)
            return _MISSING

    def _write(self, name: str, value: Any, key: tuple[Hashable, ...]) -> None:
        if not self._usable():
            return
        try:
            payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):
            log.debug("%s cannot be pickled; kept in this process only", type(value).__name__)
            return
        raw = self._sign(payload) + payload
        try:
            with self.client.pipeline() as pipe:  # MULTI: the value and its pointer together
                pipe.set(name, raw, ex=self.ttl)
                pipe.getset(self._latest(key), name)
                pipe.expire(self._latest(key), self.ttl)
                previous = pipe.execute()[1]
            # Another version's value of the same key (usually older; if newer, a reader that
            # read the versions before a commit wrote last, and the next reader builds again).
            if previous is not None and previous.decode() != name:
                self.client.expire(previous.decode(), SUPERSEDED)
        except redis.RedisError as error:
            self._failed(error)
        else:
            self._answered()

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._mac_key, payload, hashlib.sha256).digest()

    def _lock(self, name: str) -> Any:
        """The value's build lock, held; None when Redis failed or the wait ran out (the
        caller then builds without it)."""
        lock = self.client.lock(f"{name}:lock", timeout=self.lock_seconds, sleep=0.05,
                                blocking_timeout=self.wait_seconds)
        try:
            return lock if lock.acquire() else None
        except redis.RedisError as error:
            self._failed(error)
            return None

    def _release(self, lock: Any) -> None:
        try:
            lock.release()
        except redis.exceptions.LockError:
            pass  # held past LOCK_SECONDS and lapsed: nothing to give back
        except redis.RedisError as error:
            self._failed(error)

    def _usable(self) -> bool:
        with self._state:
            if not self._down_until:
                return True
            if time.monotonic() < self._down_until:
                return False
            self._down_until = 0.0  # try again
            return True

    def _failed(self, error: Exception) -> None:
        with self._state:
            self._down_until = time.monotonic() + RETRY
            warn, self._warned = not self._warned, True
        if warn:  # once an outage, not once a request
            log.warning("the shared cache (Redis) did not answer (%s); pages are built in each "
                        "process until it does", error)

    def _answered(self) -> None:
        if self._warned:
            with self._state:
                self._warned = False
            log.warning("the shared cache (Redis) answers again")


_MISSING = object()


def _digest(value: Any) -> str | None:
    """A digest of ``value`` written as JSON: the same in every process; None for anything but
    strings, numbers, booleans, None and tuples or lists of them."""
    try:
        text = json.dumps(value, default=_refuse, ensure_ascii=True, separators=(",", ":"),
                          allow_nan=False)
    except (TypeError, ValueError):
        return None
    return hashlib.sha256(text.encode()).hexdigest()


def _refuse(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} has no stable name")


def url_of(config: Mapping[str, Any]) -> str | None:
    """Where the shared cache is: CACHE_URL, else BROKER_URL when it is Redis, else nowhere."""
    if config.get("CACHE_URL"):
        return str(config["CACHE_URL"])  # checked when the settings were read (foitrack.config)
    broker = str(config.get("BROKER_URL") or "")
    return broker if broker.split(":", 1)[0].lower() in REDIS_SCHEMES else None


def namespace_of(config: Mapping[str, Any]) -> str:
    """The prefix of every name this foitrack keeps: its queue, database and code.

    The code's fingerprint, not the release number: a deploy that changes how a page is built
    (a fixed aggregate, a new field in a kept value) must not be served what the old code built,
    and the release number does not change with every deploy. Every machine running the same
    code agrees on it, so they still share."""
    url = make_url(str(config["DATABASE_URL"]))
    database = f"{url.host or ''}:{url.port or ''}/{url.database or ''}"
    return f"foitrack:{config.get('QUEUE') or 'foitrack'}:{database}:{code_fingerprint()}:"


@functools.cache
def code_fingerprint() -> str:
    """A digest of foitrack's Python modules and templates: what builds the values kept."""
    digest = hashlib.sha256()
    for root in (Path(__file__).resolve().parent.parent, templates_dir()):
        for path in sorted(root.rglob("*")):
            if path.suffix in (".py", ".html", ".csv", ".toml") and path.is_file():
                digest.update(path.relative_to(root).as_posix().encode() + b"\0")
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


_made: dict[tuple[str, str], SharedCache] = {}
_made_lock = threading.Lock()


def for_config(config: Mapping[str, Any]) -> SharedCache | None:
    """The process's shared cache for these settings (one connection pool per Redis), or None
    when none is configured. Connects nothing yet: Redis may be down at start-up."""
    url = url_of(config)
    if url is None:
        return None
    namespace = namespace_of(config)
    with _made_lock:
        if (url, namespace) not in _made:
            client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=5)
            _made[(url, namespace)] = SharedCache(
                client, namespace, secret=str(config.get("SECRET_KEY") or "").encode())
        return _made[(url, namespace)]
