"""How long "Send by email" and "Send chasers" keep a person waiting for 43 forces, and how long
the worker then takes to send them.

    python -m benchmarks.send [--runs 5] [--throttle 2]

Each run starts from a scratch SQLite database (the 48 police forces, a campaign to the 43 of
England and Wales) and a real SMTP server on loopback (aiosmtpd). "web" is the POST answered by
the app (the page that confirms the send, to the redirect to the job's progress page), through
Flask's test client: what the browser waits for. "worker" is the job then run by the same code a
worker runs (foitrack.services.job_runner), with FOITRACK_MAIL_THROTTLE_SECONDS as given: the
throttle is per recipient domain, and the 43 forces have 43 domains. Before issue 21 the page
waited for every message, throttled 2 s each: about 86 s for 43.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

SENT = dt.date(2019, 5, 1)
LATE = dt.date(2019, 7, 1)  # every request sent on SENT is overdue


def _one_run(folder: Path, throttle: float, smtp_port: int) -> dict[str, float]:
    from foitrack import create_app, migrate
    from foitrack.models import JobState
    from foitrack.services import jobs, requests, users
    from foitrack.services.audit import Actor
    from foitrack.services.campaigns import create_campaign, get_campaign
    from foitrack.services.job_runner import Runtime, run
    from foitrack.services.registry import REGISTRY_FILE, load_registry

    url = f"sqlite:///{folder / f'{uuid.uuid4().hex}.sqlite3'}"
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(folder), "CHECK_SCHEMA": False,
                      "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False, "TODAY": LATE,
                      "SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_port, "SMTP_STARTTLS": False,
                      "MAIL_THROTTLE_SECONDS": throttle})
    database = app.extensions["foitrack.db"]
    migrate.upgrade(database.engine)
    actor = Actor.system("benchmarks.send")
    with database.session() as session:
        load_registry(session, actor, REGISTRY_FILE)
        for slug in ("send", "chase"):
            create_campaign(session, actor, title=slug, slug=slug, set_slug="england-wales",
                            request_text="Dear {{ authority.name }}, how many?")
        session.flush()
        # The chase page chases the requests ticked on it: all of them, as it offers them.
        ticked = []
        for request in requests.campaign_requests(session, get_campaign(session, "chase")):
            requests.add_event(session, actor, request, "sent", SENT, today=SENT)
            ticked.append(str(request.id))
        users.create_user(session, actor, email="bench@example.org", name="Bench",
                          role="researcher",
                          password="correct horse battery staple 2026")
        session.commit()
    client = app.test_client()
    client.post("/auth/sign-in", data={"email": "bench@example.org",
                                       "password": "correct horse battery staple 2026"})
    times: dict[str, float] = {}
    for name, path in (("send", "/campaigns/send/send"), ("chase", "/campaigns/chase/chase")):
        started = time.perf_counter()
        response = client.post(path, data={"requests": ticked} if name == "chase" else {})
        times[f"web {name}"] = time.perf_counter() - started
        assert response.status_code == 302 and "/jobs/" in response.location, response.location
        job_id = int(response.location.rsplit("/", 1)[1])
        runtime = Runtime(new_session=database.session, config=app.config, today=lambda: LATE,
                          worker="bench", snapshot=database.snapshot)
        started = time.perf_counter()
        assert run(runtime, job_id) is JobState.done
        times[f"worker {name}"] = time.perf_counter() - started
        with database.session() as session:
            progress = jobs.progress(session, jobs.get_job(session, job_id))
            assert (progress.done, progress.failed) == (43, 0), progress
    database.engine.dispose()
    return times


def main(argv: list[str] | None = None) -> int:
    from aiosmtpd.controller import Controller

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--throttle", type=float, default=2.0,
                        help="FOITRACK_MAIL_THROTTLE_SECONDS (per recipient domain)")
    args = parser.parse_args(argv)

    class Accept:
        received = 0

        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            Accept.received += 1
            return "250 OK"

    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(Accept(), hostname="127.0.0.1", port=port)
    controller.start()
    results: dict[str, list[float]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="foitrack-bench-send-") as folder:
            for _ in range(args.runs):
                for name, took in _one_run(Path(folder), args.throttle, port).items():
                    results.setdefault(name, []).append(took)
    finally:
        controller.stop()
    print(f"{'what (43 forces)':<16} {'median_ms':>10} {'min_ms':>8} {'max_ms':>8}")
    for name, values in results.items():
        print(f"{name:<16} {statistics.median(values) * 1000:>10.0f} {min(values) * 1000:>8.0f} "
              f"{max(values) * 1000:>8.0f}")
    print(f"({args.runs} runs, throttle {args.throttle} s per domain, {Accept.received} messages "
          f"received; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the end)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
