"""Two web machines and two worker machines sharing one PostgreSQL, one Redis and one file store
(issue 21, point 7): a campaign sent through one web instance and followed through the other
goes out exactly once, and a page on one instance shows a change made through the other at once.

Each "machine" is a process with an instance folder of its own, as on separate servers: two
gunicorn instances (`gunicorn foitrack.wsgi:app`) and two `foitrack worker` processes. What they
share is what a production deployment shares (docs/deployment.md): the database (always
PostgreSQL here, whatever the suite runs on: a scratch database made and dropped by this test),
the broker (Redis, on a queue of the test's own), the file store folder, the secret key and the
mail server (aiosmtpd). Everything is set up with the commands an operator runs.
"""

from __future__ import annotations

import csv
import datetime as dt
import http.cookiejar
import io
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from foitrack.db import Database, make_engine
from foitrack.domain.clock import today_in_uk
from foitrack.models import DeliveryStatus, Job, JobKind, JobState, OutgoingMessage
from tests.databases import worker_id
from tests.factories import EXAMPLE_DESIGN
from tests.queue.conftest import REDIS_URL, SlowRecorder, Worker, free_port, redis_is_up, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
# The server the scratch database is made on: the suite's PostgreSQL when it runs on one.
POSTGRES_SERVER = (os.environ.get("FOITRACK_TEST_DATABASE_URL")
                   or "postgresql://postgres@127.0.0.1:5432/postgres")

RESEARCHER = "researcher@charity.example"
PASSWORD = "Plover-Quartz-Umbrella-1927"  # zxcvbn 3 or more, as sign-up requires
CAMPAIGN = "grooming-2019"  # the 43 territorial forces of England and Wales
# The five forces outside that set (their own FOI addresses): a second send at the same time,
# which the worker not busy with the first must take.
OTHERS = "other-forces"
OTHER_FORCES = ["british-transport", "ministry-of-defence", "civil-nuclear", "northern-ireland",
                "scotland"]
OTHERS_DESIGN = EXAMPLE_DESIGN.replace(f'slug = "{CAMPAIGN}"', f'slug = "{OTHERS}"').replace(
    'authorities = "england-wales"', "authorities = " + json.dumps(OTHER_FORCES))


# ---- the shared services -------------------------------------------------------------------------

@pytest.fixture
def shared_database() -> Iterator[str]:
    """A PostgreSQL database of this test's own, dropped after it (with whatever still holds a
    connection to it)."""
    server = make_url(POSTGRES_SERVER)
    name = f"foitrack_two_{worker_id()}_{uuid.uuid4().hex[:10]}".lower()
    admin = make_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - any failure to reach the server says the same
        admin.dispose()
        pytest.fail(f"PostgreSQL is needed for the two-machine test and did not answer at "
                    f"{server.render_as_string()} ({error}); start it (README, 'Running the "
                    "tests') or set FOITRACK_TEST_DATABASE_URL", pytrace=False)
    try:
        yield server.set(database=name, query={}).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def shared_queue() -> Iterator[str]:
    """A queue of this test's own on the shared Redis, emptied after it."""
    import redis

    if not redis_is_up():
        pytest.fail(f"Redis is not answering at {REDIS_URL}: start it (README, 'Running the "
                    "tests') or set FOITRACK_TEST_REDIS_URL", pytrace=False)
    queue = f"test-two-machines-{uuid.uuid4().hex[:12]}"
    yield queue
    client = redis.Redis.from_url(REDIS_URL)
    # The queue and kombu's bindings of it: every key naming this queue is the test's own.
    leftovers = list(client.scan_iter(match=f"*{queue}*"))
    if leftovers:
        client.delete(*leftovers)
    client.close()


@pytest.fixture
def shared_env(shared_database: str, shared_queue: str, slow_smtp: SlowRecorder,
               tmp_path: Path) -> dict[str, str]:
    """The settings every machine has in common (each adds its own instance folder)."""
    return {
        "FOITRACK_DATABASE_URL": shared_database,
        "FOITRACK_SECRET_KEY": uuid.uuid4().hex * 2,  # the same on every web machine
        "FOITRACK_BROKER_URL": REDIS_URL,
        "FOITRACK_QUEUE": shared_queue,
        "FOITRACK_STORAGE_PATH": str(tmp_path / "shared-files"),
        "FOITRACK_SMTP_HOST": "127.0.0.1",
        "FOITRACK_SMTP_PORT": str(slow_smtp.port),  # type: ignore[attr-defined]
        "FOITRACK_SMTP_STARTTLS": "0",
        "FOITRACK_MAIL_FROM": "research@charity.example",
        "FOITRACK_MAIL_THROTTLE_SECONDS": "0",
    }


