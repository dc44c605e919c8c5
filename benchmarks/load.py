"""A bounded load test: simulated researchers and viewers against gunicorn, zero errors allowed.

    python -m benchmarks.load [--users 20] [--seconds 60] [--postgres URL] [--figures 100000]

Generates the data (benchmarks/generate.py, as the throughput runner does), creates a
researcher and a viewer account with an API token for each simulated user, starts gunicorn on
a loopback port, and runs locust (benchmarks/locustfile.py, in a subprocess) for the given
time. Researchers sign in through the form, read pages and the API, record events through the
form and the API, and save figures through the grid form; viewers read. Afterwards every write
the users saw succeed is looked up in the database.

Prints a table per request type (count, failures, median, p90, p95, p99, max, req/s), then
the write check. Exits 1 on any failed request (a 5xx, a refused connection, any status but
the expected one) or any write the database does not hold. Not part of the test suite (a
smoke run at a tiny size is).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from benchmarks.generate import generate, shape_for
from benchmarks.throughput import ROOT, free_port, prepare, start_gunicorn
from foitrack import migrate
from foitrack.db import Database, make_engine, parse_database_url
from foitrack.models import AuditEntry, Authority, Campaign, Figure, Request
from foitrack.services.api_tokens import create_token
from foitrack.services.audit import Actor
from foitrack.services.users import create_user

PASSWORD = "a long load-test password"
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
COLUMNS = ("count", "failures", "median", "p90", "p95", "p99", "max", "req/s")


@dataclass
class Outcome:
    """What a run measured: the locust table, its failures, and the check of the writes."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    writes: dict[str, Any] = field(default_factory=dict)
    write_problems: list[str] = field(default_factory=list)
    locust_status: int = 0
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        failed = sum(row["failures"] for row in self.rows if row["name"] != "Aggregated")
        return failed + len(self.write_problems) + (1 if self.locust_status and not failed else 0)


