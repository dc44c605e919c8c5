"""Latency of every page a user opens: warm, and the first load after a write.

    python -m benchmarks.latency [--campaigns 50] [--scale 1] [--postgres URL] [--runs 10]
                                 [--reuse] [--database URL] [--write service|web] [--pause 0]

Builds a realistic database (or reuses it with --reuse): N active campaigns, each to the 43
territorial police forces of England and Wales (the registry `foitrack authorities load`
loads), every request sent, most answered with 40 figures (one measure x 5 years x the total
and 7 communication methods), some refused, the rest awaiting a reply or late; the campaigns
are yearly repeats, 5 to a series. Then it starts gunicorn with one worker against it, signs in
as an admin, and for each page (a page with charts is loaded with every chart image it shows,
as a browser does, and counted as one load) measures, run after run:

- warm: a repeat load;
- cold after a write elsewhere: an audited figure change committed to another campaign (one
  in another series), then the first load;
- cold after its own write: the same to the page's own campaign, then the first load.

Writes go through foitrack.services in this process (--write service), or through the figure
grid of the running app as a person saves one cell (--write web: the app's after-commit work,
such as rebuilding pages in the background, then runs too); --pause waits that many seconds
between the write and the load, as a person would. The table shows each page's medians over the
runs, in milliseconds, with the machine's 1-minute load average at the start and the end. Pages
that span every campaign (the dashboard, the chase list, the lists) are written to by both
writes. Not part of the test suite (a smoke run at 2 campaigns is).
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from unittest import mock

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from benchmarks.generate import CATEGORIES, _platform
from benchmarks.throughput import EMAIL, PASSWORD, free_port, sign_in, start_gunicorn
from foitrack import migrate
from foitrack.db import Database, make_engine, utcnow
from foitrack.models import (
    Authority,
    AuthoritySet,
    Campaign,
    CampaignStatus,
    CampaignVersion,
    Event,
    Figure,
    Measure,
    Period,
    Request,
    User,
)
from foitrack.services.audit import Actor

FORCES = "england-wales"  # the registry's set of the 43 territorial forces
PERIODS = 5  # financial years asked for, each a repeat moving on by one
SERIES_SIZE = 5  # yearly repeats in a series
FIGURES_PER_ANSWER = PERIODS * (1 + len(CATEGORIES))  # 40: the total and each category, yearly
SLUG = "latency-{}"
ACTOR = Actor.system("benchmark")
CHART_IMAGE = re.compile(r'<img[^>]*\ssrc="([^"]*/charts/[^"]+)"')


# ---- the database --------------------------------------------------------------------------

def database_url(backend: str, campaigns: int, postgres: str | None, fresh: bool) -> str:
    """The benchmark's own database for a size (not the other benchmarks'), emptied if fresh."""
    if backend == "sqlite":
        path = Path(tempfile.gettempdir()) / f"foitrack-latency-{campaigns}.sqlite3"
        if fresh:
            for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                leftover.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    assert postgres
    name = f"foitrack_latency_{campaigns}"
    if fresh:
        admin = make_engine(postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    return postgres.rsplit("/", 1)[0] + f"/{name}"


def build(session: Session, campaigns: int, today: dt.date, seed: int = 1) -> int:
    """Add the campaigns, their requests, timelines and figures, and the series; returns the
    number of figures. Bulk inserts (the state a team's months of work leave), audited
    services for the registry, the account and the series."""
    from foitrack.services import series as series_service
    from foitrack.services.registry import load_registry
    from foitrack.services.users import create_user

    rng = random.Random(seed)
    load_registry(session, ACTOR)
    session.flush()
    forces = session.scalars(select(Authority.id).join(Authority.sets)
                             .where(AuthoritySet.slug == FORCES).order_by(Authority.id)).all()
    create_user(session, ACTOR, email=EMAIL, name="bench", role="admin", password=PASSWORD)
    now = utcnow()
    figures = 0
    series = None
    for c in range(campaigns):
        place = c % SERIES_SIZE  # which repeat of its series: each asks one year later
        if place == 0:
            series = series_service.create_series(session, ACTOR, slug=f"latency-series-{c}",
                                                  name=f"Latency series {c}")
        last_year = 2020 + place
        campaign = Campaign(slug=SLUG.format(c), title=f"Latency campaign {c}",
                            status=CampaignStatus.active)
        version = CampaignVersion(number=1, subject="FOI request", request_text="Dear x",
                                  created_by="benchmark")
        campaign.versions.append(version)
        measure = Measure(key="offences", label="Offences recorded", unit="offences")
        campaign.measures.append(measure)
        periods = [Period(key=f"{year}-{(year + 1) % 100:02d}", label=f"{year}/{(year + 1) % 100:02d}",
                          start=dt.date(year, 4, 1), end=dt.date(year + 1, 3, 31), position=p)
                   for p, year in enumerate(range(last_year - PERIODS + 1, last_year + 1))]
        campaign.periods.extend(periods)
        dimension = _platform()
        campaign.dimensions.append(dimension)
        session.add(campaign)
        session.flush()
        assert series is not None
        series_service.link(session, ACTOR, series, campaign)
        session.execute(insert(Request), [{"campaign_id": campaign.id, "authority_id": a,
                                           "version_id": version.id, "created_at": now}
                                          for a in forces])
        requests = session.scalars(select(Request.id).where(
            Request.campaign_id == campaign.id).order_by(Request.id)).all()
        # Sent 21 to 120 days ago: the newest still within the 20 working days, the oldest
        # with their silent authorities long overdue.
        sent = today - dt.timedelta(days=120 - (c * 37) % 100)
        events: list[dict[str, object]] = []
        answered = []
        for request_id in requests:
            events.append({"request_id": request_id, "kind": "sent", "occurred_on": sent,
                           "exemptions": [], "created_at": now, "created_by": "benchmark"})
            roll = rng.random()
            replied = sent + dt.timedelta(days=rng.randint(5, 40))
            if roll >= 0.9 or replied > today:
                continue  # no reply yet: awaiting, or late
            outcome = "provided" if roll < 0.8 else "part_provided" if roll < 0.85 else "refused"
            events.append({"request_id": request_id, "kind": "response", "occurred_on": replied,
                           "outcome": outcome, "exemptions": [], "created_at": now,
                           "created_by": "benchmark"})
            if outcome != "refused":
                answered.append(request_id)
        session.execute(insert(Event), events)
        cells = [(period.id, category.id if category else None)
                 for period in periods for category in [None, *dimension.categories]]
        rows = []
        for request_id in answered:
            for period_id, category_id in cells:
                roll = rng.random()
                row: dict[str, object] = {
                    "request_id": request_id, "measure_id": measure.id, "period_id": period_id,
                    "category_id": category_id, "kind": "exact", "value": rng.randint(0, 400),
                    "lower": None, "upper": None, "entered_by": "benchmark", "entered_at": now,
                    "updated_at": now}
                if roll < 0.05:
                    row.update(kind="suppressed", value=None, lower=0, upper=4)
                elif roll < 0.08:
                    row.update(kind="not_recorded", value=None)
                rows.append(row)
        if rows:
            session.execute(insert(Figure), rows)
        figures += len(rows)
        session.flush()
    return figures


def prepare(url: str, campaigns: int, reuse: bool) -> int:
    """Build the database (empty, migrated or not) unless reused; returns its number of
    figures."""
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)  # a database reused from an older schema is brought up to date
        if not reuse:
            started = time.perf_counter()
            with Database(engine).session() as session:
                build(session, campaigns, dt.date.today())
                session.commit()
            print(f"built {campaigns} campaigns in {time.perf_counter() - started:.1f} s",
                  file=sys.stderr, flush=True)
            if engine.dialect.name == "postgresql":
                with engine.connect() as connection:
                    connection.execute(text("ANALYZE"))
                    connection.commit()
        with Database(engine).session() as session:
            found = session.scalar(select(func.count(Campaign.id)).where(
                Campaign.slug.like(SLUG.format("%"))))
            if found != campaigns or session.scalar(select(User.id).where(User.email == EMAIL)) is None:
                raise SystemExit(f"{url} holds {found} benchmark campaigns, not {campaigns}: "
                                 "run without --reuse to build it")
            count = session.scalar(select(func.count(Figure.id)))
    finally:
        engine.dispose()
    return int(count or 0)


# ---- what is measured ----------------------------------------------------------------------

@dataclass(frozen=True)
class Page:
    name: str
    path: str
    charts: bool = False  # load every chart image it shows, as part of the page


@dataclass(frozen=True)
class Target:
    """A campaign the benchmark writes to: one of its answered requests, and the figure it
    changes (the request's total for the latest year)."""

    slug: str
    authority: str
    request_id: int
    figure_id: int
    cell: str  # the figure's field on the grid
    period: str
    series: str | None


def target(session: Session, campaign: Campaign) -> Target:
    """The campaign's first request with figures, and its total for the latest year."""
    latest = campaign.periods[-1]
    found = session.execute(
        select(Request.id, Authority.slug, Figure.id, Figure.measure_id)
        .join(Authority, Authority.id == Request.authority_id)
        .join(Figure, Figure.request_id == Request.id)
        .where(Request.campaign_id == campaign.id, Figure.period_id == latest.id,
               Figure.category_id.is_(None), Figure.kind == "exact")
        .order_by(Request.id).limit(1)).one()
    request_id, authority, figure_id, measure_id = found
    return Target(campaign.slug, authority, request_id, figure_id,
                  f"cell-{measure_id}-{latest.id}-0", latest.key,
                  campaign.series.slug if campaign.series else None)


def targets(url: str) -> tuple[Target, Target]:
    """The campaign whose pages are measured, and another to write to, in another series
    when there is one."""
    engine = make_engine(url)
    with Database(engine).session() as session:
        found = session.scalars(select(Campaign).where(Campaign.slug.like(SLUG.format("%")))
                                .order_by(Campaign.id)).all()
        own = found[0]
        others = [c for c in found[1:] if c.series_id != own.series_id] or found[1:] or [own]
        result = target(session, own), target(session, others[-1])
    engine.dispose()
    return result


def pages(own: Target) -> list[Page]:
    """Every page a user opens, for the measured campaign (routes of foitrack/web/views)."""
    campaign = f"/campaigns/{own.slug}"
    request = f"{campaign}/requests/{own.authority}"
    found = [
        Page("dashboard", "/"),
        Page("campaign list", "/campaigns/"),
        Page("campaign", campaign),
        Page("chase list", "/chase"),
        Page("aggregate + charts", f"{campaign}/aggregate", charts=True),
        Page("aggregate cell", f"{campaign}/aggregate/cell?" + urllib.parse.urlencode(
            {"measure": "offences", "period": own.period})),
        Page("release", f"{campaign}/release"),
        Page("fact sheet list", f"{campaign}/fact-sheets/"),
        Page("fact sheet + charts", f"{campaign}/fact-sheets/{own.authority}", charts=True),
        Page("request", request),
        Page("figure grid", f"{request}/figures"),
        Page("checks", f"{campaign}/checks/"),
        Page("data design", f"{campaign}/design"),
        Page("export .csv", f"{campaign}/export.csv"),
        Page("series list", "/series/"),
    ]
    if own.series:
        found.append(Page("series + charts", f"/series/{own.series}", charts=True))
    return found


def start_worker(url: str, instance: Path) -> subprocess.Popen[bytes]:
    """A `foitrack worker` with gunicorn's settings (the same secret key: it signs the shared
    cache), ready to take tasks."""
    env = {**os.environ, "FOITRACK_DATABASE_URL": url, "FOITRACK_INSTANCE_PATH": str(instance),
           "FOITRACK_SECRET_KEY": "benchmark-secret-key-benchmark-secret-key"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "foitrack.cli", "worker", "--name", f"latency-{os.getpid()}",
         "--concurrency", "1"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert worker.stdout is not None
    for line in worker.stdout:
        if b" ready." in line:
            threading.Thread(target=worker.stdout.read, daemon=True).start()  # keep it draining
            return worker
    raise SystemExit("the worker stopped before it was ready")


class Browser:
    """A signed-in user's loads against the server, one at a time."""

    def __init__(self, base: str, cookie: str) -> None:
        self.base, self.cookie = base, cookie

    def get(self, path: str) -> str:
        request = urllib.request.Request(self.base + path, headers={"Cookie": self.cookie})
        with urllib.request.urlopen(request, timeout=600) as response:
            body = response.read()
            if response.status != 200 or "/auth/sign-in" in response.url:
                raise SystemExit(f"{path}: {response.status} {response.url}")
        return body.decode(errors="replace")

    def post(self, path: str, fields: dict[str, str]) -> str:
        request = urllib.request.Request(self.base + path, headers={"Cookie": self.cookie},
                                         data=urllib.parse.urlencode(fields).encode())
        with urllib.request.urlopen(request, timeout=600) as response:
            return response.read().decode(errors="replace")

    def load(self, page: Page) -> int:
        """Load the page and, for a page with charts, every chart image it shows; returns the
        number of images."""
        body = self.get(page.path)
        images = CHART_IMAGE.findall(body) if page.charts else []
        for src in images:
            self.get(html.unescape(src))
        return len(images)


def figure_writer(url: str, browser: Browser, through: str) -> Callable[[Target], None]:
    """An audited change of the target's figure, committed through the services here, or
    saved through the running app's figure grid as a person saves one cell."""
    from foitrack.services import figures as figure_service

    database = Database(make_engine(url))
    values = random.Random(2)

    def current(session: Session, where: Target) -> tuple[Request, str]:
        request = session.get(Request, where.request_id)
        figure = session.get(Figure, where.figure_id)
        assert request is not None and figure is not None
        return request, str(figure.value)

    def write_service(where: Target) -> None:
        with database.session() as session:
            request, old = current(session, where)
            new = str(values.choice([v for v in range(400) if str(v) != old]))
            figure_service.save_figures(session, ACTOR, request, [figure_service.Entry(
                "offences", where.period, None, None, new)])
            session.commit()

    def write_web(where: Target) -> None:
        with database.session() as session:
            _, old = current(session, where)
        grid = f"/campaigns/{where.slug}/requests/{where.authority}/figures"
        page = browser.get(grid)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert token, f"no CSRF token on {grid}"
        new = str(values.choice([v for v in range(400) if str(v) != old]))
        answer = browser.post(grid, {"csrf_token": html.unescape(token.group(1)),
                                     where.cell: new, f"base-{where.cell}": old})
        with database.session() as session:
            _, saved = current(session, where)
        if saved != new:
            raise SystemExit(f"the grid of {grid} did not save the figure: {answer[:2000]}")

    return write_web if through == "web" else write_service


@dataclass
class Timings:
    warm: list[float]
    elsewhere: list[float]
    own: list[float]
    images: int = 0


def timed(load: Callable[[], int]) -> tuple[float, int]:
    started = time.perf_counter()
    images = load()
    return (time.perf_counter() - started) * 1000, images


def measure(browser: Browser, found: list[Page], write: Callable[[Target], None], own: Target,
            elsewhere: Target, runs: int, pause: float) -> dict[str, Timings]:
    results = {page.name: Timings([], [], []) for page in found}
    for run in range(runs):
        for page in found:
            result = results[page.name]
            load = partial(browser.load, page)
            load()  # whatever the last page's writes left cold, built again
            ms, result.images = timed(load)
            result.warm.append(ms)
            write(elsewhere)
            time.sleep(pause)
            result.elsewhere.append(timed(load)[0])
            write(own)
            time.sleep(pause)
            result.own.append(timed(load)[0])
        print(f"run {run + 1} of {runs} done", file=sys.stderr, flush=True)
    return results


def table(results: dict[str, Timings]) -> list[str]:
    lines = [f"{'page':<22}{'warm ms':>10}{'cold, write elsewhere ms':>27}"
             f"{'cold, own write ms':>21}"]
    for name, result in results.items():
        lines.append(f"{name:<22}{statistics.median(result.warm):>10.1f}"
                     f"{statistics.median(result.elsewhere):>27.1f}"
                     f"{statistics.median(result.own):>21.1f}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--campaigns", type=int, default=50,
                        help="active campaigns, each to the 43 forces (default 50)")
    parser.add_argument("--scale", type=int, default=1,
                        help="multiply the campaigns by this (10: the 10x size)")
    parser.add_argument("--postgres", help="measure against this PostgreSQL server instead")
    parser.add_argument("--runs", type=int, default=10, help="runs; the medians are shown")
    parser.add_argument("--database", help="build into this empty database (or with --reuse, "
                        "use it) instead of the benchmark's own for the size")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse the database a former run of this size built")
    parser.add_argument("--write", choices=("service", "web"), default="service",
                        help="write through the services in this process, or the app's grid")
    parser.add_argument("--pause", type=float, default=0.0,
                        help="seconds between a write and the load after it")
    parser.add_argument("--queue", metavar="REDIS_URL",
                        help="run as production does: this Redis as broker and shared cache, "
                        "with a `foitrack worker` beside gunicorn (default: the embedded queue)")
    args = parser.parse_args(argv)
    campaigns = args.campaigns * args.scale
    if campaigns < 1 or args.runs < 1:
        parser.error("--campaigns, --scale and --runs must be at least 1")
    load_at_start = os.getloadavg()[0]
    if args.database:
        url = args.database
    else:
        url = database_url("postgresql" if args.postgres else "sqlite", campaigns, args.postgres,
                           fresh=not args.reuse)
    backend = make_url(url).get_backend_name()
    figures = prepare(url, campaigns, args.reuse)
    own, elsewhere = targets(url)
    found = pages(own)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # Every chart is drawn afresh after each write: no person's budget of new charts applies.
    settings = {"FOITRACK_CHART_RENDERS_PER_MINUTE": "100000"}
    if args.queue:
        settings.update(FOITRACK_BROKER_URL=args.queue,
                        FOITRACK_QUEUE=f"latency-{os.getpid()}")
    with tempfile.TemporaryDirectory() as instance, mock.patch.dict(os.environ, settings):
        server = start_gunicorn(url, port, 1, Path(instance))
        worker = start_worker(url, Path(instance)) if args.queue else None
        try:
            browser = Browser(base, sign_in(base))
            write = figure_writer(url, browser, args.write)
            results = measure(browser, found, write, own, elsewhere, args.runs, args.pause)
        finally:
            for process in (server, worker):
                if process is not None:
                    process.send_signal(signal.SIGTERM)
                    process.wait(timeout=60)
    load_at_end = os.getloadavg()[0]
    print(f"latency: {backend}, {campaigns} campaigns x 43 requests, {figures:,} figures, "
          f"gunicorn 1 worker, median of {args.runs} runs, writes through {args.write}"
          + (f", {args.pause:g} s before each load after a write" if args.pause else "")
          + (f", a worker and Redis at {args.queue}" if args.queue else ", embedded queue"))
    print(f"load average (1 min): {load_at_start:.2f} at start, {load_at_end:.2f} at end")
    for line in table(results):
        print(line)
    print("chart images loaded with their page: " + ", ".join(
        f"{name} {result.images}" for name, result in results.items() if result.images)
        + f"; measured: {own.slug}, written elsewhere: {elsewhere.slug}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