def machine_env(shared: dict[str, str], folder: Path) -> dict[str, str]:
    """The environment of one machine: no FOITRACK_* setting of the shell running the tests,
    the shared ones, and an instance folder of its own."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("FOITRACK_")}
    return {**base, **shared, "FOITRACK_INSTANCE_PATH": str(folder), "PYTHONUNBUFFERED": "1"}


def foitrack(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    """Run `foitrack ARGS` as an operator would; its standard output."""
    done = subprocess.run([sys.executable, "-m", "foitrack.cli", *args], env=env, input=stdin,
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, (f"foitrack {' '.join(args)} exited {done.returncode}:\n"
                                  f"{done.stdout}\n{done.stderr}")
    return done.stdout


# ---- the web machines ----------------------------------------------------------------------------

class WebInstance:
    """`gunicorn foitrack.wsgi:app` on a free loopback port; its log is kept for failures.

    One gunicorn worker process (with threads), so that a page read twice is read from the same
    process: the second read comes from that process's page cache unless the data changed.
    """

    def __init__(self, env: dict[str, str], label: str) -> None:
        self.label = label
        self.lines: list[str] = []
        for _attempt in range(3):
            self.port = free_port()
            self.process = subprocess.Popen(
                [str(Path(sys.executable).parent / "gunicorn"), "--workers", "1", "--threads", "4",
                 "--bind", f"127.0.0.1:{self.port}", "--timeout", "120", "--log-level", "info",
                 "foitrack.wsgi:app"],
                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            threading.Thread(target=self._read, args=(self.process,), daemon=True).start()
            if self._answers():
                return
            self.stop()
            if "in use" not in self.output():  # another process took the port first: again
                break
        raise AssertionError(f"gunicorn {label} did not start:\n{self.output()}")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.lines.append(line)

    def _answers(self, timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return True
            except OSError:
                pass
            time.sleep(0.2)
        return False

    def output(self) -> str:
        return "".join(self.lines[-60:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


@dataclass
class Answer:
    status: int
    body: Any


def call(instance: WebInstance, method: str, path: str, token: str,
         body: dict[str, Any] | None = None) -> Answer:
    """An API call as a script makes it: JSON, with the Bearer token."""
    request = urllib.request.Request(
        instance.base + path, method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json",
                 **({"Content-Type": "application/json"} if body is not None else {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Answer(response.status, json.loads(response.read() or b"null"))
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            return Answer(error.code, json.loads(raw))
        except ValueError:
            return Answer(error.code, raw.decode(errors="replace"))


class Browser:
    """A person's browser: cookies kept, the CSRF token sent with the sign-in form. Each call
    names the instance it goes to, as a load balancer picks one per request."""

    def __init__(self) -> None:
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, instance: WebInstance, path: str) -> tuple[str, str]:
        """The page's final address (after redirects) and its HTML."""
        with self.opener.open(instance.base + path, timeout=60) as response:
            return response.url, response.read().decode()

    def sign_in(self, instance: WebInstance, email: str, password: str) -> None:
        _url, page = self.get(instance, "/auth/sign-in")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', page)
        assert token, "no CSRF token on the sign-in page"
        form = urllib.parse.urlencode({"csrf_token": token.group(1), "email": email,
                                       "password": password}).encode()
        with self.opener.open(instance.base + "/auth/sign-in", data=form, timeout=60):
            pass


def request_row(html: str, slug: str, authority: str) -> list[str]:
    """The cells (as text) of ``authority``'s row in a campaign page's table of requests."""
    link = f'href="/campaigns/{slug}/requests/{authority}"'
    rows = [row for row in re.findall(r"<tr>(.*?)</tr>", html, re.S) if link in row]
    assert len(rows) == 1, f"expected one row linking to {link}, found {len(rows)}"
    cells = re.findall(r"<td>(.*?)</td>", rows[0], re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in cells]


# ---- the deployment --------------------------------------------------------------------------------

@dataclass
class Deployment:
    web_a: WebInstance
    web_b: WebInstance
    workers: list[Worker]
    token: str
    database_url: str

    def output(self) -> str:
        """Every process's latest output, for a failure message."""
        return "\n".join(
            [f"--- gunicorn {w.label} ---\n{w.output()}" for w in (self.web_a, self.web_b)]
            + [f"--- worker {w.name} ---\n{w.output()}" for w in self.workers])


