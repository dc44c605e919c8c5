"""Page throughput under gunicorn, as a ratio to a trivial endpoint on the same server.

    python -m benchmarks.throughput [--figures 100000] [--postgres URL] [--seconds 10] [--rounds 3]

Generates the data (or reuses it with --reuse), creates an account, starts gunicorn on a
loopback port against that database, signs in, and then, round after round, loads /healthz
and each page in turn for the same number of seconds with the same concurrency. Each page's
requests per second is divided by /healthz's in the same round; the table shows the median
over the rounds. The campaign page and the chase list are measured at their first page (50
requests), as a user first sees them; the pages keep what they derive per data version, so the
2 s warm-up (a connection per worker) builds it and the loads measure the kept pages. Loads
with `wrk` when it is installed, otherwise with Python threads (which load /healthz far less
hard). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

from sqlalchemy import select, text

from benchmarks.run import fresh_database
from foitrack import migrate
from foitrack.db import Database, make_engine
from foitrack.models import User
from foitrack.services.audit import Actor

ROOT = Path(__file__).resolve().parent.parent
EMAIL, PASSWORD = "bench@example.org", "a long load-testing passphrase"


def prepare(figures: int, backend: str, postgres: str | None, reuse: bool) -> str:
    """A database with ``figures`` figures and an admin account; returns its URL."""
    from benchmarks.generate import generate
    from foitrack.services.users import create_user

    if reuse:
        url = (f"sqlite:///{Path(tempfile.gettempdir()) / f'foitrack-bench-{figures}.sqlite3'}"
               if backend == "sqlite" else postgres.rsplit("/", 1)[0] + f"/foitrack_bench_{figures}")
    else:
        url = fresh_database(backend, figures, postgres)
    engine = make_engine(url)
    if not reuse:
        migrate.upgrade(engine)
        with Database(engine).session() as session:
            generate(session, figures)
            session.commit()
    with Database(engine).session() as session:
        if session.scalar(select(User).where(User.email == EMAIL)) is None:
            create_user(session, Actor.system("benchmark"), email=EMAIL, name="bench",
                        role="admin", password=PASSWORD)
            session.commit()
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("ANALYZE"))
            connection.commit()
    engine.dispose()
    return url


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(url: str, port: int, workers: int, instance: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "FOITRACK_DATABASE_URL": url, "FOITRACK_INSTANCE_PATH": str(instance),
           "FOITRACK_SECRET_KEY": "benchmark-secret-key-benchmark-secret-key"}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "--workers", str(workers), "--bind",
         f"127.0.0.1:{port}", "--timeout", "300", "--log-level", "warning", "foitrack.wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return server
        except OSError:
            if server.poll() is not None:
                raise SystemExit(f"gunicorn stopped: {server.stderr.read().decode()}") from None
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("gunicorn did not answer within 30 seconds")


def sign_in(base: str) -> str:
    """Sign in through the form; returns the Cookie header a signed-in browser would send."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/auth/sign-in").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page)
    assert token, "no CSRF token on the sign-in page"
    body = urllib.parse.urlencode({"csrf_token": token.group(1), "email": EMAIL,
                                   "password": PASSWORD}).encode()
    opener.open(f"{base}/auth/sign-in", data=body).read()
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    check = urllib.request.Request(f"{base}/chase", headers={"Cookie": cookie})
    with urllib.request.urlopen(check) as response:
        assert "/auth/sign-in" not in response.url, "sign-in failed"
    return cookie


def load_wrk(url: str, cookie: str, seconds: int, connections: int) -> float:
    command = ["wrk", "--timeout", "60s", "-t", str(min(2, connections)), "-c", str(connections),
               "-d", f"{seconds}s", "-H", f"Cookie: {cookie}", url]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        raise SystemExit(f"{url}: {non_2xx.group(1)} failed responses\n{output}")
    found = re.search(r"Requests/sec:\s+([\d.]+)", output)
    assert found, output
    return float(found.group(1))


def load_threads(url: str, cookie: str, seconds: int, connections: int) -> float:
    """Requests per second from ``connections`` threads, each one request at a time."""
    counts = [0] * connections
    stop = time.monotonic() + seconds

    def worker(slot: int) -> None:
        request = urllib.request.Request(url, headers={"Cookie": cookie})
        while time.monotonic() < stop:
            with urllib.request.urlopen(request) as response:
                response.read()
                if response.status != 200:
                    raise SystemExit(f"{url}: {response.status}")
            counts[slot] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - started)


def drain(base: str, workers: int) -> None:
    """Wait for requests still queued from the last load, so they don't slow the next one."""
    for _ in range(workers * 2):
        with urllib.request.urlopen(f"{base}/healthz", timeout=600) as response:
            response.read()


def pages(url: str) -> dict[str, str]:
    engine = make_engine(url)
    with engine.connect() as connection:
        slug = connection.execute(text("SELECT slug FROM campaign ORDER BY id LIMIT 1")).scalar_one()
    engine.dispose()
    # Page 1 of the two paged lists.
    return {"healthz": "/healthz", "campaign": f"/campaigns/{slug}", "chase list": "/chase",
            "aggregate": f"/campaigns/{slug}/aggregate"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--figures", type=int, default=100_000, help="figures to generate")
    parser.add_argument("--postgres", help="benchmark against this PostgreSQL server instead")
    parser.add_argument("--reuse", action="store_true", help="reuse the database of a former run")
    parser.add_argument("--seconds", type=int, default=10, help="load each page this long")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the median is shown")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--connections", type=int, default=4, help="concurrent connections")
    parser.add_argument("--threads", action="store_true", help="load with Python threads, not wrk")
    args = parser.parse_args(argv)
    backend = "postgresql" if args.postgres else "sqlite"
    url = prepare(args.figures, backend, args.postgres, args.reuse)
    load = load_wrk if shutil.which("wrk") and not args.threads else load_threads
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as instance:
        server = start_gunicorn(url, port, args.workers, Path(instance))
        try:
            cookie = sign_in(base)
            paths = pages(url)
            for path in paths.values():  # warm up: imports, caches, the database's pages
                load(base + path, cookie, 2, args.workers)  # each worker builds its own
                drain(base, args.workers)
            rates: dict[str, list[float]] = {name: [] for name in paths}
            ratios: dict[str, list[float]] = {name: [] for name in paths}
            for _ in range(args.rounds):
                measured = {}
                for name, path in paths.items():
                    measured[name] = load(base + path, cookie, args.seconds, args.connections)
                    drain(base, args.workers)
                for name, rate in measured.items():
                    rates[name].append(rate)
                    ratios[name].append(rate / measured["healthz"] if measured["healthz"] else float("nan"))
                print(f"round: {measured}", file=sys.stderr, flush=True)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    print(f"{backend}, {args.figures:,} figures, gunicorn {args.workers} workers, "
          f"{args.connections} connections, {args.seconds} s a page, median of {args.rounds} rounds, "
          f"loaded with {'wrk' if load is load_wrk else 'Python threads'}")
    print(f"{'page':<12}  {'req/s':>8}  {'ratio':>6}  target")
    for name in paths:
        ratio = statistics.median(ratios[name])
        target = "" if name == "healthz" else ("met" if ratio >= 0.3 else "not met")
        print(f"{name:<12}  {statistics.median(rates[name]):>8.1f}  {ratio:>6.3f}  {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