def fill(url: str, figures: int) -> None:
    """Migrate an empty database and generate ``figures`` figures in it."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    with Database(engine).session() as session:
        generate(session, figures)
        session.commit()
    engine.dispose()


def make_accounts(url: str, users: int, think: tuple[float, float], writes: Path) -> dict[str, Any]:
    """A researcher and a viewer account (with an API token) per simulated user, and the
    requests they work on: each researcher owns one request, and a cell of one shared request."""
    run = uuid.uuid4().hex[:6]  # fresh addresses, so a reused database's old runs don't count
    engine = make_engine(url)
    database = Database(engine)
    with database.session() as session:
        pairs = session.execute(text(
            "SELECT c.slug, a.slug FROM request r JOIN campaign c ON c.id = r.campaign_id "
            "JOIN authority a ON a.id = r.authority_id ORDER BY r.id")).all()
        campaigns: dict[str, list[str]] = {}
        for slug, authority in pairs:
            campaigns.setdefault(slug, []).append(authority)
        if len(pairs) < users + 2:
            raise SystemExit(f"{len(pairs)} requests are too few for {users} researchers")
        # One request whose grid every researcher saves (each its own cell), one whose single
        # cell they all change, emptied first so that the first saves race to create it.
        shared, contended, owned = pairs[0], pairs[1], pairs[2:]
        session.execute(text(
            "DELETE FROM figure WHERE request_id = (SELECT r.id FROM request r "
            "JOIN campaign c ON c.id = r.campaign_id JOIN authority a ON a.id = r.authority_id "
            "WHERE c.slug = :slug AND a.slug = :authority)"),
            {"slug": contended[0], "authority": contended[1]})
        step = len(owned) // users
        system = Actor.system("load test")
        config: dict[str, Any] = {
            "password": PASSWORD, "think": list(think), "writes": str(writes),
            "campaigns": campaigns, "shared": {"campaign": shared[0], "authority": shared[1]},
            "contended": {"campaign": contended[0], "authority": contended[1]},
            "researchers": [], "viewers": []}
        for n in range(users):
            for role in ("researcher", "viewer"):
                user = create_user(session, system, email=f"load-{run}-{role}-{n}@example.org",
                                   name=f"Load {role} {n}", role=role, password=PASSWORD)
                _, token = create_token(session, system, user, "load test")
                account: dict[str, Any] = {"email": user.email, "token": token}
                if role == "researcher":
                    slug, authority = owned[n * step]
                    account.update(campaign=slug, authority=authority, cell=n)
                config[f"{role}s"].append(account)
        session.commit()
    engine.dispose()
    return config


def run_locust(base: str, config: Path, users: int, seconds: int, folder: Path) -> int:
    """Locust, headless, in its own process; its log lands in ``folder``."""
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
               "--host", base, "--users", str(users), "--spawn-rate", str(max(1, users // 2)),
               "--run-time", f"{seconds}s", "--stop-timeout", "120", "--only-summary",
               "--loglevel", "WARNING", "--exit-code-on-error", "1"]
    env = {**os.environ, "FOITRACK_LOAD_CONFIG": str(config)}
    with open(folder / "locust.log", "wb") as log:
        status = subprocess.run(command, cwd=ROOT, env=env, stdout=log, stderr=log).returncode
    if status:
        # Its own summary, and any error from the locustfile itself, say what went wrong.
        print((folder / "locust.log").read_text(errors="replace")[-6000:], file=sys.stderr)
    return status


def check_writes(url: str, config: dict[str, Any], writes: dict[str, Any]) -> list[str]:
    """Every write a user saw succeed, looked up in the database; the problems found."""
    emails = [account["email"] for account in config["researchers"] + config["viewers"]]
    problems = []
    engine = make_engine(url)
    with engine.connect() as connection:
        notes = Counter(connection.scalars(
            text("SELECT note FROM event WHERE created_by IN :emails").bindparams(
                bindparam("emails", expanding=True)), {"emails": emails}))
        seen = Counter(writes["web_events"] + writes["api_events"])
        if notes != seen:
            problems.append(f"events: {sum(seen.values())} recorded by the users, "
                            f"{sum(notes.values())} in the database; missing "
                            f"{sorted((seen - notes).elements())[:5]}, unexpected "
                            f"{sorted((notes - seen).elements())[:5]}")
        actions = dict(connection.execute(
            text("SELECT action, COUNT(*) FROM audit_entry WHERE entity_type = 'figure' "
                 "AND actor IN :emails GROUP BY action").bindparams(
                bindparam("emails", expanding=True)), {"emails": emails}).all())
        # Each save changed one cell to a new number: one create or update, nothing removed.
        written = actions.get("create", 0) + actions.get("update", 0)
        if written != writes["grid_saves"] or actions.get("delete"):
            problems.append(f"figures: {writes['grid_saves']} grid saves, {written} figures "
                            f"created or changed and {actions.get('delete', 0)} removed in the "
                            "audit trail")
        for key, expected in writes["cells"].items():
            slug, authority, cell = key.split("/")
            measure, period, category = (int(part) for part in cell.split("-")[1:])
            value = connection.execute(text(
                "SELECT f.value FROM figure f JOIN request r ON r.id = f.request_id "
                "JOIN campaign c ON c.id = r.campaign_id JOIN authority a ON a.id = r.authority_id "
                "WHERE c.slug = :slug AND a.slug = :authority AND f.measure_id = :measure "
                "AND f.period_id = :period AND "
                + ("f.category_id = :category" if category else "f.category_id IS NULL")),
                {"slug": slug, "authority": authority, "measure": measure, "period": period,
                 "category": category}).scalar()
            if value is None or str(value) != expected:
                problems.append(f"figure {key}: last saved {expected}, the database holds {value}")
    problems += check_contended(engine, config["contended"], writes["contended"])
    engine.dispose()
    return problems


def check_contended(engine: Any, where: dict[str, str], saves: list[list[str]]) -> list[str]:
    """The cell everyone changed: its history must be one unbroken chain, each save starting
    from the value the one before it left, and hold exactly the saves users saw succeed."""
    with Session(engine) as session:
        figures = session.scalars(
            select(Figure).join(Request).join(Campaign).join(Authority)
            .where(Campaign.slug == where["campaign"], Authority.slug == where["authority"])).all()
        if not saves:
            return [] if not figures else [f"the contended request has {len(figures)} figures "
                                           "but no save succeeded"]
        if len(figures) != 1:
            return [f"the contended request has {len(figures)} figures, not 1"]
        history = [((entry.before or {}).get("value") or "", (entry.after or {}).get("value") or "")
                   for entry in session.scalars(
                       select(AuditEntry).where(AuditEntry.entity_type == "figure",
                                                AuditEntry.entity_id == str(figures[0].id))
                       .order_by(AuditEntry.id))]
        final = figures[0].figure_value.text
    problems = []
    breaks = [n for n in range(1, len(history)) if history[n][0] != history[n - 1][1]]
    if history and history[0][0] != "" or breaks:
        problems.append(f"the contended cell lost updates: its history {history[:12]} breaks at "
                        f"{breaks[:5]}")
    if Counter(map(tuple, saves)) != Counter(history):
        problems.append(f"the contended cell: {len(saves)} saves seen, {len(history)} in its history")
    if history and final != history[-1][1]:
        problems.append(f"the contended cell holds {final}, its last save wrote {history[-1][1]}")
    return problems


def drain(stream: Any, into: list[str]) -> None:
    """Keep reading gunicorn's log, so a burst of tracebacks can't fill the pipe and stall it."""
    for line in iter(stream.readline, b""):
        into.append(line.decode(errors="replace"))


def run(url: str, users: int, seconds: int, workers: int,
        think: tuple[float, float] = (0.5, 2.0)) -> Outcome:
    """Load the app on ``url`` (already filled) and check what was written."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        config = make_accounts(url, users, think, folder / "writes.json")
        (folder / "config.json").write_text(json.dumps(config))
        port = free_port()
        server = start_gunicorn(url, port, workers, folder / "instance")
        log: list[str] = []
        reader = threading.Thread(target=drain, args=(server.stderr, log), daemon=True)
        reader.start()
        try:
            status = run_locust(f"http://127.0.0.1:{port}", folder / "config.json", users, seconds,
                                folder)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
            reader.join(timeout=5)
        results = folder / "writes.json"
        if not results.exists():
            raise SystemExit(f"locust stopped (exit status {status}) before any user ran")
        saved = json.loads(results.read_text())
        writes = saved["writes"]
        outcome = Outcome(saved["rows"], saved["failures"], writes,
                          check_writes(url, config, writes), status, config)
        if outcome.errors and log:
            print("gunicorn's log (last 60 lines):\n" + "".join(log[-60:]), file=sys.stderr)
        return outcome


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def report(outcome: Outcome) -> None:
    print(f"{'request':<28} " + " ".join(f"{c:>8}" for c in COLUMNS))
    for row in outcome.rows:
        print(f"{row['name']:<28} {row['count']:>8} {row['failures']:>8} "
              + " ".join(f"{_ms(row[key]):>8}" for key in ("median", "p90", "p95", "p99", "max"))
              + f" {row['req/s']:>8.2f}")
    print("(times in milliseconds)")
    writes = outcome.writes
    print(f"writes: {len(writes.get('web_events', []))} events through the form, "
          f"{len(writes.get('api_events', []))} through the API, {writes.get('grid_saves', 0)} "
          f"grid saves ({len(writes.get('cells', {}))} cells of their own, "
          f"{len(writes.get('contended', []))} saves of one shared cell, "
          f"{writes.get('conflicts', 0)} conflicts (409) there): "
          + ("all found in the database" if not outcome.write_problems else "PROBLEMS"))
    for line in outcome.failures + outcome.write_problems:
        print(f"  {line}")
    print(f"errors: {outcome.errors}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20, help="simulated users at once")
    parser.add_argument("--seconds", type=int, default=60, help="how long to load")
    parser.add_argument("--figures", type=int, default=100_000, help="figures to generate")
    parser.add_argument("--postgres", help="run against this PostgreSQL server (else SQLite)")
    parser.add_argument("--database-url", help="generate into this empty database instead")
    parser.add_argument("--reuse", action="store_true", help="reuse the database of a former run")
    # Sync workers on 2 cores shared with PostgreSQL and locust: while one worker waits on a
    # query another can use the core, so two per core; more only queue in memory.
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--think", default="0.5,2", help="each user's pause between actions, "
                        "min,max seconds")
    args = parser.parse_args(argv)
    try:
        low, high = (float(part) for part in args.think.split(","))
    except ValueError:
        parser.error(f"--think {args.think!r}: give two numbers of seconds, e.g. 0.5,2")
    if args.database_url:
        fill(args.database_url, args.figures)
        url = args.database_url
    else:
        url = prepare(args.figures, "postgresql" if args.postgres else "sqlite", args.postgres,
                      args.reuse)
    shape = shape_for(args.figures)
    backend = parse_database_url(url).get_backend_name()
    print(f"{backend}, {shape.figures:,} figures ({shape.campaigns} campaigns x "
          f"{shape.authorities} authorities), gunicorn {args.workers} workers, {args.users} users "
          f"for {args.seconds} s, pauses {low}-{high} s", flush=True)
    before = os.getloadavg()[0]
    outcome = run(url, args.users, args.seconds, args.workers, (low, high))
    report(outcome)
    # The machine is shared: its load says how much of the latency is other people's work.
    print(f"load average (1 min): {before:.2f} before, {os.getloadavg()[0]:.2f} after")
    return 1 if outcome.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