@pytest.fixture
def deployment(shared_env: dict[str, str], shared_database: str,
               tmp_path: Path) -> Iterator[Deployment]:
    """The database migrated and loaded with the operator's commands, then two web machines and
    two worker machines started; every process is stopped afterwards, whatever happened."""
    ops = machine_env(shared_env, tmp_path / "ops")
    foitrack(ops, "db", "upgrade")
    foitrack(ops, "authorities", "load")
    for name, design in ((CAMPAIGN, EXAMPLE_DESIGN), (OTHERS, OTHERS_DESIGN)):
        design_file = tmp_path / f"{name}.toml"
        design_file.write_text(design, encoding="utf-8")
        foitrack(ops, "campaigns", "create", "--from", str(design_file))
    foitrack(ops, "users", "create", RESEARCHER, "--role", "researcher", "--password-stdin",
             stdin=PASSWORD + "\n")
    token = foitrack(ops, "tokens", "create", RESEARCHER, "--name", "two machines")
    token = token.strip().splitlines()[-1]

    webs: list[WebInstance] = []
    workers: list[Worker] = []
    try:
        # Started together, waited for together: each takes a few seconds to import.
        for name in ("wa", "wb"):
            # One job at a time each, so that a second job asked for while one worker is busy
            # is taken by the other (Celery prefetches no more than a worker can run).
            workers.append(Worker(machine_env(shared_env, tmp_path / f"worker-{name}"), name,
                                  "--concurrency", "1"))
        webs.append(WebInstance(machine_env(shared_env, tmp_path / "web-a"), "A"))
        webs.append(WebInstance(machine_env(shared_env, tmp_path / "web-b"), "B"))
        for worker in workers:
            worker.wait_ready(90)
        yield Deployment(webs[0], webs[1], workers, token, shared_database)
    finally:
        for worker in workers:
            worker.stop()
        for web in webs:
            web.stop()


def job_of(web: WebInstance, token: str, job_id: int) -> dict[str, Any]:
    answer = call(web, "GET", f"/api/v1/jobs/{job_id}", token)
    assert answer.status == 200, answer.body
    return cast(dict[str, Any], answer.body)


def wait_until_finished(web: WebInstance, token: str, job_id: int, timeout: float,
                        what: str) -> dict[str, Any]:
    """The job as ``web``'s API gives it once done, failed or cancelled (polled)."""
    def finished() -> dict[str, Any] | None:
        body = job_of(web, token, job_id)
        return body if body["state"] in ("done", "failed", "cancelled") else None
    return cast(dict[str, Any], wait_for(finished, timeout=timeout, every=0.25, what=what))


