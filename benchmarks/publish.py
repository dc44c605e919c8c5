"""How long publishing one campaign's release takes: freezing the figures, aggregate, changes,
release lines, every force's fact sheet, methods note, wording and status.

    python -m benchmarks.publish [--campaigns 50] [--runs 3] [--postgres URL | --database URL]
                                 [--write-files]

Uses the latency benchmark's realistic database (N campaigns x the 43 forces, built if missing,
reused otherwise) and publishes its first campaign, each run rolled back so every run is a
first version; with --write-files the release's files are written too (to a scratch folder).
Prints each run and the median, in seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from benchmarks.latency import ACTOR, SLUG, database_url, prepare
from foitrack.db import Database, make_engine
from foitrack.models import Campaign
from foitrack.services import publishing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--campaigns", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", help="a PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--database", help="build into this empty database instead")
    parser.add_argument("--write-files", action="store_true")
    args = parser.parse_args(argv)
    if args.database:
        url = args.database
        prepare(url, args.campaigns, reuse=False)
    else:
        url = database_url("postgresql" if args.postgres else "sqlite", args.campaigns,
                           args.postgres, fresh=False)
        # The latency benchmark's database for this size, built once (on PostgreSQL: again).
        kept = url.startswith("sqlite") and Path(url.removeprefix("sqlite:///")).exists()
        prepare(url, args.campaigns, reuse=kept)
    database = Database(make_engine(url))
    times = []
    requests = 0
    for _ in range(args.runs):
        with database.session() as session, tempfile.TemporaryDirectory() as folder:
            campaign = session.scalar(select(Campaign).where(Campaign.slug == SLUG.format(0)))
            assert campaign is not None
            requests = len(campaign.requests)
            started = time.perf_counter()
            release = publishing.publish(session, ACTOR, campaign, title="Benchmark",
                                         today=dt.date.today())
            if args.write_files:
                publishing.write_files(release, Path(folder))
            times.append(time.perf_counter() - started)
            session.rollback()
    print(f"publish {SLUG.format(0)} ({requests} requests): "
          f"{', '.join(f'{t:.2f}' for t in times)} s; median {statistics.median(times):.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
