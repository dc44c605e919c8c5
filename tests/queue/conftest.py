"""Real worker processes on a real broker: Redis on 127.0.0.1:6379, or the embedded queue.

Each test gets a queue of its own on the broker (FOITRACK_QUEUE), so parallel test processes
and earlier runs never take each other's jobs. Workers are `foitrack worker` run as the user
runs it, in a subprocess with the test database's settings; the mail server is aiosmtpd.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests.mail.conftest import Recorder

REDIS_URL = os.environ.get("FOITRACK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


class SlowRecorder(Recorder):
    """An SMTP server that takes ``delay`` seconds over each message, as a real one may: long
    enough for a test to stop a worker in the middle of a send."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.delay = delay

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.delay:
            await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def slow_smtp() -> Iterator[SlowRecorder]:
    recorder = SlowRecorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    recorder.port = controller.port  # type: ignore[attr-defined]
    try:
        yield recorder
    finally:
        controller.stop()


def redis_is_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except redis.exceptions.ConnectionError:
        return False


# Every queue test runs on Redis, production's broker; those marked with
# `@pytest.mark.parametrize("broker", BOTH, indirect=True)` on the embedded queue (no broker at
# all, `make run`'s) too.
BOTH = ["redis", "embedded"]


@pytest.fixture
def broker(request) -> str:
    return getattr(request, "param", "redis")


@pytest.fixture
def broker_env(broker, cli_env) -> dict[str, str]:
    """The broker settings: Redis (production's), or none at all (the embedded default)."""
    env = {**cli_env, "FOITRACK_QUEUE": f"test-{uuid.uuid4().hex[:12]}"}
    if broker == "redis":
        if not redis_is_up():
            pytest.fail(f"Redis is not answering at {REDIS_URL}: start it (README, 'Running the "
                        "tests') or set FOITRACK_TEST_REDIS_URL")
        env["FOITRACK_BROKER_URL"] = REDIS_URL
    return env


@pytest.fixture
def worker_env(broker_env, slow_smtp, app) -> dict[str, str]:
    """Settings for worker processes; ``app`` (the test's) is set to match, so that what the
    test asks for through it goes to the same queue."""
    env = {**broker_env, "FOITRACK_SMTP_HOST": "127.0.0.1",
           "FOITRACK_SMTP_PORT": str(slow_smtp.port), "FOITRACK_SMTP_STARTTLS": "0",
           "FOITRACK_MAIL_FROM": "research@charity.example", "FOITRACK_MAIL_THROTTLE_SECONDS": "0",
           "FOITRACK_TICK_SECONDS": "1",
           # One secret key for the deployment: the shared page cache is signed with it.
           "FOITRACK_SECRET_KEY": app.config["SECRET_KEY"]}
    app.config.update(BROKER_URL=env.get("FOITRACK_BROKER_URL"), QUEUE=env["FOITRACK_QUEUE"],
                      SMTP_HOST="127.0.0.1", SMTP_PORT=slow_smtp.port, SMTP_STARTTLS=False,
                      MAIL_FROM="research@charity.example", MAIL_THROTTLE_SECONDS=0)
    return env


class Worker:
    """A `foitrack worker` process; its output is kept for the test's failure message."""

    def __init__(self, env: dict[str, str], name: str, *extra: str) -> None:
        self.name = name
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "foitrack.cli", "worker", "--name", name, "--concurrency", "2",
             "--loglevel", "info", *extra],
            env={**os.environ, **env, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            if " ready." in line:
                self.ready.set()

    def wait_ready(self, timeout: float = 30) -> Worker:
        if not self.ready.wait(timeout):
            self.stop()
            raise AssertionError(f"worker {self.name} did not start:\n{self.output()}")
        return self

    def output(self) -> str:
        return "".join(self.lines[-60:])

    def kill(self) -> None:
        """SIGKILL: no goodbye, no acknowledgement, whatever it was doing."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        """At the test's end: SIGQUIT, Celery's cold shutdown (a warm one waits for the
        embedded queue's next poll, seconds a test need not spend)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def start_worker(worker_env) -> Iterator[Callable[..., Worker]]:
    started: list[Worker] = []

    def start(name: str = "w1", *extra: str, env: dict[str, str] | None = None) -> Worker:
        worker = Worker({**worker_env, **(env or {})}, name, *extra)
        started.append(worker)
        return worker.wait_ready()

    yield start
    for worker in started:
        worker.stop()


def wait_for(condition: Callable[[], object], timeout: float = 60, every: float = 0.1,
             what: str = "the condition") -> object:
    """Poll until ``condition()`` is true; its value, or an AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture
def instance_folder(app) -> Path:
    return Path(app.config["INSTANCE_PATH"])