def download(web: WebInstance, token: str, path: str) -> bytes:
    request = urllib.request.Request(web.base + path,
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        return response.read()


def forces_of(deployment: Deployment) -> dict[str, str]:
    """Each force's slug and FOI address, as the API lists them."""
    answer = call(deployment.web_b, "GET", "/api/v1/authorities?per_page=500", deployment.token)
    assert answer.status == 200, answer.body
    return {a["slug"]: a["foi_email"] for a in answer.body["items"]}


# ---- the test --------------------------------------------------------------------------------------

def test_two_web_and_two_worker_machines_send_each_message_once_and_agree(
        deployment: Deployment, slow_smtp: SlowRecorder) -> None:
    web_a, web_b, token = deployment.web_a, deployment.web_b, deployment.token
    # Each message takes the mail server half a second until both sends have been asked for
    # and the small one is done: the big one is certainly still going when the second arrives.
    slow_smtp.delay = 0.5
    try:
        # Sent through A, followed through B.
        started = call(web_a, "POST", f"/api/v1/campaigns/{CAMPAIGN}/send", token, {})
        assert started.status == 202, started.body
        first = started.body["job"]
        assert started.body["url"] == f"/api/v1/jobs/{first}"
        wait_for(lambda: job_of(web_b, token, first)["state"] == "running"
                 and slow_smtp.messages, timeout=60, what="the first send to start")
        # A second send, through B, while the first worker is busy: the other worker takes it.
        other = call(web_b, "POST", f"/api/v1/campaigns/{OTHERS}/send", token, {})
        assert other.status == 202, other.body
        second = other.body["job"]
        still_running = job_of(web_a, token, first)
        other_body = wait_until_finished(web_b, token, second, 60, "the send of 5 to finish")
        slow_smtp.delay = 0
        body = wait_until_finished(web_b, token, first, 180, "the send of 43 to finish")
    except AssertionError as error:
        raise AssertionError(f"{error}\n{deployment.output()}") from None

    assert (body["state"], body["done"], body["total"], body["failed"], body["left"]) == \
        ("done", 43, 43, 0, 0), deployment.output()
    assert {m["state"] for m in body["messages"]} == {"sent"}
    assert (other_body["state"], other_body["done"], other_body["total"]) == ("done", 5, 5)

    # Every message reached the mail server exactly once: 43 + 5 addresses, none twice.
    forces = forces_of(deployment)
    addresses = [m["to"] for m in body["messages"] + other_body["messages"]]
    assert len(addresses) == len(set(addresses)) == 48
    assert set(addresses) == set(forces.values())
    received = Counter(m["To"] for m in slow_smtp.messages)
    assert received == Counter(addresses), "a message went twice, or not at all"

    # Each timeline has exactly one "sent" event, as each instance reads it from the database.
    for slug, campaign in [(s, CAMPAIGN) for s in forces if s not in OTHER_FORCES] + \
            [(s, OTHERS) for s in OTHER_FORCES]:
        for web in (web_a, web_b):
            answer = call(web, "GET", f"/api/v1/campaigns/{campaign}/requests/{slug}", token)
            assert answer.status == 200, answer.body
            sent = [e for e in answer.body["events"] if e["kind"] == "sent" and not e["removed"]]
            assert len(sent) == 1, f"{campaign}/{slug} on {web.label}: {answer.body['events']}"

    # Each job was claimed and run by one worker, and with the first busy the second job went
    # to the other worker: both did work.
    database = Database(make_engine(deployment.database_url))
    try:
        with database.session() as session:
            jobs = {job.id: job for job in session.scalars(select(Job))}
            assert sorted(jobs) == sorted([first, second])
            for job in jobs.values():
                assert (job.kind, job.state) == (JobKind.send, JobState.done)
                assert job.worker and job.started_at and job.finished_at
            workers = {(jobs[n].worker or "").split("@")[0] for n in (first, second)}
            statuses = Counter(session.scalars(select(OutgoingMessage.status)))
    finally:
        database.engine.dispose()
    assert statuses == Counter({DeliveryStatus.sent: 48})
    assert still_running["state"] == "running" and still_running["left"] > 0, still_running
    assert workers == {"wa", "wb"}, deployment.output()

    # The shared file store: an export asked for through A is built by a worker into the store
    # and downloaded through either instance, each with an instance folder of its own.
    asked = call(web_a, "POST", f"/api/v1/campaigns/{CAMPAIGN}/exports", token,
                 {"format": "csv", "table": "tracker"})
    assert asked.status == 202, asked.body
    try:
        export = wait_until_finished(web_b, token, asked.body["job"], 60, "the export")
    except AssertionError as error:
        raise AssertionError(f"{error}\n{deployment.output()}") from None
    assert export["state"] == "done" and export["result"], export
    files = [download(web, token, export["result"]) for web in (web_a, web_b)]
    assert files[0] == files[1]
    tracker = list(csv.DictReader(io.StringIO(files[0].decode("utf-8-sig"))))
    assert len(tracker) == 43
    assert {row["sent_on"] for row in tracker} == {today_in_uk().isoformat()}

    # ---- a change made through one instance shows at once on the other ----

    # Signed in on A, the browser is signed in on B too (same secret key, sessions checked
    # against the database): no sticky sessions needed.
    browser = Browser()
    browser.sign_in(web_a, RESEARCHER, PASSWORD)
    url, _html = browser.get(web_a, "/")
    assert "/auth/sign-in" not in url, "sign-in on A failed"
    url, _html = browser.get(web_b, "/")
    assert "/auth/sign-in" not in url, "the session made on A is not accepted by B"
    # The campaign page on B, read twice: its rows are now in B's page cache.
    page = f"/campaigns/{CAMPAIGN}"
    for _ in range(2):
        _url, html = browser.get(web_b, page)
        kent = request_row(html, CAMPAIGN, "kent")
        assert "refused" not in " ".join(kent).lower(), kent

    # A reply recorded through A ...
    today = today_in_uk()
    recorded = call(web_a, "POST", f"/api/v1/campaigns/{CAMPAIGN}/requests/kent/events", token,
                    {"kind": "response", "occurred_on": today.isoformat(), "outcome": "refused",
                     "exemptions": ["s.12"]})
    assert recorded.status == 201, recorded.body

    # ... is on B's cached page at once, and in B's API.
    _url, html = browser.get(web_b, page)
    kent = request_row(html, CAMPAIGN, "kent")
    assert "Refused (s.12)" in kent, kent
    assert "refused" not in " ".join(request_row(html, CAMPAIGN, "sussex")).lower()
    detail = call(web_b, "GET", f"/api/v1/campaigns/{CAMPAIGN}/requests/kent", token)
    assert [(e["kind"], e["outcome"]) for e in detail.body["events"]] == \
        [("sent", None), ("response", "refused")]
    assert dt.date.fromisoformat(detail.body["events"][-1]["occurred_on"]) == today
